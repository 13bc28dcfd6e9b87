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
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    atomic_replace(path, bytes).map(|()| true)
}

/// [`atomic_write`] for a caller that already knows the file's bytes differ (it read them).
pub(crate) fn atomic_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    shipwright_core::write::replace(path, bytes, Some(written()))
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
}
