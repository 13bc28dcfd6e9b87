//! Replacing a file so that a reader sees the old bytes or the new bytes, never a mix: the
//! bytes go to a temporary file in the same directory, which is then renamed over the target.
//! No fsync: after a power loss the file may be empty or cut short, which every reader of ours
//! rejects as malformed. Shared by the build script's outputs and the rebuild stamp.

use std::io::Write as _;
use std::path::Path;
use std::time::SystemTime;

/// Writes the bytes `parts` lay end to end to `path` through a temporary file renamed over it,
/// creating the parent directory; with `modified`, the file gets that modification time.
pub fn replace(path: &Path, parts: &[&[u8]], modified: Option<SystemTime>) -> std::io::Result<()> {
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
        if let Some(time) = modified {
            file.set_modified(time)?;
        }
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
