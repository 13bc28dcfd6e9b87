//! A small deterministic generator (xorshift64*), shared by the cache's concurrency tests and
//! its benchmark (included by `#[path]`): the same seed gives the same sequence everywhere.

/// Not for anything that needs good randomness: only for reproducible workloads.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Below `n` (slightly biased towards small values when `n` does not divide 2^64).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
