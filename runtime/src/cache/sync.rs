//! The sharded, thread-safe [`TemplateCache`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use hashbrown::HashTable;
use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};
use shipwright_core::format::{BuildCache, FormatError};

use super::clock::Clock;
use super::options::{CacheBuilder, DefaultWeigher, Parts, Weigher};
use super::shard::{Inserted, Shard};
use super::stats::{CacheStats, Cause, ShardStats};
use crate::graph::DependencyGraph;

/// A thread-safe cache of templates (or anything made from them), keyed by template name, with
/// S3-FIFO eviction (scan-resistant and frequency-aware, with hits that move nothing).
///
/// Every method takes `&self`. The keys are spread over [shards](CacheBuilder::shards), each
/// with its own mutex, queues and share of the limits; a lookup locks one shard only.
/// See the [module documentation](super) for an example.
pub struct TemplateCache<V, W = DefaultWeigher> {
    shards: Box<[ShardSlot<V>]>,
    mask: usize,
    hasher: ahash::RandomState,
    weigher: W,
    clock: Clock,
    graph: RwLock<Option<Arc<DependencyGraph>>>,
}

/// One shard with its lock and counters, alone on its cache lines. The counters come first so
/// that the hit and miss counters, the lock and the table's header share one line: a lookup
/// from another core then moves one line, not three.
#[repr(C, align(128))]
struct ShardSlot<V> {
    stats: ShardStats,
    locked: Mutex<Locked<V>>,
}

struct Locked<V> {
    shard: Shard<V>,
    /// Keys being computed by `get_or_insert_with`.
    loading: HashTable<Arc<Pending<V>>>,
}

/// The placeholder of a key whose value one thread computes while others wait.
struct Pending<V> {
    key: Box<str>,
    hash: u64,
    state: Mutex<Load<V>>,
    done: Condvar,
    /// Set (under the shard's lock) when the key is written, removed or invalidated during the
    /// load: the value computed is then handed to the callers but not stored.
    stale: AtomicBool,
}

enum Load<V> {
    Running,
    Ready(V),
    /// The loader returned an error or panicked; waiters try again.
    Failed,
}

/// Returned by the `try_*` methods when the shard is locked by another thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cache shard is locked by another thread")]
pub struct LockContention;

impl<V> TemplateCache<V> {
    /// A cache with the default options (see [`CacheBuilder`]).
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default options are valid")
    }

    /// Options for a new cache.
    pub fn builder() -> CacheBuilder<V> {
        CacheBuilder::default()
    }

    /// A cache with the default options whose `invalidate` follows the dependency graph of
    /// `build`, with room for twice as many entries as `build` has templates (at least the
    /// default), so that every template fits even in the fullest shard.
    ///
    /// The values are not made here: the application inserts them (see
    /// [`warm`](Self::warm)).
    pub fn from_build_cache(build: &BuildCache) -> Self {
        Self::builder()
            .max_entries(
                build
                    .templates
                    .len()
                    .saturating_mul(2)
                    .max(super::DEFAULT_MAX_ENTRIES),
            )
            .build_cache(build)
            .build()
            .expect("the default options are valid")
    }

    /// [`from_build_cache`](Self::from_build_cache) on the BuildCache file at `path`, which
    /// must be a whole BuildCache of this version: a torn file, another format or another
    /// version is an error naming the file.
    pub fn from_build_cache_file(path: impl AsRef<std::path::Path>) -> Result<Self, FormatError> {
        Ok(Self::from_build_cache(&BuildCache::load(path)?))
    }
}

impl<V> Default for TemplateCache<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V, W: Weigher<V>> TemplateCache<V, W> {
    pub(crate) fn from_parts(parts: Parts<W>) -> Self {
        let shards: Box<[ShardSlot<V>]> = parts
            .limits
            .into_iter()
            .map(|limits| ShardSlot {
                locked: Mutex::new(Locked {
                    shard: Shard::new(limits),
                    loading: HashTable::new(),
                }),
                stats: ShardStats::default(),
            })
            .collect();
        TemplateCache {
            mask: shards.len() - 1,
            shards,
            hasher: super::options::hasher(),
            weigher: parts.weigher,
            clock: parts.clock,
            graph: RwLock::new(parts.graph),
        }
    }

