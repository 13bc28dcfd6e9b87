//! Model-based tests: the caches against a plain reference of their S3-FIFO policy, op by op.
//! (Its hit ratios are measured by the cache benchmark, on a Zipfian trace and on one with
//! scans mixed in, beside `lru`, `quick_cache` and `moka`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use shipwright_core::format::{BuildCache, TemplateRecord};

use super::clock::Clock;
use super::ghost::place;
use super::{CacheStats, TemplateCache, unsync};
use crate::graph::DependencyGraph;

/// Keys of the model; the last ones are longer than the 24 bytes kept inline.
const KEYS: [&str; 10] = [
    "a.html",
    "b.html",
    "c.html",
    "d.html",
    "e.html",
    "f.html",
    "g.html",
    "pages/a-rather-long-name-0.html",
    "pages/a-rather-long-name-1.html",
    "not-in-graph.html",
];

/// `(template, its dependencies)`: a chain a <- b <- c, a <- d, a cycle e <-> f, a self loop g,
/// and the long names depending on c and on themselves.
const GRAPH: [(&str, &[&str]); 9] = [
    ("a.html", &[]),
    ("b.html", &["a.html"]),
    ("c.html", &["b.html"]),
    ("d.html", &["a.html", "missing.html"]),
    ("e.html", &["f.html"]),
    ("f.html", &["e.html"]),
    ("g.html", &["g.html"]),
    ("pages/a-rather-long-name-0.html", &["c.html"]),
    (
        "pages/a-rather-long-name-1.html",
        &["pages/a-rather-long-name-1.html"],
    ),
];

fn graph() -> Arc<DependencyGraph> {
    let mut build = BuildCache::new(vec!["templates".into()]);
    for (name, deps) in GRAPH {
        build
            .templates
            .insert(name.into(), TemplateRecord::including(name, deps));
    }
    Arc::new(DependencyGraph::from_build_cache(&build))
}

#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    Peek(usize),
    Insert(usize, u64),
    Remove(usize),
    Invalidate(usize),
    Clear,
    Advance(u64),
    Purge,
}

fn op(max_bytes: u64) -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    prop_oneof![
        6 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Peek),
        6 => (key.clone(), 0..=max_bytes + 2).prop_map(|(k, w)| Op::Insert(k, w)),
        1 => key.clone().prop_map(Op::Remove),
        1 => key.prop_map(Op::Invalidate),
        1 => Just(Op::Clear),
        2 => (1..40u64).prop_map(Op::Advance),
        1 => Just(Op::Purge),
    ]
}

