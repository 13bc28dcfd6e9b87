//! The ghost of a shard: the hashes of the keys most recently evicted from the small queue
//! without a second look, oldest first, so that a key asked for again soon after goes straight
//! to the main queue. Only hashes are kept, never a value: a key found here is still a miss.

use std::collections::VecDeque;

use hashbrown::HashTable;

#[derive(Default)]
pub(crate) struct Ghost {
    /// Oldest first; no hash twice.
    order: VecDeque<u64>,
    /// The same hashes, for the lookup at each insert.
    set: HashTable<u64>,
}

impl Ghost {
    #[inline]
    pub(crate) fn contains(&self, hash: u64) -> bool {
        !self.set.is_empty() && self.set.find(hash, |&h| h == hash).is_some()
    }

    /// Remembers `hash` (once, however often it comes), then forgets the oldest hashes until at
    /// most `room` are left.
    pub(crate) fn remember(&mut self, hash: u64, room: usize) {
        if !self.contains(hash) {
            self.order.push_back(hash);
            self.set.insert_unique(hash, hash, |&h| h);
        }
        while self.order.len() > room {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Ok(entry) = self.set.find_entry(old, |&h| h == old) {
                entry.remove();
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.order.clear();
        self.set.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Checks that the queue and the set hold the same hashes, each once, and at most `room`.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn validate(&self, room: usize) {
        assert!(
            self.order.len() <= room,
            "{} ghost entries over {room}",
            self.order.len()
        );
        assert_eq!(self.order.len(), self.set.len(), "ghost queue and set");
        for &hash in &self.order {
            assert!(self.contains(hash), "ghost hash {hash:#x} not in the set");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_each_hash_once_and_forgets_the_oldest_first() {
        let mut ghost = Ghost::default();
        for hash in [1, 2, 3, 2, 1] {
            ghost.remember(hash, 3);
        }
        assert_eq!(ghost.order, [1, 2, 3]);
        ghost.remember(4, 3);
        assert_eq!(ghost.order, [2, 3, 4]);
        assert!(!ghost.contains(1) && ghost.contains(2) && ghost.contains(4));
        // Less room: the oldest go at once.
        ghost.remember(5, 2);
        assert_eq!(ghost.order, [4, 5]);
        assert!(!ghost.contains(2) && !ghost.contains(3));
        ghost.validate(2);
        ghost.clear();
        assert_eq!(ghost.len(), 0);
        assert!(!ghost.contains(5));
    }

    /// However many keys go through it, the ghost holds at most its room.
    #[test]
    fn stays_within_its_room() {
        let mut ghost = Ghost::default();
        for hash in 0..100_000u64 {
            ghost.remember(hash.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1_000);
        }
        assert_eq!(ghost.len(), 1_000);
        ghost.validate(1_000);
    }
}
