//! The template cache side by side with `lru`, `quick_cache`, `moka` and an ahash `HashMap`
//! (the ceiling), plus the invalidation cascade and the monitor's cost per record.
//!
//! `cargo bench -p shipwright-runtime --bench cache` (about two minutes); add
//! `-- --smoke`, or set `SHIPWRIGHT_BENCH_SMOKE=1`, for a run of a few seconds that only checks
//! that everything works. Prints each figure with shipwright's ratio to each peer, and merges
//! the figures into `target/shipwright-bench/summary.json` under the workspace root.
//!
//! Each measurement is the median of several samples, and the samples of the implementations
//! of one metric take turns, so noise from other processes falls on all of them alike. The
//! get-hit groups take three times the samples and also record their minimum (`*_min`), the
//! sample least disturbed by other processes. Keys
//! are template names (`pages/t123.html`, `components/forms/t123.html`, ...; 14 to 28 bytes),
//! values are `u64`. The peers are keyed by `String`, built from the name at each insert the
//! way an application holding names would call them; `insert_evict_owned_*` hands them keys
//! built beforehand instead. Bytes per entry are measured in a child process per
//! implementation, as the growth of the resident set over 100,000 entries, less the key bytes
//! and the 8-byte value.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use shipwright_core::format::{BuildCache, TemplateRecord};
use shipwright_runtime::cache::{TemplateCache, unsync};

#[path = "../tests/support/rng.rs"]
mod rng;
use rng::Rng;
use shipwright_runtime::graph::DependencyGraph;
use shipwright_runtime::monitor::PerformanceMonitor;

const OURS: &str = "shipwright";
const ENTRIES: usize = 10_000;
const UNIVERSE: usize = 100_000;

struct Config {
    smoke: bool,
    samples: usize,
    /// Operations per sample of the per-operation metrics.
    ops: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--rss-child") {
        rss_child(&args[at + 1]);
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke")
        || std::env::var("SHIPWRIGHT_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let config = if smoke {
        Config {
            smoke,
            samples: 1,
            ops: 20_000,
        }
    } else {
        Config {
            smoke,
            samples: 9,
            ops: 1 << 20,
        }
    };
    let started = Instant::now();
    let mut summary = Summary::default();
    let keys: Vec<String> = (0..UNIVERSE).map(name).collect();
    let mean_key = keys.iter().map(String::len).sum::<usize>() as f64 / UNIVERSE as f64;
    let inline = keys.iter().filter(|k| k.len() <= 24).count() as f64 / UNIVERSE as f64;
    println!(
        "keys: {UNIVERSE} template names, mean {mean_key:.1} bytes, {:.0}% of them 24 bytes or less",
        inline * 100.0
    );

    // `SHIPWRIGHT_BENCH_ONLY=get_hit,monitor` runs some groups only (while optimising).
    let only = std::env::var("SHIPWRIGHT_BENCH_ONLY").unwrap_or_default();
    let run = |group: &str| only.is_empty() || only.split(',').any(|g| g == group);
    if run("get_hit") {
        get_hit(&config, &keys, &mut summary);
    }
    if run("insert_evict") {
        insert_evict(&config, &keys, &mut summary);
    }
    if run("mixed") {
        mixed(&config, &keys, &mut summary);
    }
    if run("mixed_scan") {
        mixed_scan(&config, &keys, &mut summary);
    }
    if run("bytes_per_entry") {
        bytes_per_entry(&config, &mut summary);
    }
    if run("invalidation") {
        invalidation(&config, &mut summary);
    }
    if run("monitor") {
        monitor(&config, &mut summary);
    }

    summary.print();
    let path = summary.write();
    println!(
        "wrote {} in {:.1} s{}",
        path.display(),
        started.elapsed().as_secs_f64(),
        if smoke { " (smoke run)" } else { "" }
    );
}

/// The `i`th template name: a mix of short and deep directories.
fn name(i: usize) -> String {
    const DIRS: [&str; 6] = [
        "pages",
        "partials",
        "layouts",
        "emails",
        "admin/users",
        "components/forms",
    ];
    format!("{}/t{i}.html", DIRS[i % DIRS.len()])
}

// ---------------------------------------------------------------------------------------------
// The implementations, behind two small traits so that every loop is compiled once per type.

trait Local {
    fn get(&mut self, key: &str) -> bool;
    fn insert(&mut self, key: &str, value: u64);
    fn insert_owned(&mut self, key: String, value: u64);
    fn len(&self) -> usize;
}

trait Shared: Sync {
    fn get(&self, key: &str) -> bool;
    fn insert(&self, key: &str, value: u64);
    fn len(&self) -> usize;
}

struct Ours(unsync::TemplateCache<u64>);
struct Lru(lru::LruCache<String, u64, ahash::RandomState>);
struct QuickLocal(quick_cache::unsync::Cache<String, u64>);
struct Map(HashMap<String, u64, ahash::RandomState>);

