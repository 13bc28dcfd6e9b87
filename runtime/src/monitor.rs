//! Named counters and latency histograms, shared by every thread, reported as text or JSON.
//!
//! ```
//! use std::time::Duration;
//! use shipwright_runtime::monitor::PerformanceMonitor;
//!
//! let monitor = PerformanceMonitor::new();
//! {
//!     let _timing = monitor.time("render"); // recorded when dropped
//!     // ... render a template ...
//! }
//! // On a hot path, keep the handle: no name lookup per record.
//! let render = monitor.timer("render");
//! for micros in 1..=100 {
//!     render.record(Duration::from_micros(micros));
//! }
//! monitor.counter("cache.miss").add(3);
//!
//! let report = monitor.report();
//! let render = &report.timers["render"];
//! assert_eq!(render.count, 101);
//! assert!(render.p50_ns >= 49_000 && render.p50_ns <= 51_000);
//! assert_eq!(report.counters["cache.miss"], 3);
//! println!("{report}"); // a table; `serde_json::to_string(&report)` for JSON
//! ```
//!
//! Each timer keeps one [hdrhistogram](hdrhistogram::Histogram) per stripe (two significant
//! digits, so any percentile is within 1% of the recorded value), and a thread always records
//! into the same stripe, so threads seldom share a lock; a report adds the stripes up. Timer
//! guards read the clock through [quanta], from the processor's time-stamp counter where it
//! is reliable: under a hypervisor that is a few nanoseconds a read, where the system clock
//! takes tens.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;

/// Significant digits kept by the histograms.
const PRECISION: u8 = 2;
/// Longer durations are recorded as this (about 13 days), far below where an auto-resizing
/// histogram gives up.
const MAX_NANOS: u64 = 1 << 50;
/// At most this many stripes per timer.
const MAX_STRIPES: usize = 8;

/// Counters and timers by name. Every method takes `&self`; share it in an `Arc` or a static.
pub struct PerformanceMonitor {
    counters: RwLock<BTreeMap<Box<str>, Counter>>,
    timers: RwLock<BTreeMap<Box<str>, Timer>>,
    stripes: usize,
    started: Instant,
}

/// A handle to one named counter; clones count into the same total.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

/// A handle to one named latency histogram; clones record into the same one.
#[derive(Clone)]
pub struct Timer(Arc<Stripes>);

struct Stripes(Box<[Stripe]>);

/// One histogram, alone on its cache lines.
#[repr(align(128))]
struct Stripe(Mutex<Histogram<u64>>);

/// Records the time from its creation to its drop into a timer.
#[must_use = "the timing is recorded when the guard is dropped"]
pub struct TimerGuard<'a> {
    stripes: Held<'a>,
    /// Read from the processor's time-stamp counter where it is reliable (a few nanoseconds,
    /// against tens for the system clock under a hypervisor), from the system clock otherwise.
    start: quanta::Instant,
}

enum Held<'a> {
    Borrowed(&'a Stripes),
    Shared(Arc<Stripes>),
}

impl PerformanceMonitor {
    /// An empty monitor.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PerformanceMonitor {
            counters: RwLock::new(BTreeMap::new()),
            timers: RwLock::new(BTreeMap::new()),
            stripes: cores.min(MAX_STRIPES).next_power_of_two(),
            started: Instant::now(),
        }
    }

    /// The counter named `name`, created at zero on first use.
    pub fn counter(&self, name: &str) -> Counter {
        let found = self.counters.read().get(name).cloned();
        if let Some(counter) = found {
            return counter;
        }
        self.counters
            .write()
            .entry(name.into())
            .or_default()
            .clone()
    }

    /// Adds `n` to the counter named `name`.
    pub fn add(&self, name: &str, n: u64) {
        self.counter(name).add(n);
    }

    /// The timer named `name`, created empty on first use.
    pub fn timer(&self, name: &str) -> Timer {
        let found = self.timers.read().get(name).cloned();
        if let Some(timer) = found {
            return timer;
        }
        let stripes = self.stripes;
        self.timers
            .write()
            .entry(name.into())
            .or_insert_with(|| Timer::new(stripes))
            .clone()
    }

    /// Starts timing into the timer named `name`; the time is recorded when the guard drops.
    pub fn time(&self, name: &str) -> TimerGuard<'static> {
        let stripes = self.timer(name).0;
        TimerGuard {
            stripes: Held::Shared(stripes),
            start: quanta::Instant::now(),
        }
    }

    /// Records one duration into the timer named `name`.
    pub fn record(&self, name: &str, elapsed: Duration) {
        self.timer(name).record(elapsed);
    }

    /// Sets every counter to zero and empties every timer (names and handles stay valid).
    pub fn reset(&self) {
        for counter in self.counters.read().values() {
            counter.0.store(0, Relaxed);
        }
        for timer in self.timers.read().values() {
            for stripe in timer.0.0.iter() {
                stripe.0.lock().reset();
            }
        }
    }

    /// Every counter and timer now, by name.
    pub fn report(&self) -> MonitorReport {
        let counters = self
            .counters
            .read()
            .iter()
            .map(|(name, counter)| (name.to_string(), counter.get()))
            .collect();
        let timers = self
            .timers
            .read()
            .iter()
            .map(|(name, timer)| (name.to_string(), timer.summary()))
            .collect();
        MonitorReport {
            uptime_ms: self.started.elapsed().as_millis() as u64,
            counters,
            timers,
        }
    }
}

