//! The template cache: S3-FIFO eviction (scan-resistant, frequency-aware), limits on entries
//! and bytes.
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
//! S3-FIFO: two queues and a ghost per shard. A new key goes in at the front of the small,
//! probationary queue; a hit only adds one to the entry's use counter (up to three) and moves
//! nothing. To make room the shard looks at the small queue's tail while that queue holds more
//! than a thirty-second of the entries: an entry used since it came goes on to the main queue,
//! one that was not is evicted and its key's hash is remembered by the ghost. Otherwise it
//! looks at the main queue's tail: an entry with uses left goes back to the front with one
//! less, one without is evicted. A key the ghost remembers, asked for again, goes straight to
//! the main queue; a key written again while present goes there too, with its uses.
//!
//! So a run of keys each used once (a crawler, a sitemap walk) passes through the small queue
//! without pushing out the entries of the main queue, and an entry used often outlives one used
//! now and then, which CLOCK (one reference bit, one queue) does not tell apart. A hot entry's
//! counter reaches three and is then only read, so lookups from several threads do not write
//! each other's cache lines. The ghost holds hashes only, never a value, in a table with a
//! place for a quarter of the shard's entries, where a newer hash takes an older one's place. On the Zipfian trace of the cache benchmark, and on the
//! same trace with scans mixed in, it keeps more hits than `quick_cache` (`BENCHMARKS.md` has
//! the figures).
//!
//! [`TemplateCache`] splits the keys over a power-of-two number of shards, each with its own
//! mutex and its share of the limits: a lookup hashes the key, picks the shard, locks it and
//! looks up. With [`shards(1)`](CacheBuilder::shards) or the single-threaded
//! [`unsync::TemplateCache`] there is one pair of queues over all entries.
//!
//! Room is made before a value goes in, so neither limit is ever exceeded. An entry older than
//! the [maximum age](CacheBuilder::max_age) is never returned, and is evicted when it reaches a
//! tail, whatever its uses.
//!
//! # Approximate memory usage
//!
//! Per entry: a hash-table bucket holding the 24-byte key (names up to 24 bytes stay inline,
//! longer ones take a heap block of their length), the value, a 4-byte slot number, the use
//! counter and the queue flag, padded to the value's alignment, at most 7/8 of the buckets
//! full, with one control byte each; then per slot 8 bytes of list links, 8 of hash and 8 of
//! weight, in arrays of their own so that a lookup touches only the bucket; and 8 bytes more
//! with a maximum age. For `V = Arc<T>` that is about 40 bytes of bucket and 24 per slot. The
//! ghost adds an 8-byte place per four entries at most.

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
