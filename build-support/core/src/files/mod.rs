//! What a template file under a root is: the one rule that the build's scan, the planner, the
//! dev watcher and every loader follow, so that all of them count the same files under the same
//! names, and none of them can be made to loop, block or read outside its roots.
//!
//! ```
//! use shipwright_core::files::TemplateFiles;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir_all(dir.path().join("pages"))?;
//! std::fs::write(dir.path().join("pages/home.TERA"), "{{ title }}")?;
//! std::fs::write(dir.path().join("notes.md"), "not a template")?;
//! # #[cfg(unix)]
//! std::os::unix::fs::symlink(".", dir.path().join("pages/again"))?;
//!
//! // In a reader, `TemplateFiles::of_build(&build_cache, dirs)`: the build's extensions.
//! let files = TemplateFiles::new(vec![dir.path().to_path_buf()], ["tera"]);
//! let listing = files.walk();
//! let names: Vec<&str> = listing.files().iter().map(|f| f.name.as_str()).collect();
//! assert_eq!(names, ["pages/home.TERA"]);
//! # #[cfg(unix)]
//! assert_eq!(listing.skipped()[0].to_string(), "pages/again: symbolic link loop; not followed");
//!
//! // A loader: a name resolves under the roots, in order, and stays inside them.
//! assert_eq!(files.read("pages/./home.TERA")?, b"{{ title }}");
//! assert!(files.read("../outside.tera").is_err());
//! assert!(files.read("pages/missing.tera").unwrap_err().is_not_found());
//!
//! // A file event's path, back to its template.
//! let path = dir.path().join("pages/home.TERA");
//! assert_eq!(listing.locate(&path), Some((0, "pages/home.TERA")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The rule
//!
//! - **Extensions.** A template is a regular file whose name ends in one of the configured
//!   extensions, compared without regard to ASCII case. A build records its extensions in
//!   [`BuildCache::extensions`]; readers take them from there ([`TemplateFiles::of_build`]).
//! - **Names.** A template's name is its path relative to its root, `/`-separated. Roots are
//!   searched in order, and the first root that holds a name wins.
//! - **One walk.** [`TemplateFiles::walk`] reads each directory once, identified by its device
//!   and inode (a path elsewhere), breadth-first: every entry at depth *d* before any at depth
//!   *d + 1*, and within a depth in order of the parent's place, then by file name (bytes). The
//!   first path that reaches a directory names it: its files are listed under that name only,
//!   so a directory reached by several paths (symbolic links to it, a link loop) is listed once,
//!   under its shortest path (fewest components; on a tie, the smallest in that order). A link
//!   to a directory already listed is reported ([`Problem::LinkLoop`] when the directory
//!   contains the link, [`Problem::AlreadyListed`] otherwise) and not followed. Files are not
//!   merged: a symbolic link to a file (or a hard link) is a template of its own name, so each
//!   real file appears once per distinct directory path that the walk lists.
//! - **Links stay inside.** A symbolic link is followed only when its target, fully resolved,
//!   is inside the root's real path; otherwise it is reported and never read.
//! - **Regular files only.** A FIFO, socket or device named like a template is reported and
//!   never opened: the walk knows it by the directory entry's type. Every read opens with
//!   `O_NONBLOCK` and checks the opened handle's own metadata, so a file swapped for a FIFO
//!   between the walk and the read cannot block either.
//! - **Size.** Reads stop at a limit ([`DEFAULT_MAX_SIZE`] unless configured); a larger file is
//!   an error that names it.
//! - **Loaders** ([`TemplateFiles::resolve`], [`TemplateFiles::read`]) take a name as written:
//!   it must normalise inside the root ([`graph::resolve_name`](crate::graph::resolve_name)),
//!   carry a template extension, and its file, every link resolved, must be a regular file inside
//!   the root's real path.
//! - **File events** map back to a template by [`Listing::locate`]: by the identity of the
//!   event's directory, so that a path through any link names the template the walk listed.

mod read;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::format::BuildCache;
use crate::graph::resolve_name;

pub use read::{OpenDir, read_file, read_file_into};
use walk::Id;

/// The default limit of a template file's size: 16 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 16 << 20;

/// The rule applied to some roots: which files under them are templates, and how they are read.
#[derive(Debug, Clone)]
pub struct TemplateFiles {
    roots: Vec<PathBuf>,
    extensions: Vec<String>,
    max_size: u64,
}

