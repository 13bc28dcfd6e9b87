//! One shard: a CLOCK cache (second chance) whose entries live inside the hash table, with the
//! queue kept apart, over slot numbers. No locks here; the sync cache wraps each shard in a
//! mutex, the unsync cache owns one.
//!
//! A lookup reads the table's control bytes and then one bucket, which holds the key, the
//! value, the entry's slot and its reference bit: no second load depends on the first, as it
//! would through a table of indices into a slab. Keys are [`CompactString`]s, so a name of up
//! to 24 bytes lives in the bucket and comparing it follows no pointer. A hit sets the bit,
//! writing the bucket only if the bit was clear, and moves nothing: looking up a hot entry
//! from several threads leaves its cache line clean.
//!
//! The slot is the entry's place in the queue, a doubly linked list over an array of 8-byte
//! link pairs; slot 0 is the list's sentinel, which makes every link update free of branches.
//! New entries go in at the front. Eviction looks at the tail: an entry with its bit set gets
//! a second chance (the bit is cleared and the entry moved to the front), the first without
//! one is evicted. That is the CLOCK policy, with the list as the clock face. Beside each link,
//! apart from the hot path, the slot keeps what eviction needs: the key's hash (to find the
//! bucket of the tail's slot) and the entry's weight. Buckets move when the table grows; slots
//! never do. Before a value goes in, room is made first, so the entry and byte counts never go
//! above the limits, not even for a moment.
//!
//! Every operation is O(1) apart from `clear`, `purge_expired`, and an eviction's second
//! chances, which are O(1) amortised: each one clears a bit that a hit set.
//!
//! Why not exact LRU: it moves the entry to the front at every hit, and on two threads those
//! moves write list links that the other core holds; measured side by side, it was slower than
//! CLOCK on a get-hit with no better hit ratio (the figures are in `BENCHMARKS.md`, "Runtime
//! cache", "Tried, did not help").

#[cfg(any(test, fuzzing))]
use std::hash::BuildHasher;

use compact_str::CompactString;
use hashbrown::HashTable;
use hashbrown::hash_table::OccupiedEntry;

use super::clock::Clock;
use super::stats::{Cause, ShardStats};

/// The sentinel of the queue (its `next` is the front, its `prev` the tail) and the end of the
/// free list.
const SENTINEL: u32 = 0;

/// The `prev` of a free slot.
const FREE: u32 = u32::MAX;

/// A bucket of the table: 40 bytes for an 8-byte value.
struct Entry<V> {
    key: CompactString,
    value: V,
    /// The entry's slot in the queue.
    slot: u32,
    /// Set by a hit, cleared when the entry is given a second chance at the tail; it takes
    /// the bucket's padding.
    referenced: bool,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    /// Towards the front; [`FREE`] for a free slot.
    prev: u32,
    /// Towards the tail; the next free slot for a free slot.
    next: u32,
}

/// What eviction and removal need of a slot, kept off the lookup path.
#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    /// The hash of the entry's key, which finds its bucket.
    hash: u64,
    weight: u64,
}

/// The limits of one shard (its share of the cache's limits).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_entries: usize,
    pub(crate) max_bytes: u64,
    /// In clock ticks (nanoseconds).
    pub(crate) max_age: Option<u64>,
}

/// What became of an insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// A new key.
    New,
    /// The key was there: its value was replaced.
    Replaced,
    /// The value alone weighs more than the shard's byte limit; any old value of the key was
    /// dropped too.
    Rejected,
}

pub(crate) struct Shard<V> {
    table: HashTable<Entry<V>>,
    /// The queue and the free list, one link pair per slot; slot 0 is the sentinel.
    links: Vec<Link>,
    /// One per slot.
    metas: Vec<Meta>,
    /// When each slot's value was stored (ticks), only if there is a maximum age.
    stamps: Vec<u64>,
    free: u32,
    bytes: u64,
    limits: Limits,
}

impl<V> Shard<V> {
    pub(crate) fn new(limits: Limits) -> Self {
        let mut shard = Shard {
            table: HashTable::new(),
            links: Vec::new(),
            metas: Vec::new(),
            stamps: Vec::new(),
            free: SENTINEL,
            bytes: 0,
            limits,
        };
        shard.reset();
        shard
    }

