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
//! Exact least-recently-used order, kept per shard by a doubly linked list through a slab of
//! nodes, so `get`, `insert` and `remove` are O(1). [`TemplateCache`] splits the keys over a
//! power-of-two number of shards, each with its own mutex and its share of the limits: a
//! lookup hashes the key, picks the shard, locks it and looks up. Across shards the order is
//! only approximately LRU; with [`shards(1)`](CacheBuilder::shards) or the single-threaded
//! [`unsync::TemplateCache`] it is exact.
//!
//! Room is made before a value goes in, so neither limit is ever exceeded. An entry older than
//! the [maximum age](CacheBuilder::max_age) is never returned.
//!
//! # Approximate memory usage
//!
//! Per entry: a node of the 24-byte key (names up to 24 bytes stay inline, longer ones take a
//! heap block of their length) and the value, padded to the value's alignment; 8 bytes of
//! list links and 8 of weight, kept in arrays of their own so that a lookup touches only the
//! node; about 5 to 10 bytes of hash table (one control byte and one 4-byte slot number per
//! bucket, at most 7/8 full); and 8 bytes more with a maximum age. For `V = Arc<T>` that is
//! 48 bytes plus the table.

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