impl TemplateFiles {
    /// The rule over `roots` (in search order) with these extensions (without the dot).
    pub fn new<I, S>(roots: Vec<PathBuf>, extensions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        TemplateFiles {
            roots,
            extensions: extensions
                .into_iter()
                .map(|e| e.as_ref().to_string())
                .collect(),
            max_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The rule a build applied, for a reader: the extensions recorded in `cache`, over `roots`,
    /// the directories of `cache.roots` on disk, in the same order.
    pub fn of_build(cache: &BuildCache, roots: Vec<PathBuf>) -> Self {
        TemplateFiles::new(roots, &cache.extensions)
    }

    /// The largest file read, in bytes. Defaults to: [`DEFAULT_MAX_SIZE`] (16 MiB).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = bytes;
        self
    }

    /// Every root is a directory: else the first that is not, as [`Problem::MissingRoot`] (a
    /// reader over a mistyped root would find no template at all, and say so only when one is
    /// asked for).
    pub fn check_roots(&self) -> Result<(), FileError> {
        match self.roots.iter().find(|root| !root.is_dir()) {
            Some(root) => Err(FileError::new(root, Problem::MissingRoot)),
            None => Ok(()),
        }
    }

    /// The roots, in search order.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The extensions, as configured.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// The size limit of a read.
    pub fn size_limit(&self) -> u64 {
        self.max_size
    }

    /// Does `name` (a file name or a path) end in a template extension?
    pub fn has_template_extension(&self, name: &str) -> bool {
        // A plain file name (what the walk asks about, once per entry) is looked at as it is;
        // only a path is split into components. `Path::extension`'s rule either way: the text
        // after the last dot, when something comes before that dot.
        let file = if name.bytes().any(|b| std::path::is_separator(char::from(b))) {
            Path::new(name).file_name().and_then(|f| f.to_str())
        } else {
            (name != "..").then_some(name)
        };
        file.and_then(|f| f.rsplit_once('.'))
            .filter(|(stem, _)| !stem.is_empty())
            .is_some_and(|(_, e)| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
    }

    /// Every template under the roots (see [the rule](self#the-rule)). Never fails: a root that
    /// is missing, a directory that cannot be read, a link not followed, a special file are in
    /// [`Listing::skipped`].
    pub fn walk(&self) -> Listing {
        walk::walk(self, false)
    }

    /// [`walk`](Self::walk), with the [`Stat`] of every template file, taken relative to its
    /// directory's handle (no path lookup), and no other cost.
    pub fn walk_with_stats(&self) -> Listing {
        walk::walk(self, true)
    }

    /// The file a loader reads for `name` (as written in a template or asked for by the app):
    /// the first root whose `name`, normalised, is a template file of that root, every link
    /// resolved inside the root's real path. Fails with [`Problem::NotFound`] when no root holds
    /// it, or with what refused it in the first root that held something of that name (a link
    /// out of the root, a FIFO).
    pub fn resolve(&self, name: &str) -> Result<Resolved, FileError> {
        let normal = resolve_name(name).map_err(|why| FileError::new(name, Problem::Name(why)))?;
        if !self.has_template_extension(&normal) {
            return Err(FileError::new(
                name,
                Problem::NotATemplate(self.extensions.join(", ")),
            ));
        }
        let mut refused = None;
        for (root, dir) in self.roots.iter().enumerate() {
            let path = dir.join(&normal);
            match path.symlink_metadata() {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    refused.get_or_insert(FileError::io(&path, e));
                    continue;
                }
            }
            let Ok(real_root) = dir.canonicalize() else {
                continue;
            };
            let file = match path.canonicalize() {
                Ok(file) => file,
                Err(e) => {
                    refused.get_or_insert(FileError::new(&path, walk::link_problem(e)));
                    continue;
                }
            };
            if !file.starts_with(&real_root) {
                refused.get_or_insert(FileError::new(&path, Problem::OutsideRoot));
                continue;
            }
            match std::fs::metadata(&file) {
                Ok(meta) if meta.is_file() => {
                    return Ok(Resolved {
                        root,
                        name: normal,
                        path: file,
                    });
                }
                Ok(meta) => {
                    refused.get_or_insert(FileError::new(
                        &path,
                        Problem::Special(read::kind_of(&meta.file_type())),
                    ));
                }
                Err(e) => {
                    refused.get_or_insert(FileError::io(&path, e));
                }
            }
        }
        Err(refused.unwrap_or_else(|| FileError::new(name, Problem::NotFound)))
    }

    /// The bytes of the template `name` resolves to ([`resolve`](Self::resolve)), read by the
    /// rule: the resolved file is opened without following a link in its last component, with
    /// `O_NONBLOCK`, checked to be a regular file through the handle, and read up to the size
    /// limit.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, FileError> {
        let resolved = self.resolve(name)?;
        let mut bytes = Vec::new();
        read::read_path(&resolved.path, self.max_size, true, &mut bytes)?;
        Ok(bytes)
    }

