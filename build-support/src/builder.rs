//! The one call a `build.rs` makes.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     shipwright_build::Builder::new().root("templates").build()?;
//!     Ok(())
//! }
//! ```
//!
//! `build()` scans the roots, writes `$OUT_DIR/shipwright/build-cache.json` and the template
//! registry `$OUT_DIR/shipwright/sources.bin` (each only when its bytes change), prints
//! `cargo:rustc-env=SHIPWRIGHT_BUILD_CACHE=…` so that the macros and the runtime find it,
//! `cargo:rerun-if-changed` for its two outputs (so that one damaged after the build is repaired
//! by the next) and the manifests it read its configuration from, and every problem as a
//! `cargo:warning` naming the file and line.
//!
//! # What reruns it
//!
//! In a release build, or a debug build without `shipwright-runtime`'s `dev` feature, every
//! template root is tracked (`cargo:rerun-if-changed` on the directory, so new files are seen
//! too): any template edit reruns the script and recompiles the crate, whose binary embeds the
//! templates.
//!
//! In a **dev build** (a debug build with the runtime's `dev` feature: see
//! [`shipwright_core::devbuild`]; nothing to write in `build.rs`, the runtime's own build script
//! tells this one through cargo's `links` metadata) no root is tracked, so that a template edit
//! leaves `cargo build` a no-op: the running app reads the files on disk and its dev watcher
//! judges each edit. Tracked instead: the rebuild stamp `$OUT_DIR/shipwright/rebuild-stamp`,
//! which the watcher writes when an edit needs `cargo build` and the derive writes when its check
//! fails, and the crate's `src/` directory, so that a `.rs` edit records the templates as they
//! are before the derive checks them. The script also sets `SHIPWRIGHT_DEV_BUILD=1` for the
//! crate's compilation, which tells the derive to make rustc read no template file.
//!
//! # The copy for tools
//!
//! `OUT_DIR` changes with every dependency change and profile, so a tool cannot find the
//! BuildCache there. Every build also keeps a copy at a stable place under cargo's target
//! directory: `target/shipwright/<package>/build-cache.json`
//! ([`shipwright_core::format::baseline_copy`]), written atomically like the BuildCache, where
//! `shipwright-templates plan --baseline target` finds it. The target directory is found from
//! `OUT_DIR`'s ancestors (`<target>[/<triple>]/<profile>/build/<package>-<hash>/out`, the one
//! holding cargo's `CACHEDIR.TAG`); where `OUT_DIR` has another shape, or no package name is
//! known, no copy is kept, quietly. The copy is the BuildCache of the package's latest build
//! script run in that target directory, whatever the profile: a `cargo check` run by an editor
//! in the same target directory replaces it (give the editor its own target directory, or pass
//! the binary's `OUT_DIR` to `--baseline`). A copy that another run replaced is written again
//! even when nothing changed for this one; while nobody touches it, a build with nothing
//! changed only stats it.
//!
//! # When the build fails
//!
//! Only where the BuildCache would otherwise be wrong: a root that does not exist (the cache
//! would silently hold no templates), `CARGO_MANIFEST_DIR` or `OUT_DIR` missing, or a file that
//! cannot be written. Everything else is a warning and is recorded in the cache, where the
//! `#[derive(Template)]` of an affected template turns it into a compile error pointing at the
//! struct: a template the lexer stops in (`errors`), a reference that resolves to nothing or
//! leaves the root (`missing`), a cycle (`cycles`). A file that is not UTF-8 or cannot be read is
//! left out with a warning; binding it is then an "unknown template" error.
//!
//! A second build with nothing changed stats the directories and the files, and reads none
//! ([`crate::scan::index`]); it also stats the BuildCache and the registry it wrote last time,
//! and writes them again if either was touched or replaced since. After an edit, only the files whose stat moved are read; the others'
//! records come from the records side file ([`crate::scan::records`]), which the index vouches
//! for, not from the BuildCache JSON; and while no directory's stat moved (no file added,
//! removed or renamed) the files are the ones the index lists: no directory is read.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::scan::index::{FileStat, Index};
use crate::scan::records;
use crate::scan::{
    Roots, ScanError, Scanned, dirs_unchanged, moved_files, scan_unwalked, scan_walked,
};
use crate::write::{atomic_write, write_parts};
use shipwright_core::format::{DEFAULT_EXTENSIONS, ENV_VAR, FILE_NAME, TemplateRecord, VERSION};
use shipwright_core::{devbuild, registry};

