//! The records side file: what the last scan recorded of every template, in the binary encoding
//! of the stat index (varints, digests as bytes, a checksum at the end), so that a re-scan after
//! an edit takes the unchanged templates' records from it instead of parsing the whole
//! BuildCache JSON again.
//!
//! It holds the BuildCache minus what the graph recomputes (`transitive`, `cycles`): the roots,
//! every record, the lexer errors and the missing references (whose lines a re-scan reuses),
//! in about a quarter of the JSON's bytes (every byte a cold build writes costs time).
//! It is trusted only when the stat index vouches for it: the index keeps the file's stat,
//! taken after it was written, and the file is read only if it still has that stat (and changed
//! before the index was written); a file that was cut, damaged or replaced is not read, and the
//! scan starts over from nothing.
//!
//! ```
//! use shipwright_core::format::{BuildCache, TemplateRecord};
//! use shipwright_build::scan::records;
//!
//! let mut cache = BuildCache::new(vec!["templates".into()]);
//! cache.templates.insert("a.html".into(), TemplateRecord::including("a.html", &["b.html"]));
//! let back = records::decode(&records::encode(&cache)).unwrap();
//! assert_eq!(back.templates["a.html"].deps, ["b.html"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use rayon::prelude::*;

use super::binary::{Reader, Writer};
use super::index::FileStat;
use shipwright_core::format::{BuildCache, DynamicRef, Missing, TemplateError, TemplateRecord};

const HEADER: &str = "shipwright-scan-records 2";

/// Where the file sits under `OUT_DIR`, beside the stat index.
pub const FILE_NAME: &str = "shipwright/scan-records";

/// A reference to a name that is not a template's (in [`encode`]'s lists of names).
const NOT_A_TEMPLATE: u64 = 0;

/// The bytes of the side file for `cache`: the template names once, then each record in name
/// order, its digests as bytes and each dependency that names a template as the template's
/// number (written in parallel chunks with the `scan` feature).
pub fn encode(cache: &BuildCache) -> Vec<u8> {
    let names: Vec<&str> = cache.templates.keys().map(String::as_str).collect();
    // Looked up by hash, not by binary search: names share long prefixes (`pages/…`), which
    // makes every comparison of a search a `memcmp`.
    let numbers: HashMap<&str, u64> = names
        .iter()
        .enumerate()
        .map(|(at, name)| (*name, at as u64 + 1))
        .collect();
    let records: Vec<&TemplateRecord> = cache.templates.values().collect();
    let chunks = records
        .par_chunks(512)
        .map(|chunk| {
            let mut w = Writer::bare(128 * chunk.len());
            for r in chunk {
                w.len(r.root);
                for digest in [&r.id, &r.hash, &r.static_hash, &r.interface_hash] {
                    w.hex(digest);
                }
                w.varint(r.size);
                w.len(r.deps.len());
                for dep in &r.deps {
                    match numbers.get(dep.as_str()) {
                        Some(&number) => w.varint(number),
                        None => {
                            w.varint(NOT_A_TEMPLATE);
                            w.str(dep);
                        }
                    }
                }
                list(&mut w, &r.dynamic, |w, d| {
                    w.varint(d.line.into());
                    w.str(&d.expr);
                });
                list(&mut w, &r.vars, |w, var| w.str(var));
            }
            w.into_bytes()
        })
        .collect::<Vec<_>>();
    let size = names.iter().map(|n| n.len() + 2).sum::<usize>()
        + chunks.iter().map(Vec::len).sum::<usize>();
    let mut w = Writer::new(HEADER, size + 1024);
    list(&mut w, &cache.roots, |w, root| w.str(root));
    list(&mut w, &names, |w, name| w.str(name));
    for chunk in &chunks {
        w.raw(chunk);
    }
    list(&mut w, &cache.errors, |w, e| {
        w.str(&e.template);
        w.varint(e.line.into());
        w.str(&e.message);
    });
    list(&mut w, &cache.missing, |w, m| {
        w.str(&m.template);
        w.varint(m.line.into());
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
    let line = |r: &mut Reader<'_>| r.varint().and_then(|l| u32::try_from(l).ok());
    let roots = (0..r.len()?)
        .map(|_| string(&mut r))
        .collect::<Option<Vec<_>>>()?;
    let mut cache = BuildCache::new(roots);
    let names = (0..r.len()?)
        .map(|_| r.str())
        .collect::<Option<Vec<&str>>>()?;
    let mut records = Vec::with_capacity(names.len());
    for &name in &names {
        let root = r.len()?;
        if root >= cache.roots.len() {
            return None;
        }
        let (id, hash, static_hash, interface_hash) = (r.hex()?, r.hex()?, r.hex()?, r.hex()?);
        let size = r.varint()?;
        let deps = (0..r.len()?)
            .map(|_| match r.varint()? {
                NOT_A_TEMPLATE => string(&mut r),
                at => names
                    .get(usize::try_from(at - 1).ok()?)
                    .map(|n| n.to_string()),
            })
            .collect::<Option<_>>()?;
        let dynamic = (0..r.len()?)
            .map(|_| {
                Some(DynamicRef {
                    line: line(&mut r)?,
                    expr: string(&mut r)?,
                })
            })
            .collect::<Option<_>>()?;
        let vars = (0..r.len()?)
            .map(|_| string(&mut r))
            .collect::<Option<_>>()?;
        let record = TemplateRecord {
            id,
            root,
            hash,
            static_hash,
            interface_hash,
            size,
            deps,
            dynamic,
            transitive: Vec::new(),
            vars,
        };
        records.push((name.to_string(), record));
    }
    // Written in name order: a bulk build, no search per record.
    cache.templates = records.into_iter().collect();
    cache.errors = (0..r.len()?)
        .map(|_| {
            Some(TemplateError {
                template: string(&mut r)?,
                line: line(&mut r)?,
                message: string(&mut r)?,
            })
        })
        .collect::<Option<_>>()?;
    cache.missing = (0..r.len()?)
        .map(|_| {
            Some(Missing {
                template: string(&mut r)?,
                line: line(&mut r)?,
                name: string(&mut r)?,
                reason: string(&mut r)?,
            })
        })
        .collect::<Option<_>>()?;
    (r.at_end() && cache.templates.len() == names.len()).then_some(cache)
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
