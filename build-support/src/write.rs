//! Writing a file so that a reader sees the old bytes or the new bytes, never a mix.
//!
//! ```
//! use shipwright_build::write::atomic_write;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("shipwright/build-cache.json");
//! assert!(atomic_write(&path, b"{}")?);
//! assert!(!atomic_write(&path, b"{}")?, "same bytes: left alone");
//! assert_eq!(std::fs::read(&path)?, b"{}");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The bytes go to a temporary file in the same directory, which is then renamed over the
//! target: a concurrent reader never sees a half-written file. There is no fsync: after a power
//! loss the file may be empty or cut short, which every reader rejects as malformed (see
//! [`crate::format::BuildCache::parse`]) instead of taking it as good; the next build writes it
//! again. When the target
//! already holds the same bytes it is not touched, so its mtime only moves on a real change.

use std::io::Write as _;
use std::path::Path;

use rayon::prelude::*;

use crate::format::BuildCache;

/// [`BuildCache::to_bytes`], with the template records serialised in parallel: the same bytes.
pub fn cache_bytes(cache: &BuildCache) -> Vec<u8> {
    let records: Vec<Vec<u8>> = cache
        .templates
        .par_iter()
        .map(|(name, record)| {
            let mut out = serde_json::to_vec(name).expect("a string serializes");
            out.push(b':');
            serde_json::to_writer(&mut out, record).expect("a record serializes");
            out
        })
        .collect();
    let field = |out: &mut Vec<u8>, key: &str, value: &dyn erased::Value| {
        out.extend_from_slice(format!(",\"{key}\":").as_bytes());
        value.write(out);
    };
    let mut out = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 4096);
    out.extend_from_slice(b"{\"format\":");
    serde_json::to_writer(&mut out, &cache.format).expect("a string serializes");
    field(&mut out, "version", &cache.version);
    field(&mut out, "roots", &cache.roots);
    out.extend_from_slice(b",\"templates\":{");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(record);
    }
    out.push(b'}');
    field(&mut out, "missing", &cache.missing);
    field(&mut out, "cycles", &cache.cycles);
    field(&mut out, "errors", &cache.errors);
    out.extend_from_slice(b"}\n");
    out
}

/// A serialisable value behind a `dyn`, for the field list above.
mod erased {
    pub(super) trait Value {
        fn write(&self, out: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Value for T {
        fn write(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, self).expect("a BuildCache field serializes");
        }
    }
}

/// Writes `bytes` to `path` atomically, creating the parent directory. Returns whether the file
/// changed.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map(|()| true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{DynamicRef, Missing, TemplateError, TemplateRecord};

    #[test]
    fn parallel_bytes_equal_serde_bytes() {
        let mut cache = BuildCache::new(vec!["templates".into(), "theme \"x\"".into()]);
        for i in 0..500 {
            let name = format!("dir/t{i}\u{e9}.html");
            let record = TemplateRecord {
                id: format!("{i:016x}"),
                root: i % 2,
                hash: "h".repeat(i % 7),
                static_hash: "s".into(),
                interface_hash: "i".into(),
                size: i as u64,
                deps: vec![format!("d{i}"), "quote\"d".into()],
                dynamic: vec![DynamicRef { line: 3, expr: "'a' ~ b".into() }],
                transitive: vec![],
                vars: vec!["x".into()],
            };
            cache.templates.insert(name, record);
        }
        cache.missing.push(Missing { template: "a".into(), line: 1, name: "b".into(), reason: "not found".into() });
        cache.cycles.push(vec!["a".into(), "a".into()]);
        cache.errors.push(TemplateError { template: "e".into(), line: 2, message: "unterminated".into() });
        assert_eq!(cache_bytes(&cache), cache.to_bytes());
        let empty = BuildCache::new(vec![]);
        assert_eq!(cache_bytes(&empty), empty.to_bytes());
    }
}
