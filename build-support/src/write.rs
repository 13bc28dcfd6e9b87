//! Writing a file so that a reader sees the old bytes or the new bytes, never a mix
//! ([`shipwright_core::write::replace`]: a temporary file renamed over the target). A file cut
//! short by a power loss is rejected as malformed by every reader (see
//! [`shipwright_core::format::BuildCache::parse`]), and the next build writes it again. When the
//! target already holds the same bytes it is not touched.
//!
//! Every file written gets the same fixed modification time, [`written`], long before any
//! build, so that the build script can ask cargo to rerun it when one of its outputs changes
//! (`cargo:rerun-if-changed` on the BuildCache and the registry): cargo reruns a build script
//! when a listed file is newer than its last run, which a file the script wrote itself would
//! otherwise always be. A BuildCache damaged or deleted after the build is newer (or gone), so
//! the next `cargo build` runs the script, which writes it again.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// The modification time of every file written here: 2000-01-01T00:00:00Z.
pub(crate) fn written() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800)
}

/// Writes `bytes` to `path` atomically, creating the parent directory. Returns whether the file
/// changed.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    write_parts(path, &[bytes], None)
}

/// Writes the bytes `parts` lay end to end to `path` atomically, as [`atomic_write`] does,
/// without gathering them into one buffer first. `known`: the file's bytes as the caller read
/// them, if it did (they are not read again to compare). Returns whether the file changed.
pub(crate) fn write_parts(
    path: &Path,
    parts: &[&[u8]],
    known: Option<&[u8]>,
) -> std::io::Result<bool> {
    let same = match known {
        Some(old) => same_bytes(old, parts),
        None => std::fs::read(path).is_ok_and(|old| same_bytes(&old, parts)),
    };
    if same {
        return Ok(false);
    }
    shipwright_core::write::replace(path, parts, Some(written())).map(|()| true)
}

/// Whether `old` holds the bytes `parts` lay end to end.
fn same_bytes(old: &[u8], parts: &[&[u8]]) -> bool {
    let mut rest = old;
    parts
        .iter()
        .all(|part| match rest.split_at_checked(part.len()) {
            Some((head, tail)) if head == *part => {
                rest = tail;
                true
            }
            _ => false,
        })
        && rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(
            modified,
            written(),
            "older than any build: see the module docs"
        );
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn parts_are_written_end_to_end_and_compared_with_what_was_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sources.bin");
        let parts: [&[u8]; 3] = [b"head", b"", b"er"];
        assert!(write_parts(&path, &parts, None).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"header");
        assert!(!write_parts(&path, &parts, None).unwrap(), "same bytes");
        assert!(!write_parts(&path, &[b"header"], Some(b"header")).unwrap());
        for (known, wrote) in [
            (&b"heade"[..], &b"header"[..]),
            (b"headerr", b"header"),
            (b"hexder", b"header"),
        ] {
            std::fs::write(&path, known).unwrap();
            assert!(
                write_parts(&path, &parts, Some(known)).unwrap(),
                "{known:?}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), wrote);
        }
    }
}
