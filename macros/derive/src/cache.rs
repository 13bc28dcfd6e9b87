//! Where the BuildCache comes from: the compiling crate's environment, and a per-process memo so
//! that a crate with a thousand derives parses its BuildCache once.
//!
//! The memo is keyed by the file's path and checked against the file's length, modification
//! time and inode on every use (one `stat`): rustc loads a proc-macro once per compilation, but
//! rust-analyzer's proc-macro server keeps it loaded while the build script rewrites the file.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use shipwright_core::devbuild;
use shipwright_core::format::{BuildCache, ENV_VAR, FormatError};

/// What expansion reads from the compiling crate's environment.
///
/// ```
/// use shipwright_derive::Env;
///
/// let env = Env::new("/app", Some("/app/target/debug/build/app-1/out/shipwright/build-cache.json"));
/// assert_eq!(env.manifest_dir(), Some(std::path::Path::new("/app")));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Env {
    manifest_dir: Option<PathBuf>,
    cache_file: Option<PathBuf>,
    dev_build: bool,
}

impl Env {
    /// `CARGO_MANIFEST_DIR` and `SHIPWRIGHT_BUILD_CACHE` of this process, which cargo sets for
    /// the crate rustc is compiling (the latter through the build script's `cargo:rustc-env`).
    pub fn from_process() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Env {
            manifest_dir: var("CARGO_MANIFEST_DIR"),
            cache_file: var(ENV_VAR),
            dev_build: devbuild::from_env(),
        }
    }

    /// A given environment: the crate's manifest directory and its BuildCache file, if any.
    pub fn new(manifest_dir: impl Into<PathBuf>, cache_file: Option<impl Into<OsString>>) -> Self {
        Env {
            manifest_dir: Some(manifest_dir.into()),
            cache_file: cache_file.map(|file| PathBuf::from(file.into())),
            dev_build: false,
        }
    }

    /// Whether the crate is a dev build, as its build script said (`SHIPWRIGHT_DEV_BUILD`, see
    /// [`shipwright_core::devbuild`]): then rustc is made to read no template file, and an
    /// expansion that fails writes the rebuild stamp, so that the next `cargo build` records
    /// the templates again before it checks them. Defaults to: false for [`Env::new`].
    pub fn dev_build(mut self, on: bool) -> Self {
        self.dev_build = on;
        self
    }

    /// See [`Env::dev_build`].
    pub fn is_dev_build(&self) -> bool {
        self.dev_build
    }

    /// The directory template roots are relative to.
    pub fn manifest_dir(&self) -> Option<&Path> {
        self.manifest_dir.as_deref()
    }

    /// The BuildCache file, when the build script exported one.
    pub fn cache_file(&self) -> Option<&Path> {
        self.cache_file.as_deref()
    }
}

/// Why no BuildCache could be had.
#[derive(Debug, Clone)]
pub(crate) enum CacheError {
    /// `SHIPWRIGHT_BUILD_CACHE` is not set: no build script, or one that does not run
    /// shipwright-build.
    NotExported,
    /// `CARGO_MANIFEST_DIR` is not set: not compiled by cargo.
    NoManifestDir,
    /// The file is there (or should be) but is not a BuildCache this crate reads.
    Format(Arc<FormatError>),
}

/// The file's identity as of its last parse: when it changes, the file is parsed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        })
    }
}

type Loaded = Result<Arc<BuildCache>, Arc<FormatError>>;

fn memo() -> &'static Mutex<HashMap<PathBuf, (Stamp, Loaded)>> {
    static MEMO: OnceLock<Mutex<HashMap<PathBuf, (Stamp, Loaded)>>> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// The crate's BuildCache and its manifest directory, parsed at most once per file version.
pub(crate) fn load(env: &Env) -> Result<(Arc<BuildCache>, &Path), CacheError> {
    let file = env.cache_file().ok_or(CacheError::NotExported)?;
    let manifest_dir = env.manifest_dir().ok_or(CacheError::NoManifestDir)?;
    let cache = load_file(file).map_err(CacheError::Format)?;
    Ok((cache, manifest_dir))
}