    #[inline(always)]
    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of a hash: bits the table does not use (it takes the low bits for the bucket
    /// and the top seven as a tag).
    #[inline]
    fn slot(&self, hash: u64) -> &ShardSlot<V> {
        &self.shards[(hash >> 32) as usize & self.mask]
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The value of `key`, now marked as used (its use counter raised).
    #[inline]
    pub fn get(&self, key: &str) -> Option<V>
    where
        V: Clone,
    {
        let hash = self.hash(key);
        let slot = self.slot(hash);
        slot.locked
            .lock()
            .shard
            .get(hash, key, &slot.stats, &self.clock)
            .cloned()
    }

    /// Like [`get`](Self::get), but fails instead of waiting when the shard is locked.
    #[inline]
    pub fn try_get(&self, key: &str) -> Result<Option<V>, LockContention>
    where
        V: Clone,
    {
        let hash = self.hash(key);
        let slot = self.slot(hash);
        let mut locked = slot.locked.try_lock().ok_or(LockContention)?;
        Ok(locked
            .shard
            .get(hash, key, &slot.stats, &self.clock)
            .cloned())
    }

    /// The value of `key` without marking it as used and without counting a hit or a
    /// miss.
    pub fn peek(&self, key: &str) -> Option<V>
    where
        V: Clone,
    {
        self.peek_with(key, |value| value.cloned())
    }

    /// Whether `key` has a live value (without marking it as used).
    pub fn contains(&self, key: &str) -> bool {
        self.peek_with(key, |value| value.is_some())
    }

    /// `read` applied to the live value of `key`, under its shard's lock, without marking it as
    /// used or counting a hit or a miss.
    fn peek_with<R>(&self, key: &str, read: impl FnOnce(Option<&V>) -> R) -> R {
        let hash = self.hash(key);
        read(
            self.slot(hash)
                .locked
                .lock()
                .shard
                .peek(hash, key, &self.clock),
        )
    }

    /// Stores `value` in its shard, evicting (see [eviction](super#eviction-policy)) until the
    /// limits leave room. Returns `false`, storing
    /// nothing and dropping any old value of `key`, when the value alone weighs more than the
    /// shard's byte limit.
    ///
    /// A `get_or_insert_with` of the same key still running will not store its value over this
    /// one.
    #[inline]
    pub fn insert(&self, key: &str, value: V) -> bool {
        let weight = self.weigher.weigh(key, &value);
        let hash = self.hash(key);
        let slot = self.slot(hash);
        let mut locked = slot.locked.lock();
        locked.forget_loads(hash, key);
        locked
            .shard
            .insert(hash, key, value, weight, &slot.stats, &self.clock)
            != Inserted::Rejected
    }

    /// Inserts every pair, in order; returns how many were stored.
    pub fn warm<K: AsRef<str>>(&self, entries: impl IntoIterator<Item = (K, V)>) -> usize {
        let mut stored = 0;
        for (key, value) in entries {
            stored += usize::from(self.insert(key.as_ref(), value));
        }
        stored
    }

    /// The value of `key`, computed by `init` and stored if it is missing.
    ///
    /// When several threads ask for the same missing key at once, one of them runs its `init`
    /// and the others wait for that value: a template is compiled once. If the key is written,
    /// removed or invalidated while `init` runs, the value is returned to the waiting callers
    /// but not stored.
    ///
    /// # Deadlocks
    ///
    /// `init` must not ask this cache for the same key.
    pub fn get_or_insert_with(&self, key: &str, init: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        match self.try_get_or_insert_with(key, || Ok::<V, std::convert::Infallible>(init())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for an `init` that can fail (a
    /// template that does not compile). The error goes to the caller whose `init` failed;
    /// the callers waiting for it try again, one of them running its own `init`.
    pub fn try_get_or_insert_with<E>(
        &self,
        key: &str,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        V: Clone,
    {
        let hash = self.hash(key);
        let slot = self.slot(hash);
        loop {
            let mut locked = slot.locked.lock();
            if let Some(value) = locked.shard.get(hash, key, &slot.stats, &self.clock) {
                return Ok(value.clone());
            }
            if let Some(pending) = locked.loading.find(hash, |p| &*p.key == key) {
                let pending = Arc::clone(pending);
                drop(locked);
                match pending.wait() {
                    Some(value) => return Ok(value),
                    None => continue,
                }
            }
            let pending = Arc::new(Pending {
                key: key.into(),
                hash,
                state: Mutex::new(Load::Running),
                done: Condvar::new(),
                stale: AtomicBool::new(false),
            });
            locked
                .loading
                .insert_unique(hash, Arc::clone(&pending), |p| p.hash);
            drop(locked);
            let guard = LoadGuard {
                cache: self,
                slot,
                pending: Some(pending),
            };
            let value = init()?;
            return Ok(guard.finish(value));
        }
    }

    /// Removes `key`; returns its value if it had one.
    pub fn remove(&self, key: &str) -> Option<V> {
        let hash = self.hash(key);
        let slot = self.slot(hash);
        let mut locked = slot.locked.lock();
        locked.forget_loads(hash, key);
        locked.shard.remove(hash, key, Cause::Removal, &slot.stats)
    }

    /// Drops `name` and every template that depends on it, directly or not, through the
    /// [graph](CacheBuilder::graph); returns how many entries were dropped. Without a graph, or
    /// for a name the graph does not know, only `name` is dropped.
    pub fn invalidate(&self, name: &str) -> usize {
        self.invalidate_many([name])
    }

    /// [`invalidate`](Self::invalidate) for several names at once: each affected entry is
    /// dropped once, and each shard is locked once.
    pub fn invalidate_many<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> usize {
        let graph = self.graph();
        let mut outside = Vec::new();
        let mut known = Vec::new();
        for name in names {
            match graph.as_deref().and_then(|g| g.id(name)) {
                Some(id) => known.push(id),
                None => outside.push(name),
            }
        }
        let affected = graph
            .as_deref()
            .map(|g| g.affected(&known))
            .unwrap_or_default();
        let names = outside.into_iter().chain(
            affected
                .iter()
                .map(|&id| graph.as_deref().unwrap().name(id)),
        );
        // (shard, hash, name), grouped by shard so that each lock is taken once.
        let mut targets: Vec<(usize, u64, &str)> = names
            .map(|name| {
                let hash = self.hash(name);
                ((hash >> 32) as usize & self.mask, hash, name)
            })
            .collect();
        targets.sort_unstable_by_key(|&(shard, ..)| shard);
        let mut removed = 0;
        for group in targets.chunk_by(|a, b| a.0 == b.0) {
            let slot = &self.shards[group[0].0];
            let mut locked = slot.locked.lock();
            for &(_, hash, name) in group {
                locked.forget_loads(hash, name);
                removed += usize::from(
                    locked
                        .shard
                        .remove(hash, name, Cause::Invalidation, &slot.stats)
                        .is_some(),
                );
            }
        }
        removed
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        self.shards
            .iter()
            .map(|slot| {
                let mut locked = slot.locked.lock();
                for pending in &locked.loading {
                    pending.stale.store(true, Relaxed);
                }
                locked.loading.clear();
                locked.shard.clear(Cause::Removal, &slot.stats)
            })
            .sum()
    }

    /// Removes every expired entry now rather than when it is met; returns how many.
    pub fn purge_expired(&self) -> usize {
        self.shards
            .iter()
            .map(|slot| {
                slot.locked
                    .lock()
                    .shard
                    .purge_expired(&slot.stats, &self.clock)
            })
            .sum()
    }

    /// The counters of every shard, added up, read without locking.
    pub fn stats(&self) -> CacheStats {
        self.shards
            .iter()
            .map(|slot| slot.stats.snapshot())
            .fold(CacheStats::default(), CacheStats::merge)
    }

    /// The number of entries, read without locking.
    pub fn len(&self) -> usize {
        self.stats().entries as usize
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The graph `invalidate` follows.
    pub fn graph(&self) -> Option<Arc<DependencyGraph>> {
        self.graph.read().clone()
    }

    /// Replaces the graph `invalidate` follows (after the templates were rebuilt, say).
    pub fn set_graph(&self, graph: Option<Arc<DependencyGraph>>) {
        *self.graph.write() = graph;
    }

    /// Checks every shard's invariants; panics with a description of the first broken one.
    #[cfg(any(test, fuzzing))]
    pub fn validate(&self) {
        for slot in self.shards.iter() {
            let locked = slot.locked.lock();
            locked.shard.validate(&slot.stats, &self.hasher);
            for pending in &locked.loading {
                assert_eq!(pending.hash, self.hash(&pending.key), "placeholder hash");
                assert!(
                    std::ptr::eq(self.slot(pending.hash), slot),
                    "placeholder in the wrong shard"
                );
            }
        }
    }

    /// The keys of each shard's small and main queues, each front to tail (tests only).
    #[cfg(test)]
    pub(crate) fn queues_by_shard(&self) -> Vec<[Vec<String>; 2]> {
        self.shards
            .iter()
            .map(|slot| slot.locked.lock().shard.queues())
            .collect()
    }

    /// Whether the ghost of `key`'s shard remembers it, and how many places that ghost has
    /// (tests only).
    #[cfg(test)]
    pub(crate) fn ghost(&self, key: &str) -> (bool, usize) {
        let hash = self.hash(key);
        self.slot(hash).locked.lock().shard.ghost(hash)
    }
}

impl<V> Locked<V> {
    /// A write to `key` makes any load of it in flight stale.
    #[inline]
    fn forget_loads(&mut self, hash: u64, key: &str) {
        if !self.loading.is_empty() {
            self.forget_loads_slow(hash, key);
        }
    }

    #[cold]
    fn forget_loads_slow(&mut self, hash: u64, key: &str) {
        if let Ok(entry) = self.loading.find_entry(hash, |p| &*p.key == key) {
            let (pending, _) = entry.remove();
            pending.stale.store(true, Relaxed);
        }
    }

    /// Removes `pending` from the loads in flight, if it is still there.
    fn finish_load(&mut self, pending: &Arc<Pending<V>>) {
        if let Ok(entry) = self
            .loading
            .find_entry(pending.hash, |p| Arc::ptr_eq(p, pending))
        {
            entry.remove();
        }
    }
}

impl<V: Clone> Pending<V> {
    /// Waits for the loader; `None` if it failed.
    fn wait(&self) -> Option<V> {
        let mut state = self.state.lock();
        loop {
            match &*state {
                Load::Running => self.done.wait(&mut state),
                Load::Ready(value) => return Some(value.clone()),
                Load::Failed => return None,
            }
        }
    }

    fn settle(&self, load: Load<V>) {
        *self.state.lock() = load;
        self.done.notify_all();
    }
}

/// Owned by the thread running `init`: stores the value, or tells the waiters to retry if the
/// thread returns an error or panics.
struct LoadGuard<'a, V: Clone, W: Weigher<V>> {
    cache: &'a TemplateCache<V, W>,
    slot: &'a ShardSlot<V>,
    pending: Option<Arc<Pending<V>>>,
}

impl<V: Clone, W: Weigher<V>> LoadGuard<'_, V, W> {
    fn finish(mut self, value: V) -> V {
        let pending = self.pending.take().expect("a load finishes once");
        let weight = self.cache.weigher.weigh(&pending.key, &value);
        {
            let mut locked: MutexGuard<'_, Locked<V>> = self.slot.locked.lock();
            locked.finish_load(&pending);
            if !pending.stale.load(Relaxed) {
                let (cache, stats) = (self.cache, &self.slot.stats);
                locked.shard.insert(
                    pending.hash,
                    &pending.key,
                    value.clone(),
                    weight,
                    stats,
                    &cache.clock,
                );
            }
        }
        pending.settle(Load::Ready(value.clone()));
        value
    }
}

impl<V: Clone, W: Weigher<V>> Drop for LoadGuard<'_, V, W> {
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.slot.locked.lock().finish_load(&pending);
            pending.settle(Load::Failed);
        }
    }
}

impl<V, W> fmt::Debug for TemplateCache<V, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self
            .shards
            .iter()
            .map(|slot| slot.stats.snapshot())
            .fold(CacheStats::default(), CacheStats::merge);
        f.debug_struct("TemplateCache")
            .field("shards", &self.shards.len())
            .field("entries", &stats.entries)
            .field("bytes", &stats.bytes)
            .finish_non_exhaustive()
    }
}
