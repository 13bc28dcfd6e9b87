//! Counters each shard keeps in atomics, and the snapshot [`CacheStats`] that adds them up.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    Insert,
    Update,
    Rejected,
    /// Evicted: the entry limit.
    Entries,
    /// Evicted: the byte limit.
    Bytes,
    /// Evicted: older than the maximum age.
    Age,
    /// Evicted: `invalidate`.
    Invalidation,
    /// Evicted: `remove` or `clear`.
    Removal,
    // The counters every lookup writes come last: in the sync cache they share a cache line
    // with the shard's lock.
    Hit,
    Miss,
}

const COUNTERS: usize = 10;

/// One shard's counters. Each is written only by the holder of the shard (under its lock in the
/// sync cache), so a relaxed load and store is enough and no read-modify-write is paid; anyone
/// can read them at any time.
#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct ShardStats {
    entries: AtomicU64,
    bytes: AtomicU64,
    counters: [AtomicU64; COUNTERS],
}

impl ShardStats {
    #[inline]
    pub(crate) fn bump(&self, cause: Cause) {
        self.add(cause, 1);
    }

    #[inline]
    pub(crate) fn add(&self, cause: Cause, count: u64) {
        let counter = &self.counters[cause as usize];
        counter.store(counter.load(Relaxed) + count, Relaxed);
    }

    #[inline]
    pub(crate) fn publish(&self, entries: u64, bytes: u64) {
        self.entries.store(entries, Relaxed);
        self.bytes.store(bytes, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        let get = |cause: Cause| self.counters[cause as usize].load(Relaxed);
        CacheStats {
            hits: get(Cause::Hit),
            misses: get(Cause::Miss),
            inserts: get(Cause::Insert),
            updates: get(Cause::Update),
            rejected: get(Cause::Rejected),
            evictions: Evictions {
                entries: get(Cause::Entries),
                bytes: get(Cause::Bytes),
                age: get(Cause::Age),
                invalidation: get(Cause::Invalidation),
                removal: get(Cause::Removal),
            },
            entries: self.entries.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
        }
    }
}

/// A snapshot of a cache's counters, taken without stopping it.
///
/// Once the cache is quiet, `entries == inserts - evictions.total()`: every new key counts one
/// insert, and every entry that leaves counts exactly one eviction under one cause. While other
/// threads work, each counter is exact but the snapshot is not taken at a single instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Lookups that found a live value.
    pub hits: u64,
    /// Lookups that found none (or found an expired one). A caller of `get_or_insert_with`
    /// that waits for another thread's load counts a miss too.
    pub misses: u64,
    /// Values stored under a key the cache did not hold.
    pub inserts: u64,
    /// Values stored over a live value of the same key.
    pub updates: u64,
    /// Values not stored because they alone weigh more than a shard's byte limit.
    pub rejected: u64,
    /// Entries that left the cache, by cause.
    pub evictions: Evictions,
    /// Entries in the cache.
    pub entries: u64,
    /// Total weight of the entries (see [`Weigher`](super::Weigher)).
    pub bytes: u64,
}

/// Entries that left a cache, by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Evictions {
    /// Made room under the entry limit.
    pub entries: u64,
    /// Made room under the byte limit (or replaced by a value too heavy to keep).
    pub bytes: u64,
    /// Older than the maximum age when looked up, evicted or purged.
    pub age: u64,
    /// Dropped by `invalidate`, directly or through the dependency graph.
    pub invalidation: u64,
    /// Dropped by `remove` or `clear`.
    pub removal: u64,
}

impl Evictions {
    /// All causes together.
    pub fn total(&self) -> u64 {
        self.entries + self.bytes + self.age + self.invalidation + self.removal
    }
}

impl CacheStats {
    /// `hits / (hits + misses)`, or 0 before the first lookup.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }

    pub(crate) fn merge(mut self, other: CacheStats) -> CacheStats {
        self.hits += other.hits;
        self.misses += other.misses;
        self.inserts += other.inserts;
        self.updates += other.updates;
        self.rejected += other.rejected;
        self.evictions.entries += other.evictions.entries;
        self.evictions.bytes += other.evictions.bytes;
        self.evictions.age += other.evictions.age;
        self.evictions.invalidation += other.evictions.invalidation;
        self.evictions.removal += other.evictions.removal;
        self.entries += other.entries;
        self.bytes += other.bytes;
        self
    }
}
