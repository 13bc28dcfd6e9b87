//! One shard: an S3-FIFO cache (a small probationary queue, a main queue with a use counter per
//! entry, a ghost of recently dropped keys) whose entries live inside the hash table, with the
//! queues kept apart, over slot numbers. No locks here; the sync cache wraps each shard in a
//! mutex, the unsync cache owns one.
//!
//! A lookup reads the table's control bytes and then one bucket, which holds the key, the
//! value, the entry's slot and its use counter: no second load depends on the first, as it
//! would through a table of indices into a slab. Keys are [`CompactString`]s, so a name of up
//! to 24 bytes lives in the bucket and comparing it follows no pointer. A hit adds one to the
//! counter, which stops at [`MAX_USES`], writing the bucket only below that, and moves nothing:
//! looking up a hot entry from several threads leaves its cache line clean.
//!
//! The slot is the entry's place in its queue. Both queues are doubly linked lists over one
//! array of 8-byte link pairs; slots 0 and 1 are their sentinels, which makes every link update
//! free of branches. A new key goes in at the front of the small queue, or of the main queue
//! if the ghost remembers it. Eviction looks at the small queue's tail while that queue holds
//! more than a thirty-second of the entries (or the main queue is empty): an entry used since it came
//! goes to the main queue, one that was not is evicted and its hash goes to the ghost. Else it
//! looks at the main queue's tail: an entry with uses left loses one and goes back to the
//! front, one without is evicted. Keys used once (a scan) thus pass through the small queue
//! without pushing out the main queue's, and an entry used often survives several rounds.
//! Beside each link, apart from the hot path, the slot keeps what eviction needs: the key's
//! hash (to find the bucket of a tail's slot) and the entry's weight. Buckets move when the
//! table grows; slots never do. Before a value goes in, room is made first, so the entry and
//! byte counts never go above the limits, not even for a moment.
//!
//! Every operation is O(1) apart from `clear`, `purge_expired`, and an eviction's moves, which
//! are O(1) amortised: each one takes back a use that a hit gave, or moves an entry from the
//! small queue to the main queue, once.
//!
//! Why not exact LRU: it moves the entry to the front at every hit, and on two threads those
//! moves write list links that the other core holds; measured side by side, it was slower on a
//! get-hit with no better hit ratio than CLOCK, which S3-FIFO beat in its turn (the figures are
//! in `BENCHMARKS.md`, "Runtime cache").

#[cfg(any(test, fuzzing))]
use std::hash::BuildHasher;

use compact_str::CompactString;
use hashbrown::HashTable;
use hashbrown::hash_table::OccupiedEntry;

use super::clock::Clock;
use super::ghost::Ghost;
use super::stats::{Cause, ShardStats};

/// The sentinel of the small queue (its `next` is the front, its `prev` the tail), and the end
/// of the free list.
const SMALL: u32 = 0;

/// The sentinel of the main queue.
const MAIN: u32 = 1;

/// The end of the free list (slot 0 is never free).
const SENTINEL: u32 = SMALL;

/// Where a hit stops counting: an entry in the main queue survives this many trips to its
/// tail without a hit in between.
pub(crate) const MAX_USES: u8 = 3;

/// The small queue is looked at for eviction while it holds more than `1 / SMALL_SHARE` of
/// the entries. A small queue of a thirty-second keeps more hits than one of a tenth, the size
/// S3-FIFO was described with, on both traces of the cache benchmark (`BENCHMARKS.md`).
const SMALL_SHARE: usize = 32;

/// The ghost has a place for `1 / GHOST_SHARE` of the entries (rounded up), counted before the
/// eviction that adds one, up to the same share of the shard's `max_entries`. A larger ghost
/// sends more keys that are not hot to the main queue, where they push out hot ones
/// (`BENCHMARKS.md` has the figures).
const GHOST_SHARE: usize = 4;

/// The `prev` of a free slot.
const FREE: u32 = u32::MAX;

