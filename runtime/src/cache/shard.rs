//! One shard: an exact LRU over a slab of nodes linked both ways, indexed by a hash table of
//! slot numbers. No locks here; the sync cache wraps each shard in a mutex, the unsync cache
//! owns one.
//!
//! Every operation is O(1) apart from `clear` and `purge_expired`. The table stores only the
//! `u32` slot of a node; the key is compared in the node. Keys are [`CompactString`]s, so a
//! name of up to 24 bytes lives inside the node and the comparison needs no extra pointer.
//! The list links live apart from the nodes, in an array of 8-byte pairs, so that moving an
//! entry to the front touches its neighbours' links and not their (larger) nodes; slot 0 is
//! the list's sentinel, which makes every link update free of branches.
//! Before a value goes in, room is made first, so the entry and byte counts never go above the
//! limits, not even for a moment.

use std::hash::BuildHasher;
use std::mem;

use compact_str::CompactString;
use hashbrown::HashTable;

use super::clock::Clock;
use super::stats::{Cause, ShardStats};

/// The sentinel of the LRU list (its `next` is the most recently used entry, its `prev` the
/// least recently used) and the end of the free list.
const SENTINEL: u32 = 0;

/// What a lookup reads: 32 bytes for an 8-byte value, so a node never straddles two cache
/// lines. The weight and the links, needed only when the entry moves or leaves, live apart.
struct Node<V> {
    key: CompactString,
    value: V,
}

enum Slot<V> {
    Full(Node<V>),
    /// A freed slot (or the sentinel), linking to the next free one.
    Free(u32),
}

#[derive(Debug, Clone, Copy)]
struct Link {
    /// Towards the most recently used end.
    prev: u32,
    /// Towards the least recently used end.
    next: u32,
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
    table: HashTable<u32>,
    /// Slot 0 is the sentinel and never holds a node.
    slots: Vec<Slot<V>>,
    /// The list links of each slot.
    links: Vec<Link>,
    /// The weight of each slot's entry.
    weights: Vec<u64>,
    /// When each slot's value was stored (ticks), only if there is a maximum age.
    stamps: Vec<u64>,
    free: u32,
    bytes: u64,
    limits: Limits,
}