    /// Back to the sentinel alone.
    fn reset(&mut self) {
        self.table.clear();
        self.links.clear();
        self.links.push(Link {
            prev: SENTINEL,
            next: SENTINEL,
        });
        self.metas.clear();
        self.metas.push(Meta::default());
        self.stamps.clear();
        if self.limits.max_age.is_some() {
            self.stamps.push(0);
        }
        self.free = SENTINEL;
        self.bytes = 0;
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    #[inline(always)]
    fn find(&self, hash: u64, key: &str) -> Option<&Entry<V>> {
        self.table.find(hash, |entry| same(&entry.key, key))
    }

    #[inline]
    fn expired(&self, slot: u32, now: u64) -> bool {
        match self.limits.max_age {
            Some(max) => now.saturating_sub(self.stamps[slot as usize]) >= max,
            None => false,
        }
    }

    /// Looks `key` up and sets its reference bit. An expired entry is dropped and reported as
    /// a miss.
    #[inline(always)]
    pub(crate) fn get(
        &mut self,
        hash: u64,
        key: &str,
        stats: &ShardStats,
        clock: &Clock,
    ) -> Option<&V> {
        if self.limits.max_age.is_some() {
            return self.get_aged(hash, key, stats, clock);
        }
        let Some(entry) = self.table.find_mut(hash, |entry| same(&entry.key, key)) else {
            stats.bump(Cause::Miss);
            return None;
        };
        stats.bump(Cause::Hit);
        Some(reference(entry))
    }

    /// [`get`](Self::get) with a maximum age: one lookup, by bucket index, so that an expired
    /// entry can be dropped (a miss) and a live one returned without looking it up again.
    fn get_aged(&mut self, hash: u64, key: &str, stats: &ShardStats, clock: &Clock) -> Option<&V> {
        let Some(index) = self
            .table
            .find_bucket_index(hash, |entry| same(&entry.key, key))
        else {
            stats.bump(Cause::Miss);
            return None;
        };
        let slot = self.table.get_bucket(index).map(|entry| entry.slot)?;
        if self.expired(slot, clock.now()) {
            self.expire_at_lookup(slot, stats);
            return None;
        }
        stats.bump(Cause::Hit);
        self.table.get_bucket_mut(index).map(reference)
    }

    /// Drops the expired entry in `slot` that a lookup found: a miss.
    #[cold]
    fn expire_at_lookup(&mut self, slot: u32, stats: &ShardStats) {
        drop(self.take(slot));
        stats.bump(Cause::Age);
        stats.bump(Cause::Miss);
        self.publish(stats);
    }

    /// Looks `key` up without touching the order or the statistics; expired entries are not
    /// returned (but stay until something removes them).
    #[inline]
    pub(crate) fn peek(&self, hash: u64, key: &str, clock: &Clock) -> Option<&V> {
        let entry = self.find(hash, key)?;
        if self.limits.max_age.is_some() && self.expired(entry.slot, clock.now()) {
            return None;
        }
        Some(&entry.value)
    }

    /// Stores `value` under `key` at the front of the queue, its bit clear, after evicting
    /// until both limits leave room for it.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: &str,
        value: V,
        weight: u64,
        stats: &ShardStats,
        clock: &Clock,
    ) -> Inserted {
        let old = self.take_key(hash, key).map(|old| old.key);
        if weight > self.limits.max_bytes {
            return self.reject(old.is_some(), stats);
        }
        let now = if self.limits.max_age.is_some() {
            clock.now()
        } else {
            0
        };
        while self.table.len() >= self.limits.max_entries {
            self.evict_tail(Cause::Entries, now, stats);
        }
        while self.limits.max_bytes - self.bytes < weight {
            self.evict_tail(Cause::Bytes, now, stats);
        }
        let (key, outcome) = match old {
            Some(key) => (key, Inserted::Replaced),
            None => (CompactString::new(key), Inserted::New),
        };
        let slot = self.alloc(hash, weight, now);
        let metas = &self.metas;
        let entry = Entry {
            key,
            value,
            slot,
            referenced: false,
        };
        self.table
            .insert_unique(hash, entry, |entry| metas[entry.slot as usize].hash);
        stats.bump(if outcome == Inserted::New {
            Cause::Insert
        } else {
            Cause::Update
        });
        self.publish(stats);
        outcome
    }

    #[cold]
    fn reject(&mut self, had_old: bool, stats: &ShardStats) -> Inserted {
        if had_old {
            stats.bump(Cause::Bytes);
        }
        stats.bump(Cause::Rejected);
        self.publish(stats);
        Inserted::Rejected
    }

    /// Removes `key`, counting the removal under `cause`.
    pub(crate) fn remove(
        &mut self,
        hash: u64,
        key: &str,
        cause: Cause,
        stats: &ShardStats,
    ) -> Option<V> {
        let entry = self.take_key(hash, key)?;
        stats.bump(cause);
        self.publish(stats);
        Some(entry.value)
    }

    /// Removes every entry, counting them under `cause`.
    pub(crate) fn clear(&mut self, cause: Cause, stats: &ShardStats) -> usize {
        let count = self.table.len();
        self.reset();
        stats.add(cause, count as u64);
        self.publish(stats);
        count
    }

