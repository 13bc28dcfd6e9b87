//! Model-based tests: the caches against a plain reference of their CLOCK policy, op by op.
//! (How close CLOCK comes to exact LRU is measured by the cache benchmark, on a Zipfian trace
//! beside the `lru` crate.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use shipwright_core::format::{BuildCache, TemplateRecord};

use super::clock::Clock;
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

/// An entry of the reference: key, weight, when it was stored, reference bit.
type ModelEntry = (&'static str, u64, u64, bool);

/// The reference: the queue as a vector from the front to the tail, searched linearly; a hit
/// sets the entry's bit, and eviction gives every entry with its bit set a second chance at
/// the front before it takes the first without.
struct Model {
    entries: Vec<ModelEntry>,
    max_entries: usize,
    max_bytes: u64,
    max_age: Option<u64>,
    now: u64,
    stats: CacheStats,
}

impl Model {
    fn bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.1).sum()
    }

    fn expired(&self, stamp: u64) -> bool {
        self.max_age.is_some_and(|max| self.now - stamp >= max)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == key)
    }

    fn get(&mut self, key: &str) -> Option<u64> {
        let Some(i) = self.position(key) else {
            self.stats.misses += 1;
            return None;
        };
        if self.expired(self.entries[i].2) {
            self.entries.remove(i);
            self.stats.evictions.age += 1;
            self.stats.misses += 1;
            return None;
        }
        self.entries[i].3 = true;
        self.stats.hits += 1;
        Some(self.entries[i].1)
    }

    fn peek(&self, key: &str) -> Option<u64> {
        let i = self.position(key)?;
        (!self.expired(self.entries[i].2)).then_some(self.entries[i].1)
    }

    fn evict_tail(&mut self, by_bytes: bool) {
        let stamp = loop {
            let (key, weight, stamp, referenced) = self.entries.pop().unwrap();
            if !referenced || self.expired(stamp) {
                break stamp;
            }
            self.entries.insert(0, (key, weight, stamp, false));
        };
        match (self.expired(stamp), by_bytes) {
            (true, _) => self.stats.evictions.age += 1,
            (false, true) => self.stats.evictions.bytes += 1,
            (false, false) => self.stats.evictions.entries += 1,
        }
    }

    fn insert(&mut self, key: &'static str, weight: u64) -> bool {
        let old = self.position(key).map(|i| self.entries.remove(i));
        if weight > self.max_bytes {
            if old.is_some() {
                self.stats.evictions.bytes += 1;
            }
            self.stats.rejected += 1;
            return false;
        }
        while self.entries.len() >= self.max_entries {
            self.evict_tail(false);
        }
        while self.bytes() + weight > self.max_bytes {
            self.evict_tail(true);
        }
        self.entries.insert(0, (key, weight, self.now, false));
        if old.is_some() {
            self.stats.updates += 1;
        } else {
            self.stats.inserts += 1;
        }
        true
    }

    fn remove(&mut self, key: &str) -> Option<u64> {
        let i = self.position(key)?;
        self.stats.evictions.removal += 1;
        Some(self.entries.remove(i).1)
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
        let before = self.entries.len();
        self.entries.retain(|e| !doomed.contains(&e.0));
        let removed = before - self.entries.len();
        self.stats.evictions.invalidation += removed as u64;
        removed
    }

    fn purge(&mut self) -> usize {
        let before = self.entries.len();
        let (now, max_age) = (self.now, self.max_age);
        self.entries
            .retain(|e| max_age.is_none_or(|max| now - e.2 < max));
        let removed = before - self.entries.len();
        self.stats.evictions.age += removed as u64;
        removed
    }

    fn published(&self) -> CacheStats {
        CacheStats {
            entries: self.entries.len() as u64,
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
        entries: Vec::new(),
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
                let want = model.entries.len();
                model.stats.evictions.removal += want as u64;
                model.entries.clear();
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
        let order: Vec<&str> = model.entries.iter().map(|e| e.0).collect();
        assert_eq!(
            sync.keys_by_shard(),
            std::slice::from_ref(&order),
            "{context}"
        );
        assert_eq!(unsync.keys().collect::<Vec<_>>(), order, "{context}");
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

    /// Long runs of hits on a full cache: most entries carry their bit when an insert comes, so
    /// eviction gives many second chances in a row.
    #[test]
    fn matches_the_reference_over_long_runs_of_hits(
        (max_entries, ops) in (4usize..12)
            .prop_flat_map(|e| (Just(e), proptest::collection::vec(hit_heavy(), 100..400)))
    ) {
        let fill = (0..KEYS.len()).map(|k| Op::Insert(k, 1));
        check(max_entries, 1_000, None, &fill.chain(ops).collect::<Vec<_>>());
    }
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
    let per_shard: Vec<usize> = cache.keys_by_shard().iter().map(Vec::len).collect();
    assert!(per_shard.iter().all(|&n| n <= 25), "{per_shard:?}");
}

/// The point of the reference bit: an entry looked up between inserts outlives a stream of
/// keys each used once, in both caches; with the bit never set (plain FIFO) it would go after
/// `max_entries` inserts.
#[test]
fn a_hot_entry_outlives_a_stream_of_one_time_keys() {
    let sync = TemplateCache::<u64>::builder()
        .max_entries(8)
        .shards(1)
        .build()
        .unwrap();
    let mut unsync = TemplateCache::<u64>::builder()
        .max_entries(8)
        .build_unsync()
        .unwrap();
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
