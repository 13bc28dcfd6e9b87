//! The records side file: what the last scan recorded of every template, in the binary encoding
//! of the stat index ([`super::binary`]), so that a re-scan after an edit takes the unchanged
//! templates' records from it instead of parsing the whole BuildCache JSON again.
//!
//! It holds the BuildCache minus what the graph recomputes (`transitive`, `cycles`): the roots,
//! every record, the lexer errors and the missing references (whose lines a re-scan reuses).
//! It is trusted only when the stat index vouches for it: the index keeps the file's stat,
//! taken after it was written, and the file is read only if it still has that stat (and changed
//! before the index was written); a file that was cut, damaged or replaced is not read, and the
//! scan starts over from nothing.
//!
//! ```
//! use shipwright_build::format::{BuildCache, TemplateRecord};
//! use shipwright_build::scan::records;
//!
//! let mut cache = BuildCache::new(vec!["templates".into()]);
//! cache.templates.insert("a.html".into(), TemplateRecord::including("a.html", &["b.html"]));
//! let back = records::decode(&records::encode(&cache)).unwrap();
//! assert_eq!(back.templates["a.html"].deps, ["b.html"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read as _;
use std::path::Path;

use super::binary::{Reader, Writer};
use super::index::FileStat;
use crate::format::{BuildCache, DynamicRef, Missing, TemplateError, TemplateRecord};

const HEADER: &str = "shipwright-scan-records 1";

/// Where the file sits under `OUT_DIR`, beside the stat index.
pub const FILE_NAME: &str = "shipwright/scan-records";

/// The bytes of the side file for `cache`.
pub fn encode(cache: &BuildCache) -> Vec<u8> {
    let mut w = Writer::new(HEADER, 400 * cache.templates.len() + 1024);
    list(&mut w, &cache.roots, |w, root| w.str(root));
    w.len(cache.templates.len());
    for (name, r) in &cache.templates {
        w.str(name);
        w.len(r.root);
        for text in [&r.id, &r.hash, &r.static_hash, &r.interface_hash] {
            w.str(text);
        }
        w.u64(r.size);
        list(&mut w, &r.deps, |w, dep| w.str(dep));
        list(&mut w, &r.dynamic, |w, d| {
            w.u32(d.line);
            w.str(&d.expr);
        });
        list(&mut w, &r.vars, |w, var| w.str(var));
    }
    list(&mut w, &cache.errors, |w, e| {
        w.str(&e.template);
        w.u32(e.line);
        w.str(&e.message);
    });
    list(&mut w, &cache.missing, |w, m| {
        w.str(&m.template);
        w.u32(m.line);
        w.str(&m.name);
        w.str(&m.reason);
    });
    w.finish()
}

fn list<T>(w: &mut Writer, items: &[T], mut item: impl FnMut(&mut Writer, &T)) {
    w.len(items.len());
    for i in items {
        item(w, i);
    }
}

