//! Listing the template files under the roots, without a `stat` per file.
//!
//! ```
//! # use shipwright_build::scan::Roots;
//! let dir = tempfile::tempdir()?;
//! std::fs::create_dir_all(dir.path().join("a/b"))?;
//! std::fs::write(dir.path().join("a/b/c.html"), "")?;
//! std::fs::write(dir.path().join("a/readme.md"), "")?;
//! let roots = Roots::new(vec![(dir.path().to_path_buf(), "t".into())]);
//! let scanned = shipwright_build::scan::scan(&roots, None)?;
//! assert_eq!(scanned.cache.templates.keys().collect::<Vec<_>>(), ["a/b/c.html"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The file type comes from the directory entry itself (`d_type`), so a tree of plain files and
//! directories costs one `readdir` per directory and nothing per file; only symbolic links are
//! resolved. A link is followed when its target stays inside the root's real path; a link to a
//! directory that contains the link (a loop) and a link that leads out of the root are reported
//! and not followed.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::index::FileStat;
use super::{Roots, ScanError, Warning};

/// A template file found on disk.
pub(crate) struct Found {
    pub(crate) root: usize,
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    /// Its stat, when asked for (taken through the directory's handle: no path lookup).
    pub(crate) stat: Option<FileStat>,
}

/// Every template file under the roots, sorted by name (the first root holding a name wins),
/// and the stat of every directory read (for the stat index: a directory's mtime moves when an
/// entry is added, removed or renamed in it). Directories are read in parallel.
pub(crate) fn walk(
    roots: &Roots,
    with_stat: bool,
    warnings: &mut Vec<Warning>,
) -> Result<(Vec<Found>, Vec<FileStat>), ScanError> {
    let mut found: Vec<Found> = Vec::new();
    let mut dirs = Vec::new();
    for (root, (dir, label)) in roots.dirs.iter().enumerate() {
        let missing = || ScanError::MissingRoot(dir.clone());
        let real_root = dir.canonicalize().map_err(|_| missing())?;
        if !real_root.is_dir() {
            return Err(missing());
        }
        let walker = Walker {
            roots,
            root,
            label,
            real_root: &real_root,
            with_stat,
        };
        let listing = walker.dir(dir.clone(), String::new(), real_root.clone());
        let (files, problems) = (listing.files, listing.problems);
        warnings.extend(problems);
        dirs.extend(listing.dirs);
        found.extend(files);
    }
    // By name, and for one name the first root's file only.
    found.sort_unstable_by(|a, b| (&a.name, a.root).cmp(&(&b.name, b.root)));
    found.dedup_by(|later, first| later.name == first.name);
    dirs.sort_by(|a, b| (a.root, &a.name).cmp(&(b.root, &b.name)));
    Ok((found, dirs))
}

/// What one directory and everything below it hold.
#[derive(Default)]
struct Listing {
    files: Vec<Found>,
    dirs: Vec<FileStat>,
    problems: Vec<Warning>,
}

struct Walker<'a> {
    roots: &'a Roots,
    root: usize,
    label: &'a str,
    real_root: &'a Path,
    with_stat: bool,
}

impl Walker<'_> {
    /// The files under `disk` (named `prefix…`, really at `real`), and the problems met.
    fn dir(&self, disk: PathBuf, prefix: String, real: PathBuf) -> Listing {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        let mut subdirs = Vec::new();
        let mut dirs = Vec::new();
        if let Ok(stat) = FileStat::of(self.root, prefix.trim_end_matches('/'), &disk) {
            dirs.push(stat);
        }
        let warn = |problems: &mut Vec<Warning>, name: &str, message: String| {
            problems.push(Warning {
                file: format!("{}/{name}", self.label),
                line: None,
                message,
            });
        };
        let entries = match std::fs::read_dir(&disk) {
            Ok(entries) => entries,
            Err(e) => {
                warn(
                    &mut problems,
                    prefix.trim_end_matches('/'),
                    format!("cannot read directory: {e}"),
                );
                return Listing {
                    files,
                    dirs,
                    problems,
                };
            }
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                let shown = format!("{prefix}{}", file_name.to_string_lossy());
                warn(
                    &mut problems,
                    &shown,
                    "file name is not UTF-8; skipped".into(),
                );
                continue;
            };
            let name = format!("{prefix}{file_name}");
            let Ok(mut kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            // Where a followed link really leads; a plain entry is at `real/file_name`.
            let mut target = None;
            if kind.is_symlink() {
                match path.canonicalize() {
                    Ok(linked) if linked.starts_with(self.real_root) => {
                        let Ok(meta) = std::fs::metadata(&linked) else {
                            continue;
                        };
                        kind = meta.file_type();
                        if kind.is_dir() && real.starts_with(&linked) {
                            warn(
                                &mut problems,
                                &name,
                                "symbolic link loop; not followed".into(),
                            );
                            continue;
                        }
                        target = Some(linked);
                    }
                    Ok(_) => {
                        warn(
                            &mut problems,
                            &name,
                            "symbolic link leads out of the template root; not read".into(),
                        );
                        continue;
                    }
                    Err(e) => {
                        let message = if e.raw_os_error() == Some(40) {
                            "symbolic link loop; not followed".into()
                        } else {
                            format!("broken symbolic link: {e}")
                        };
                        warn(&mut problems, &name, message);
                        continue;
                    }
                }
            }
            if kind.is_dir() {
                let real_path = target.unwrap_or_else(|| real.join(file_name));
                subdirs.push((path, format!("{name}/"), real_path));
            } else if kind.is_file() && self.roots.is_template(Path::new(file_name)) {
                let stat = if !self.with_stat {
                    None
                } else if target.is_some() {
                    FileStat::of(self.root, &name, &path).ok()
                } else {
                    entry
                        .metadata()
                        .ok()
                        .map(|meta| FileStat::from_metadata(self.root, &name, &meta))
                };
                files.push(Found {
                    root: self.root,
                    name,
                    path,
                    stat,
                });
            }
        }
        let nested: Vec<Listing> = subdirs
            .into_par_iter()
            .map(|(disk, prefix, real)| self.dir(disk, prefix, real))
            .collect();
        for more in nested {
            files.extend(more.files);
            dirs.extend(more.dirs);
            problems.extend(more.problems);
        }
        Listing {
            files,
            dirs,
            problems,
        }
    }
}
