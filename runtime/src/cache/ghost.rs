//! The ghost of a shard: the hashes of keys recently evicted from the small queue without a
//! second look, so that a key asked for again soon after goes straight to the main queue. Only
//! hashes are kept, never a value: a key found here is still a miss.
//!
//! A direct-mapped table: each hash has one place, and remembering a hash overwrites whatever
//! was there. Checking and remembering are one access each, with nothing to unlink or rehash;
//! an exact queue of the last evicted hashes with a hash set beside it cost an insert that
//! evicts 1.2-1.5× more time (`BENCHMARKS.md`). Older hashes are thus forgotten at random
//! rather than oldest first, and a hash survives `n` later ones with probability about
//! `e^(-n / places)`.

/// The multiplier of the place function (2^64 over the golden ratio): it spreads hashes that
/// differ only in bits the hash table or the shard choice fixed.
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Default)]
pub(crate) struct Ghost {
    /// `hash | 1` of a remembered key in its place, or 0.
    places: Box<[u64]>,
}

/// The place of `hash` in a table of `len` places.
#[inline]
pub(crate) fn place(hash: u64, len: usize) -> usize {
    ((u128::from(hash.wrapping_mul(SPREAD)) * len as u128) >> 64) as usize
}

impl Ghost {
    #[inline]
    pub(crate) fn contains(&self, hash: u64) -> bool {
        !self.places.is_empty() && self.places[place(hash, self.places.len())] == hash | 1
    }

    /// Remembers `hash`, first growing the table to `room` rounded up to a power of two, but
    /// not above `limit`, if it has fewer places (forgetting everything: growth happens while
    /// the shard fills, before much was evicted).
    #[inline]
    pub(crate) fn remember(&mut self, hash: u64, room: usize, limit: usize) {
        if self.places.len() < room.min(limit) {
            self.grow(room.next_power_of_two().min(limit));
        }
        let at = place(hash, self.places.len());
        self.places[at] = hash | 1;
    }

    #[cold]
    fn grow(&mut self, places: usize) {
        self.places = vec![0; places].into_boxed_slice();
    }

    pub(crate) fn clear(&mut self) {
        self.places = Box::default();
    }

    /// The number of places (tests only).
    #[cfg(test)]
    pub(crate) fn places(&self) -> usize {
        self.places.len()
    }

    /// Checks that there are at most `limit` places, and each remembered hash is in its
    /// place.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn validate(&self, limit: usize) {
        assert!(
            self.places.len() <= limit,
            "{} ghost places over {limit}",
            self.places.len()
        );
        for (at, &hash) in self.places.iter().enumerate() {
            assert!(
                hash == 0
                    || place(hash, self.places.len()) == at
                    || place(hash ^ 1, self.places.len()) == at,
                "ghost hash {hash:#x} out of place"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_hash_until_another_takes_its_place() {
        let mut ghost = Ghost::default();
        assert!(!ghost.contains(7));
        ghost.remember(7, 3, 100);
        assert_eq!(ghost.places(), 4);
        assert!(ghost.contains(7) && !ghost.contains(8));
        let rival = (0..u64::MAX)
            .find(|&h| h != 7 && place(h, 4) == place(7, 4))
            .unwrap();
        ghost.remember(rival, 3, 100);
        assert!(ghost.contains(rival) && !ghost.contains(7));
        ghost.validate(4);
        // More room: a larger table, empty, up to the limit.
        ghost.remember(1 << 40, 5, 6);
        assert_eq!(ghost.places(), 6);
        assert!(!ghost.contains(rival) && ghost.contains(1 << 40));
        ghost.clear();
        assert_eq!(ghost.places(), 0);
        assert!(!ghost.contains(1 << 40));
    }

    /// However many keys go through it, the ghost keeps its size, and remembers about
    /// `1 - 1/e` of the last `places` hashes.
    #[test]
    fn stays_within_its_room() {
        let mut ghost = Ghost::default();
        let hashes: Vec<u64> = (0..100_000u64)
            .map(|i| i.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ (i << 17))
            .collect();
        for &hash in &hashes {
            ghost.remember(hash, 1_000, 100_000);
        }
        assert_eq!(ghost.places(), 1_024);
        ghost.validate(1_024);
        let kept = hashes[hashes.len() - 1_024..]
            .iter()
            .filter(|&&h| ghost.contains(h))
            .count();
        assert!((550..750).contains(&kept), "{kept} of the last 1,024 kept");
    }
}
