//! The builder of both caches, the weigher, and the option errors.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use shipwright_core::format::BuildCache;

use super::clock::Clock;
use super::shard::Limits;
use super::{TemplateCache, unsync};
use crate::graph::DependencyGraph;

/// The entry limit when none is given.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// Tells the cache what an entry weighs, for the byte limit.
///
/// It must give the same weight for the same key and value every time it is asked.
///
/// ```
/// use std::sync::Arc;
/// use shipwright_runtime::cache::TemplateCache;
///
/// // Weigh a compiled template by its source length.
/// let cache = TemplateCache::<Arc<str>>::builder()
///     .max_bytes(1 << 20)
///     .weigher(|name: &str, source: &Arc<str>| (name.len() + source.len()) as u64)
///     .build()
///     .unwrap();
/// cache.insert("pages/home.html", Arc::from("<h1>{{ title }}</h1>"));
/// assert_eq!(cache.stats().bytes, 15 + 20);
/// ```
pub trait Weigher<V> {
    /// The weight of one entry, in whatever unit `max_bytes` is given in.
    fn weigh(&self, key: &str, value: &V) -> u64;
}

/// The weigher used when none is given: the key's length plus `size_of::<V>()`, that is the
/// bytes the entry itself holds, not what `V` points to.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultWeigher;

impl<V> Weigher<V> for DefaultWeigher {
    #[inline]
    fn weigh(&self, key: &str, _value: &V) -> u64 {
        (key.len() + std::mem::size_of::<V>()) as u64
    }
}

impl<V, F: Fn(&str, &V) -> u64> Weigher<V> for F {
    #[inline]
    fn weigh(&self, key: &str, value: &V) -> u64 {
        self(key, value)
    }
}

/// A bad combination of options, found by [`CacheBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid template cache options: {0}")]
pub struct OptionsError(String);

/// Options of a [`TemplateCache`] or an [`unsync::TemplateCache`].
///
/// ```
/// use std::time::Duration;
/// use shipwright_runtime::cache::TemplateCache;
///
/// let cache = TemplateCache::<u32>::builder()
///     .max_entries(1_000)
///     .max_bytes(64 << 20)
///     .max_age(Duration::from_secs(600))
///     .shards(4)
///     .build()
///     .unwrap();
/// assert_eq!(cache.shard_count(), 4);
///
/// let err = TemplateCache::<u32>::builder().shards(3).build().unwrap_err();
/// assert!(err.to_string().contains("power of two"));
/// ```
#[must_use]
pub struct CacheBuilder<V, W = DefaultWeigher> {
    max_entries: usize,
    max_bytes: u64,
    max_age: Option<Duration>,
    shards: Option<usize>,
    graph: Option<Arc<DependencyGraph>>,
    weigher: W,
    #[cfg(test)]
    clock: Option<Clock>,
    value: PhantomData<fn() -> V>,
}

impl<V> Default for CacheBuilder<V> {
    fn default() -> Self {
        CacheBuilder {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: u64::MAX,
            max_age: None,
            shards: None,
            graph: None,
            weigher: DefaultWeigher,
            #[cfg(test)]
            clock: None,
            value: PhantomData,
        }
    }
}

impl<V, W> fmt::Debug for CacheBuilder<V, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .field("max_age", &self.max_age)
            .field("shards", &self.shards)
            .field("graph", &self.graph)
            .finish_non_exhaustive()
    }
}

/// What the caches are built from once the options are checked.
pub(crate) struct Parts<W> {
    /// One entry per shard.
    pub(crate) limits: Vec<Limits>,
    pub(crate) graph: Option<Arc<DependencyGraph>>,
    pub(crate) weigher: W,
    pub(crate) clock: Clock,
}

impl<V, W: Weigher<V>> CacheBuilder<V, W> {
    /// The most entries the cache holds; each shard holds its share.
    ///
    /// Defaults to: 10,000 ([`DEFAULT_MAX_ENTRIES`]).
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// The most the entries may weigh together, as told by the weigher; each shard holds its
    /// share, and a value heavier than a share is not stored.
    ///
    /// Defaults to: no limit.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How long after it was stored a value stops being returned. Expired entries are dropped
    /// when looked up, when they reach the evicting end, or by `purge_expired`.
    ///
    /// Defaults to: none (values do not expire).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The number of shards, a power of two; each has its own lock and its own queues.
    /// Ignored by [`build_unsync`](Self::build_unsync).
    ///
    /// Defaults to: four per available core, rounded up to a power of two, but no more than
    /// leaves 32 entries to each shard.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }

    /// The dependency graph `invalidate` follows.
    ///
    /// Defaults to: none (`invalidate` drops only the name it is given).
    pub fn graph(mut self, graph: Arc<DependencyGraph>) -> Self {
        self.graph = Some(graph);
        self
    }

    /// Sets the graph to the one of `build`, the BuildCache the binary was built with or one
    /// read with [`BuildCache::load`].
    pub fn build_cache(self, build: &BuildCache) -> Self {
        self.graph(Arc::new(DependencyGraph::from_build_cache(build)))
    }

    /// How entries are weighed for the byte limit.
    ///
    /// Defaults to: [`DefaultWeigher`].
    pub fn weigher<W2: Weigher<V>>(self, weigher: W2) -> CacheBuilder<V, W2> {
        CacheBuilder {
            max_entries: self.max_entries,
            max_bytes: self.max_bytes,
            max_age: self.max_age,
            shards: self.shards,
            graph: self.graph,
            weigher,
            #[cfg(test)]
            clock: self.clock,
            value: PhantomData,
        }
    }

