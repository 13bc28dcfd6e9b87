//! Writing a file so that a reader sees the old bytes or the new bytes, never a mix.
//!
//! The bytes go to a temporary file in the same directory, which is then renamed over the
//! target: a concurrent reader never sees a half-written file. There is no fsync: after a power
//! loss the file may be empty or cut short, which every reader rejects as malformed (see
//! [`shipwright_core::format::BuildCache::parse`]) instead of taking it as good; the next build writes it
//! again. When the target
//! already holds the same bytes it is not touched, so its mtime only moves on a real change.

use std::io::Write as _;
use std::path::Path;

use rayon::prelude::*;

use shipwright_core::format::{BuildCache, TemplateRecord};

/// [`BuildCache::to_bytes`], with the template records written in parallel, by hand: the same
/// bytes (the tests compare them with serde_json's on every kind of field and string).
pub(crate) fn cache_bytes(cache: &BuildCache) -> Vec<u8> {
    let templates: Vec<(&String, &TemplateRecord)> = cache.templates.iter().collect();
    let chunks: Vec<Vec<u8>> = templates
        .par_chunks(256)
        .map(|chunk| {
            let mut out = Vec::with_capacity(600 * chunk.len());
            for (name, record) in chunk {
                out.push(b',');
                json::string(&mut out, name);
                out.push(b':');
                json::record(&mut out, record);
            }
            out
        })
        .collect();
    let field = |out: &mut Vec<u8>, key: &str, value: &dyn erased::Value| {
        out.extend_from_slice(format!(",\"{key}\":").as_bytes());
        value.write(out);
    };
    let mut out = Vec::with_capacity(chunks.iter().map(Vec::len).sum::<usize>() + 4096);
    out.extend_from_slice(b"{\"format\":");
    serde_json::to_writer(&mut out, &cache.format).expect("a string serializes");
    field(&mut out, "version", &cache.version);
    field(&mut out, "roots", &cache.roots);
    out.extend_from_slice(b",\"templates\":{");
    for (i, chunk) in chunks.iter().enumerate() {
        // Every record starts with a comma; the first one's is left out.
        out.extend_from_slice(if i == 0 { &chunk[1..] } else { chunk });
    }
    out.push(b'}');
    field(&mut out, "missing", &cache.missing);
    field(&mut out, "cycles", &cache.cycles);
    field(&mut out, "errors", &cache.errors);
    out.extend_from_slice(b"}\n");
    out
}

/// A template record as serde_json writes it (compact, fields in declaration order).
mod json {
    use std::io::Write as _;

    use shipwright_core::format::TemplateRecord;

    pub(super) fn record(out: &mut Vec<u8>, r: &TemplateRecord) {
        out.extend_from_slice(b"{\"id\":");
        string(out, &r.id);
        let _ = write!(out, ",\"root\":{},\"hash\":", r.root);
        string(out, &r.hash);
        out.extend_from_slice(b",\"static_hash\":");
        string(out, &r.static_hash);
        out.extend_from_slice(b",\"interface_hash\":");
        string(out, &r.interface_hash);
        let _ = write!(out, ",\"size\":{},\"deps\":", r.size);
        strings(out, &r.deps);
        out.extend_from_slice(b",\"dynamic\":[");
        for (i, d) in r.dynamic.iter().enumerate() {
            let _ = write!(
                out,
                "{}{{\"line\":{},\"expr\":",
                if i == 0 { "" } else { "," },
                d.line
            );
            string(out, &d.expr);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"transitive\":");
        strings(out, &r.transitive);
        out.extend_from_slice(b",\"vars\":");
        strings(out, &r.vars);
        out.push(b'}');
    }

    fn strings(out: &mut Vec<u8>, items: &[String]) {
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, item);
        }
        out.push(b']');
    }

    /// A JSON string with serde_json's escapes: `\"`, `\\`, the short forms of the usual
    /// control characters and `\u00XX` for the others; everything else as it is.
    pub(super) fn string(out: &mut Vec<u8>, text: &str) {
        out.push(b'"');
        let bytes = text.as_bytes();
        // Most strings (digests, names) need no escape: checked without an early exit, so many
        // bytes at a time, and copied whole.
        if bytes.iter().fold(true, |plain, &b| {
            plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
        }) {
            out.extend_from_slice(bytes);
            out.push(b'"');
            return;
        }
        let mut start = 0;
        for (at, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0..0x20 => b"",
                _ => continue,
            };
            out.extend_from_slice(&bytes[start..at]);
            if escape.is_empty() {
                let _ = write!(out, "\\u{:04x}", b);
            } else {
                out.extend_from_slice(escape);
            }
            start = at + 1;
        }
        out.extend_from_slice(&bytes[start..]);
        out.push(b'"');
    }
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
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
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
    use shipwright_core::format::{DynamicRef, Missing, TemplateError, TemplateRecord};

    #[test]
    fn writes_once_and_leaves_equal_bytes_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shipwright/build-cache.json");
        assert!(atomic_write(&path, b"{}").unwrap());
        assert!(
            !atomic_write(&path, b"{}").unwrap(),
            "same bytes: left alone"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        assert!(atomic_write(&path, b"[]").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"[]");
    }

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
                dynamic: vec![DynamicRef {
                    line: 3,
                    expr: "'a' ~ b".into(),
                }],
                transitive: vec![],
                vars: vec!["x".into()],
            };
            cache.templates.insert(name, record);
        }
        cache.missing.push(Missing {
            template: "a".into(),
            line: 1,
            name: "b".into(),
            reason: "not found".into(),
        });
        cache.cycles.push(vec!["a".into(), "a".into()]);
        cache.errors.push(TemplateError {
            template: "e".into(),
            line: 2,
            message: "unterminated".into(),
        });
        assert_eq!(cache_bytes(&cache), cache.to_bytes());
        let empty = BuildCache::new(vec![]);
        assert_eq!(cache_bytes(&empty), empty.to_bytes());
    }

    proptest::proptest! {
        #[test]
        fn any_strings_are_escaped_as_serde_json_does(texts in proptest::collection::vec("\\PC*|[\\x00-\\x7f]*", 6)) {
            let mut cache = BuildCache::new(vec![texts[0].clone()]);
            let record = TemplateRecord {
                id: texts[1].clone(),
                root: 0,
                hash: texts[2].clone(),
                static_hash: String::new(),
                interface_hash: texts[3].clone(),
                size: u64::MAX,
                deps: vec![texts[4].clone(), texts[5].clone()],
                dynamic: vec![DynamicRef { line: u32::MAX, expr: texts[5].clone() }],
                transitive: vec![texts[3].clone()],
                vars: vec![],
            };
            cache.templates.insert(texts[4].clone(), record.clone());
            cache.templates.insert(texts[5].clone() + "x", record);
            proptest::prop_assert_eq!(String::from_utf8(cache_bytes(&cache)).unwrap(), String::from_utf8(cache.to_bytes()).unwrap());
        }
    }
}