/// An entry of the reference: key, weight, when it was stored, uses.
type ModelEntry = (&'static str, u64, u64, u8);

/// The reference: each queue a vector from the front to the tail, searched linearly, and the
/// ghost a list of keys, oldest first. A hit adds a use, up to three. A new key goes to the
/// small queue, or to the main one if the ghost has it; a key already there goes to the main
/// queue with its uses. To evict: while the small queue holds more than a thirty-second of the
/// entries (or all of them), its tail goes to the main queue if used, else out and into the
/// ghost; else the main queue's tail goes back to the front with a use less, or out if it has
/// none. Expired entries go out wherever they are, and not into the ghost. The ghost is a list
/// of places, each holding the last key put there; it has a quarter (rounded up) as many as
/// there were entries before an eviction that adds a key, but not more than a quarter of
/// `max_entries`; it grows (to a power of two), empty, when it has fewer.
struct Model {
    small: Vec<ModelEntry>,
    main: Vec<ModelEntry>,
    ghost: Vec<Option<&'static str>>,
    max_entries: usize,
    max_bytes: u64,
    max_age: Option<u64>,
    now: u64,
    stats: CacheStats,
}

impl Model {
    fn entries(&self) -> impl Iterator<Item = &ModelEntry> {
        self.small.iter().chain(&self.main)
    }

    fn len(&self) -> usize {
        self.small.len() + self.main.len()
    }

    fn bytes(&self) -> u64 {
        self.entries().map(|e| e.1).sum()
    }

    fn expired(&self, stamp: u64) -> bool {
        self.max_age.is_some_and(|max| self.now - stamp >= max)
    }

    /// Takes the entry of `key` out of its queue.
    fn take(&mut self, key: &str) -> Option<ModelEntry> {
        for queue in [&mut self.small, &mut self.main] {
            if let Some(i) = queue.iter().position(|e| e.0 == key) {
                return Some(queue.remove(i));
            }
        }
        None
    }

    fn find_mut(&mut self, key: &str) -> Option<&mut ModelEntry> {
        self.small
            .iter_mut()
            .chain(&mut self.main)
            .find(|e| e.0 == key)
    }

    fn get(&mut self, key: &str) -> Option<u64> {
        let now = self.now;
        let max_age = self.max_age;
        let Some(entry) = self.find_mut(key) else {
            self.stats.misses += 1;
            return None;
        };
        if max_age.is_some_and(|max| now - entry.2 >= max) {
            self.take(key);
            self.stats.evictions.age += 1;
            self.stats.misses += 1;
            return None;
        }
        entry.3 = (entry.3 + 1).min(3);
        let weight = entry.1;
        self.stats.hits += 1;
        Some(weight)
    }

    fn peek(&self, key: &str) -> Option<u64> {
        let entry = self.entries().find(|e| e.0 == key)?;
        (!self.expired(entry.2)).then_some(entry.1)
    }

    fn evict(&mut self, by_bytes: bool) {
        let expired = loop {
            let len = self.len();
            let from_small = self.small.len() == len || self.small.len() * 32 > len;
            if from_small {
                let (key, weight, stamp, uses) = self.small.pop().unwrap();
                let expired = self.expired(stamp);
                if uses > 0 && !expired {
                    self.main.insert(0, (key, weight, stamp, 0));
                    continue;
                }
                if !expired {
                    self.remember(key, len);
                }
                break expired;
            }
            let (key, weight, stamp, uses) = self.main.pop().unwrap();
            let expired = self.expired(stamp);
            if uses > 0 && !expired {
                self.main.insert(0, (key, weight, stamp, uses - 1));
                continue;
            }
            break expired;
        };
        match (expired, by_bytes) {
            (true, _) => self.stats.evictions.age += 1,
            (false, true) => self.stats.evictions.bytes += 1,
            (false, false) => self.stats.evictions.entries += 1,
        }
    }

    fn insert(&mut self, key: &'static str, weight: u64) -> bool {
        let old = self.take(key);
        if weight > self.max_bytes {
            if old.is_some() {
                self.stats.evictions.bytes += 1;
            }
            self.stats.rejected += 1;
            return false;
        }
        while self.len() >= self.max_entries {
            self.evict(false);
        }
        while self.bytes() + weight > self.max_bytes {
            self.evict(true);
        }
        match old {
            Some(old) => {
                self.main.insert(0, (key, weight, self.now, old.3));
                self.stats.updates += 1;
            }
            None => {
                let queue = if self.remembers(key) {
                    &mut self.main
                } else {
                    &mut self.small
                };
                queue.insert(0, (key, weight, self.now, 0));
                self.stats.inserts += 1;
            }
        }
        true
    }

    /// The place of `key` in the ghost.
    fn place(&self, key: &str) -> usize {
        place(super::options::hasher().hash_one(key), self.ghost.len())
    }

    fn remembers(&self, key: &str) -> bool {
        !self.ghost.is_empty() && self.ghost[self.place(key)] == Some(key)
    }

    fn remember(&mut self, key: &'static str, len: usize) {
        let (room, limit) = (len.div_ceil(4), self.max_entries.div_ceil(4));
        if self.ghost.len() < room.min(limit) {
            self.ghost = vec![None; room.next_power_of_two().min(limit)];
        }
        let at = self.place(key);
        self.ghost[at] = Some(key);
    }

    fn remove(&mut self, key: &str) -> Option<u64> {
        let entry = self.take(key)?;
        self.stats.evictions.removal += 1;
        Some(entry.1)
    }

    fn clear(&mut self) -> usize {
        let count = self.len();
        self.stats.evictions.removal += count as u64;
        self.small.clear();
        self.main.clear();
        self.ghost.clear();
        count
    }

    /// Keeps the entries `keep` accepts; returns how many went.
    fn retain(&mut self, keep: impl Fn(&ModelEntry) -> bool) -> usize {
        let before = self.len();
        self.small.retain(&keep);
        self.main.retain(&keep);
        before - self.len()
    }

    /// Drops `key` and everything that reaches it in [`GRAPH`], found by a fixed point.
    fn invalidate(&mut self, key: &str) -> usize {
        let mut doomed = vec![key];
        loop {
            let before = doomed.len();
            for (name, deps) in GRAPH {
                if !doomed.contains(&name) && deps.iter().any(|d| doomed.contains(d)) {
                    doomed.push(name);
                }
            }
            if doomed.len() == before {
                break;
            }
        }
        let removed = self.retain(|e| !doomed.contains(&e.0));
        self.stats.evictions.invalidation += removed as u64;
        removed
    }

    fn purge(&mut self) -> usize {
        let (now, max_age) = (self.now, self.max_age);
        let removed = self.retain(|e| max_age.is_none_or(|max| now - e.2 < max));
        self.stats.evictions.age += removed as u64;
        removed
    }

    /// The keys of the small and the main queues, each front to tail.
    fn queues(&self) -> [Vec<String>; 2] {
        [&self.small, &self.main].map(|queue| queue.iter().map(|e| e.0.to_owned()).collect())
    }

    fn published(&self) -> CacheStats {
        CacheStats {
            entries: self.len() as u64,
            bytes: self.bytes(),
            ..self.stats
        }
    }
}

fn check(max_entries: usize, max_bytes: u64, max_age: Option<u64>, ops: &[Op]) {
    let now = Arc::new(AtomicU64::new(0));
    let weigher = |_: &str, weight: &u64| *weight;
    let options = || {
        let builder = TemplateCache::<u64>::builder()
            .max_entries(max_entries)
            .max_bytes(max_bytes)
            .graph(graph())
            .clock(Clock::Manual(Arc::clone(&now)))
            .weigher(weigher);
        match max_age {
            Some(age) => builder.max_age(Duration::from_nanos(age)),
            None => builder,
        }
    };
    let sync = options().shards(1).build().unwrap();
    let mut unsync: unsync::TemplateCache<u64, _> = options().build_unsync().unwrap();
    let mut model = Model {
        small: Vec::new(),
        main: Vec::new(),
        ghost: Vec::new(),
        max_entries,
        max_bytes,
        max_age,
        now: 0,
        stats: CacheStats::default(),
    };

    for (step, op) in ops.iter().enumerate() {
        let context = format!("step {step}: {op:?}");
        match *op {
            Op::Get(k) => {
                let want = model.get(KEYS[k]);
                assert_eq!(sync.get(KEYS[k]), want, "{context}");
                assert_eq!(unsync.get(KEYS[k]).copied(), want, "{context}");
            }
            Op::Peek(k) => {
                let want = model.peek(KEYS[k]);
                assert_eq!(sync.peek(KEYS[k]), want, "{context}");
                assert_eq!(unsync.peek(KEYS[k]).copied(), want, "{context}");
                assert_eq!(sync.contains(KEYS[k]), want.is_some(), "{context}");
            }
            Op::Insert(k, weight) => {
                let want = model.insert(KEYS[k], weight);
                assert_eq!(sync.insert(KEYS[k], weight), want, "{context}");
                assert_eq!(unsync.insert(KEYS[k], weight), want, "{context}");
            }
            Op::Remove(k) => {
                let want = model.remove(KEYS[k]);
                assert_eq!(sync.remove(KEYS[k]), want, "{context}");
                assert_eq!(unsync.remove(KEYS[k]), want, "{context}");
            }
            Op::Invalidate(k) => {
                let want = model.invalidate(KEYS[k]);
                assert_eq!(sync.invalidate(KEYS[k]), want, "{context}");
                assert_eq!(unsync.invalidate(KEYS[k]), want, "{context}");
            }
            Op::Clear => {
                let want = model.clear();
                assert_eq!(sync.clear(), want, "{context}");
                assert_eq!(unsync.clear(), want, "{context}");
            }
            Op::Advance(ticks) => {
                model.now += ticks;
                now.fetch_add(ticks, Ordering::Relaxed);
            }
            Op::Purge => {
                let want = model.purge();
                assert_eq!(sync.purge_expired(), want, "{context}");
                assert_eq!(unsync.purge_expired(), want, "{context}");
            }
        }
        sync.validate();
        unsync.validate();
        let queues = model.queues();
        assert_eq!(
            sync.queues_by_shard(),
            std::slice::from_ref(&queues),
            "{context}"
        );
        assert_eq!(unsync.queues(), queues, "{context}");
        assert_eq!(
            unsync.keys().collect::<Vec<_>>(),
            queues.concat(),
            "{context}"
        );
        for key in KEYS {
            let want = (model.remembers(key), model.ghost.len());
            assert_eq!(sync.ghost(key), want, "{context}: ghost of {key}");
            assert_eq!(unsync.ghost(key), want, "{context}: ghost of {key}");
        }
        assert_eq!(sync.stats(), model.published(), "{context}");
        assert_eq!(unsync.stats(), model.published(), "{context}");
        let stats = sync.stats();
        assert_eq!(
            stats.entries,
            stats.inserts - stats.evictions.total(),
            "{context}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn matches_the_reference(
        (max_entries, max_bytes, ops) in (1usize..7, 1u64..40)
            .prop_flat_map(|(e, b)| (Just(e), Just(b), proptest::collection::vec(op(b), 1..120)))
    ) {
        check(max_entries, max_bytes, None, &ops);
    }

    #[test]
    fn matches_the_reference_with_a_maximum_age(
        (max_entries, max_bytes, max_age, ops) in (1usize..7, 1u64..40, 1u64..100)
            .prop_flat_map(|(e, b, a)| (Just(e), Just(b), Just(a), proptest::collection::vec(op(b), 1..120)))
    ) {
        check(max_entries, max_bytes, Some(max_age), &ops);
    }

    /// Long runs of hits on a full cache: most entries have uses left when an insert comes, so
    /// eviction moves many entries in a row.
    #[test]
    fn matches_the_reference_over_long_runs_of_hits(
        (max_entries, ops) in (4usize..12)
            .prop_flat_map(|e| (Just(e), proptest::collection::vec(hit_heavy(), 100..400)))
    ) {
        let fill = (0..KEYS.len()).map(|k| Op::Insert(k, 1));
        check(max_entries, 1_000, None, &fill.chain(ops).collect::<Vec<_>>());
    }
}

/// A sync cache of one shard and an unsync cache, both of `max_entries`.
fn one_shard_each(max_entries: usize) -> (TemplateCache<u64>, unsync::TemplateCache<u64>) {
    let options = || TemplateCache::<u64>::builder().max_entries(max_entries);
    (
        options().shards(1).build().unwrap(),
        options().build_unsync().unwrap(),
    )
}

/// Mostly lookups, now and then an insert or a removal.
fn hit_heavy() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    prop_oneof![
        60 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(|k| Op::Insert(k, 1)),
        1 => key.prop_map(Op::Remove),
    ]
}

#[test]
fn expiry_is_exact_on_the_manual_clock() {
    let ops = [
        Op::Insert(0, 1),
        Op::Advance(9),
        Op::Get(0),
        Op::Advance(1),
        Op::Peek(0),
        Op::Get(0),
        Op::Insert(1, 1),
        Op::Insert(2, 1),
        Op::Advance(10),
        Op::Purge,
    ];
    check(4, 10, Some(10), &ops);
}

#[test]
fn shards_share_the_limits_and_never_exceed_them() {
    let cache = TemplateCache::<u64>::builder()
        .max_entries(100)
        .max_bytes(1_000)
        .shards(4)
        .weigher(|_: &str, w: &u64| *w)
        .build()
        .unwrap();
    for i in 0..2_000u64 {
        cache.insert(&format!("t{i}.html"), i % 17);
        if i % 97 == 0 {
            cache.validate();
        }
    }
    cache.validate();
    let stats = cache.stats();
    assert!(stats.entries <= 100 && stats.bytes <= 1_000, "{stats:?}");
    assert_eq!(stats.entries, stats.inserts - stats.evictions.total());
    assert!(
        stats.evictions.entries > 0 && stats.evictions.bytes > 0,
        "{stats:?}"
    );
    let per_shard: Vec<usize> = cache
        .queues_by_shard()
        .iter()
        .map(|[small, main]| small.len() + main.len())
        .collect();
    assert!(per_shard.iter().all(|&n| n <= 25), "{per_shard:?}");
}

/// The point of the use counter: an entry looked up between inserts outlives a stream of
/// keys each used once, in both caches; with no uses counted (plain FIFO) it would go after
/// `max_entries` inserts.
#[test]
fn a_hot_entry_outlives_a_stream_of_one_time_keys() {
    let (sync, mut unsync) = one_shard_each(8);
    sync.insert("hot.html", 0);
    unsync.insert("hot.html", 0);
    for i in 1..1_000u64 {
        assert_eq!(sync.get("hot.html"), Some(0), "sync, insert {i}");
        assert_eq!(unsync.get("hot.html"), Some(&0), "unsync, insert {i}");
        sync.insert(&format!("once-{i}.html"), i);
        unsync.insert(&format!("once-{i}.html"), i);
    }
    assert_eq!(sync.stats().evictions.entries, 999 - 7);
    assert_eq!(unsync.stats().evictions.entries, 999 - 7);
    sync.validate();
    unsync.validate();
}

/// Scan resistance: entries used more than once, in the main queue, outlive a scan of one-time
/// keys many times longer than the cache, which passes through the small queue alone; the
/// ghost that the scan fills has places for a quarter of the shard's entries.
#[test]
fn a_scan_leaves_the_main_queue_alone() {
    let (sync, mut unsync) = one_shard_each(100);
    let hot: Vec<String> = (0..80).map(|i| format!("hot-{i}.html")).collect();
    for key in &hot {
        sync.insert(key, 0);
        unsync.insert(key, 0);
    }
    // Used once more each, then pushed to the main queue by new keys.
    for key in &hot {
        assert!(sync.get(key).is_some() && unsync.get(key).is_some());
    }
    for i in 0..10_000u64 {
        let key = format!("scan-{i}.html");
        sync.insert(&key, i);
        unsync.insert(&key, i);
        if i % 500 == 0 {
            sync.validate();
            unsync.validate();
        }
    }
    for key in &hot {
        assert_eq!(sync.peek(key), Some(0), "sync {key}");
        assert_eq!(unsync.peek(key), Some(&0), "unsync {key}");
    }
    let [small, main] = unsync.queues();
    assert_eq!((small.len(), main.len()), (20, 80));
    let (_, ghost) = unsync.ghost("scan-0.html");
    assert_eq!(ghost, 25, "places in the ghost");
    assert_eq!(sync.ghost("scan-0.html").1, ghost);
    sync.validate();
    unsync.validate();
}

/// A key dropped from the small queue and asked for again while the ghost remembers it goes
/// straight to the main queue.
#[test]
fn a_key_the_ghost_remembers_goes_to_the_main_queue() {
    let mut cache = TemplateCache::<u64>::builder()
        .max_entries(10)
        .build_unsync()
        .unwrap();
    for i in 0..11u64 {
        cache.insert(&format!("t{i}.html"), i);
    }
    assert_eq!(cache.get("t0.html"), None);
    assert_eq!(cache.ghost("t0.html"), (true, 3));
    cache.insert("t0.html", 0);
    let [small, main] = cache.queues();
    assert_eq!(main, ["t0.html"]);
    assert!(!small.contains(&"t0.html".to_owned()));
    cache.validate();
}
