//! Finding the templates under the roots, reading and hashing each once, analysing them.
//!
//! ```
//! use shipwright_build::scan::{Roots, scan};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir(dir.path().join("pages"))?;
//! std::fs::write(dir.path().join("base.html"), "<main>{% block body %}{% endblock %}</main>")?;
//! std::fs::write(dir.path().join("pages/home.html"), "{% extends 'base.html' %}")?;
//! std::fs::write(dir.path().join("notes.md"), "not a template")?;
//!
//! let roots = Roots::new(vec![(dir.path().to_path_buf(), "templates".into())]);
//! let scanned = scan(&roots, None)?;
//! let names: Vec<&String> = scanned.cache.templates.keys().collect();
//! assert_eq!(names, ["base.html", "pages/home.html"]);
//! assert_eq!(scanned.cache.templates["pages/home.html"].deps, ["base.html"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Which files are templates, under which names, is [`shipwright_core::files`]' rule, the one
//! the planner, the dev watcher and the loaders follow too: roots are searched in order and the
//! first root holding a name wins (askama's `dirs`); each directory is walked once (by device
//! and inode), so link loops and diamonds add no names; symbolic links are followed inside a
//! root, and a link that leads out of its root is reported and never read; a FIFO, socket or
//! device named like a template is reported and never opened. A file that cannot be read, is
//! larger than [`Roots::max_file_size`] or is not UTF-8 is reported and left out. A file the lexer stops in is kept, with its hashes, and reported in
//! [`BuildCache::errors`].

mod binary;
// Crate-private; public only to the fuzz targets (`fuzz/`, built with `--cfg fuzzing`).
#[cfg(not(fuzzing))]
pub(crate) mod index;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod index;
#[cfg(not(fuzzing))]
pub(crate) mod records;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod records;
#[cfg(test)]
mod tests;
mod walk;

use std::fmt;
use std::path::PathBuf;

use rayon::prelude::*;

use index::{FileStat, Index};
use shipwright_core::files::{DEFAULT_MAX_SIZE, FileError, OpenDir, TemplateFiles};
use shipwright_core::format::{BuildCache, TemplateError, TemplateRecord};
use shipwright_core::graph::link;
use walk::{Found, walk};

use shipwright_core::format::DEFAULT_EXTENSIONS;

/// The template roots and which files count as templates.
#[derive(Debug, Clone)]
pub struct Roots {
    /// `(directory on disk, label written into the BuildCache)`, in search order.
    pub dirs: Vec<(PathBuf, String)>,
    /// File extensions (without the dot) that are templates, without regard to ASCII case.
    pub extensions: Vec<String>,
    /// The largest template file read, in bytes; a larger one is reported and left out.
    pub max_file_size: u64,
}

impl Roots {
    /// Roots with the default extensions and size limit
    /// ([`DEFAULT_MAX_SIZE`], 16 MiB).
    pub fn new(dirs: Vec<(PathBuf, String)>) -> Self {
        Roots {
            dirs,
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            max_file_size: DEFAULT_MAX_SIZE,
        }
    }

    /// The file rule over these roots.
    pub fn files(&self) -> TemplateFiles {
        TemplateFiles::new(
            self.dirs.iter().map(|(dir, _)| dir.clone()).collect(),
            &self.extensions,
        )
        .max_size(self.max_file_size)
    }
}

/// Something the scan passed over or found wrong, with the file and line when known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// The file, as `root-label/name`.
    pub file: String,
    /// 1-based line, when the problem is inside the file.
    pub line: Option<u32>,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Why a scan could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// A root does not exist or is not a directory.
    #[error("template root {} does not exist or is not a directory", .0.display())]
    MissingRoot(PathBuf),
}

/// What a scan found.
#[derive(Debug)]
pub struct Scanned {
    /// The BuildCache of the roots.
    pub cache: BuildCache,
    /// Problems: skipped files, lexer errors, missing references, cycles.
    pub warnings: Vec<Warning>,
    /// The stat of every template read, for the next scan's fast path.
    pub stats: Vec<FileStat>,
    /// The source of every template of `cache` that the build's scan read (for the registry);
    /// none for a template whose record was kept from the previous scan (its file was not read),
    /// and none at all after a [`scan`] (which keeps no source).
    pub sources: Sources,
    /// The stat of every directory walked, likewise.
    pub dirs: Vec<FileStat>,
    /// How many files were read and analysed (the others were taken from `previous`).
    pub analysed: usize,
    /// Whether every template file found was read (none skipped): then `stats` covers every
    /// template file, and a re-scan may trust it to tell whether anything changed.
    pub complete: bool,
    /// Whether the walk met nothing to report (no link skipped, no name that is not UTF-8, no
    /// directory that could not be read): with `complete`, while no directory's stat moves, the
    /// next re-scan can take the list of files from the index instead of walking again.
    pub walk_clean: bool,
}