impl Default for PerformanceMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for PerformanceMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerformanceMonitor")
            .field("counters", &self.counters.read().len())
            .field("timers", &self.timers.read().len())
            .finish_non_exhaustive()
    }
}

impl Counter {
    /// Adds one.
    #[inline]
    pub fn increment(&self) {
        self.add(1);
    }

    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    /// The total so far.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

impl Timer {
    fn new(stripes: usize) -> Self {
        let stripe = || {
            Stripe(Mutex::new(
                Histogram::new(PRECISION).expect("valid precision"),
            ))
        };
        Timer(Arc::new(Stripes((0..stripes).map(|_| stripe()).collect())))
    }

    /// Records one duration.
    #[inline]
    pub fn record(&self, elapsed: Duration) {
        self.0.record(elapsed);
    }

    /// Starts timing; the time is recorded when the guard drops.
    #[inline]
    pub fn start(&self) -> TimerGuard<'_> {
        TimerGuard {
            stripes: Held::Borrowed(&self.0),
            start: quanta::Instant::now(),
        }
    }

    /// The percentiles of everything recorded so far.
    pub fn summary(&self) -> LatencySummary {
        let mut total = Histogram::<u64>::new(PRECISION).expect("valid precision");
        for stripe in self.0.0.iter() {
            total
                .add(&*stripe.0.lock())
                .expect("auto-resizing histograms of one precision add up");
        }
        LatencySummary {
            count: total.len(),
            min_ns: total.min(),
            mean_ns: if total.is_empty() { 0.0 } else { total.mean() },
            p50_ns: total.value_at_quantile(0.50),
            p95_ns: total.value_at_quantile(0.95),
            p99_ns: total.value_at_quantile(0.99),
            max_ns: total.max(),
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Timer").field(&self.summary()).finish()
    }
}

impl Stripes {
    #[inline]
    fn record(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let stripe = &self.0[thread_index() & (self.0.len() - 1)];
        let mut histogram = stripe.0.lock();
        // `record` grows the histogram to the value; it only fails far past `MAX_NANOS`.
        if histogram.record(nanos.min(MAX_NANOS)).is_err() {
            histogram.saturating_record(nanos);
        }
    }
}

/// A small number per thread, the same for the thread's whole life.
#[inline]
fn thread_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Relaxed);
    }
    INDEX.with(|index| *index)
}

impl TimerGuard<'_> {
    /// The time since the guard was made.
    pub fn elapsed(&self) -> Duration {
        quanta::Instant::now().saturating_duration_since(self.start)
    }
}

impl Drop for TimerGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        let elapsed = self.elapsed();
        match &self.stripes {
            Held::Borrowed(stripes) => stripes.record(elapsed),
            Held::Shared(stripes) => stripes.record(elapsed),
        }
    }
}

/// Every counter and timer of a monitor at one moment. `Display` prints a table; `Serialize`
/// gives JSON with the same fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorReport {
    /// Milliseconds since the monitor was made.
    pub uptime_ms: u64,
    /// Counter totals by name.
    pub counters: BTreeMap<String, u64>,
    /// Latency percentiles by timer name.
    pub timers: BTreeMap<String, LatencySummary>,
}

