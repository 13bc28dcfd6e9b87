//! The monitor shared by several threads: nothing is lost, and the report is valid JSON.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use shipwright_runtime::monitor::PerformanceMonitor;

#[test]
fn records_from_many_threads_all_count() {
    const THREADS: u64 = 4;
    const RECORDS: u64 = 25_000;
    let monitor = Arc::new(PerformanceMonitor::new());
    let start = Arc::new(Barrier::new(THREADS as usize));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (monitor, start) = (Arc::clone(&monitor), Arc::clone(&start));
            thread::spawn(move || {
                let timer = monitor.timer("render");
                let hits = monitor.counter("hits");
                start.wait();
                for i in 0..RECORDS {
                    // Thread t records t*1000 + (i % 1000) + 1 microseconds.
                    timer.record(Duration::from_micros(t * 1_000 + i % 1_000 + 1));
                    hits.increment();
                    if i % 1_000 == 0 {
                        monitor.add("by-name", 2);
                        drop(monitor.time("scoped"));
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let report = monitor.report();
    let render = report.timers["render"];
    assert_eq!(render.count, THREADS * RECORDS);
    assert_eq!(report.counters["hits"], THREADS * RECORDS);
    assert_eq!(report.counters["by-name"], THREADS * RECORDS / 1_000 * 2);
    assert_eq!(report.timers["scoped"].count, THREADS * RECORDS / 1_000);
    // Uniform over 1..=4000 µs: the median near 2000 µs, within the histogram's 1%.
    assert!(render.p50_ns.abs_diff(2_000_000) <= 25_000, "{render:?}");
    assert!(render.p99_ns.abs_diff(3_960_000) <= 45_000, "{render:?}");
    assert!(render.max_ns.abs_diff(4_000_000) <= 40_000, "{render:?}");
    assert!(render.min_ns.abs_diff(1_000) <= 10, "{render:?}");
}

#[test]
fn the_report_serializes_to_json() {
    let monitor = PerformanceMonitor::new();
    monitor.add("cache.misses", 3);
    monitor.record("compile", Duration::from_micros(250));
    let report = monitor.report();
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["counters"]["cache.misses"], 3);
    assert_eq!(json["timers"]["compile"]["count"], 1);
    let p50 = json["timers"]["compile"]["p50_ns"].as_u64().unwrap();
    assert!(p50.abs_diff(250_000) <= 2_500, "{json}");
    for field in ["min_ns", "mean_ns", "p95_ns", "p99_ns", "max_ns"] {
        assert!(
            json["timers"]["compile"][field].is_number(),
            "{field} in {json}"
        );
    }
    assert!(json["uptime_ms"].is_u64());
}