    /// Removes every expired entry; returns how many.
    pub(crate) fn purge_expired(&mut self, stats: &ShardStats, clock: &Clock) -> usize {
        if self.limits.max_age.is_none() {
            return 0;
        }
        let now = clock.now();
        let mut removed = 0;
        let mut slot = self.links[0].next;
        while slot != SENTINEL {
            let next = self.links[slot as usize].next;
            if self.expired(slot, now) {
                drop(self.take(slot));
                stats.bump(Cause::Age);
                removed += 1;
            }
            slot = next;
        }
        self.publish(stats);
        removed
    }

    /// The keys from the front of the queue (the newest, and those just given a second
    /// chance) to the tail (the next to be looked at for eviction).
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        let mut slot = self.links[0].next;
        std::iter::from_fn(move || {
            if slot == SENTINEL {
                return None;
            }
            let here = slot;
            slot = self.links[here as usize].next;
            match self.in_slot(here) {
                Some(entry) => Some(entry.key.as_str()),
                None => unreachable!("slot {here} is not in the table"),
            }
        })
    }

    /// The entry in `slot`, found through the hash its slot keeps.
    fn in_slot(&self, slot: u32) -> Option<&Entry<V>> {
        let hash = self.metas[slot as usize].hash;
        self.table.find(hash, |entry| entry.slot == slot)
    }

    /// Removes the entry of `key` from the table and the list.
    fn take_key(&mut self, hash: u64, key: &str) -> Option<Entry<V>> {
        let (entry, _) = self
            .table
            .find_entry(hash, |entry| same(&entry.key, key))
            .ok()?
            .remove();
        self.release(entry.slot);
        Some(entry)
    }

    /// Removes the entry in `slot` from the table and the list.
    #[inline]
    fn take(&mut self, slot: u32) -> Entry<V> {
        let (entry, _) = self.bucket_of(slot).remove();
        self.release(slot);
        entry
    }

    /// The bucket of the entry in `slot`, found through the hash its slot keeps.
    #[inline]
    fn bucket_of(&mut self, slot: u32) -> OccupiedEntry<'_, Entry<V>> {
        let hash = self.metas[slot as usize].hash;
        match self.table.find_entry(hash, |entry| entry.slot == slot) {
            Ok(bucket) => bucket,
            Err(_) => unreachable!("slot {slot} is not in the table"),
        }
    }

    /// Unlinks `slot` and frees it; its bucket must be gone.
    #[inline]
    fn release(&mut self, slot: u32) {
        unlink(&mut self.links, slot);
        self.links[slot as usize] = Link {
            prev: FREE,
            next: self.free,
        };
        self.free = slot;
        self.bytes -= self.metas[slot as usize].weight;
    }

    /// A slot at the front of the list for a new entry.
    #[inline]
    fn alloc(&mut self, hash: u64, weight: u64, now: u64) -> u32 {
        let slot = if self.free == SENTINEL {
            let slot =
                u32::try_from(self.links.len()).expect("a shard holds fewer than u32::MAX entries");
            assert!(slot != FREE, "a shard holds fewer than u32::MAX entries");
            self.links.push(Link {
                prev: SENTINEL,
                next: SENTINEL,
            });
            self.metas.push(Meta::default());
            if self.limits.max_age.is_some() {
                self.stamps.push(0);
            }
            slot
        } else {
            let slot = self.free;
            self.free = self.links[slot as usize].next;
            slot
        };
        self.metas[slot as usize] = Meta { hash, weight };
        if self.limits.max_age.is_some() {
            self.stamps[slot as usize] = now;
        }
        push_front(&mut self.links, slot);
        self.bytes += weight;
        slot
    }

    /// Evicts the entry at the tail, after moving to the front each live entry found there
    /// with its reference bit set (clearing the bit): its second chance. Every entry moved
    /// loses its bit, so this ends within one pass over the queue.
    fn evict_tail(&mut self, cause: Cause, now: u64, stats: &ShardStats) {
        loop {
            let slot = self.links[0].prev;
            assert!(slot != SENTINEL, "nothing left to evict");
            let expired = self.expired(slot, now);
            let mut bucket = self.bucket_of(slot);
            let entry = bucket.get_mut();
            if entry.referenced && !expired {
                entry.referenced = false;
                unlink(&mut self.links, slot);
                push_front(&mut self.links, slot);
                continue;
            }
            drop(bucket.remove());
            self.release(slot);
            stats.bump(if expired { Cause::Age } else { cause });
            return;
        }
    }

    /// Makes the entry and byte counts visible to readers of the statistics.
    #[inline]
    fn publish(&self, stats: &ShardStats) {
        stats.publish(self.table.len() as u64, self.bytes);
    }

    /// Checks every invariant; panics with a description of the first broken one.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn validate(&self, stats: &ShardStats, hasher: &impl BuildHasher) {
        let slots = self.links.len();
        assert!(self.links[0].prev != FREE, "slot 0 is not the sentinel");
        assert_eq!(self.metas.len(), slots, "one meta per slot");
        let mut count = 0usize;
        let mut bytes = 0u64;
        let mut prev = SENTINEL;
        let mut slot = self.links[0].next;
        while slot != SENTINEL {
            let link = self.links[slot as usize];
            assert_eq!(link.prev, prev, "slot {slot}: back link");
            let meta = self.metas[slot as usize];
            let Some(entry) = self.in_slot(slot) else {
                panic!("slot {slot} in the list has no bucket")
            };
            assert_eq!(
                hasher.hash_one(entry.key.as_str()),
                meta.hash,
                "slot {slot}: the hash of {:?}",
                entry.key
            );
            assert!(
                self.find(meta.hash, &entry.key)
                    .is_some_and(|found| found.slot == slot),
                "slot {slot}: {:?} is not found by its key",
                entry.key
            );
            bytes += meta.weight;
            count += 1;
            assert!(count < slots, "the list loops");
            prev = slot;
            slot = link.next;
        }
        assert_eq!(self.links[0].prev, prev, "tail");
        assert_eq!(count, self.table.len(), "list and table lengths");
        let mut free = 0;
        let mut slot = self.free;
        while slot != SENTINEL {
            let link = self.links[slot as usize];
            assert_eq!(link.prev, FREE, "free list reaches used slot {slot}");
            free += 1;
            assert!(free < slots, "the free list loops");
            slot = link.next;
        }
        assert_eq!(1 + count + free, slots, "slots neither used nor free");
        assert_eq!(bytes, self.bytes, "byte total");
        assert!(
            count <= self.limits.max_entries,
            "{count} entries over {}",
            self.limits.max_entries
        );
        assert!(
            bytes <= self.limits.max_bytes,
            "{bytes} bytes over {}",
            self.limits.max_bytes
        );
        if self.limits.max_age.is_some() {
            assert_eq!(self.stamps.len(), slots, "one stamp per slot");
        } else {
            assert!(self.stamps.is_empty(), "stamps without a maximum age");
        }
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.entries, count as u64, "published entries");
        assert_eq!(snapshot.bytes, bytes, "published bytes");
    }
}