impl<V> Shard<V> {
    pub(crate) fn new(limits: Limits) -> Self {
        Shard {
            table: HashTable::new(),
            slots: vec![Slot::Free(SENTINEL)],
            links: vec![Link {
                prev: SENTINEL,
                next: SENTINEL,
            }],
            weights: vec![0],
            stamps: if limits.max_age.is_some() {
                vec![0]
            } else {
                Vec::new()
            },
            free: SENTINEL,
            bytes: 0,
            limits,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    #[inline(always)]
    fn node(&self, index: u32) -> &Node<V> {
        match &self.slots[index as usize] {
            Slot::Full(node) => node,
            Slot::Free(_) => free_slot(index),
        }
    }

    #[inline(always)]
    fn find(&self, hash: u64, key: &str) -> Option<u32> {
        let slots = &self.slots;
        self.table
            .find(hash, |&index| match &slots[index as usize] {
                Slot::Full(node) => node.key == key,
                Slot::Free(_) => false,
            })
            .copied()
    }

    #[inline]
    fn expired(&self, index: u32, now: u64) -> bool {
        match self.limits.max_age {
            Some(max) => now.saturating_sub(self.stamps[index as usize]) >= max,
            None => false,
        }
    }

    /// Looks `key` up and makes it the most recently used. An expired entry is dropped and
    /// reported as a miss.
    #[inline(always)]
    pub(crate) fn get(
        &mut self,
        hash: u64,
        key: &str,
        stats: &ShardStats,
        clock: &Clock,
    ) -> Option<&V> {
        let Some(index) = self.find(hash, key) else {
            stats.bump(Cause::Miss);
            return None;
        };
        if self.limits.max_age.is_some() && self.expired(index, clock.now()) {
            self.expire(hash, index, stats);
            return None;
        }
        self.promote(index);
        stats.bump(Cause::Hit);
        Some(&self.node(index).value)
    }

    #[cold]
    fn expire(&mut self, hash: u64, index: u32, stats: &ShardStats) {
        self.unindex(hash, index);
        drop(self.release(index));
        stats.bump(Cause::Age);
        stats.bump(Cause::Miss);
        self.publish(stats);
    }

    /// Looks `key` up without touching the order or the statistics; expired entries are not
    /// returned (but stay until something removes them).
    #[inline]
    pub(crate) fn peek(&self, hash: u64, key: &str, clock: &Clock) -> Option<&V> {
        let index = self.find(hash, key)?;
        if self.limits.max_age.is_some() && self.expired(index, clock.now()) {
            return None;
        }
        Some(&self.node(index).value)
    }

    /// Stores `value` under `key` as the most recently used entry, after evicting from the
    /// least recently used end until both limits leave room for it.
    #[allow(clippy::too_many_arguments)] // the key, the value and the shard's surroundings
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: &str,
        value: V,
        weight: u64,
        stats: &ShardStats,
        clock: &Clock,
        hasher: &impl BuildHasher,
    ) -> Inserted {
        let old = self.find(hash, key).map(|index| {
            self.unindex(hash, index);
            self.release(index)
        });
        if weight > self.limits.max_bytes {
            return self.reject(old.is_some(), stats);
        }
        let now = if self.limits.max_age.is_some() {
            clock.now()
        } else {
            0
        };
        while self.table.len() >= self.limits.max_entries {
            self.evict_tail(Cause::Entries, now, stats, hasher);
        }
        while self.limits.max_bytes - self.bytes < weight {
            self.evict_tail(Cause::Bytes, now, stats, hasher);
        }
        let (key, outcome) = match old {
            Some(node) => (node.key, Inserted::Replaced),
            None => (CompactString::new(key), Inserted::New),
        };
        let index = self.alloc(Node { key, value });
        self.weights[index as usize] = weight;
        if self.limits.max_age.is_some() {
            self.stamps[index as usize] = now;
        }
        self.push_front(index);
        self.bytes += weight;
        let slots = &self.slots;
        self.table
            .insert_unique(hash, index, |&i| match &slots[i as usize] {
                Slot::Full(node) => hasher.hash_one(node.key.as_str()),
                Slot::Free(_) => free_slot(i),
            });
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
        let index = self.find(hash, key)?;
        self.unindex(hash, index);
        let node = self.release(index);
        stats.bump(cause);
        self.publish(stats);
        Some(node.value)
    }

    /// Removes every entry, counting them under `cause`.
    pub(crate) fn clear(&mut self, cause: Cause, stats: &ShardStats) -> usize {
        let count = self.table.len();
        self.table.clear();
        self.slots.truncate(1);
        self.links.truncate(1);
        self.weights.truncate(1);
        self.links[0] = Link {
            prev: SENTINEL,
            next: SENTINEL,
        };
        self.stamps.truncate(1);
        self.free = SENTINEL;
        self.bytes = 0;
        stats.add(cause, count as u64);
        self.publish(stats);
        count
    }

    /// Removes every expired entry; returns how many.
    pub(crate) fn purge_expired(
        &mut self,
        stats: &ShardStats,
        clock: &Clock,
        hasher: &impl BuildHasher,
    ) -> usize {
        if self.limits.max_age.is_none() {
            return 0;
        }
        let now = clock.now();
        let mut removed = 0;
        let mut index = self.links[0].next;
        while index != SENTINEL {
            let next = self.links[index as usize].next;
            if self.expired(index, now) {
                let hash = hasher.hash_one(self.node(index).key.as_str());
                self.unindex(hash, index);
                drop(self.release(index));
                stats.bump(Cause::Age);
                removed += 1;
            }
            index = next;
        }
        self.publish(stats);
        removed
    }

    /// The keys from the most to the least recently used.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        let mut index = self.links[0].next;
        std::iter::from_fn(move || {
            (index != SENTINEL).then(|| {
                let key = self.node(index).key.as_str();
                index = self.links[index as usize].next;
                key
            })
        })
    }

    #[inline(always)]
    fn promote(&mut self, index: u32) {
        if self.links[0].next != index {
            self.unlink(index);
            self.push_front(index);
        }
    }

    #[inline(always)]
    fn unlink(&mut self, index: u32) {
        let Link { prev, next } = self.links[index as usize];
        self.links[prev as usize].next = next;
        self.links[next as usize].prev = prev;
    }

    #[inline(always)]
    fn push_front(&mut self, index: u32) {
        let head = self.links[0].next;
        self.links[index as usize] = Link {
            prev: SENTINEL,
            next: head,
        };
        self.links[head as usize].prev = index;
        self.links[0].next = index;
    }

    /// Drops the table's reference to `index`.
    #[inline]
    fn unindex(&mut self, hash: u64, index: u32) {
        match self.table.find_entry(hash, |&i| i == index) {
            Ok(entry) => {
                entry.remove();
            }
            Err(_) => unreachable!("slot {index} is not in the table"),
        }
    }

