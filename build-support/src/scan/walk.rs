//! Listing the template files under the roots: the walk of [`shipwright_core::files`], the one
//! rule of what a template file is, without a `stat` per file.
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
//! directories costs one `open`, `fstat` and `readdir` per directory and nothing per file; only
//! symbolic links are resolved. Each directory is read once, identified by device and inode, in
//! breadth-first order; the directories of one depth are read in parallel. A link is followed
//! when its target stays inside the root's real path; a link to a directory already listed (a
//! loop, a diamond), a link out of the root and a special file named like a template are
//! reported and not followed or read. With stats asked for, each template file is stat-ed
//! relative to its directory's handle, and each directory through its own.

use std::path::PathBuf;

use shipwright_core::files::Problem;

use super::index::FileStat;
use super::{Roots, ScanError, Warning};

/// A template file found on disk.
pub(crate) struct Found {
    pub(crate) root: usize,
    pub(crate) name: String,
    /// The file to read (a link to a file: its resolved target).
    pub(crate) path: PathBuf,
    /// Its stat, when asked for (taken through the directory's handle: no path lookup).
    pub(crate) stat: Option<FileStat>,
}

/// Every template file under the roots, sorted by name (the first root holding a name wins),
/// and the stat of every directory read, sorted by root and name (for the stat index: a
/// directory's mtime moves when an entry is added, removed or renamed in it).
pub(crate) fn walk(
    roots: &Roots,
    with_stat: bool,
    warnings: &mut Vec<Warning>,
) -> Result<(Vec<Found>, Vec<FileStat>), ScanError> {
    let rule = roots.files();
    let listing = if with_stat {
        rule.walk_with_stats()
    } else {
        rule.walk()
    };
    let (files, dirs, skipped) = listing.into_parts();
    for skip in skipped {
        if skip.problem == Problem::MissingRoot {
            return Err(ScanError::MissingRoot(skip.path));
        }
        let label = &roots.dirs[skip.root].1;
        warnings.push(Warning {
            file: if skip.name.is_empty() {
                label.clone()
            } else {
                format!("{label}/{}", skip.name)
            },
            line: None,
            message: skip.problem.to_string(),
        });
    }
    let found = files
        .into_iter()
        .map(|file| Found {
            stat: file
                .stat
                .map(|stat| FileStat::from_stat(file.root, &file.name, &stat)),
            path: file.target.unwrap_or(file.path),
            root: file.root,
            name: file.name,
        })
        .collect();
    let mut dirs: Vec<FileStat> = dirs
        .into_iter()
        .map(|dir| FileStat::from_stat(dir.root, &dir.name, &dir.stat))
        .collect();
    dirs.sort_by(|a, b| (a.root, &a.name).cmp(&(b.root, &b.name)));
    Ok((found, dirs))
}
