//! The LRU template cache.
//!
//! ```
//! use std::sync::Arc;
//! use shipwright_build::format::{BuildCache, TemplateRecord, template_id};
//! use shipwright_runtime::cache::TemplateCache;
//!
//! # fn record(name: &str, deps: &[&str]) -> TemplateRecord {
//! #     TemplateRecord {
//! #         id: template_id(name), root: 0, hash: String::new(), static_hash: String::new(),
//! #         interface_hash: String::new(), size: 0,
//! #         deps: deps.iter().map(|d| d.to_string()).collect(),
//! #         dynamic: Vec::new(), transitive: Vec::new(), vars: Vec::new(),
//! #     }
//! # }
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
//! Exact least-recently-used order, kept per shard by a doubly linked list over slot numbers,
//! so `get`, `insert` and `remove` are O(1). [`TemplateCache`] splits the keys over a
//! power-of-two number of shards, each with its own mutex and its share of the limits: a
//! lookup hashes the key, picks the shard, locks it and looks up. Across shards the order is
//! only approximately LRU; with [`shards(1)`](CacheBuilder::shards) or the single-threaded
//! [`unsync::TemplateCache`] it is exact.
//!
//! A hit notes its slot and returns; the moves to the front of the last 64 hits are made
//! together, in order, when the 64th comes or before anything that evicts, removes or lists
//! keys. The order every operation sees is therefore the exact LRU order; a hit just does not
//! wait on its neighbours' links.
//!
//! Room is made before a value goes in, so neither limit is ever exceeded. An entry older than
//! the [maximum age](CacheBuilder::max_age) is never returned.
//!
//! # Approximate memory usage
//!
//! Per entry: a hash-table bucket holding the 24-byte key (names up to 24 bytes stay inline,
//! longer ones take a heap block of their length), the value and a 4-byte slot number, padded
//! to the value's alignment, at most 7/8 of the buckets full, with one control byte each; then
//! per slot 8 bytes of list links, 8 of hash and 8 of weight, in arrays of their own so that a
//! lookup touches only the bucket; and 8 bytes more with a maximum age. For `V = Arc<T>` that
//! is about 40 bytes of bucket and 24 per slot.

mod clock;
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