    /// The bytes of a file the walk listed.
    pub fn read_found(&self, found: &Found) -> Result<Vec<u8>, FileError> {
        read_file(found.file(), self.max_size)
    }
}

/// Where a template name resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The index of the root that holds it.
    pub root: usize,
    /// The name, normalised.
    pub name: String,
    /// The file, every link resolved.
    pub path: PathBuf,
}

/// A file's stat: what tells whether it changed, and who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch (0 before it).
    pub mtime_ns: i128,
    /// Status-change time, ns since the epoch (0 where the platform has none).
    pub ctime_ns: i128,
    /// Device (0 where the platform has none).
    pub dev: u64,
    /// Inode number (0 where the platform has none).
    pub ino: u64,
}

impl Stat {
    /// The stat `meta` holds.
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let (ctime_ns, dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (
                i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
                meta.dev(),
                meta.ino(),
            )
        };
        #[cfg(not(unix))]
        let (ctime_ns, dev, ino) = (0, 0, 0);
        Stat {
            size: meta.len(),
            mtime_ns,
            ctime_ns,
            dev,
            ino,
        }
    }
}

/// A template file the walk listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The index of its root.
    pub root: usize,
    /// Its name: the path relative to the root, `/`-separated.
    pub name: String,
    /// Its path: the root as given, then the directories as walked (a directory reached through
    /// a link: that link's resolved target).
    pub path: PathBuf,
    /// For a symbolic link to a file: its target, fully resolved (inside the root).
    pub target: Option<PathBuf>,
    /// Its stat, from [`TemplateFiles::walk_with_stats`].
    pub stat: Option<Stat>,
}

impl Found {
    /// The file to read: the link's target, or the path.
    pub fn file(&self) -> &Path {
        self.target.as_deref().unwrap_or(&self.path)
    }
}

/// A directory the walk read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedDir {
    /// The index of its root.
    pub root: usize,
    /// Its name relative to the root (`""` for the root itself).
    pub name: String,
    /// Where it was opened.
    pub path: PathBuf,
    /// Its stat, taken through the handle it was read with.
    pub stat: Stat,
    /// The directory it was found in (an index into [`Listing::dirs`]).
    pub parent: Option<usize>,
}

/// Something the walk passed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The index of its root.
    pub root: usize,
    /// Its name relative to the root (`""` for the root itself).
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// Why.
    pub problem: Problem,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.problem)
    }
}

