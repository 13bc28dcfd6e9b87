//! The time source for the maximum age: nanoseconds since the cache was built.

use std::time::Instant;

#[cfg(test)]
use std::sync::{Arc, atomic::AtomicU64, atomic::Ordering};

#[derive(Debug, Clone)]
pub(crate) enum Clock {
    Real(Instant),
    /// A clock the tests move by hand.
    #[cfg(test)]
    Manual(Arc<AtomicU64>),
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock::Real(Instant::now())
    }

    /// Ticks (nanoseconds) since the cache was built.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Clock::Real(epoch) => u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX),
            #[cfg(test)]
            Clock::Manual(now) => now.load(Ordering::Relaxed),
        }
    }
}