/// The sources a build's scan read, by the position of their template in the BuildCache's
/// order. The files of a run of one directory are read end to end into one buffer: one
/// allocation per run instead of one per file, and the registry is written from these buffers
/// as they are, the sources of a run being consecutive in the BuildCache's (name) order.
#[derive(Debug, Default)]
pub struct Sources {
    /// The buffers, one per run of files read.
    chunks: Vec<Vec<u8>>,
    /// Per template: its buffer and where its source lies in it, if it was read.
    at: Vec<Option<(usize, std::ops::Range<usize>)>>,
}

impl Sources {
    /// The source (UTF-8, checked when it was read) of the template at `position` in the
    /// BuildCache's order, if this scan read it.
    pub fn get(&self, position: usize) -> Option<&[u8]> {
        let (chunk, range) = self.at.get(position)?.as_ref()?;
        Some(&self.chunks[*chunk][range.clone()])
    }

    /// How many templates this lists (read or not): the BuildCache's, or none after a [`scan`].
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether it lists no template.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The source of every template of `names` (the BuildCache's, in its order): the one read,
    /// else `kept(name)`. Consecutive sources that lie end to end in one buffer come as one
    /// slice, so that the registry is written in a few large pieces.
    pub(crate) fn joined<'a, 'n>(
        &'a self,
        names: impl Iterator<Item = &'n String>,
        kept: impl Fn(&str) -> &'a [u8],
    ) -> Vec<&'a [u8]> {
        let mut out: Vec<&'a [u8]> = Vec::new();
        // The buffer and range of the last slice, while it is a stretch of one buffer.
        let mut open: Option<(usize, std::ops::Range<usize>)> = None;
        for (name, at) in names.zip(&self.at) {
            match (at, &mut open) {
                (Some((chunk, range)), Some((last, stretch)))
                    if chunk == last && range.start == stretch.end =>
                {
                    stretch.end = range.end;
                    *out.last_mut().expect("an open stretch") =
                        &self.chunks[*chunk][stretch.clone()];
                }
                (Some((chunk, range)), _) => {
                    out.push(&self.chunks[*chunk][range.clone()]);
                    open = Some((*chunk, range.clone()));
                }
                (None, _) => {
                    out.push(kept(name));
                    open = None;
                }
            }
        }
        out
    }
}

/// Scans every root. With `previous` (the last index and its BuildCache), files whose stat
/// did not move are not read again: their records are moved over from that BuildCache.
pub fn scan(roots: &Roots, previous: Option<(&Index, BuildCache)>) -> Result<Scanned, ScanError> {
    scan_walked(roots, previous, false)
}

/// [`scan`], keeping the sources read in [`Scanned::sources`] when `keep_sources`.
pub(crate) fn scan_walked(
    roots: &Roots,
    previous: Option<(&Index, BuildCache)>,
    keep_sources: bool,
) -> Result<Scanned, ScanError> {
    let mut warnings = Vec::new();
    let (found, dirs) = walk(roots, previous.is_some(), &mut warnings)?;
    Ok(scan_found(
        roots,
        found,
        dirs,
        warnings,
        previous,
        keep_sources,
    ))
}

/// The re-scan of a tree whose directories did not change since `index` (see
/// [`dirs_unchanged`]), after a scan that was complete and whose walk met nothing to report
/// ([`Index::complete`], [`Index::walk_clean`]): the template files are the ones the index
/// lists, so no directory is read. `moved` (from [`moved_files`], which stat-ed every file) lists
/// the files whose stat moved: only those are stat-ed again, read and analysed. Keeps the sources
/// read, for the registry.
pub(crate) fn scan_unwalked(
    roots: &Roots,
    index: &Index,
    previous: BuildCache,
    moved: &[usize],
) -> Scanned {
    let mut is_moved = vec![false; index.files.len()];
    for &at in moved {
        is_moved[at] = true;
    }
    let found: Vec<Found> = index
        .files
        .par_iter()
        .zip(&is_moved)
        .filter_map(|(old, &moved)| {
            let (dir, _) = roots.dirs.get(old.root)?;
            let path = dir.join(&old.name);
            // A file that cannot be stat-ed is read, and reported if it cannot be.
            let stat = if moved {
                FileStat::of(old.root, &old.name, &path).ok()
            } else {
                Some(old.clone())
            };
            Some(Found {
                root: old.root,
                name: old.name.clone(),
                path,
                stat,
            })
        })
        .collect();
    scan_found(
        roots,
        found,
        index.dirs.clone(),
        Vec::new(),
        Some((index, previous)),
        true,
    )
}