impl Local for Ours {
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        self.0.get(key).map(|v| black_box(*v)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: &str, value: u64) {
        self.0.insert(key, value);
    }
    #[inline]
    fn insert_owned(&mut self, key: String, value: u64) {
        self.0.insert(&key, value);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl Local for Lru {
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        self.0.get(key).map(|v| black_box(*v)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: &str, value: u64) {
        self.0.put(key.to_owned(), value);
    }
    #[inline]
    fn insert_owned(&mut self, key: String, value: u64) {
        self.0.put(key, value);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl Local for QuickLocal {
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        self.0.get(key).map(|v| black_box(*v)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: &str, value: u64) {
        self.0.insert(key.to_owned(), value);
    }
    #[inline]
    fn insert_owned(&mut self, key: String, value: u64) {
        self.0.insert(key, value);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl Local for Map {
    #[inline]
    fn get(&mut self, key: &str) -> bool {
        self.0.get(key).map(|v| black_box(*v)).is_some()
    }
    #[inline]
    fn insert(&mut self, key: &str, value: u64) {
        self.0.insert(key.to_owned(), value);
    }
    #[inline]
    fn insert_owned(&mut self, key: String, value: u64) {
        self.0.insert(key, value);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

struct OursSync(TemplateCache<u64>);
struct QuickSync(quick_cache::sync::Cache<String, u64>);
struct Moka(moka::sync::Cache<String, u64, ahash::RandomState>);
struct LruMutex(Mutex<lru::LruCache<String, u64, ahash::RandomState>>);
/// Read-only: the ceiling for lookups from several threads.
struct MapShared(HashMap<String, u64, ahash::RandomState>);

impl Shared for OursSync {
    #[inline]
    fn get(&self, key: &str) -> bool {
        black_box(self.0.get(key)).is_some()
    }
    #[inline]
    fn insert(&self, key: &str, value: u64) {
        self.0.insert(key, value);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl Shared for QuickSync {
    #[inline]
    fn get(&self, key: &str) -> bool {
        black_box(self.0.get(key)).is_some()
    }
    #[inline]
    fn insert(&self, key: &str, value: u64) {
        self.0.insert(key.to_owned(), value);
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl Shared for Moka {
    #[inline]
    fn get(&self, key: &str) -> bool {
        black_box(self.0.get(key)).is_some()
    }
    #[inline]
    fn insert(&self, key: &str, value: u64) {
        self.0.insert(key.to_owned(), value);
    }
    fn len(&self) -> usize {
        self.0.run_pending_tasks();
        self.0.entry_count() as usize
    }
}

impl Shared for LruMutex {
    #[inline]
    fn get(&self, key: &str) -> bool {
        self.0
            .lock()
            .unwrap()
            .get(key)
            .map(|v| black_box(*v))
            .is_some()
    }
    #[inline]
    fn insert(&self, key: &str, value: u64) {
        self.0.lock().unwrap().put(key.to_owned(), value);
    }
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl Shared for MapShared {
    #[inline]
    fn get(&self, key: &str) -> bool {
        self.0.get(key).map(|v| black_box(*v)).is_some()
    }
    fn insert(&self, _key: &str, _value: u64) {
        unreachable!("the shared map is read-only")
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

fn ours(capacity: usize) -> Ours {
    Ours(
        unsync::TemplateCache::builder()
            .max_entries(capacity)
            .build_unsync()
            .unwrap(),
    )
}
fn lru_cache(capacity: usize) -> lru::LruCache<String, u64, ahash::RandomState> {
    lru::LruCache::with_hasher(
        NonZeroUsize::new(capacity).unwrap(),
        ahash::RandomState::new(),
    )
}
fn quick_local(capacity: usize) -> QuickLocal {
    QuickLocal(quick_cache::unsync::Cache::new(capacity))
}
fn map() -> HashMap<String, u64, ahash::RandomState> {
    HashMap::with_hasher(ahash::RandomState::new())
}
fn ours_sync(capacity: usize) -> OursSync {
    OursSync(
        TemplateCache::builder()
            .max_entries(capacity)
            .build()
            .unwrap(),
    )
}
fn quick_sync(capacity: usize) -> QuickSync {
    QuickSync(quick_cache::sync::Cache::new(capacity))
}
fn moka(capacity: usize) -> Moka {
    Moka(
        moka::sync::Cache::builder()
            .max_capacity(capacity as u64)
            .build_with_hasher(ahash::RandomState::new()),
    )
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// Uniform indices below `n`, a power of two long.
fn uniform(n: usize, len: usize, seed: u64) -> Vec<u32> {
    let mut rng = Rng(seed);
    (0..len).map(|_| rng.below(n) as u32).collect()
}

/// Zipfian ranks (s = 1) over `n` keys, mapped through a fixed shuffle so that popular keys are
/// spread over the key space; the top bit marks the 10% of operations that write.
fn zipf_trace(n: usize, len: usize, seed: u64) -> Vec<u32> {
    let mut cdf = Vec::with_capacity(n);
    let mut total = 0.0;
    for rank in 1..=n {
        total += 1.0 / rank as f64;
        cdf.push(total);
    }
    let mut shuffle: Vec<u32> = (0..n as u32).collect();
    let mut rng = Rng(0x5EED);
    for i in (1..n).rev() {
        shuffle.swap(i, rng.below(i + 1));
    }
    let mut rng = Rng(seed);
    (0..len)
        .map(|_| {
            let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let rank = cdf.partition_point(|&c| c < u).min(n - 1);
            let write = rng.below(10) == 0;
            shuffle[rank] | if write { 1 << 31 } else { 0 }
        })
        .collect()
}

/// Runs one sample of every implementation per round, `samples` rounds; returns each one's
/// median nanoseconds per operation. `run(i)` runs implementation `i` once and returns
/// (elapsed, operations).
fn rounds(samples: usize, count: usize, run: impl FnMut(usize) -> (Duration, usize)) -> Vec<f64> {
    sampled(samples, count, run)
        .into_iter()
        .map(median)
        .collect()
}

/// [`rounds`], returning every sample (nanoseconds per operation) of each implementation.
fn sampled(
    samples: usize,
    count: usize,
    mut run: impl FnMut(usize) -> (Duration, usize),
) -> Vec<Vec<f64>> {
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); count];
    for _ in 0..samples {
        for (i, list) in per.iter_mut().enumerate() {
            let (elapsed, ops) = run(i);
            list.push(elapsed.as_nanos() as f64 / ops as f64);
        }
    }
    per
}

/// Records the median of each implementation's samples under `metric`, and their minimum, the
/// sample least disturbed by other processes, under `metric_min`.
fn add_median_and_min(summary: &mut Summary, metric: &str, names: &[&str], per: Vec<Vec<f64>>) {
    let mins: Vec<f64> = per
        .iter()
        .map(|list| list.iter().copied().fold(f64::INFINITY, f64::min))
        .collect();
    let medians: Vec<f64> = per.into_iter().map(median).collect();
    summary.add(metric, "ns/op", names, &medians);
    summary.add(&format!("{metric}_min"), "ns/op", names, &mins);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs `work(thread)` on `threads` threads started together; returns the slowest thread's
/// time and the operations of one thread.
fn on_threads(
    threads: usize,
    work: impl Fn(usize) -> (Duration, usize) + Sync,
) -> (Duration, usize) {
    let barrier = Barrier::new(threads);
    let results: Vec<(Duration, usize)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    barrier.wait();
                    work(t)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let slowest = results.iter().map(|r| r.0).max().unwrap();
    (slowest, results[0].1)
}

// ---------------------------------------------------------------------------------------------
// The loops, compiled once per implementation; a benchmark holds its implementations as trait
// objects and pays one virtual call per sample, not per operation.

trait LocalBench {
    fn run_get(&mut self, keys: &[String], order: &[u32], ops: usize) -> (Duration, usize);
    fn run_insert(&mut self, keys: &[String], start: usize, ops: usize) -> (Duration, usize);
    fn run_insert_owned(&mut self, owned: Vec<String>, start: usize) -> (Duration, usize);
    /// Returns (elapsed, operations, hits among the reads, reads).
    fn run_mixed(&mut self, keys: &[String], trace: &[u32]) -> (Duration, usize, usize, usize);
    fn fill(&mut self, keys: &[String]);
    fn size(&self) -> usize;
}

impl<C: Local> LocalBench for C {
    fn run_get(&mut self, keys: &[String], order: &[u32], ops: usize) -> (Duration, usize) {
        let mask = order.len() - 1;
        let start = Instant::now();
        let mut hits = 0;
        for i in 0..ops {
            hits += usize::from(self.get(&keys[order[i & mask] as usize]));
        }
        let elapsed = start.elapsed();
        assert_eq!(hits, ops, "a get-hit benchmark missed");
        (elapsed, ops)
    }

    fn run_insert(&mut self, keys: &[String], start: usize, ops: usize) -> (Duration, usize) {
        let begin = Instant::now();
        for i in start..start + ops {
            self.insert(&keys[i % keys.len()], i as u64);
        }
        (begin.elapsed(), ops)
    }

    fn run_insert_owned(&mut self, owned: Vec<String>, start: usize) -> (Duration, usize) {
        let ops = owned.len();
        let begin = Instant::now();
        for (i, key) in owned.into_iter().enumerate() {
            self.insert_owned(key, (start + i) as u64);
        }
        (begin.elapsed(), ops)
    }

    fn run_mixed(&mut self, keys: &[String], trace: &[u32]) -> (Duration, usize, usize, usize) {
        let (mut hits, mut reads) = (0, 0);
        let start = Instant::now();
        for (i, &op) in trace.iter().enumerate() {
            let key = &keys[(op & !(1 << 31)) as usize];
            if op >> 31 == 1 {
                self.insert(key, i as u64);
            } else {
                reads += 1;
                if self.get(key) {
                    hits += 1;
                } else {
                    self.insert(key, i as u64);
                }
            }
        }
        (start.elapsed(), trace.len(), hits, reads)
    }

    fn fill(&mut self, keys: &[String]) {
        for (i, key) in keys.iter().enumerate() {
            self.insert(key, i as u64);
        }
    }

    fn size(&self) -> usize {
        self.len()
    }
}

trait SharedBench: Sync {
    fn run_get(&self, keys: &[String], order: &[u32], ops: usize) -> (Duration, usize);
    fn run_insert(&self, keys: &[String], start: usize, ops: usize) -> (Duration, usize);
    fn run_mixed(&self, keys: &[String], trace: &[u32]) -> (Duration, usize, usize, usize);
    fn fill(&self, keys: &[String]);
    fn size(&self) -> usize;
    fn remove_all(&self, names: &[&str]);
}

impl<C: Shared + Removable> SharedBench for C {
    fn run_get(&self, keys: &[String], order: &[u32], ops: usize) -> (Duration, usize) {
        let mask = order.len() - 1;
        let start = Instant::now();
        let mut hits = 0;
        for i in 0..ops {
            hits += usize::from(self.get(&keys[order[i & mask] as usize]));
        }
        let elapsed = start.elapsed();
        assert_eq!(hits, ops, "a get-hit benchmark missed");
        (elapsed, ops)
    }

    fn run_insert(&self, keys: &[String], start: usize, ops: usize) -> (Duration, usize) {
        let begin = Instant::now();
        for i in start..start + ops {
            self.insert(&keys[i % keys.len()], i as u64);
        }
        (begin.elapsed(), ops)
    }

    fn run_mixed(&self, keys: &[String], trace: &[u32]) -> (Duration, usize, usize, usize) {
        let (mut hits, mut reads) = (0, 0);
        let start = Instant::now();
        for (i, &op) in trace.iter().enumerate() {
            let key = &keys[(op & !(1 << 31)) as usize];
            if op >> 31 == 1 {
                self.insert(key, i as u64);
            } else {
                reads += 1;
                if self.get(key) {
                    hits += 1;
                } else {
                    self.insert(key, i as u64);
                }
            }
        }
        (start.elapsed(), trace.len(), hits, reads)
    }

    fn fill(&self, keys: &[String]) {
        for (i, key) in keys.iter().enumerate() {
            self.insert(key, i as u64);
        }
    }

    fn size(&self) -> usize {
        self.len()
    }

    fn remove_all(&self, names: &[&str]) {
        for name in names {
            self.remove(name);
        }
    }
}

trait Removable {
    fn remove(&self, key: &str);
}

impl Removable for OursSync {
    fn remove(&self, key: &str) {
        self.0.remove(key);
    }
}
impl Removable for QuickSync {
    fn remove(&self, key: &str) {
        self.0.remove(key);
    }
}
impl Removable for Moka {
    fn remove(&self, key: &str) {
        self.0.invalidate(key);
    }
}
impl Removable for LruMutex {
    fn remove(&self, key: &str) {
        self.0.lock().unwrap().pop(key);
    }
}
impl Removable for MapShared {
    fn remove(&self, _key: &str) {
        unreachable!("the shared map is read-only")
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmarks.

fn get_hit(config: &Config, keys: &[String], summary: &mut Summary) {
    let keys = &keys[..ENTRIES];
    let orders: Vec<Vec<u32>> = (0..2)
        .map(|t| uniform(ENTRIES, 1 << 16, 7 + t as u64))
        .collect();
    let ops = config.ops;

    // Capacity twice the entries, so that no policy and no shard evicts any.
    let mut local: Vec<(&str, Box<dyn LocalBench>)> = vec![
        (OURS, Box::new(ours(2 * ENTRIES))),
        ("lru", Box::new(Lru(lru_cache(2 * ENTRIES)))),
        ("quick_cache", Box::new(quick_local(2 * ENTRIES))),
        ("hashmap_ahash", Box::new(Map(map()))),
    ];
    for (name, cache) in &mut local {
        cache.fill(keys);
        assert_eq!(cache.size(), ENTRIES, "{name} did not keep every entry");
    }
    // Lookups are short and the most easily disturbed: three times the samples.
    let samples = config.samples * 3;
    let per = sampled(samples, local.len(), |i| {
        local[i].1.run_get(keys, &orders[0], ops)
    });
    add_median_and_min(summary, "get_hit_unsync_1t", &names(&local), per);

    let mut ceiling = Map(map());
    ceiling.fill(keys);
    let shared: Vec<(&str, Box<dyn SharedBench>)> = vec![
        (OURS, Box::new(ours_sync(2 * ENTRIES))),
        ("quick_cache", Box::new(quick_sync(2 * ENTRIES))),
        ("moka", Box::new(moka(2 * ENTRIES))),
        (
            "lru_mutex",
            Box::new(LruMutex(Mutex::new(lru_cache(2 * ENTRIES)))),
        ),
        ("hashmap_ahash", Box::new(MapShared(ceiling.0))),
    ];
    for (name, cache) in &shared[..4] {
        cache.fill(keys);
        assert_eq!(cache.size(), ENTRIES, "{name} did not keep every entry");
    }
    for threads in [1, 2] {
        let per = sampled(samples, shared.len(), |i| {
            let cache = &*shared[i].1;
            on_threads(threads, |t| cache.run_get(keys, &orders[t], ops))
        });
        add_median_and_min(
            summary,
            &format!("get_hit_sync_{threads}t"),
            &names(&shared),
            per,
        );
    }
}

fn insert_evict(config: &Config, keys: &[String], summary: &mut Summary) {
    let ops = config.ops / 4;
    let mut local: Vec<(&str, Box<dyn LocalBench>)> = vec![
        (OURS, Box::new(ours(ENTRIES))),
        ("lru", Box::new(Lru(lru_cache(ENTRIES)))),
        ("quick_cache", Box::new(quick_local(ENTRIES))),
    ];
    for (name, cache) in &mut local {
        cache.fill(keys);
        assert!(
            cache.size() <= ENTRIES && cache.size() >= ENTRIES * 9 / 10,
            "{name}: {}",
            cache.size()
        );
    }
    let mut cursor = vec![0usize; local.len()];
    let values = rounds(config.samples, local.len(), |i| {
        let run = local[i].1.run_insert(keys, cursor[i], ops);
        cursor[i] += ops;
        run
    });
    summary.add("insert_evict_unsync", "ns/op", &names(&local), &values);

    let values = rounds(config.samples, local.len(), |i| {
        let owned: Vec<String> = (cursor[i]..cursor[i] + ops)
            .map(|k| keys[k % keys.len()].clone())
            .collect();
        let run = local[i].1.run_insert_owned(owned, cursor[i]);
        cursor[i] += ops;
        run
    });
    summary.add(
        "insert_evict_owned_unsync",
        "ns/op",
        &names(&local),
        &values,
    );

    let shared: Vec<(&str, Box<dyn SharedBench>)> = vec![
        (OURS, Box::new(ours_sync(ENTRIES))),
        ("quick_cache", Box::new(quick_sync(ENTRIES))),
        ("moka", Box::new(moka(ENTRIES))),
        (
            "lru_mutex",
            Box::new(LruMutex(Mutex::new(lru_cache(ENTRIES)))),
        ),
    ];
    for (_, cache) in &shared {
        cache.fill(keys);
    }
    for threads in [1, 2] {
        let mut cursor = 0;
        let values = rounds(config.samples, shared.len(), |i| {
            let cache = &*shared[i].1;
            cursor += threads * ops;
            // Each thread inserts its own run of keys.
            on_threads(threads, |t| {
                cache.run_insert(keys, cursor + t * UNIVERSE / 2, ops)
            })
        });
        summary.add(
            &format!("insert_evict_sync_{threads}t"),
            "ns/op",
            &names(&shared),
            &values,
        );
    }
}

fn mixed(config: &Config, keys: &[String], summary: &mut Summary) {
    let traces: Vec<Vec<u32>> = (0..2)
        .map(|t| zipf_trace(UNIVERSE, config.ops, 11 + t))
        .collect();
    mixed_runs(config, "mixed_zipf", keys, &traces, summary);
}

/// The Zipfian trace of [`mixed`] with scans mixed in: bursts of 1,000 to 3,000 keys, each
/// read once and never again (a crawler, a sitemap walk), starting after one Zipfian
/// operation in 6,000 on average, so that about a quarter of the operations are scans. Each
/// thread has its own scan keys, named after the universe's.
fn mixed_scan(config: &Config, keys: &[String], summary: &mut Summary) {
    let mut all = keys.to_vec();
    let traces: Vec<Vec<u32>> = (0..2)
        .map(|t| {
            let zipf = zipf_trace(UNIVERSE, config.ops, 11 + t);
            let mut rng = Rng(23 + t);
            let mut trace = Vec::with_capacity(config.ops);
            for op in zipf {
                if trace.len() == config.ops {
                    break;
                }
                trace.push(op);
                if rng.below(6_000) == 0 {
                    let burst = 1_000 + rng.below(2_001);
                    for _ in 0..burst.min(config.ops - trace.len()) {
                        trace.push(all.len() as u32);
                        all.push(format!("scans/s{}.html", all.len()));
                    }
                }
            }
            trace
        })
        .collect();
    let scanned = all.len() - keys.len();
    println!(
        "mixed_scan: {:.1}% of the operations read a key once",
        scanned as f64 / (2 * config.ops) as f64 * 100.0
    );
    mixed_runs(config, "mixed_scan", &all, &traces, summary);
}

/// Runs `traces[0]` on each single-threaded implementation and `traces[0]`, `traces[1]` on two
/// threads sharing each thread-safe one; records time per operation and the read hit ratio
/// under `{prefix}_unsync_1t` and `{prefix}_sync_2t`.
fn mixed_runs(
    config: &Config,
    prefix: &str,
    keys: &[String],
    traces: &[Vec<u32>],
    summary: &mut Summary,
) {
    let mut local: Vec<(&str, Box<dyn LocalBench>)> = vec![
        (OURS, Box::new(ours(ENTRIES))),
        ("lru", Box::new(Lru(lru_cache(ENTRIES)))),
        ("quick_cache", Box::new(quick_local(ENTRIES))),
    ];
    let mut ratio = vec![0.0; local.len()];
    for (_, cache) in &mut local {
        cache.run_mixed(keys, &traces[0]);
    }
    let values = rounds(config.samples, local.len(), |i| {
        let (elapsed, ops, hits, reads) = local[i].1.run_mixed(keys, &traces[0]);
        ratio[i] = hits as f64 / reads as f64;
        (elapsed, ops)
    });
    let metric = format!("{prefix}_unsync_1t");
    summary.add(&metric, "ns/op", &names(&local), &values);
    summary.add(
        &format!("{metric}_hit_ratio"),
        "ratio",
        &names(&local),
        &ratio,
    );

    let shared: Vec<(&str, Box<dyn SharedBench>)> = vec![
        (OURS, Box::new(ours_sync(ENTRIES))),
        ("quick_cache", Box::new(quick_sync(ENTRIES))),
        ("moka", Box::new(moka(ENTRIES))),
        (
            "lru_mutex",
            Box::new(LruMutex(Mutex::new(lru_cache(ENTRIES)))),
        ),
    ];
    let ratio = Mutex::new(vec![0.0; shared.len()]);
    for (_, cache) in &shared {
        cache.run_mixed(keys, &traces[0]);
    }
    let values = rounds(config.samples, shared.len(), |i| {
        let cache = &*shared[i].1;
        on_threads(2, |t| {
            let (elapsed, ops, hits, reads) = cache.run_mixed(keys, &traces[t]);
            if t == 0 {
                ratio.lock().unwrap()[i] = hits as f64 / reads as f64;
            }
            (elapsed, ops)
        })
    });
    let metric = format!("{prefix}_sync_2t");
    summary.add(&metric, "ns/op", &names(&shared), &values);
    summary.add(
        &format!("{metric}_hit_ratio"),
        "ratio",
        &names(&shared),
        &ratio.into_inner().unwrap(),
    );
}

fn names<'a, T: ?Sized>(list: &[(&'a str, Box<T>)]) -> Vec<&'a str> {
    list.iter().map(|(name, _)| *name).collect()
}

// ---------------------------------------------------------------------------------------------
// Bytes per entry, one child process per implementation so that no allocator state carries
// over from one to the next.

fn bytes_per_entry(config: &Config, summary: &mut Summary) {
    let exe = std::env::current_exe().unwrap();
    let measure = |which: &str| -> f64 {
        let out = Command::new(&exe)
            .args(["--rss-child", which])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{which}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let fields: Vec<f64> = text
            .split_whitespace()
            .map(|f| f.parse().unwrap())
            .collect();
        let [entries, grown, raw] = fields[..] else {
            panic!("{which}: {text}")
        };
        (grown - raw) / entries
    };
    let samples = if config.smoke { 1 } else { 3 };
    let mut run = |metric: &str, list: &[&str], labels: &[&str]| {
        let values: Vec<f64> = list
            .iter()
            .map(|w| median((0..samples).map(|_| measure(w)).collect()))
            .collect();
        summary.add(metric, "bytes", labels, &values);
    };
    run(
        "bytes_per_entry_unsync",
        &["shipwright", "lru", "quick_cache", "hashmap_ahash"],
        &[OURS, "lru", "quick_cache", "hashmap_ahash"],
    );
    run(
        "bytes_per_entry_sync",
        &["shipwright_sync", "quick_cache_sync", "moka"],
        &[OURS, "quick_cache", "moka"],
    );
}

/// The resident set in bytes.
fn rss() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0
}

/// Fills one implementation with `UNIVERSE` entries (names built one at a time, moved into the
/// peers) and prints: entries kept, resident growth, raw bytes of the kept keys and values.
fn rss_child(which: &str) {
    fn fill<C>(
        mut cache: C,
        mut insert: impl FnMut(&mut C, String, u64),
        len: impl Fn(&C) -> usize,
    ) {
        let before = rss();
        let mut key_bytes = 0usize;
        for i in 0..UNIVERSE {
            let key = name(i);
            key_bytes += key.len();
            insert(&mut cache, key, i as u64);
        }
        let grown = rss() - before;
        let entries = len(&cache);
        let raw = (key_bytes as f64 / UNIVERSE as f64 + 8.0) * entries as f64;
        println!("{entries} {grown} {raw}");
        black_box(&cache);
    }
    match which {
        "shipwright" => fill(
            ours(UNIVERSE).0,
            |c, k, v| {
                c.insert(&k, v);
            },
            |c| c.len(),
        ),
        "shipwright_sync" => fill(
            ours_sync(UNIVERSE).0,
            |c, k, v| {
                c.insert(&k, v);
            },
            |c| c.len(),
        ),
        "lru" => fill(
            lru_cache(UNIVERSE),
            |c, k, v| {
                c.put(k, v);
            },
            |c| c.len(),
        ),
        "quick_cache" => fill(
            quick_local(UNIVERSE).0,
            |c, k, v| c.insert(k, v),
            |c| c.len(),
        ),
        "quick_cache_sync" => fill(
            quick_sync(UNIVERSE).0,
            |c, k, v| c.insert(k, v),
            |c| c.len(),
        ),
        "moka" => fill(
            moka(UNIVERSE).0,
            |c, k, v| c.insert(k, v),
            |c| {
                c.run_pending_tasks();
                c.entry_count() as usize
            },
        ),
        "hashmap_ahash" => fill(
            map(),
            |c, k, v| {
                c.insert(k, v);
            },
            |c| c.len(),
        ),
        other => panic!("unknown implementation {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The invalidation cascade on a generated site of 10,000 templates.

fn site() -> BuildCache {
    let record = |name: &str, deps: Vec<String>| {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        TemplateRecord::including(name, &deps)
    };
    let mut build = BuildCache::new(vec!["templates".into()]);
    let mut add = |name: String, deps: Vec<String>| {
        build.templates.insert(name.clone(), record(&name, deps));
    };
    // 10 bases, 40 layouts on them, 450 partials including up to two earlier partials, and
    // 9,500 pages, each on a layout with three partials.
    for b in 0..10 {
        add(format!("bases/b{b}.html"), Vec::new());
    }
    for l in 0..40 {
        add(
            format!("layouts/l{l}.html"),
            vec![format!("bases/b{}.html", l % 10)],
        );
    }
    let mut rng = Rng(42);
    for p in 0..450 {
        let deps = (0..rng.below(3))
            .filter(|_| p > 0)
            .map(|_| format!("partials/p{}.html", rng.below(p)))
            .collect();
        add(format!("partials/p{p}.html"), deps);
    }
    for i in 0..9_500 {
        let mut deps = vec![format!("layouts/l{}.html", i % 40)];
        deps.extend((0..3).map(|_| format!("partials/p{}.html", rng.below(450))));
        add(format!("pages/p{i}.html"), deps);
    }
    build
}

fn invalidation(config: &Config, summary: &mut Summary) {
    let build = site();
    let graph = Arc::new(DependencyGraph::from_build_cache(&build));
    let all: Vec<String> = build.templates.keys().cloned().collect();
    let ours = OursSync(
        TemplateCache::builder()
            .max_entries(4 * all.len())
            .graph(Arc::clone(&graph))
            .build()
            .unwrap(),
    );
    let quick = QuickSync(quick_cache::sync::Cache::new(4 * all.len()));
    ours.fill(&all);
    quick.fill(&all);
    let runs = if config.smoke { 20 } else { 400 };
    for (metric, prefix) in [
        ("invalidation_cascade_partial", "partials/"),
        ("invalidation_cascade_base", "bases/"),
    ] {
        let targets: Vec<&String> = all.iter().filter(|n| n.starts_with(prefix)).collect();
        let mut times = [Vec::new(), Vec::new()];
        let mut affected_total = 0;
        for r in 0..runs {
            let target = targets[r * 7 % targets.len()];
            let affected: Vec<&str> = graph
                .affected(&[graph.id(target).unwrap()])
                .into_iter()
                .map(|id| graph.name(id))
                .collect();
            affected_total += affected.len();
            let start = Instant::now();
            let removed = ours.0.invalidate(target);
            times[0].push(start.elapsed().as_nanos() as f64 / 1e3);
            assert_eq!(removed, affected.len());
            // The peer: the same graph walk, then one remove per name.
            let start = Instant::now();
            let walked: Vec<&str> = graph
                .affected(&[graph.id(target).unwrap()])
                .into_iter()
                .map(|id| graph.name(id))
                .collect();
            quick.remove_all(&walked);
            times[1].push(start.elapsed().as_nanos() as f64 / 1e3);
            for name in &affected {
                ours.insert(name, 1);
                quick.insert(name, 1);
            }
        }
        println!(
            "{metric}: {:.0} templates affected on average",
            affected_total as f64 / runs as f64
        );
        let [a, b] = times;
        summary.add(
            metric,
            "us/op",
            &[OURS, "quick_cache_with_our_graph"],
            &[median(a), median(b)],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The monitor's cost per record.

fn monitor(config: &Config, summary: &mut Summary) {
    let ops = config.ops;
    let monitor = PerformanceMonitor::new();
    let timer = monitor.timer("render");
    let counter = monitor.counter("hits");
    let values = rounds(config.samples, 1, |_| {
        let start = Instant::now();
        for i in 0..ops {
            timer.record(Duration::from_nanos((i & 4095) as u64 + 100));
        }
        (start.elapsed(), ops)
    });
    summary.add("monitor_record", "ns/op", &[OURS], &values);

    // The floor of a timed scope is two clock reads: the guard reads the time-stamp counter
    // (quanta); `std::time::Instant` goes through the system clock.
    let values = rounds(config.samples, 3, |i| {
        let start = Instant::now();
        match i {
            0 => {
                for _ in 0..ops {
                    drop(timer.start());
                }
            }
            1 => {
                for _ in 0..ops {
                    let t = quanta::Instant::now();
                    black_box(quanta::Instant::now() - t);
                }
            }
            _ => {
                for _ in 0..ops {
                    let t = Instant::now();
                    black_box(t.elapsed());
                }
            }
        }
        (start.elapsed(), ops)
    });
    summary.add(
        "monitor_scope",
        "ns/op",
        &[OURS, "two_quanta_now", "two_std_instant_now"],
        &values,
    );

    let values = rounds(config.samples, 1, |_| {
        let start = Instant::now();
        for _ in 0..ops / 4 {
            drop(monitor.time("render"));
        }
        (start.elapsed(), ops / 4)
    });
    summary.add("monitor_time_by_name", "ns/op", &[OURS], &values);

    let values = rounds(config.samples, 1, |_| {
        on_threads(2, |_| {
            let start = Instant::now();
            for i in 0..ops {
                timer.record(Duration::from_nanos((i & 4095) as u64 + 100));
            }
            (start.elapsed(), ops)
        })
    });
    summary.add("monitor_record_2t", "ns/op", &[OURS], &values);

    let values = rounds(config.samples, 1, |_| {
        let start = Instant::now();
        for _ in 0..ops {
            counter.increment();
        }
        (start.elapsed(), ops)
    });
    summary.add("monitor_counter", "ns/op", &[OURS], &values);
    let recorded = timer.summary().count;
    assert!(
        recorded >= (ops * config.samples) as u64,
        "records were lost: {recorded}"
    );
}

// ---------------------------------------------------------------------------------------------
// The summary.

#[derive(Default)]
struct Summary {
    units: BTreeMap<String, String>,
    metrics: BTreeMap<String, BTreeMap<String, f64>>,
    order: Vec<String>,
}

impl Summary {
    fn add(&mut self, metric: &str, unit: &str, names: &[&str], values: &[f64]) {
        assert_eq!(names.len(), values.len());
        self.units.insert(metric.into(), unit.into());
        let entry = self.metrics.entry(metric.into()).or_default();
        for (name, value) in names.iter().zip(values) {
            entry.insert((*name).into(), (value * 1000.0).round() / 1000.0);
        }
        self.order.push(metric.into());
        eprintln!("  measured {metric}");
    }

    fn print(&self) {
        println!();
        for metric in &self.order {
            let values = &self.metrics[metric];
            let unit = &self.units[metric];
            let ours = values[OURS];
            let better = if unit == "ratio" {
                "higher is better"
            } else {
                "lower is better"
            };
            // Hit ratios differ in the third decimal.
            let digits = if unit == "ratio" { 3 } else { 2 };
            println!("{metric} ({unit}, {better})");
            println!("  {OURS:<28} {ours:>10.digits$}");
            for (name, value) in values.iter().filter(|(n, _)| *n != OURS) {
                println!(
                    "  {name:<28} {value:>10.digits$}   shipwright/{name} = {:.digits$}",
                    ours / value
                );
            }
        }
        println!();
    }

    fn write(&self) -> PathBuf {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let dir = root.join("target/shipwright-bench");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("summary.json");
        let mut doc: serde_json::Value = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({}));
        for (key, value) in [
            ("unit", serde_json::to_value(&self.units)),
            ("metrics", serde_json::to_value(&self.metrics)),
        ] {
            let value = value.unwrap();
            let slot = doc
                .as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert_with(|| serde_json::json!({}));
            if !slot.is_object() {
                *slot = serde_json::json!({});
            }
            for (metric, v) in value.as_object().unwrap() {
                slot.as_object_mut()
                    .unwrap()
                    .insert(metric.clone(), v.clone());
            }
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        path
    }
}