    /// Unlinks `index`, frees its slot and returns its node; the table must not point to it.
    #[inline]
    fn release(&mut self, index: u32) -> Node<V> {
        self.unlink(index);
        let node = match mem::replace(&mut self.slots[index as usize], Slot::Free(self.free)) {
            Slot::Full(node) => node,
            Slot::Free(_) => free_slot(index),
        };
        self.free = index;
        self.bytes -= self.weights[index as usize];
        node
    }

    #[inline]
    fn alloc(&mut self, node: Node<V>) -> u32 {
        if self.free == SENTINEL {
            let index =
                u32::try_from(self.slots.len()).expect("a shard holds fewer than u32::MAX entries");
            self.slots.push(Slot::Full(node));
            self.links.push(Link {
                prev: SENTINEL,
                next: SENTINEL,
            });
            self.weights.push(0);
            if self.limits.max_age.is_some() {
                self.stamps.push(0);
            }
            index
        } else {
            let index = self.free;
            match mem::replace(&mut self.slots[index as usize], Slot::Full(node)) {
                Slot::Free(next) => self.free = next,
                Slot::Full(_) => unreachable!("slot {index} on the free list is in use"),
            }
            index
        }
    }

    fn evict_tail(
        &mut self,
        cause: Cause,
        now: u64,
        stats: &ShardStats,
        hasher: &impl BuildHasher,
    ) {
        let index = self.links[0].prev;
        assert!(index != SENTINEL, "nothing left to evict");
        let cause = if self.expired(index, now) {
            Cause::Age
        } else {
            cause
        };
        let hash = hasher.hash_one(self.node(index).key.as_str());
        self.unindex(hash, index);
        drop(self.release(index));
        stats.bump(cause);
    }

    /// Makes the entry and byte counts visible to readers of the statistics.
    #[inline]
    fn publish(&self, stats: &ShardStats) {
        stats.publish(self.table.len() as u64, self.bytes);
    }

    /// Checks every invariant; panics with a description of the first broken one.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn validate(&self, stats: &ShardStats, hasher: &impl BuildHasher) {
        let mut count = 0usize;
        let mut bytes = 0u64;
        let mut prev = SENTINEL;
        let mut index = self.links[0].next;
        assert!(
            matches!(self.slots[0], Slot::Free(SENTINEL)),
            "slot 0 is not the sentinel"
        );
        assert_eq!(self.slots.len(), self.links.len(), "one link per slot");
        assert_eq!(self.slots.len(), self.weights.len(), "one weight per slot");
        while index != SENTINEL {
            let node = self.node(index);
            assert_eq!(
                self.links[index as usize].prev, prev,
                "slot {index}: back link"
            );
            let hash = hasher.hash_one(node.key.as_str());
            assert_eq!(
                self.find(hash, &node.key),
                Some(index),
                "slot {index}: {:?} not indexed",
                node.key
            );
            bytes += self.weights[index as usize];
            count += 1;
            assert!(count <= self.slots.len(), "the list loops");
            prev = index;
            index = self.links[index as usize].next;
        }
        assert_eq!(self.links[0].prev, prev, "tail");
        assert_eq!(count, self.table.len(), "list and table lengths");
        let mut free = 1;
        let mut index = self.free;
        while index != SENTINEL {
            match self.slots[index as usize] {
                Slot::Free(next) => index = next,
                Slot::Full(_) => panic!("free list reaches used slot {index}"),
            }
            free += 1;
            assert!(free <= self.slots.len(), "the free list loops");
        }
        assert_eq!(
            count + free,
            self.slots.len(),
            "slots neither used nor free"
        );
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
            assert_eq!(self.stamps.len(), self.slots.len(), "one stamp per slot");
        } else {
            assert!(self.stamps.is_empty(), "stamps without a maximum age");
        }
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.entries, count as u64, "published entries");
        assert_eq!(snapshot.bytes, bytes, "published bytes");
    }
}

#[cold]
#[inline(never)]
fn free_slot(index: u32) -> ! {
    unreachable!("slot {index} is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_as_small_as_its_node() {
        // The free variant hides in the key's niche: no tag word.
        assert_eq!(mem::size_of::<Slot<u64>>(), 32);
        assert_eq!(mem::size_of::<Slot<std::sync::Arc<str>>>(), 40);
        assert_eq!(mem::size_of::<Slot<std::sync::Arc<u8>>>(), 32);
        assert_eq!(mem::size_of::<Link>(), 8);
    }
}