/// The most a run's buffer is made room for ahead of its reads (see [`scan_found`]).
const RUN_RESERVE: usize = 1 << 20;

/// The scan of the files `found` (in name order), with the walk's warnings so far.
fn scan_found(
    roots: &Roots,
    found: Vec<Found>,
    dirs: Vec<FileStat>,
    mut warnings: Vec<Warning>,
    previous: Option<(&Index, BuildCache)>,
    keep_sources: bool,
) -> Scanned {
    let walk_clean = warnings.is_empty();
    let mut complete = true;
    let (index, mut old_cache) = previous.unzip();
    let kept = |file: &Found| -> Option<FileResult> {
        let (index, old_cache) = (index?, old_cache.as_ref()?);
        // The index lists the files in name order, as the walk does.
        let at = index
            .files
            .binary_search_by(|f| f.name.as_str().cmp(&file.name))
            .ok()?;
        let old = &index.files[at];
        let stat = file.stat.clone()?;
        let same = old.root == file.root && old.same_as(&stat, index.written_ns);
        old_cache
            .templates
            .get(&file.name)
            .filter(|r| same && r.root == file.root)?;
        let error = old_cache
            .errors
            .iter()
            .find(|e| e.template == file.name)
            .cloned();
        Some(FileResult::Kept { error, stat })
    };
    // The files of a directory mostly come in a row (name order): each run of up to 128 of them
    // is one task, which opens their directory once for the files it reads, and reads them into
    // one buffer (end to end when the sources are kept, else each over the last). A run is
    // told by the names (a link to a file elsewhere only makes its task open that directory).
    let (results, chunks): (Vec<Vec<FileResult>>, Vec<Vec<u8>>) =
        runs(&found, 128, |file| (file.root, split(&file.name).0))
            .par_iter()
            .map(|run| {
                let mut dir = Directory::default();
                let mut chunk = Vec::new();
                let results = found[run.clone()]
                    .iter()
                    .enumerate()
                    .map(|(at, file)| {
                        kept(file).unwrap_or_else(|| {
                            let first = chunk.is_empty();
                            let read = read_one(roots, file, &mut dir, &mut chunk, keep_sources);
                            if keep_sources && first {
                                // Room for the rest of the run at about this file's size, so that
                                // the buffer is not grown (and copied) file after file.
                                let rest = run.len() - at - 1;
                                chunk.reserve((chunk.len() * rest * 5 / 4).min(RUN_RESERVE));
                            }
                            read
                        })
                    })
                    .collect();
                if !keep_sources {
                    chunk = Vec::new();
                }
                (results, chunk)
            })
            .unzip();
    let results = results
        .into_iter()
        .enumerate()
        .flat_map(|(run, list)| list.into_iter().map(move |result| (run, result)));

    // The kept records are moved out of the previous cache (both lists are in name order).
    let mut old_records = old_cache
        .as_mut()
        .map(|c| std::mem::take(&mut c.templates))
        .unwrap_or_default()
        .into_iter()
        .peekable();
    let mut cache = BuildCache::new(roots.dirs.iter().map(|(_, label)| label.clone()).collect());
    cache.extensions = roots.extensions.clone();
    let mut stats = Vec::with_capacity(found.len());
    let mut records = Vec::with_capacity(found.len());
    let mut sources = Vec::with_capacity(found.len());
    let mut analysed = 0;
    // The names move into the records: the walk's list is not needed after this.
    for (file, (run, result)) in found.into_iter().zip(results) {
        let (record, error, stat, source) = match result {
            FileResult::Skipped(w) => {
                warnings.push(w);
                complete = false;
                continue;
            }
            FileResult::Kept { error, stat } => {
                while old_records.next_if(|(name, _)| *name < file.name).is_some() {}
                let record = old_records
                    .next_if(|(name, _)| *name == file.name)
                    .map(|(_, record)| record);
                (
                    record.expect("a kept file has its previous record"),
                    error,
                    stat,
                    None,
                )
            }
            FileResult::Read {
                record,
                error,
                stat,
                source,
            } => {
                analysed += 1;
                (record, error, stat, source.map(|range| (run, range)))
            }
        };
        if let Some(error) = &error {
            warnings.push(warning(
                roots,
                file.root,
                &file.name,
                Some(error.line),
                error.message.clone(),
            ));
        }
        cache.errors.extend(error);
        records.push((file.name, record));
        stats.push(stat);
        sources.push(source);
    }
    drop(old_records);
    // In name order already: the map is built in bulk, without a search per record.
    cache.templates = records.into_iter().collect();
    // Each missing reference carries its line in the record: no file is read again.
    link(&mut cache);
    let root_of = |name: &str| cache.templates[name].root;
    for m in &cache.missing {
        warnings.push(warning(
            roots,
            root_of(&m.template),
            &m.template,
            Some(m.line),
            format!("`{}` {}: reference does not resolve", m.name, m.reason),
        ));
    }
    for cycle in &cache.cycles {
        warnings.push(warning(
            roots,
            root_of(&cycle[0]),
            &cycle[0],
            None,
            format!("dependency cycle: {}", cycle.join(" -> ")),
        ));
    }
    warnings.sort();
    Scanned {
        cache,
        warnings,
        stats,
        sources: Sources {
            chunks,
            at: if keep_sources { sources } else { Vec::new() },
        },
        dirs,
        analysed,
        complete,
        walk_clean,
    }
}

