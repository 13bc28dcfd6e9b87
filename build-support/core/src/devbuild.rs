//! A dev build: what the build script, the derive and the runtime agree on so that a template
//! edit leaves `cargo build` a no-op, while an edit that needs a rebuild really gets one.
//!
//! A dev build is a debug build (`debug_assertions`) with `shipwright-runtime`'s `dev` feature
//! on: the app renders the template files on disk and the dev watcher judges each edit. There,
//! neither cargo nor rustc knows the templates' contents:
//!
//! - the build script asks cargo to rerun it when the **rebuild stamp** changes, not when a
//!   template root does (`shipwright_build::Builder` decides, and tells the derive through
//!   [`ENV_VAR`]);
//! - the derive makes rustc read no template file;
//! - whoever finds that the build's record is not good enough any more writes the stamp
//!   ([`request_rebuild`]): the dev watcher when its plan says `Rebuild`, the derive when its
//!   check fails. The next `cargo build` then reruns the build script, which records the
//!   templates as they are, and recompiles the crate, where the derive checks them again.
//!
//! ```
//! use std::path::Path;
//! use shipwright_core::devbuild;
//!
//! let cache = Path::new("/t/debug/build/app-1/out/shipwright/build-cache.json");
//! let stamp = devbuild::stamp_beside(cache);
//! assert_eq!(stamp, Path::new("/t/debug/build/app-1/out/shipwright/rebuild-stamp"));
//! # let dir = tempfile::tempdir().unwrap();
//! # let stamp = dir.path().join("shipwright/rebuild-stamp");
//! devbuild::request_rebuild(&stamp, "pages/home.html: reads `user`, which Home lacks\n")?;
//! assert!(std::fs::read_to_string(&stamp)?.starts_with("cargo build needed"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::path::{Path, PathBuf};

/// Set by the build script for the crate's compilation (`cargo:rustc-env`): `1` in a dev
/// build, `0` otherwise.
pub const ENV_VAR: &str = "SHIPWRIGHT_DEV_BUILD";

/// Where the stamp sits under `OUT_DIR`, beside the BuildCache ([`crate::format::FILE_NAME`]).
pub const STAMP_FILE: &str = "shipwright/rebuild-stamp";

/// The rebuild stamp of the BuildCache file `build_cache` (they share a directory).
pub fn stamp_beside(build_cache: &Path) -> PathBuf {
    let name = Path::new(STAMP_FILE)
        .file_name()
        .expect("the stamp has a file name");
    build_cache.with_file_name(name)
}

/// Whether the crate being compiled is a dev build, as its build script said through
/// [`ENV_VAR`].
pub fn from_env() -> bool {
    std::env::var_os(ENV_VAR).is_some_and(|v| v == "1")
}

/// Writes the stamp `path` (atomically: a temporary file renamed over it) with `why` under a
/// first line saying what it is for. It is written even when it holds these bytes already: its
/// new modification time is what makes cargo rerun the build script.
pub fn request_rebuild(path: &Path, why: &str) -> std::io::Result<()> {
    let text = format!("cargo build needed: the next build reruns the build script\n{why}");
    crate::write::replace(path, &[text.as_bytes()], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_always_moves_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let stamp = dir.path().join("shipwright/rebuild-stamp");
        request_rebuild(&stamp, "a.html: why\n").unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1);
        std::fs::File::options()
            .write(true)
            .open(&stamp)
            .unwrap()
            .set_modified(old)
            .unwrap();
        request_rebuild(&stamp, "a.html: why\n").unwrap();
        let modified = std::fs::metadata(&stamp).unwrap().modified().unwrap();
        assert!(modified > old, "the same text was not written again");
        let text = std::fs::read_to_string(&stamp).unwrap();
        assert!(text.ends_with("\na.html: why\n"), "{text}");
        assert_eq!(
            std::fs::read_dir(stamp.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