/// `a == b`, without a call to `memcmp` for names of up to 24 bytes: the library call and its
/// set-up cost more than comparing a short name in one, two or three words.
#[inline(always)]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    match n {
        // Overlapping words: the first and the last eight bytes cover 8..=16.
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        17..=24 => {
            word(a, 0) == word(b, 0) && word(a, 8) == word(b, 8) && word(a, n - 8) == word(b, n - 8)
        }
        _ => a == b,
    }
}

/// A hit: sets the entry's reference bit, writing the bucket only if the bit was clear, so
/// that the lookups of a hot entry leave its cache line clean (and shared between cores).
#[inline(always)]
fn reference<V>(entry: &mut Entry<V>) -> &V {
    if !entry.referenced {
        entry.referenced = true;
    }
    &entry.value
}

#[inline(always)]
fn unlink(links: &mut [Link], slot: u32) {
    let Link { prev, next } = links[slot as usize];
    links[prev as usize].next = next;
    links[next as usize].prev = prev;
}

#[inline(always)]
fn push_front(links: &mut [Link], slot: u32) {
    let head = links[0].next;
    links[slot as usize] = Link {
        prev: SENTINEL,
        next: head,
    };
    links[head as usize].prev = slot;
    links[0].next = slot;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_compare_word_by_word() {
        let names = [
            "",
            "a",
            "a.html",
            "abcdefgh",
            "abcdefghi",
            "pages/home.html",
            "0123456789abcdef",
            "0123456789abcdefg",
            "components/forms/t1.html",
            "components/forms/t12.html",
        ];
        for a in names {
            for b in names {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
            // Every single-byte difference, at every position, is seen.
            for at in 0..a.len() {
                let mut other = a.as_bytes().to_vec();
                other[at] ^= 1;
                assert!(
                    !same(a, std::str::from_utf8(&other).unwrap()),
                    "{a:?} at {at}"
                );
            }
        }
    }

    #[test]
    fn a_bucket_is_the_key_the_value_and_a_slot() {
        assert_eq!(std::mem::size_of::<Entry<u64>>(), 40);
        assert_eq!(std::mem::size_of::<Entry<std::sync::Arc<str>>>(), 48);
        assert_eq!(std::mem::size_of::<Link>(), 8);
        assert_eq!(std::mem::size_of::<Meta>(), 16);
    }
}
