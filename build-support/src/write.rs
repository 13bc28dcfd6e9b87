//! Writing a file so that a reader sees the old bytes or the new bytes, never a mix.
//!
//! The bytes go to a temporary file in the same directory, which is then renamed over the
//! target: a concurrent reader never sees a half-written file. There is no fsync: after a power
//! loss the file may be empty or cut short, which every reader rejects as malformed (see
//! [`shipwright_core::format::BuildCache::parse`]) instead of taking it as good; the next build writes it
//! again. When the target
//! already holds the same bytes it is not touched.
//!
//! Every file written gets the same fixed modification time, [`written`], long before any
//! build, so that the build script can ask cargo to rerun it when one of its outputs changes
//! (`cargo:rerun-if-changed` on the BuildCache and the registry): cargo reruns a build script
//! when a listed file is newer than its last run, which a file the script wrote itself would
//! otherwise always be. A BuildCache damaged or deleted after the build is newer (or gone), so
//! the next `cargo build` runs the script, which writes it again.

use std::io::Write as _;
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
    replace(path, parts).map(|()| true)
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

/// Writes `parts` to a temporary file beside `path` and renames it over `path`.
fn replace(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.set_modified(written())?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
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
