//! The records side file: what the last scan recorded of every template, as postcard's binary
//! encoding of the BuildCache's serde form, so that a re-scan after an edit takes the unchanged
//! templates' records from it instead of parsing the whole BuildCache JSON again. Being the same
//! serde definition, it follows every change of the record with no code here.
//!
//! It is trusted only when the stat index vouches for it: the index keeps the file's stat,
//! taken after it was written, and the file is read only if it still has that stat (and changed
//! before the index was written); a file that was cut, damaged or replaced is not read, and the
//! scan starts over from nothing.

use std::io::Read as _;
use std::path::Path;

use super::binary::{Reader, Writer};
use super::index::FileStat;
use shipwright_core::format::BuildCache;

const HEADER: &str = "shipwright-scan-records 3";

/// Where the file sits under `OUT_DIR`, beside the stat index.
pub(crate) const FILE_NAME: &str = "shipwright/scan-records";

/// The bytes of the side file for `cache`: the header, the cache in postcard's encoding of its
/// serde form (the same definition the JSON follows), and the checksum.
pub(crate) fn encode(cache: &BuildCache) -> Vec<u8> {
    let body = postcard::to_allocvec(cache).expect("a BuildCache always serializes");
    let mut w = Writer::new(HEADER, body.len());
    w.raw(&body);
    w.finish()
}

/// The BuildCache the bytes were encoded from; `None` if they are not a records file of this
/// version, or damaged in any way (the checksum, then the decoding, then the roots).
pub(crate) fn decode(bytes: &[u8]) -> Option<BuildCache> {
    let body = Reader::open(bytes, HEADER)?.rest();
    let cache: BuildCache = postcard::from_bytes(body).ok()?;
    cache
        .templates
        .values()
        .all(|record| record.root < cache.roots.len())
        .then_some(cache)
}

/// [`encode`] for the fuzz targets (`fuzz/`); it is crate-private outside fuzzing.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_encode(cache: &BuildCache) -> Vec<u8> {
    encode(cache)
}

/// [`decode`] for the fuzz targets (`fuzz/`); it is crate-private outside fuzzing.
#[cfg(fuzzing)]
#[doc(hidden)]
pub fn fuzz_decode(bytes: &[u8]) -> Option<BuildCache> {
    decode(bytes)
}

/// Reads the side file at `path` if it still has the stat `vouched` (changed before
/// `racy_after`, the index's write time) and decodes it; `None` otherwise.
pub(crate) fn load(path: &Path, vouched: &FileStat, racy_after: i128) -> Option<BuildCache> {
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
    use shipwright_core::format::{DynamicRef, Missing, TemplateError, TemplateRecord, Var};

    fn sample() -> BuildCache {
        let mut cache = BuildCache::new(vec!["templates".into(), "theme".into()]);
        let mut page = TemplateRecord::including("page.html", &["base.html", "nope.html"]);
        page.dynamic.push(DynamicRef {
            line: 3,
            expr: "\"icons/\" ~ name".into(),
            context: true,
            scope: Vec::new(),
        });
        page.vars = vec![Var {
            name: "title".into(),
            line: 4,
            macros: Vec::new(),
        }];
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
    fn round_trips_everything() {
        let mut cache = sample();
        cache.cycles.push(vec!["a".into(), "a".into()]);
        cache.globals.push("app_name".into());
        assert_eq!(decode(&encode(&cache)).unwrap(), cache);
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