/// For the fast path, once [`dirs_unchanged`] holds (no template file appeared, vanished or was
/// renamed: that moves its directory's mtime; git's untracked cache uses the same fact): the
/// positions in [`Index::files`] of the files whose stat moved since `index`, or that cannot be
/// stat-ed, in order. Stats every file the index lists, in parallel, and reads no directory.
/// Empty: nothing changed.
///
/// On Unix the files are stat-ed relative to their directory, opened once per batch of files
/// (`O_PATH`): the kernel then looks up one name per file instead of walking the whole path.
pub(crate) fn moved_files(roots: &Roots, index: &Index) -> Vec<usize> {
    let mut moved = moved_by_directory(roots, index);
    moved.sort_unstable();
    moved
}

/// [`moved_files`], unsorted. The index lists files in name order, so the files of a directory
/// mostly come in a row: each run of up to 256 files of one directory is a batch, with one
/// directory handle ([`OpenDir`]). The files of a directory that cannot be opened have moved.
fn moved_by_directory(roots: &Roots, index: &Index) -> Vec<usize> {
    runs(&index.files, 256, |file| (file.root, split(&file.name).0))
        .into_par_iter()
        .flat_map_iter(|files| {
            let first = &index.files[files.start];
            let opened = roots.dirs.get(first.root).map(|(path, _)| {
                let dir = split(&first.name).0;
                OpenDir::open(&if dir.is_empty() {
                    path.clone()
                } else {
                    path.join(dir)
                })
            });
            files.filter(move |&at| {
                let file = &index.files[at];
                !opened
                    .as_ref()
                    .is_some_and(|dir| file.still_in(dir, split(&file.name).1, index.written_ns))
            })
        })
        .collect()
}

/// The runs of consecutive `items`, each of up to `cap`, whose items all have the `key` of its
/// first (the key of each item is taken once).
fn runs<'a, T, K: PartialEq>(
    items: &'a [T],
    cap: usize,
    key: impl Fn(&'a T) -> K,
) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    let mut current = None;
    for (at, item) in items.iter().enumerate() {
        let this = key(item);
        match runs.last_mut() {
            Some(run) if run.len() < cap && current.as_ref() == Some(&this) => run.end = at + 1,
            _ => {
                runs.push(at..at + 1);
                current = Some(this);
            }
        }
    }
    runs
}

/// `("a/b", "c.html")` for `a/b/c.html`, `("", "c.html")` for `c.html`.
fn split(name: &str) -> (&str, &str) {
    name.rsplit_once('/').unwrap_or(("", name))
}

/// Has no directory the index lists changed its stat (so no entry was added, removed or
/// renamed in any)?
pub(crate) fn dirs_unchanged(roots: &Roots, index: &Index) -> bool {
    !index.dirs.is_empty() && all_still(roots, &index.dirs, index.written_ns)
}

/// Does every file or directory of `list` still have its stat? Stat-ed in parallel, each worker
/// building its paths in one buffer.
fn all_still(roots: &Roots, list: &[FileStat], racy_after: i128) -> bool {
    list.par_iter()
        .map_init(PathBuf::new, |path, old| {
            still(roots, path, old, racy_after)
        })
        .all(|same| same)
}