/// Configures and runs a scan from `build.rs`.
#[derive(Debug, Clone)]
pub struct Builder {
    roots: Vec<PathBuf>,
    extensions: Option<Vec<String>>,
    globals: Option<Vec<String>>,
    metadata: bool,
    max_file_size: u64,
    manifest_dir: Option<PathBuf>,
    out_dir: Option<PathBuf>,
    package: Option<String>,
    keep_copy: bool,
    cargo: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

/// What [`Builder::build`] did.
#[derive(Debug, Clone)]
pub struct Built {
    /// The BuildCache file.
    pub path: PathBuf,
    /// How many templates it holds.
    pub templates: usize,
    /// How many files were read and analysed (0 when the stat index showed no change).
    pub analysed: usize,
    /// Whether the file's bytes changed.
    pub changed: bool,
    /// The problems found, as `file:line: message`.
    pub warnings: Vec<String>,
}

/// Why [`Builder::build`] failed.
///
/// Its `Debug` is its message and causes, so that a `build.rs` whose `main` returns
/// `Result<(), Box<dyn Error>>` prints a sentence naming the file, what failed and why.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A variable cargo always sets is missing: not running under cargo?
    #[error(
        "{0} is not set: shipwright_build::Builder runs from a build script under cargo (or set \
         .manifest_dir() and .out_dir())"
    )]
    MissingEnv(&'static str),
    /// A root is missing.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// `[package.metadata.shipwright]` could not be read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The BuildCache or its index could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What `main` prints for an error: the sentence, not the structure.
        fmt::Display::fmt(self, f)
    }
}

impl Builder {
    /// A builder with no settings of its own: roots, extensions and globals come from
    /// `[package.metadata.shipwright]` / `[workspace.metadata.shipwright]` in `Cargo.toml` (see
    /// [`crate::config`]), else the defaults.
    pub fn new() -> Self {
        Builder {
            roots: Vec::new(),
            extensions: None,
            globals: None,
            metadata: true,
            max_file_size: shipwright_core::files::DEFAULT_MAX_SIZE,
            manifest_dir: None,
            out_dir: None,
            package: None,
            keep_copy: true,
            cargo: true,
        }
    }

