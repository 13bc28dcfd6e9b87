//! The single-threaded [`TemplateCache`]: one shard, no lock, `&mut self`.
//!
//! ```
//! use shipwright_runtime::cache::unsync::TemplateCache;
//!
//! let mut cache = TemplateCache::<u32>::builder().max_entries(2).build_unsync().unwrap();
//! cache.insert("a.html", 1);
//! cache.insert("b.html", 2);
//! assert_eq!(cache.get("a.html"), Some(&1)); // a.html is marked as used
//! // Both wait in the small queue: a.html, used, moves to the main queue; b.html goes.
//! cache.insert("c.html", 3);
//! assert_eq!(cache.get("b.html"), None);
//! assert_eq!(cache.keys().collect::<Vec<_>>(), ["c.html", "a.html"]);
//! ```

use std::fmt;
use std::sync::Arc;

use super::clock::Clock;
use super::options::{CacheBuilder, DefaultWeigher, Parts, Weigher};
use super::shard::{Inserted, Shard};
use super::stats::{CacheStats, Cause, ShardStats};
use crate::graph::DependencyGraph;

/// A single-threaded cache keyed by template name: the same S3-FIFO policy, limits and
/// counters as the sharded [`super::TemplateCache`], with one pair of queues over all entries.
pub struct TemplateCache<V, W = DefaultWeigher> {
    shard: Shard<V>,
    stats: ShardStats,
    hasher: ahash::RandomState,
    weigher: W,
    clock: Clock,
    graph: Option<Arc<DependencyGraph>>,
}

impl<V> TemplateCache<V> {
    /// A cache with the default options (see [`CacheBuilder`]).
    pub fn new() -> Self {
        Self::builder()
            .build_unsync()
            .expect("the default options are valid")
    }

    /// Options for a new cache; finish with [`CacheBuilder::build_unsync`].
    pub fn builder() -> CacheBuilder<V> {
        CacheBuilder::default()
    }
}

impl<V> Default for TemplateCache<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V, W: Weigher<V>> TemplateCache<V, W> {
    pub(crate) fn from_parts(parts: Parts<W>) -> Self {
        let [limits] = parts.limits[..] else {
            unreachable!("one shard")
        };
        TemplateCache {
            shard: Shard::new(limits),
            stats: ShardStats::default(),
            hasher: super::options::hasher(),
            weigher: parts.weigher,
            clock: parts.clock,
            graph: parts.graph,
        }
    }

    #[inline(always)]
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The value of `key`, now marked as used (its use counter raised).
    #[inline]
    pub fn get(&mut self, key: &str) -> Option<&V> {
        let hash = self.hash(key);
        self.shard.get(hash, key, &self.stats, &self.clock)
    }

    /// The value of `key` without marking it as used and without counting a hit or a
    /// miss.
    pub fn peek(&self, key: &str) -> Option<&V> {
        self.shard.peek(self.hash(key), key, &self.clock)
    }

    /// Whether `key` has a live value (without marking it as used).
    pub fn contains(&self, key: &str) -> bool {
        self.peek(key).is_some()
    }

    /// Stores `value`, evicting (see [eviction](super#eviction-policy)) until the limits leave
    /// room. Returns `false`, storing nothing and dropping any old value of `key`, when the
    /// value alone weighs more than the byte limit.
    #[inline]
    pub fn insert(&mut self, key: &str, value: V) -> bool {
        let weight = self.weigher.weigh(key, &value);
        let hash = self.hash(key);
        self.shard
            .insert(hash, key, value, weight, &self.stats, &self.clock)
            != Inserted::Rejected
    }

    /// Inserts every pair, in order; returns how many were stored.
    pub fn warm<K: AsRef<str>>(&mut self, entries: impl IntoIterator<Item = (K, V)>) -> usize {
        let mut stored = 0;
        for (key, value) in entries {
            stored += usize::from(self.insert(key.as_ref(), value));
        }
        stored
    }

    /// The value of `key`, computed by `init` and stored if it is missing.
    pub fn get_or_insert_with(&mut self, key: &str, init: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        match self.try_get_or_insert_with(key, || Ok::<V, std::convert::Infallible>(init())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for an `init` that can fail; on
    /// error nothing is stored.
    pub fn try_get_or_insert_with<E>(
        &mut self,
        key: &str,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        V: Clone,
    {
        if let Some(value) = self.get(key) {
            return Ok(value.clone());
        }
        let value = init()?;
        self.insert(key, value.clone());
        Ok(value)
    }

    /// Removes `key`; returns its value if it had one.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let hash = self.hash(key);
        self.shard.remove(hash, key, Cause::Removal, &self.stats)
    }

    /// Drops `name` and every template that depends on it through the graph; returns how many
    /// entries were dropped. Without a graph, or for a name the graph does not know, only
    /// `name` is dropped.
    pub fn invalidate(&mut self, name: &str) -> usize {
        self.invalidate_many([name])
    }

    /// [`invalidate`](Self::invalidate) for several names at once.
    pub fn invalidate_many<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> usize {
        let graph = self.graph.clone();
        let mut known = Vec::new();
        let mut removed = 0;
        for name in names {
            match graph.as_deref().and_then(|g| g.id(name)) {
                Some(id) => known.push(id),
                None => removed += self.drop_invalid(name),
            }
        }
        if let Some(graph) = graph.as_deref() {
            for id in graph.affected(&known) {
                removed += self.drop_invalid(graph.name(id));
            }
        }
        removed
    }

    fn drop_invalid(&mut self, name: &str) -> usize {
        let hash = self.hash(name);
        usize::from(
            self.shard
                .remove(hash, name, Cause::Invalidation, &self.stats)
                .is_some(),
        )
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&mut self) -> usize {
        self.shard.clear(Cause::Removal, &self.stats)
    }

    /// Removes every expired entry now rather than when it is met; returns how many.
    pub fn purge_expired(&mut self) -> usize {
        self.shard.purge_expired(&self.stats, &self.clock)
    }

    /// The keys of the small queue, then of the main queue, each from the front to the tail
    /// (expired ones included): see [eviction](super#eviction-policy).
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.shard.keys()
    }

    /// The keys of the small and the main queues, each front to tail (tests only).
    #[cfg(test)]
    pub(crate) fn queues(&self) -> [Vec<String>; 2] {
        self.shard.queues()
    }

    /// Whether the ghost remembers `key`, and how many places it has (tests only).
    #[cfg(test)]
    pub(crate) fn ghost(&self, key: &str) -> (bool, usize) {
        self.shard.ghost(self.hash(key))
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        self.stats.snapshot()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.shard.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The graph `invalidate` follows.
    pub fn graph(&self) -> Option<&Arc<DependencyGraph>> {
        self.graph.as_ref()
    }

    /// Replaces the graph `invalidate` follows.
    pub fn set_graph(&mut self, graph: Option<Arc<DependencyGraph>>) {
        self.graph = graph;
    }

    /// Checks the invariants; panics with a description of the first broken one.
    #[cfg(any(test, fuzzing))]
    pub fn validate(&self) {
        self.shard.validate(&self.stats, &self.hasher);
    }
}

impl<V, W> fmt::Debug for TemplateCache<V, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats.snapshot();
        f.debug_struct("TemplateCache")
            .field("entries", &stats.entries)
            .field("bytes", &stats.bytes)
            .finish_non_exhaustive()
    }
}
