//! The sync cache under several threads: limits hold at every moment, counters add up, no
//! update is lost, and `get_or_insert_with` runs one `init` per key.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;

use shipwright_runtime::cache::TemplateCache;

const THREADS: usize = 4;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

fn name(i: u64) -> String {
    format!("pages/section-{}/page-{i}.html", i % 7)
}

#[test]
fn mixed_operations_keep_limits_and_counters() {
    const MAX_ENTRIES: u64 = 64;
    const MAX_BYTES: u64 = 4_000;
    const OPS: usize = 20_000;
    let cache = Arc::new(
        TemplateCache::<u64>::builder()
            .max_entries(MAX_ENTRIES as usize)
            .max_bytes(MAX_BYTES)
            .shards(4)
            .weigher(|key: &str, value: &u64| key.len() as u64 + value % 100)
            .build()
            .unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let lookups = Arc::new(AtomicU64::new(0));

    // A watcher reads the counters the whole time, without locking anything.
    let watcher = {
        let (cache, done) = (Arc::clone(&cache), Arc::clone(&done));
        thread::spawn(move || {
            let mut reads = 0u64;
            while !done.load(SeqCst) || reads == 0 {
                let stats = cache.stats();
                assert!(stats.entries <= MAX_ENTRIES, "{stats:?}");
                assert!(stats.bytes <= MAX_BYTES, "{stats:?}");
                reads += 1;
                thread::yield_now();
            }
            reads
        })
    };

    let workers: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let (cache, lookups) = (Arc::clone(&cache), Arc::clone(&lookups));
            thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1));
                for _ in 0..OPS {
                    let key = name(rng.below(300) as u64);
                    match rng.below(100) {
                        0..40 => {
                            lookups.fetch_add(1, SeqCst);
                            if let Some(value) = cache.get(&key) {
                                assert_eq!(value % 1_000, key.len() as u64, "value of another key");
                            }
                        }
                        40..70 => {
                            let value = rng.below(1_000) as u64 * 1_000 + key.len() as u64;
                            cache.insert(&key, value);
                        }
                        70..85 => {
                            lookups.fetch_add(1, SeqCst);
                            let value = cache.get_or_insert_with(&key, || 7_000 + key.len() as u64);
                            assert_eq!(value % 1_000, key.len() as u64);
                        }
                        85..92 => {
                            cache.remove(&key);
                        }
                        92..97 => {
                            cache.invalidate(&key);
                        }
                        97..99 => {
                            let other = name(rng.below(300) as u64);
                            let value = 5_000 + other.len() as u64;
                            cache.warm([(key.clone(), 6_000 + key.len() as u64), (other, value)]);
                            if let Some(value) = cache.peek(&key) {
                                assert_eq!(value % 1_000, key.len() as u64);
                            }
                        }
                        _ => {
                            cache.clear();
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    done.store(true, SeqCst);
    assert!(watcher.join().unwrap() > 0);

    let stats = cache.stats();
    assert!(
        stats.entries <= MAX_ENTRIES && stats.bytes <= MAX_BYTES,
        "{stats:?}"
    );
    assert_eq!(stats.hits + stats.misses, lookups.load(SeqCst), "{stats:?}");
    assert_eq!(
        stats.entries,
        stats.inserts - stats.evictions.total(),
        "{stats:?}"
    );
    assert!(
        stats.evictions.entries + stats.evictions.bytes > 0,
        "{stats:?}"
    );
    assert!(
        stats.evictions.removal > 0 && stats.evictions.invalidation > 0,
        "{stats:?}"
    );
    let present = (0..300).filter(|&i| cache.contains(&name(i))).count() as u64;
    assert_eq!(present, stats.entries);
    assert_eq!(cache.len() as u64, stats.entries);
}

#[test]
fn no_update_is_lost() {
    const KEYS: u64 = 500;
    const ROUNDS: u64 = 20;
    let cache = Arc::new(
        TemplateCache::<u64>::builder()
            .max_entries(10_000)
            .build()
            .unwrap(),
    );
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let (cache, start) = (Arc::clone(&cache), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                // Each thread owns the keys `i % THREADS == t`, and writes them round after
                // round; readers of other keys run between the writes.
                for round in 0..ROUNDS {
                    for i in (t..KEYS).step_by(THREADS) {
                        assert!(cache.insert(&name(i), round * KEYS + i));
                        cache.get(&name((i * 7 + round) % KEYS));
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    for i in 0..KEYS {
        assert_eq!(
            cache.peek(&name(i)),
            Some((ROUNDS - 1) * KEYS + i),
            "key {i}"
        );
    }
    let stats = cache.stats();
    assert_eq!(stats.inserts, KEYS);
    assert_eq!(stats.updates, KEYS * (ROUNDS - 1));
    assert_eq!(stats.evictions.total(), 0);
    assert_eq!(stats.entries, KEYS);
}

#[test]
fn one_init_per_key_when_threads_race() {
    const KEYS: usize = 200;
    let cache = Arc::new(
        TemplateCache::<Arc<str>>::builder()
            .max_entries(1_000)
            .shards(2)
            .build()
            .unwrap(),
    );
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..KEYS).map(|_| AtomicUsize::new(0)).collect());
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (cache, runs, start) = (Arc::clone(&cache), Arc::clone(&runs), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                // Every thread asks for every key, from different starting points.
                for k in 0..KEYS {
                    let key = (k + t * KEYS / THREADS) % KEYS;
                    let value = cache.get_or_insert_with(&name(key as u64), || {
                        runs[key].fetch_add(1, SeqCst);
                        // Give the others time to arrive while the "compile" runs.
                        for _ in 0..50 {
                            thread::yield_now();
                        }
                        Arc::from(format!("compiled {key}"))
                    });
                    assert_eq!(&*value, format!("compiled {key}"));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    for (key, runs) in runs.iter().enumerate() {
        assert_eq!(runs.load(SeqCst), 1, "key {key} compiled more than once");
    }
    let stats = cache.stats();
    assert_eq!(stats.inserts, KEYS as u64);
    assert_eq!(stats.hits + stats.misses, (THREADS * KEYS) as u64);
    assert_eq!(stats.entries, KEYS as u64);
}

#[test]
fn a_failed_init_hands_over_to_a_waiter() {
    let cache = Arc::new(TemplateCache::<u64>::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (cache, calls, start) =
                (Arc::clone(&cache), Arc::clone(&calls), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                cache.try_get_or_insert_with("broken.html", || {
                    let call = calls.fetch_add(1, SeqCst);
                    for _ in 0..50 {
                        thread::yield_now();
                    }
                    if call == 0 {
                        Err(format!("syntax error on call {call}"))
                    } else {
                        Ok(42)
                    }
                })
            })
        })
        .collect();
    let results: Vec<Result<u64, String>> =
        workers.into_iter().map(|w| w.join().unwrap()).collect();
    let errors: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(
        errors,
        [&"syntax error on call 0".to_string()],
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .all(|&v| v == 42)
    );
    assert_eq!(
        calls.load(SeqCst),
        2,
        "one failed init, then one that succeeded"
    );
    assert_eq!(cache.peek("broken.html"), Some(42));
}

#[test]
fn a_panicking_init_leaves_the_key_loadable() {
    let cache = TemplateCache::<u64>::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        cache.get_or_insert_with("p.html", || panic!("compiler bug"))
    }));
    assert!(outcome.is_err());
    assert_eq!(cache.get_or_insert_with("p.html", || 3), 3);
    assert_eq!(cache.get("p.html"), Some(3));
}