    /// Adds a template root, relative to the crate's manifest directory. Roots are searched in
    /// the order they are added; roots added here replace those of `Cargo.toml`. Defaults to:
    /// `Cargo.toml`'s `roots`, else `templates`.
    pub fn root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.roots.push(dir.into());
        self
    }

    /// Replaces the template extensions (without the dot), compared without regard to ASCII
    /// case. They are recorded in the BuildCache (`extensions`), where the planner and the dev
    /// watcher take them from. Defaults to: `Cargo.toml`'s `extensions`, else html, htm, xml,
    /// txt, svg, j2, jinja, jinja2.
    pub fn extensions<I, S>(mut self, extensions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extensions = Some(extensions.into_iter().map(Into::into).collect());
        self
    }

    /// Declares names every template may read without a struct providing them (recorded in
    /// the BuildCache, for the derive's variable check and the planner). Defaults to:
    /// `Cargo.toml`'s `globals`, else none.
    pub fn globals<I, S>(mut self, globals: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.globals = Some(globals.into_iter().map(Into::into).collect());
        self
    }

    /// Whether to read `[package.metadata.shipwright]` from the crate's `Cargo.toml` (with
    /// `cargo metadata --no-deps --offline`, about 20 ms). Defaults to: true (skipped when the
    /// manifest directory has no `Cargo.toml`).
    pub fn read_cargo_metadata(mut self, on: bool) -> Self {
        self.metadata = on;
        self
    }

    /// The largest template file read, in bytes: a larger one is left out with a warning naming
    /// it. Defaults to: 16 MiB ([`DEFAULT_MAX_SIZE`](shipwright_core::files::DEFAULT_MAX_SIZE)).
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The directory roots are relative to. Defaults to: `$CARGO_MANIFEST_DIR`.
    pub fn manifest_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.manifest_dir = Some(dir.into());
        self
    }

    /// Where `shipwright/build-cache.json` is written. Defaults to: `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The package name the copy for tools is kept under (see the module docs). Defaults to:
    /// `$CARGO_PKG_NAME`.
    pub fn package(mut self, name: impl Into<String>) -> Self {
        self.package = Some(name.into());
        self
    }

    /// Whether to keep the copy of the BuildCache under the target directory (see the module
    /// docs). Defaults to: true.
    pub fn keep_copy(mut self, on: bool) -> Self {
        self.keep_copy = on;
        self
    }

    /// Whether to print `cargo:` directives. Defaults to: true.
    pub fn cargo_directives(mut self, on: bool) -> Self {
        self.cargo = on;
        self
    }

    /// Scans, writes the BuildCache and prints the cargo directives.
    pub fn build(self) -> Result<Built, Error> {
        let manifest_dir = match self.manifest_dir.clone() {
            Some(dir) => dir,
            None => env_path("CARGO_MANIFEST_DIR", self.cargo)?,
        };
        let out_dir = match self.out_dir.clone() {
            Some(dir) => dir,
            None => env_path("OUT_DIR", self.cargo)?,
        };
        let loaded = if self.metadata && manifest_dir.join("Cargo.toml").is_file() {
            Some(crate::config::load(&manifest_dir)?)
        } else {
            None
        };
        let (configured_roots, settings, manifests) = match loaded {
            Some(l) => (l.roots, l.settings, l.manifests),
            None => (None, Default::default(), Vec::new()),
        };
        let mut root_dirs = self.roots.clone();
        if root_dirs.is_empty() {
            root_dirs = configured_roots.unwrap_or_else(|| vec![PathBuf::from("templates")]);
        }
        let extensions = self
            .extensions
            .clone()
            .or(settings.extensions)
            .unwrap_or_else(|| DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect());
        let mut globals = self
            .globals
            .clone()
            .or(settings.globals)
            .unwrap_or_default();
        globals.sort();
        globals.dedup();
        let roots = Roots {
            dirs: root_dirs
                .iter()
                .map(|r| (manifest_dir.join(r), label(r)))
                .collect(),
            extensions,
            max_file_size: self.max_file_size,
        };
        let dev = self.cargo && dev_build();
        if self.cargo {
            if dev {
                // Not the roots: a template edit must leave cargo's fingerprint alone. The
                // stamp, which the dev watcher and the derive write when the build's record
                // is not good enough any more, and the crate's sources, so that rustc never
                // recompiles the crate against a record older than the templates.
                let stamp = out_dir.join(devbuild::STAMP_FILE);
                if !stamp.exists() {
                    atomic_write(&stamp, b"").map_err(write_error(&stamp))?;
                }
                println!("cargo:rerun-if-changed={}", stamp.display());
                let src = manifest_dir.join("src");
                if src.is_dir() {
                    println!("cargo:rerun-if-changed={}", src.display());
                }
            } else {
                for (dir, _) in &roots.dirs {
                    println!("cargo:rerun-if-changed={}", dir.display());
                }
            }
            println!("cargo:rustc-env={}={}", devbuild::ENV_VAR, u8::from(dev));
            for manifest in &manifests {
                println!("cargo:rerun-if-changed={}", manifest.display());
            }
        }
        let built = self.run(&roots, &globals, &out_dir)?;
        if self.keep_copy
            && let Some(package) = self
                .package
                .clone()
                .or_else(|| std::env::var("CARGO_PKG_NAME").ok())
            && let Some(target) = target_dir(&out_dir)
        {
            let copy = shipwright_core::format::baseline_copy(&target, &package);
            if let Err(source) =
                keep_copy(&built.path, built.changed, &copy, &out_dir.join(COPY_STAMP))
            {
                let error = Error::Write { path: copy, source };
                if self.cargo {
                    println!("cargo:warning=shipwright: {error}");
                }
            }
        }
        if self.cargo {
            // The outputs, so that one damaged or deleted after the build is written again by
            // the next one (they carry an mtime older than any run: see `write`).
            let registry = out_dir.join(registry::FILE_NAME);
            for output in [&built.path, &registry] {
                println!("cargo:rerun-if-changed={}", output.display());
            }
            println!("cargo:rustc-env={ENV_VAR}={}", built.path.display());
            for warning in &built.warnings {
                println!("cargo:warning={warning}");
            }
        }
        Ok(built)
    }

    fn run(&self, roots: &Roots, globals: &[String], out_dir: &Path) -> Result<Built, Error> {
        let path = out_dir.join(FILE_NAME);
        let registry_path = out_dir.join(registry::FILE_NAME);
        let index_path = out_dir.join(crate::scan::index::FILE_NAME);
        let records_path = out_dir.join(records::FILE_NAME);
        let key = format!(
            "{} {:?} {:?} {} {globals:?}",
            format_fingerprint(),
            roots.dirs.iter().map(|(_, l)| l).collect::<Vec<_>>(),
            roots.extensions,
            roots.max_file_size
        );
        let index = Index::load(&index_path).filter(|i| i.key == key);
        // After a scan that saw every file, while no directory moved (no file added, removed or
        // renamed): which of the files it listed moved. Each is stat-ed once, here.
        let moved = index
            .as_ref()
            .filter(|i| i.complete && dirs_unchanged(roots, i))
            .map(|i| moved_files(roots, i));
        // An output as this index saw it written: a replaced or touched one is written again.
        let intact = |path: &Path, stat: &FileStat, index: &Index| {
            FileStat::of(usize::MAX, "", path).is_ok_and(|now| stat.same_as(&now, index.written_ns))
        };
        if let (Some(index), Some(moved)) = (&index, &moved)
            && moved.is_empty()
            && intact(&path, &index.cache, index)
            && intact(&registry_path, &index.registry, index)
        {
            let warnings = index.warnings.clone();
            return Ok(Built {
                path,
                templates: index.files.len(),
                analysed: 0,
                changed: false,
                warnings,
            });
        }
        // The records of the last scan, from the side file the index vouches for, and the
        // sources of its templates, from the registry it vouches for (the files that are not
        // read again are not in memory); without both (first build, another configuration, a
        // damaged or replaced file) every file is read.
        let old_registry = index
            .as_ref()
            .filter(|i| intact(&registry_path, &i.registry, i))
            .and_then(|_| std::fs::read(&registry_path).ok());
        let previous = index.as_ref().and_then(|i| {
            let cache = records::load(&records_path, &i.records, i.written_ns)?;
            let sources = registry::split(&cache, old_registry.as_deref()?).ok()?;
            let kept: Vec<(String, &str)> = cache.templates.keys().cloned().zip(sources).collect();
            Some(((i, cache), kept))
        });
        let (previous, kept) = previous.unzip();
        let kept = kept.unwrap_or_default();
        // A walk that met nothing to report, and no directory moved since: the index's list is
        // the tree's, and only the files that moved are read.
        let scanned = match (previous, moved) {
            (Some((index, cache)), Some(moved)) if index.walk_clean => {
                scan_unwalked(roots, index, cache, &moved)
            }
            (previous, _) => scan_walked(roots, previous, true)?,
        };
        let Scanned {
            mut cache,
            warnings,
            stats,
            sources,
            dirs,
            analysed,
            complete,
            walk_clean,
        } = scanned;
        cache.globals = globals.to_vec();
        let templates = cache.templates.len();
        // Each file is written as soon as its bytes are ready, beside the rendering of the
        // others; the index, which vouches for all three, only after all three are in place.
        // `known`: the file's bytes as they were read in this build, when they were.
        let write = |path: &Path, parts: &[&[u8]], known: Option<&[u8]>| {
            let changed = write_parts(path, parts, known).map_err(write_error(path))?;
            Ok::<_, Error>((
                changed,
                FileStat::of(usize::MAX, "", path).map_err(write_error(path))?,
            ))
        };
        // A template this scan did not read kept its record, and its source, from the last one.
        let kept_source = |name: &str| {
            let at = kept
                .binary_search_by(|(kept, _)| kept.as_str().cmp(name))
                .expect("a template not read again was kept from the previous scan");
            kept[at].1.as_bytes()
        };
        let (cache_written, (registry_written, records_written)) = rayon::join(
            || write(&path, &[&cache.to_bytes()], None),
            || {
                rayon::join(
                    || {
                        // The sources as they lie in the scan's buffers and the last registry,
                        // written from there, not copied into one buffer first.
                        let sources = sources.joined(cache.templates.keys(), kept_source);
                        let parts: Vec<&[u8]> = registry::parts(sources).collect();
                        // The last registry, where it was read above: not read again to compare.
                        write(&registry_path, &parts, old_registry.as_deref())
                    },
                    || write(&records_path, &[&records::encode(&cache)], None),
                )
            },
        );
        let (changed, cache_stat) = cache_written?;
        let (_, registry) = registry_written?;
        let (_, records) = records_written?;
        let warnings: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let index = Index {
            key,
            cache: cache_stat,
            records,
            registry,
            warnings: warnings.clone(),
            written_ns: 0,
            files: stats,
            dirs,
            complete,
            walk_clean,
        };
        // The records and sources are freed while the index is written.
        let (saved, ()) = rayon::join(|| index.save(&index_path), || drop((cache, sources, kept)));
        saved.map_err(write_error(&index_path))?;
        Ok(Built {
            path,
            templates,
            analysed,
            changed,
            warnings,
        })
    }
}

