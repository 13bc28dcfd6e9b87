//! The scan's binary side files: the records file and the stat index.
//!
//! The first byte picks the file and whether the rest is used as it is or framed as a real
//! file would be (the file's header line, the rest, the checksum), so that the decoders are
//! reached past the checksum. Both headers are read from files the crate writes, so a new
//! version of either is followed here with no change.
//!
//! Invariants: decoding never panics; what decodes encodes to bytes that decode to the same
//! thing (for the index, all but the write time, which saving stamps anew).

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shipwright_build::scan::index::{FileStat, Index};
use shipwright_build::scan::records;
use shipwright_core::format::BuildCache;
use xxhash_rust::xxh3::xxh3_64;

/// A scratch directory of this process, for the index (it is saved to a path).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("shipwright-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    })
}

fn empty_index() -> Index {
    let stat = FileStat {
        root: 0,
        name: String::new(),
        size: 0,
        mtime_ns: 0,
        ctime_ns: 0,
        ino: 0,
    };
    Index {
        key: String::new(),
        cache: stat.clone(),
        records: stat.clone(),
        registry: stat,
        warnings: Vec::new(),
        written_ns: 0,
        files: Vec::new(),
        dirs: Vec::new(),
        complete: false,
        walk_clean: false,
    }
}

/// The header line (newline included) of the files the crate writes.
fn headers() -> &'static (Vec<u8>, Vec<u8>) {
    static HEADERS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    HEADERS.get_or_init(|| {
        let line = |bytes: &[u8]| {
            let end = bytes
                .iter()
                .position(|&b| b == b'\n')
                .expect("a header line");
            bytes[..=end].to_vec()
        };
        let records = records::fuzz_encode(&BuildCache::new(vec!["t".into()]));
        let path = scratch().join("header-index");
        empty_index().save(&path).expect("an index is saved");
        let index = std::fs::read(&path).expect("the saved index");
        (line(&records), line(&index))
    })
}

/// `header`, `fields` and the checksum of both, as the side files are laid out.
fn framed(header: &[u8], fields: &[u8]) -> Vec<u8> {
    let mut bytes = [header, fields].concat();
    let sum = xxh3_64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

fn check_records(bytes: &[u8]) {
    let Some(cache) = records::fuzz_decode(bytes) else {
        return;
    };
    assert!(
        cache.templates.values().all(|r| r.root < cache.roots.len()),
        "decoded records name their roots"
    );
    let again =
        records::fuzz_decode(&records::fuzz_encode(&cache)).expect("the records it encodes decode");
    assert_eq!(again, cache);
}

fn check_index(bytes: &[u8]) {
    let Some(index) = Index::fuzz_decode(bytes) else {
        return;
    };
    let path = scratch().join("index");
    index.save(&path).expect("an index is saved");
    let mut again = Index::load(&path).expect("the index it saves loads");
    assert!(again.written_ns > 0, "saving stamps the time");
    again.written_ns = index.written_ns;
    assert_eq!(again, index);
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (records_header, index_header) = headers();
    match pick % 4 {
        0 => check_records(&framed(records_header, rest)),
        1 => check_index(&framed(index_header, rest)),
        2 => check_records(rest),
        _ => check_index(rest),
    }
});
