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
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
