//! The BuildCache reader on any bytes.
//!
//! Invariants: `parse` returns a cache or a `FormatError`, never panics; an error names the
//! file, and a malformed file's error its 1-based line and column; a cache it returns writes
//! back (`to_bytes`, `to_pretty`) to bytes that parse to the same cache, and `to_bytes` is a
//! fixed point; the graph passes over it (`link`, `closure`, `dependents`) do not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shipwright_core::format::{BuildCache, FormatError};
use shipwright_core::graph::{closure, dependents, link};

fuzz_target!(|data: &[u8]| {
    let cache = match BuildCache::parse(data, "fuzz/build-cache.json") {
        Ok(cache) => cache,
        Err(e) => {
            let text = e.to_string();
            assert!(text.starts_with("fuzz/build-cache.json"), "{text}");
            if let FormatError::Malformed { line, column, .. } = e {
                assert!(line >= 1 && column >= 1, "{text}");
            }
            return;
        }
    };
    let bytes = cache.to_bytes();
    let again = BuildCache::parse(&bytes, "again.json").expect("its own bytes parse");
    assert_eq!(again, cache);
    assert_eq!(again.to_bytes(), bytes);
    let pretty = BuildCache::parse(cache.to_pretty().as_bytes(), "pretty.json")
        .expect("its own indented bytes parse");
    assert_eq!(pretty, cache);

    let mut linked = cache;
    link(&mut linked);
    for name in linked.templates.keys().take(8) {
        let reached = closure(&linked, name);
        assert!(!reached.contains(&name.as_str()));
        for other in &reached {
            assert!(dependents(&linked, other).contains(&name.as_str()));
        }
    }
});