/// Does the file or directory `old` still have its stat? `path` is a buffer for its path.
fn still(roots: &Roots, path: &mut PathBuf, old: &FileStat, racy_after: i128) -> bool {
    let Some((dir, _)) = roots.dirs.get(old.root) else {
        return false;
    };
    path.clear();
    path.push(dir);
    if !old.name.is_empty() {
        path.push(&old.name);
    }
    old.still_at(path, racy_after)
}

// Most files are read (cold) or most are kept (re-scan): boxing the record would only add an
// allocation per read file to a vector that lives for one scan.
#[allow(clippy::large_enum_variant)]
enum FileResult {
    Skipped(Warning),
    Kept {
        error: Option<TemplateError>,
        stat: FileStat,
    },
    Read {
        record: TemplateRecord,
        error: Option<TemplateError>,
        stat: FileStat,
        /// Where its source lies in its run's buffer, when it is kept.
        source: Option<std::ops::Range<usize>>,
    },
}

/// Reads (one open, one fstat, one read), hashes and analyses one file. Its bytes go onto the end
/// of `chunk` and stay there if `keep_source` (for the registry); otherwise `chunk` is a buffer
/// reused from file to file.
fn read_one(
    roots: &Roots,
    file: &Found,
    dir: &mut Directory,
    chunk: &mut Vec<u8>,
    keep_source: bool,
) -> FileResult {
    if !keep_source {
        chunk.clear();
    }
    let start = chunk.len();
    let stat = match dir.read(file, roots.max_file_size, chunk) {
        Ok(stat) => FileStat::from_stat(file.root, &file.name, &stat),
        Err(e) => {
            return FileResult::Skipped(warning(
                roots,
                file.root,
                &file.name,
                None,
                e.problem.to_string(),
            ));
        }
    };
    let source = match std::str::from_utf8(&chunk[start..]) {
        Ok(source) => source,
        Err(e) => {
            let valid = e.valid_up_to();
            let line = memchr::memchr_iter(b'\n', &chunk[start..start + valid]).count() as u32 + 1;
            chunk.truncate(start);
            return FileResult::Skipped(warning(
                roots,
                file.root,
                &file.name,
                Some(line),
                format!("not UTF-8 (byte {valid}); skipped"),
            ));
        }
    };
    let (record, error) = shipwright_core::analyze::record(&file.name, file.root, source);
    FileResult::Read {
        record,
        error,
        stat,
        source: keep_source.then_some(start..chunk.len()),
    }
}

/// The directory of a run of files in [`scan_found`], opened on first use: its files are then
/// opened by name (`openat` on Unix), and the kernel looks up one name per file instead of
/// walking the whole path.
#[derive(Default)]
struct Directory {
    opened: Option<OpenDir>,
}

impl Directory {
    /// Reads `file` onto the end of `bytes` by the file rule (opened `O_NONBLOCK`, checked through its
    /// handle to be a regular file, at most `limit` bytes: one open, one fstat and, for a file
    /// that did not grow since the fstat, one `read`), through the directory where it can be.
    fn read(
        &mut self,
        file: &Found,
        limit: u64,
        bytes: &mut Vec<u8>,
    ) -> Result<shipwright_core::files::Stat, FileError> {
        // The file's own name is the last part of its template name; the path is its
        // directory's, a separator, then that name (a link to a file elsewhere: anything).
        let name = split(&file.name).1;
        let path = file.path.as_os_str().as_encoded_bytes();
        let in_dir = |dir: &OpenDir| {
            let dir = dir.path().as_os_str().as_encoded_bytes();
            path.len() == dir.len() + 1 + name.len()
                && path.starts_with(dir)
                && std::path::is_separator(path[dir.len()] as char)
                && path.ends_with(name.as_bytes())
        };
        let dir = match &mut self.opened {
            // Compared as bytes: `Path`'s own methods walk the components.
            Some(dir) if in_dir(dir) => dir,
            slot => match file.path.parent() {
                Some(parent) if file.path.file_name() == Some(name.as_ref()) => {
                    slot.insert(OpenDir::open(parent))
                }
                _ => return shipwright_core::files::read_file_into(&file.path, limit, bytes),
            },
        };
        dir.read_into(name, limit, bytes)
    }
}

#[cold]
fn warning(roots: &Roots, root: usize, name: &str, line: Option<u32>, message: String) -> Warning {
    Warning {
        file: format!("{}/{}", roots.dirs[root].1, name),
        line,
        message,
    }
}