fn load_file(file: &Path) -> Loaded {
    let Some(stamp) = Stamp::of(file) else {
        // Not there (yet): report it without remembering, the build script may still write it.
        return parse(file);
    };
    let mut memo = memo()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((seen, loaded)) = memo.get(file)
        && *seen == stamp
    {
        return loaded.clone();
    }
    let loaded = parse(file);
    memo.insert(file.to_path_buf(), (stamp, loaded.clone()));
    loaded
}

/// Whether no earlier expansion in this process made rustc track `file` (relative to the
/// manifest directory) for the crate of `env`; records that this one does.
///
/// rustc lists a file in the crate's dep-info once however often it is included, and every
/// expansion of a compilation runs in the same process: a layout that a thousand templates
/// extend needs one `include_bytes!`, not a thousand. Keyed by the BuildCache file, which is
/// the crate's (its `OUT_DIR`).
pub(crate) fn first_tracking(env: &Env, file: &str) -> bool {
    static TRACKED: OnceLock<Mutex<HashMap<PathBuf, HashSet<String>>>> = OnceLock::new();
    let Some(cache_file) = env.cache_file() else {
        return true;
    };
    let mut tracked = TRACKED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match tracked.get_mut(cache_file) {
        Some(files) => files.insert(file.to_string()),
        None => {
            tracked.insert(cache_file.to_path_buf(), HashSet::from([file.to_string()]));
            true
        }
    }
}

/// In a dev build, an expansion that failed writes the rebuild stamp beside the BuildCache: the
/// build script, which does not watch the templates there, records them again on the next
/// `cargo build` (whatever fixes the error: the struct, or the template), and the crate is
/// compiled again, failed as it is. Returns the error, with a note if the stamp could not be
/// written.
#[cold]
pub(crate) fn failed(env: &Env, error: syn::Error) -> syn::Error {
    let Some(cache_file) = env.cache_file().filter(|_| env.dev_build) else {
        return error;
    };
    let stamp = devbuild::stamp_beside(cache_file);
    let why: String = error
        .clone()
        .into_iter()
        .map(|e| format!("{e}\n"))
        .collect();
    if let Err(io) = devbuild::request_rebuild(&stamp, &why) {
        let mut error = error;
        let note = format!("cannot write the rebuild stamp {}: {io}", stamp.display());
        error.combine(syn::Error::new(error.span(), note));
        return error;
    }
    error
}

#[cold]
fn parse(file: &Path) -> Loaded {
    BuildCache::load(file).map(Arc::new).map_err(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_per_file_version() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("build-cache.json");
        std::fs::write(&file, BuildCache::new(vec!["templates".into()]).to_bytes()).unwrap();
        let env = Env::new(dir.path(), Some(&file));

        let (first, _) = load(&env).unwrap();
        let (second, _) = load(&env).unwrap();
        assert!(Arc::ptr_eq(&first, &second), "parsed twice");

        // A rewrite (new inode through rename, as the build script does) is seen.
        let next = dir.path().join("next.json");
        std::fs::write(&next, BuildCache::new(vec!["other".into()]).to_bytes()).unwrap();
        std::fs::rename(&next, &file).unwrap();
        let (third, _) = load(&env).unwrap();
        assert_eq!(third.roots, ["other"]);
    }

    #[test]
    fn tracks_each_file_once_per_crate() {
        let a = Env::new("/app", Some("/out/a/build-cache.json"));
        let b = Env::new("/app", Some("/out/b/build-cache.json"));
        assert!(first_tracking(&a, "templates/layout.html"));
        assert!(!first_tracking(&a, "templates/layout.html"));
        assert!(first_tracking(&a, "templates/nav.html"));
        assert!(first_tracking(&b, "templates/layout.html"));
    }

    #[test]
    fn reports_what_is_missing() {
        assert!(matches!(
            load(&Env::default()),
            Err(CacheError::NotExported)
        ));
        let env = Env {
            manifest_dir: None,
            cache_file: Some("x.json".into()),
            dev_build: false,
        };
        assert!(matches!(load(&env), Err(CacheError::NoManifestDir)));
        let dir = tempfile::tempdir().unwrap();
        let env = Env::new(dir.path(), Some(dir.path().join("absent.json")));
        let Err(CacheError::Format(err)) = load(&env) else {
            panic!("absent file loaded")
        };
        assert!(matches!(*err, FormatError::Io { .. }));
    }
}