#[test]
fn a_write_during_a_load_wins() {
    for write in ["insert", "remove", "invalidate", "clear"] {
        let cache = Arc::new(TemplateCache::<&'static str>::new());
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let loader = {
            let cache = Arc::clone(&cache);
            thread::spawn(move || {
                cache.get_or_insert_with("t.html", || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    "compiled from the old source"
                })
            })
        };
        started_rx.recv().unwrap();
        match write {
            "insert" => assert!(cache.insert("t.html", "new")),
            "remove" => assert_eq!(cache.remove("t.html"), None),
            "invalidate" => assert_eq!(cache.invalidate("t.html"), 0),
            _ => assert_eq!(cache.clear(), 0),
        }
        release_tx.send(()).unwrap();
        // The caller still gets what it computed...
        assert_eq!(
            loader.join().unwrap(),
            "compiled from the old source",
            "{write}"
        );
        // ...but the cache keeps the later write.
        let want = if write == "insert" { Some("new") } else { None };
        assert_eq!(cache.peek("t.html"), want, "{write}");
    }
}

#[test]
fn expired_entries_are_never_returned() {
    let cache = TemplateCache::<u64>::builder()
        .max_age(std::time::Duration::from_millis(20))
        .build()
        .unwrap();
    cache.insert("old.html", 1);
    thread::sleep(std::time::Duration::from_millis(40));
    assert_eq!(cache.peek("old.html"), None);
    assert_eq!(cache.get("old.html"), None);
    assert_eq!(cache.stats().evictions.age, 1);
    assert_eq!(cache.stats().entries, 0);
    cache.insert("a.html", 1);
    cache.insert("b.html", 2);
    thread::sleep(std::time::Duration::from_millis(40));
    assert_eq!(cache.purge_expired(), 2);

    let cache = TemplateCache::<u64>::builder()
        .max_age(std::time::Duration::from_secs(3600))
        .build()
        .unwrap();
    cache.insert("fresh.html", 1);
    assert_eq!(cache.get("fresh.html"), Some(1));
    assert_eq!(cache.purge_expired(), 0);
}

/// Blocks the thread that drops it (under the shard's lock) until released.
struct Gate {
    dropping: mpsc::Sender<()>,
    release: std::sync::Mutex<mpsc::Receiver<()>>,
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.dropping.send(()).unwrap();
        self.release.lock().unwrap().recv().unwrap();
    }
}

#[test]
fn try_get_fails_only_while_the_shard_is_locked() {
    let cache = TemplateCache::<Option<Arc<Gate>>>::builder()
        .shards(1)
        .build()
        .unwrap();
    let (dropping_tx, dropping_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Gate {
        dropping: dropping_tx,
        release: std::sync::Mutex::new(release_rx),
    };
    cache.insert("a.html", Some(Arc::new(gate)));
    assert!(matches!(cache.try_get("a.html"), Ok(Some(Some(_)))));
    thread::scope(|scope| {
        // Replacing the value drops the gate while the only shard is locked.
        let writer = scope.spawn(|| cache.insert("a.html", None));
        dropping_rx.recv().unwrap();
        let Err(contention) = cache.try_get("a.html") else {
            panic!("the shard was not locked")
        };
        assert_eq!(
            contention.to_string(),
            "the cache shard is locked by another thread"
        );
        assert!(cache.try_get("b.html").is_err());
        release_tx.send(()).unwrap();
        assert!(writer.join().unwrap());
    });
    assert!(matches!(cache.try_get("a.html"), Ok(Some(None))));
}
