//! The template cache: CLOCK eviction (an LRU approximation), limits on entries and bytes.
//!
//! ```
//! use std::sync::Arc;
//! use shipwright_core::format::{BuildCache, TemplateRecord};
//! use shipwright_runtime::cache::TemplateCache;
//!
//! # fn record(name: &str, deps: &[&str]) -> TemplateRecord { TemplateRecord::including(name, deps) }
//! // In an application: `BuildCache::load(path)?`, or the BuildCache embedded at build time.
//! let mut build = BuildCache::new(vec!["templates".into()]);
//! build.templates.insert("base.html".into(), record("base.html", &[]));
//! build.templates.insert("home.html".into(), record("home.html", &["base.html"]));
//! build.templates.insert("about.html".into(), record("about.html", &[]));
//!
//! let cache: TemplateCache<Arc<str>> =
//!     TemplateCache::builder().max_entries(1_000).build_cache(&build).build().unwrap();
//! for name in ["base.html", "home.html", "about.html"] {
//!     // Compiled once, even when many threads ask at the same time.
//!     let compiled = cache.get_or_insert_with(name, || Arc::from(format!("compiled {name}")));
//!     assert_eq!(&*compiled, format!("compiled {name}"));
//! }
//! assert_eq!(cache.get("home.html").as_deref(), Some("compiled home.html"));
//!
//! // base.html changed: it and everything built on it goes.
//! assert_eq!(cache.invalidate("base.html"), 2);
//! assert!(cache.get("home.html").is_none());
//! assert!(cache.get("about.html").is_some());
//!
//! let stats = cache.stats();
//! assert_eq!((stats.hits, stats.misses, stats.evictions.invalidation), (2, 4, 2));
//! assert_eq!(stats.entries, stats.inserts - stats.evictions.total());
//! ```
//!
//! # Eviction policy
//!
//! CLOCK, also called second chance, an approximation of least-recently-used. Each shard keeps
//! its entries in a queue; a new entry goes in at the front and a hit only sets the entry's
//! reference bit. To make room the shard looks at the tail: an entry whose bit is set gets a
//! second chance (its bit is cleared and it goes back to the front), and the first entry
//! without one is evicted. An entry that is looked up again before its turn at the tail comes
//! therefore stays, as under LRU; but a hit moves nothing, so lookups from several threads do
//! not write each other's list links (a hot entry's bit is written once, then only read). On
//! the Zipfian trace of the cache benchmark its hit ratio matches the `lru` crate's exact LRU
//! (0.744 against 0.737; `BENCHMARKS.md` has the figures).
//!
//! [`TemplateCache`] splits the keys over a power-of-two number of shards, each with its own
//! mutex and its share of the limits: a lookup hashes the key, picks the shard, locks it and
//! looks up. With [`shards(1)`](CacheBuilder::shards) or the single-threaded
//! [`unsync::TemplateCache`] there is one queue over all entries.
//!
//! Room is made before a value goes in, so neither limit is ever exceeded. An entry older than
//! the [maximum age](CacheBuilder::max_age) is never returned, and is evicted without a second
//! chance when it reaches the tail.
//!
//! # Approximate memory usage
//!
//! Per entry: a hash-table bucket holding the 24-byte key (names up to 24 bytes stay inline,
//! longer ones take a heap block of their length), the value, a 4-byte slot number and the
//! reference bit, padded to the value's alignment, at most 7/8 of the buckets full, with one control byte each; then
//! per slot 8 bytes of list links, 8 of hash and 8 of weight, in arrays of their own so that a
//! lookup touches only the bucket; and 8 bytes more with a maximum age. For `V = Arc<T>` that
//! is about 40 bytes of bucket and 24 per slot.

mod clock;
mod ghost;
mod options;
mod shard;
mod stats;
mod sync;
pub mod unsync;

#[cfg(test)]
mod tests;

pub use options::{CacheBuilder, DEFAULT_MAX_ENTRIES, DefaultWeigher, OptionsError, Weigher};
pub use stats::{CacheStats, Evictions};
pub use sync::{LockContention, TemplateCache};