/// Why a file is not a template, or not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Reading failed (the message of the I/O error).
    #[error("cannot read: {0}")]
    Io(String),
    /// The file is gone (it vanished since the walk, or never was).
    #[error("cannot read: no such file or directory")]
    Gone,
    /// A FIFO, socket, device or directory where a template file was expected.
    #[error("not a regular file ({0}); skipped")]
    Special(&'static str),
    /// Larger than the size limit.
    #[error("{size} bytes, over the limit of {limit} bytes; skipped")]
    TooLarge {
        /// The size found (at least).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A symbolic link whose target is not inside the root's real path.
    #[error("symbolic link leads out of the template root; not read")]
    OutsideRoot,
    /// A symbolic link to a directory that contains it, or a chain of links that never ends.
    #[error("symbolic link loop; not followed")]
    LinkLoop,
    /// A symbolic link to a directory the walk lists under another name.
    #[error("symbolic link to a directory already listed as `{0}`; not followed")]
    AlreadyListed(String),
    /// A directory reached a second time without a link (a bind mount).
    #[error("the same directory as `{0}`; not walked again")]
    SameDirectory(String),
    /// A symbolic link whose target does not exist.
    #[error("broken symbolic link: {0}")]
    BrokenLink(String),
    /// A file name that is not UTF-8 (template names are).
    #[error("file name is not UTF-8; skipped")]
    NameNotUtf8,
    /// A root that does not exist or is not a directory.
    #[error("template root does not exist or is not a directory")]
    MissingRoot,
    /// A name that does not normalise inside the root.
    #[error("not a template name: {0}")]
    Name(&'static str),
    /// A name without a template extension.
    #[error("not a template: its extension is not one of {0}")]
    NotATemplate(String),
    /// No root holds a template of this name.
    #[error("no template of this name in the roots")]
    NotFound,
}

/// A file (or a template name) and what went wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct FileError {
    /// The file, or the name as written when no file was found.
    pub path: PathBuf,
    /// What went wrong.
    pub problem: Problem,
}

impl FileError {
    /// `problem` with `path`.
    pub fn new(path: impl AsRef<Path>, problem: Problem) -> Self {
        FileError {
            path: path.as_ref().to_path_buf(),
            problem,
        }
    }

    fn io(path: &Path, e: std::io::Error) -> Self {
        let problem = if e.kind() == std::io::ErrorKind::NotFound {
            Problem::Gone
        } else {
            Problem::Io(lowercase(&e.to_string()))
        };
        FileError::new(path, problem)
    }

    /// No root holds the name ([`Problem::NotFound`]), or the file vanished before it was read.
    pub fn is_not_found(&self) -> bool {
        matches!(self.problem, Problem::NotFound | Problem::Gone)
    }
}

/// A message's first letter lowercase, as the workspace writes them.
fn lowercase(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What [`TemplateFiles::walk`] found.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    files: Vec<Found>,
    dirs: Vec<WalkedDir>,
    skipped: Vec<Skipped>,
    /// Per root: the directory as given and its real path (`None`: missing).
    roots: Vec<(PathBuf, Option<PathBuf>)>,
    /// `(root, identity)` of every directory listed, to its index in `dirs`.
    by_id: HashMap<(usize, Id), usize>,
}

impl Listing {
    /// Every template file, sorted by name, each name once (from the first root holding it).
    pub fn files(&self) -> &[Found] {
        &self.files
    }

    /// Every directory read, root by root, in walk order.
    pub fn dirs(&self) -> &[WalkedDir] {
        &self.dirs
    }

    /// What the walk passed over, sorted by root and name.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The template of this name.
    pub fn get(&self, name: &str) -> Option<&Found> {
        self.files
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|at| &self.files[at])
    }

    /// The files, directories and reports, to keep without copies.
    pub fn into_parts(self) -> (Vec<Found>, Vec<WalkedDir>, Vec<Skipped>) {
        (self.files, self.dirs, self.skipped)
    }

    /// The template a file event's `path` names: `(root, name)` if and only if `path` is under a
    /// root and is a template file this walk listed, by any path to it (its directory is looked
    /// up by identity: one `stat`). A path that is no template under the rule (another
    /// extension, a file of a later root that an earlier root's file of the same name hides, an
    /// alias through a directory the walk lists under another name, something outside the roots)
    /// is `None`.
    pub fn locate(&self, path: &Path) -> Option<(usize, &str)> {
        let file_name = path.file_name()?.to_str()?;
        let parent = path.parent()?;
        let id = walk::id_of(parent)?;
        (0..self.roots.len())
            .filter(|&root| self.is_under(root, path))
            .find_map(|root| {
                let dir = &self.dirs[*self.by_id.get(&(root, id.clone()))?];
                let found = self.get(&join(&dir.name, file_name))?;
                (found.root == root).then_some((root, found.name.as_str()))
            })
    }

    /// The directory `path` is, as the walk listed it: `(root, name)`, `name` `""` for a root.
    pub fn locate_dir(&self, path: &Path) -> Option<(usize, &str)> {
        let id = walk::id_of(path)?;
        (0..self.roots.len())
            .filter(|&root| self.is_under(root, path))
            .find_map(|root| {
                let dir = &self.dirs[*self.by_id.get(&(root, id.clone()))?];
                Some((root, dir.name.as_str()))
            })
    }

    /// The templates of `root` in the directory `dir` (`""`: the whole root) and below.
    pub fn under<'a>(&'a self, root: usize, dir: &'a str) -> impl Iterator<Item = &'a Found> {
        self.files.iter().filter(move |f| {
            f.root == root
                && (dir.is_empty()
                    || f.name
                        .strip_prefix(dir)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
    }

    /// Was a directory read at `path` (as opened), or listed under the name `path` has in a
    /// root? For a path that is gone: did it hold templates?
    pub fn had_dir(&self, path: &Path) -> bool {
        self.dirs.iter().any(|d| {
            d.path == path
                || self.roots[d.root].0.join(&d.name) == path
                || self.roots[d.root]
                    .1
                    .as_ref()
                    .is_some_and(|real| real.join(&d.name) == path)
        })
    }

    /// Is `path` lexically under the root (as given, or its real path)?
    fn is_under(&self, root: usize, path: &Path) -> bool {
        let (given, real) = &self.roots[root];
        path.starts_with(given) || real.as_ref().is_some_and(|r| path.starts_with(r))
    }
}

/// `dir/file`, or `file` at the root.
fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        let mut name = String::with_capacity(dir.len() + 1 + file.len());
        name.push_str(dir);
        name.push('/');
        name.push_str(file);
        name
    }
}

/// The path of `file` in `dir`, in one allocation (`Path::join` copies `dir` and then grows it).
fn child(dir: &Path, file: &str) -> PathBuf {
    let mut path = PathBuf::with_capacity(dir.as_os_str().len() + 1 + file.len());
    path.push(dir);
    path.push(file);
    path
}