    /// Ages are measured on this clock (tests only).
    #[cfg(test)]
    pub(crate) fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Checks the options and builds the sharded, thread-safe cache.
    pub fn build(self) -> Result<TemplateCache<V, W>, OptionsError> {
        let shards = match self.shards {
            Some(shards) => shards,
            None => default_shards(self.max_entries),
        };
        self.parts(shards).map(TemplateCache::from_parts)
    }

    /// Checks the options and builds the single-threaded cache: one shard, `&mut self`.
    pub fn build_unsync(self) -> Result<unsync::TemplateCache<V, W>, OptionsError> {
        self.parts(1).map(unsync::TemplateCache::from_parts)
    }

    fn parts(self, shards: usize) -> Result<Parts<W>, OptionsError> {
        let fail = |message: String| Err(OptionsError(message));
        if self.max_entries == 0 {
            return fail("max_entries must be at least 1".into());
        }
        if self.max_bytes == 0 {
            return fail("max_bytes must be at least 1".into());
        }
        if !shards.is_power_of_two() || shards > 1 << 16 {
            return fail(format!(
                "shards must be a power of two from 1 to 65536, got {shards}"
            ));
        }
        if shards > self.max_entries {
            return fail(format!(
                "{shards} shards need max_entries of at least {shards}, got {}",
                self.max_entries
            ));
        }
        if (shards as u64) > self.max_bytes {
            return fail(format!(
                "{shards} shards need max_bytes of at least {shards}, got {}",
                self.max_bytes
            ));
        }
        let max_age = match self.max_age {
            Some(age) if age.is_zero() => return fail("max_age must be longer than zero".into()),
            Some(age) => Some(u64::try_from(age.as_nanos()).unwrap_or(u64::MAX)),
            None => None,
        };
        let limits = (0..shards)
            .map(|i| Limits {
                max_entries: share(self.max_entries as u64, shards, i) as usize,
                max_bytes: if self.max_bytes == u64::MAX {
                    u64::MAX
                } else {
                    share(self.max_bytes, shards, i)
                },
                max_age,
            })
            .collect();
        #[cfg(test)]
        let clock = self.clock.unwrap_or_else(Clock::new);
        #[cfg(not(test))]
        let clock = Clock::new();
        Ok(Parts {
            limits,
            graph: self.graph,
            weigher: self.weigher,
            clock,
        })
    }
}

/// The hasher of a new cache: random, but fixed in tests, so that the reference model puts keys
/// in the same places of the ghost as the caches do.
pub(crate) fn hasher() -> ahash::RandomState {
    #[cfg(test)]
    return ahash::RandomState::with_seeds(1, 2, 3, 4);
    #[cfg(not(test))]
    ahash::RandomState::new()
}

/// Shard `i`'s part of `total` split in `shards`: the parts differ by one at most and add up to
/// `total`.
fn share(total: u64, shards: usize, i: usize) -> u64 {
    let shards = shards as u64;
    total / shards + u64::from((i as u64) < total % shards)
}

fn default_shards(max_entries: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted = (cores * 4).next_power_of_two();
    let room = (max_entries / 32).max(1);
    // The largest power of two not above `room`.
    let room = 1 << room.ilog2();
    wanted.min(room).min(1 << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        for (total, shards) in [(10, 4), (3, 4), (1 << 40, 8), (7, 1)] {
            let parts: Vec<u64> = (0..shards).map(|i| share(total, shards, i)).collect();
            assert_eq!(parts.iter().sum::<u64>(), total);
            assert!(parts.iter().max().unwrap() - parts.iter().min().unwrap() <= 1);
        }
    }

    #[test]
    fn default_shards_leave_room() {
        assert_eq!(default_shards(1), 1);
        assert_eq!(default_shards(100), 2);
        assert!(default_shards(1_000_000).is_power_of_two());
    }

    #[test]
    fn bad_options_are_named() {
        let cases: [(CacheBuilder<u8>, &str); 7] = [
            (
                CacheBuilder::default().max_entries(0),
                "max_entries must be at least 1",
            ),
            (
                CacheBuilder::default().max_bytes(0),
                "max_bytes must be at least 1",
            ),
            (
                CacheBuilder::default().shards(0),
                "shards must be a power of two from 1 to 65536, got 0",
            ),
            (CacheBuilder::default().shards(12), "got 12"),
            (
                CacheBuilder::default().shards(8).max_entries(4),
                "8 shards need max_entries of at least 8",
            ),
            (
                CacheBuilder::default().shards(8).max_bytes(7),
                "8 shards need max_bytes of at least 8",
            ),
            (
                CacheBuilder::default().max_age(Duration::ZERO),
                "max_age must be longer than zero",
            ),
        ];
        for (builder, message) in cases {
            let err = builder.build().expect_err(message);
            assert!(err.to_string().contains(message), "{err}");
            assert!(
                err.to_string()
                    .starts_with("invalid template cache options: ")
            );
        }
        assert!(
            CacheBuilder::<u8>::default()
                .shards(12)
                .build_unsync()
                .is_ok(),
            "unsync ignores shards"
        );
    }
}