/// A bucket of the table: 40 bytes for an 8-byte value.
struct Entry<V> {
    key: CompactString,
    value: V,
    /// The entry's slot in its queue.
    slot: u32,
    /// Hits since the entry came in or last met the tail, up to [`MAX_USES`]; with `main`, it
    /// takes the bucket's padding.
    uses: u8,
    /// In the main queue, not the small one.
    main: bool,
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
    /// The two queues and the free list, one link pair per slot; slots 0 and 1 are the
    /// sentinels.
    links: Vec<Link>,
    /// One per slot.
    metas: Vec<Meta>,
    /// When each slot's value was stored (ticks), only if there is a maximum age.
    stamps: Vec<u64>,
    free: u32,
    bytes: u64,
    /// Entries in the small queue.
    small: usize,
    ghost: Ghost,
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
            small: 0,
            ghost: Ghost::default(),
            limits,
        };
        shard.reset();
        shard
    }

    /// Back to the two sentinels alone, the ghost empty.
    fn reset(&mut self) {
        self.table.clear();
        self.links.clear();
        self.metas.clear();
        self.stamps.clear();
        for sentinel in [SMALL, MAIN] {
            self.push_slot(sentinel);
        }
        self.free = SENTINEL;
        self.bytes = 0;
        self.small = 0;
        self.ghost.clear();
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

    /// Looks `key` up and counts a use. An expired entry is dropped and reported as
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

    /// Stores `value` under `key`, after evicting until both limits leave room for it: a new
    /// key at the front of the small queue, or of the main queue if the ghost remembers it;
    /// a key already there at the front of the main queue, with the uses it had.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: &str,
        value: V,
        weight: u64,
        stats: &ShardStats,
        clock: &Clock,
    ) -> Inserted {
        let old = self.take_key(hash, key).map(|old| (old.key, old.uses));
        if weight > self.limits.max_bytes {
            return self.reject(old.is_some(), stats);
        }
        let now = if self.limits.max_age.is_some() {
            clock.now()
        } else {
            0
        };
        while self.table.len() >= self.limits.max_entries {
            self.evict(Cause::Entries, now, stats);
        }
        while self.limits.max_bytes - self.bytes < weight {
            self.evict(Cause::Bytes, now, stats);
        }
        let (key, uses, main, outcome) = match old {
            Some((key, uses)) => (key, uses, true, Inserted::Replaced),
            None => (
                CompactString::new(key),
                0,
                self.ghost.contains(hash),
                Inserted::New,
            ),
        };
        let slot = self.alloc(hash, weight, now, main);
        let metas = &self.metas;
        let entry = Entry {
            key,
            value,
            slot,
            uses,
            main,
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
        for queue in [SMALL, MAIN] {
            let mut slot = self.links[queue as usize].next;
            while slot != queue {
                let next = self.links[slot as usize].next;
                if self.expired(slot, now) {
                    drop(self.take(slot));
                    stats.bump(Cause::Age);
                    removed += 1;
                }
                slot = next;
            }
        }
        self.publish(stats);
        removed
    }

    /// The keys of the small queue from its front (the newest) to its tail (the next to be
    /// looked at for eviction), then those of the main queue, front to tail.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.queue(SMALL).chain(self.queue(MAIN))
    }

    /// The keys of one queue, front to tail.
    fn queue(&self, queue: u32) -> impl Iterator<Item = &str> + '_ {
        let mut slot = self.links[queue as usize].next;
        std::iter::from_fn(move || {
            if slot == queue {
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

    /// The keys of the small queue and of the main queue, each front to tail (tests only).
    #[cfg(test)]
    pub(crate) fn queues(&self) -> [Vec<String>; 2] {
        [SMALL, MAIN].map(|queue| self.queue(queue).map(str::to_owned).collect())
    }

    /// Whether the ghost remembers `hash`, and how many places it has (tests only).
    #[cfg(test)]
    pub(crate) fn ghost(&self, hash: u64) -> (bool, usize) {
        (self.ghost.contains(hash), self.ghost.places())
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
        self.release(entry.slot, entry.main);
        Some(entry)
    }

    /// Removes the entry in `slot` from the table and the list.
    #[inline]
    fn take(&mut self, slot: u32) -> Entry<V> {
        let (entry, _) = self.bucket_of(slot).remove();
        self.release(slot, entry.main);
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

    /// Unlinks `slot`, of the main queue or not, and frees it; its bucket must be gone.
    #[inline]
    fn release(&mut self, slot: u32, main: bool) {
        unlink(&mut self.links, slot);
        self.small -= usize::from(!main);
        self.links[slot as usize] = Link {
            prev: FREE,
            next: self.free,
        };
        self.free = slot;
        self.bytes -= self.metas[slot as usize].weight;
    }

    /// A new slot at the end of the arrays, linked to `to` both ways (a sentinel to itself).
    fn push_slot(&mut self, to: u32) {
        self.links.push(Link { prev: to, next: to });
        self.metas.push(Meta::default());
        if self.limits.max_age.is_some() {
            self.stamps.push(0);
        }
    }

    /// A slot at the front of the main or the small queue for a new entry.
    #[inline]
    fn alloc(&mut self, hash: u64, weight: u64, now: u64, main: bool) -> u32 {
        let slot = if self.free == SENTINEL {
            let slot =
                u32::try_from(self.links.len()).expect("a shard holds fewer than u32::MAX entries");
            assert!(slot != FREE, "a shard holds fewer than u32::MAX entries");
            self.push_slot(SENTINEL);
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
        if main {
            push_front(&mut self.links, MAIN, slot);
        } else {
            push_front(&mut self.links, SMALL, slot);
            self.small += 1;
        }
        self.bytes += weight;
        slot
    }

    /// Evicts one entry. While the small queue holds more than its share of the entries (or
    /// the main queue is empty), its tail is looked at: an entry used since it came goes to the
    /// front of the main queue with no uses, one that was not is evicted and remembered by the
    /// ghost. Else the main queue's tail is: an entry with uses left goes back to the front
    /// with one use less, one without is evicted. An expired entry is evicted wherever it is,
    /// and not remembered. Every move takes a use or leaves the small queue, so this ends.
    fn evict(&mut self, cause: Cause, now: u64, stats: &ShardStats) {
        loop {
            let len = self.table.len();
            assert!(len > 0, "nothing left to evict");
            let from_small = self.small == len || self.small * SMALL_SHARE > len;
            let queue = if from_small { SMALL } else { MAIN };
            let slot = self.links[queue as usize].prev;
            let expired = self.expired(slot, now);
            let mut bucket = self.bucket_of(slot);
            let entry = bucket.get_mut();
            if entry.uses > 0 && !expired {
                if from_small {
                    entry.main = true;
                    entry.uses = 0;
                    self.small -= 1;
                } else {
                    entry.uses -= 1;
                }
                unlink(&mut self.links, slot);
                push_front(&mut self.links, MAIN, slot);
                continue;
            }
            drop(bucket.remove());
            self.release(slot, !from_small);
            if from_small && !expired {
                let limit = self.limits.max_entries.div_ceil(GHOST_SHARE);
                self.ghost.remember(
                    self.metas[slot as usize].hash,
                    len.div_ceil(GHOST_SHARE),
                    limit,
                );
            }
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
        assert!(slots >= 2, "the two sentinels");
        assert_eq!(self.metas.len(), slots, "one meta per slot");
        let mut count = 0usize;
        let mut small = 0usize;
        let mut bytes = 0u64;
        for queue in [SMALL, MAIN] {
            let mut prev = queue;
            let mut slot = self.links[queue as usize].next;
            while slot != queue {
                assert!(slot > MAIN, "queue {queue} reaches sentinel {slot}");
                let link = self.links[slot as usize];
                assert_eq!(link.prev, prev, "slot {slot}: back link");
                let meta = self.metas[slot as usize];
                let Some(entry) = self.in_slot(slot) else {
                    panic!("slot {slot} in queue {queue} has no bucket")
                };
                assert_eq!(entry.main, queue == MAIN, "slot {slot}: which queue");
                assert!(entry.uses <= MAX_USES, "slot {slot}: {} uses", entry.uses);
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
                small += usize::from(queue == SMALL);
                assert!(count < slots, "a queue loops");
                prev = slot;
                slot = link.next;
            }
            assert_eq!(
                self.links[queue as usize].prev, prev,
                "tail of queue {queue}"
            );
        }
        assert_eq!(count, self.table.len(), "queue and table lengths");
        assert_eq!(small, self.small, "small queue length");
        let mut free = 0;
        let mut slot = self.free;
        while slot != SENTINEL {
            let link = self.links[slot as usize];
            assert_eq!(link.prev, FREE, "free list reaches used slot {slot}");
            free += 1;
            assert!(free < slots, "the free list loops");
            slot = link.next;
        }
        assert_eq!(2 + count + free, slots, "slots neither used nor free");
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
        self.ghost
            .validate(self.limits.max_entries.div_ceil(GHOST_SHARE));
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

/// A hit: counts a use, writing the bucket only below [`MAX_USES`], so that the lookups of a
/// hot entry leave its cache line clean (and shared between cores).
#[inline(always)]
fn reference<V>(entry: &mut Entry<V>) -> &V {
    if entry.uses < MAX_USES {
        entry.uses += 1;
    }
    &entry.value
}

#[inline(always)]
fn unlink(links: &mut [Link], slot: u32) {
    let Link { prev, next } = links[slot as usize];
    links[prev as usize].next = next;
    links[next as usize].prev = prev;
}

/// Links `slot` at the front of the queue whose sentinel is `queue`.
#[inline(always)]
fn push_front(links: &mut [Link], queue: u32, slot: u32) {
    let head = links[queue as usize].next;
    links[slot as usize] = Link {
        prev: queue,
        next: head,
    };
    links[head as usize].prev = slot;
    links[queue as usize].next = slot;
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