/// The distribution of one timer's records, in nanoseconds (percentiles within 1%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// How many durations were recorded.
    pub count: u64,
    /// The shortest (0 when there is none).
    pub min_ns: u64,
    /// The mean (0 when there is none).
    pub mean_ns: f64,
    /// The median.
    pub p50_ns: u64,
    /// The 95th percentile.
    pub p95_ns: u64,
    /// The 99th percentile.
    pub p99_ns: u64,
    /// The longest.
    pub max_ns: u64,
}

impl fmt::Display for MonitorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counters
            .keys()
            .chain(self.timers.keys())
            .map(|n| n.len())
            .max()
            .unwrap_or(0)
            .max(7);
        writeln!(
            f,
            "uptime {}",
            Nanos(self.uptime_ms.saturating_mul(1_000_000))
        )?;
        if !self.counters.is_empty() {
            writeln!(f, "{:width$} {:>12}", "counter", "total")?;
            for (name, total) in &self.counters {
                writeln!(f, "{name:width$} {total:>12}")?;
            }
        }
        if !self.timers.is_empty() {
            writeln!(
                f,
                "{:width$} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "timer", "count", "mean", "p50", "p95", "p99", "max"
            )?;
            for (name, s) in &self.timers {
                writeln!(
                    f,
                    "{name:width$} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
                    s.count,
                    Nanos(s.mean_ns as u64),
                    Nanos(s.p50_ns),
                    Nanos(s.p95_ns),
                    Nanos(s.p99_ns),
                    Nanos(s.max_ns)
                )?;
            }
        }
        Ok(())
    }
}

/// A duration in the largest unit that keeps it above one.
struct Nanos(u64);

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0 as f64;
        let text = match self.0 {
            0..1_000 => format!("{}ns", self.0),
            1_000..1_000_000 => format!("{:.1}µs", n / 1e3),
            1_000_000..1_000_000_000 => format!("{:.2}ms", n / 1e6),
            _ => format!("{:.2}s", n / 1e9),
        };
        f.pad(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_within_one_percent() {
        let monitor = PerformanceMonitor::new();
        let timer = monitor.timer("t");
        for nanos in 1..=10_000u64 {
            timer.record(Duration::from_nanos(nanos * 100));
        }
        let s = timer.summary();
        assert_eq!(s.count, 10_000);
        for (got, want) in [
            (s.p50_ns, 500_000),
            (s.p95_ns, 950_000),
            (s.p99_ns, 990_000),
            (s.max_ns, 1_000_000),
        ] {
            assert!(got.abs_diff(want) * 100 <= want, "{got} vs {want}");
        }
        assert!(s.min_ns.abs_diff(100) <= 1, "{}", s.min_ns);
    }

    #[test]
    fn guards_record_on_drop_and_names_share_one_timer() {
        let monitor = PerformanceMonitor::new();
        drop(monitor.time("render"));
        let timer = monitor.timer("render");
        {
            let guard = timer.start();
            assert!(guard.elapsed() < Duration::from_secs(3600));
        }
        monitor.record("render", Duration::from_millis(5));
        assert_eq!(monitor.report().timers["render"].count, 3);
        assert!(monitor.report().timers["render"].max_ns >= 5_000_000);
    }

    #[test]
    fn counters_add_and_reset() {
        let monitor = PerformanceMonitor::new();
        let hits = monitor.counter("hits");
        hits.increment();
        monitor.add("hits", 4);
        monitor.add("misses", 2);
        assert_eq!(hits.get(), 5);
        monitor.record("t", Duration::from_micros(3));
        monitor.reset();
        let report = monitor.report();
        assert_eq!(report.counters["hits"], 0);
        assert_eq!(report.timers["t"].count, 0);
        hits.increment();
        assert_eq!(monitor.report().counters["hits"], 1);
    }

    #[test]
    fn display_is_a_table() {
        let monitor = PerformanceMonitor::new();
        monitor.add("cache.hits", 12);
        monitor.record("render", Duration::from_micros(1500));
        let text = monitor.report().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("uptime "), "{text}");
        assert!(
            lines[1].starts_with("counter") && lines[1].ends_with("total"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("cache.hits") && lines[2].ends_with(" 12"),
            "{text}"
        );
        assert!(lines[3].starts_with("timer"), "{text}");
        assert!(
            lines[4].starts_with("render") && lines[4].contains("1.50ms"),
            "{text}"
        );
    }

    #[test]
    fn units() {
        let cases = [
            (999, "999ns"),
            (1_500, "1.5µs"),
            (2_340_000, "2.34ms"),
            (3_000_000_000, "3.00s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(Nanos(nanos).to_string(), text);
        }
    }
}