/// Where the copy's stat is kept, under `OUT_DIR`, after this build wrote or checked it.
const COPY_STAMP: &str = "shipwright/baseline-copy-stat";

/// The target directory of a build script's `OUT_DIR`
/// (`<target>[/<triple>]/<profile>/build/<package>-<hash>/out`): the nearest of the two
/// candidates above `<profile>` that holds cargo's `CACHEDIR.TAG`, else the one right above
/// `<profile>`; `None` for another shape.
pub(crate) fn target_dir(out_dir: &Path) -> Option<PathBuf> {
    let build = out_dir.parent()?.parent()?;
    if out_dir.file_name()? != "out" || build.file_name()? != "build" {
        return None;
    }
    let above_profile = build.parent()?.parent()?;
    let candidates = [Some(above_profile), above_profile.parent()];
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .or(Some(above_profile))
        .map(Path::to_path_buf)
}

/// Makes `copy` hold the bytes of `cache`. The copy's stat after this build wrote or checked it
/// is kept in `stamp`: while the BuildCache did not change (`changed`) and the copy still has
/// that stat, nobody replaced it, and neither file is read.
fn keep_copy(cache: &Path, changed: bool, copy: &Path, stamp: &Path) -> std::io::Result<()> {
    let stat_of = |path: &Path| {
        FileStat::of(usize::MAX, "", path)
            .ok()
            .map(|s| format!("{s:?}"))
    };
    let now = stat_of(copy);
    if !changed && now.is_some() && now == std::fs::read_to_string(stamp).ok() {
        return Ok(());
    }
    let bytes = std::fs::read(cache)?;
    atomic_write(copy, &bytes)?;
    if let Some(stat) = stat_of(copy) {
        atomic_write(stamp, stat.as_bytes())?;
    }
    Ok(())
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The label of a root in the BuildCache: the path as given, `/`-separated.
/// What the outputs' shape depends on: the BuildCache version and the serde form of a record (its
/// field names and order), so that a shipwright-build whose record differs never takes the
/// outputs of another for current (the fast path would otherwise keep them: no template moved).
fn format_fingerprint() -> String {
    let sample = TemplateRecord::including("a.html", &["b.html"]);
    let shape = serde_json::to_string(&sample).expect("a record always serializes");
    format!(
        "v{VERSION}-{}",
        &blake3::hash(shape.as_bytes()).to_hex()[..16]
    )
}

fn label(root: &Path) -> String {
    root.to_string_lossy()
        .replace('\\', "/")
        .trim_end_matches('/')
        .to_string()
}

/// Whether this build script runs for a dev build (see [`shipwright_core::devbuild`]): a debug
/// build (`debug_assertions`) of a crate whose `shipwright-runtime` has its `dev` feature on.
/// The runtime's own build script says so (`cargo:dev=1`, under its `links` key), which cargo
/// hands to the build scripts of the crates that depend on it as `DEP_SHIPWRIGHT_RUNTIME_DEV`.
/// Both change only with the features or the profile, which rerun this script anyway.
fn dev_build() -> bool {
    std::env::var_os("DEP_SHIPWRIGHT_RUNTIME_DEV").is_some_and(|v| v == "1")
        && std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some()
}

/// Reads a variable cargo sets, and says so to cargo (BLAKE3's build.rs habit).
fn env_path(var: &'static str, cargo: bool) -> Result<PathBuf, Error> {
    if cargo {
        println!("cargo:rerun-if-env-changed={var}");
    }
    std::env::var_os(var)
        .map(PathBuf::from)
        .ok_or(Error::MissingEnv(var))
}