/// The BuildCache the bytes were encoded from (with empty `transitive` lists and no cycles);
/// `None` if they are not a records file of this version, or damaged in any way.
pub fn decode(bytes: &[u8]) -> Option<BuildCache> {
    let mut r = Reader::open(bytes, HEADER)?;
    let string = |r: &mut Reader<'_>| r.str().map(str::to_string);
    let strings = |r: &mut Reader<'_>| (0..r.len()?).map(|_| string(r)).collect::<Option<Vec<_>>>();
    let mut cache = BuildCache::new(strings(&mut r)?);
    let count = r.len()?;
    let mut records = Vec::with_capacity(count);
    for _ in 0..count {
        let name = string(&mut r)?;
        let root = r.len()?;
        if root >= cache.roots.len() {
            return None;
        }
        let record = TemplateRecord {
            root,
            id: string(&mut r)?,
            hash: string(&mut r)?,
            static_hash: string(&mut r)?,
            interface_hash: string(&mut r)?,
            size: r.u64()?,
            deps: strings(&mut r)?,
            dynamic: (0..r.len()?)
                .map(|_| {
                    Some(DynamicRef {
                        line: r.u32()?,
                        expr: string(&mut r)?,
                    })
                })
                .collect::<Option<_>>()?,
            transitive: Vec::new(),
            vars: strings(&mut r)?,
        };
        records.push((name, record));
    }
    // Written in name order: a bulk build, no search per record.
    cache.templates = records.into_iter().collect();
    cache.errors = (0..r.len()?)
        .map(|_| {
            Some(TemplateError {
                template: string(&mut r)?,
                line: r.u32()?,
                message: string(&mut r)?,
            })
        })
        .collect::<Option<_>>()?;
    cache.missing = (0..r.len()?)
        .map(|_| {
            Some(Missing {
                template: string(&mut r)?,
                line: r.u32()?,
                name: string(&mut r)?,
                reason: string(&mut r)?,
            })
        })
        .collect::<Option<_>>()?;
    (r.at_end() && cache.templates.len() == count).then_some(cache)
}

/// Reads the side file at `path` if it still has the stat `vouched` (changed before
/// `racy_after`, the index's write time) and decodes it; `None` otherwise.
pub fn load(path: &Path, vouched: &FileStat, racy_after: i128) -> Option<BuildCache> {
    let mut file = std::fs::File::open(path).ok()?;
    let now = FileStat::from_metadata(vouched.root, &vouched.name, &file.metadata().ok()?);
    if !vouched.same_as(&now, racy_after) {
        return None;
    }
    let mut bytes = Vec::with_capacity(now.size as usize + 1);
    file.read_to_end(&mut bytes).ok()?;
    decode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BuildCache {
        let mut cache = BuildCache::new(vec!["templates".into(), "theme".into()]);
        let mut page = TemplateRecord::including("page.html", &["base.html", "nope.html"]);
        page.dynamic.push(DynamicRef {
            line: 3,
            expr: "\"icons/\" ~ name".into(),
        });
        page.vars = vec!["title".into()];
        cache.templates.insert("page.html".into(), page);
        let mut base = TemplateRecord::including("base.html", &[]);
        base.root = 1;
        cache.templates.insert("base.html".into(), base);
        cache.errors.push(TemplateError {
            template: "page.html".into(),
            line: 2,
            message: "unterminated".into(),
        });
        cache.missing.push(Missing {
            template: "page.html".into(),
            line: 1,
            name: "nope.html".into(),
            reason: "not found".into(),
        });
        cache
    }

    #[test]
    fn round_trips_everything_but_what_the_graph_recomputes() {
        let cache = sample();
        assert_eq!(decode(&encode(&cache)).unwrap(), cache);
        let mut linked = cache.clone();
        linked.templates.get_mut("page.html").unwrap().transitive = vec!["base.html".into()];
        linked.cycles.push(vec!["a".into(), "a".into()]);
        assert_eq!(decode(&encode(&linked)).unwrap(), cache);
    }

    #[test]
    fn a_damaged_file_or_a_root_out_of_range_is_refused() {
        let bytes = encode(&sample());
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        let mut wrong_root = sample();
        wrong_root.roots.pop();
        assert!(
            decode(&encode(&wrong_root)).is_none(),
            "a record names a root that is not listed"
        );
    }

    #[test]
    fn only_a_file_with_the_vouched_stat_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records");
        std::fs::write(&path, encode(&sample())).unwrap();
        let stat = FileStat::of(usize::MAX, "", &path).unwrap();
        assert_eq!(load(&path, &stat, i128::MAX), Some(sample()));
        assert_eq!(
            load(&path, &stat, stat.mtime_ns),
            None,
            "written in the index's clock tick"
        );
        std::fs::write(&path, encode(&BuildCache::new(vec![]))).unwrap();
        assert_eq!(
            load(&path, &stat, i128::MAX),
            None,
            "replaced since the index was written"
        );
    }
}
