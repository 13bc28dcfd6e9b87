//! The one walker: breadth-first, each directory read once (by identity), the directories of a
//! depth read in parallel with the `parallel` feature, and every decision about what a directory
//! is taken in one order, so that the listing does not depend on the threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::read::kind_of;
use super::{
    Found, Listing, Problem, Skipped, Stat, TemplateFiles, WalkedDir, child, join, lowercase,
};

/// Who a directory is: its device and inode (on Unix), its real path elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Id(#[cfg(unix)] (u64, u64), #[cfg(not(unix))] PathBuf);

/// The identity of the directory (or file) at `path`, links followed.
pub(super) fn id_of(path: &Path) -> Option<Id> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(Id((meta.dev(), meta.ino())))
    }
    #[cfg(not(unix))]
    {
        path.canonicalize().ok().map(Id)
    }
}

#[cfg(unix)]
fn id_of_meta(meta: &std::fs::Metadata, _real: &Path) -> Id {
    use std::os::unix::fs::MetadataExt;
    Id((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn id_of_meta(_meta: &std::fs::Metadata, real: &Path) -> Id {
    Id(real.to_path_buf())
}

/// A directory to read.
struct Pending {
    /// Its name relative to the root (`""` for the root).
    name: String,
    /// Where to open it: the root as given, or below it, or a link's resolved target.
    path: PathBuf,
    /// The directory it was found in, an index into [`Listing::dirs`].
    parent: Option<usize>,
    /// Reached through a symbolic link.
    link: bool,
}

/// What reading one directory found.
struct Read {
    id: Id,
    stat: Stat,
    subdirs: Vec<Sub>,
    files: Vec<Found>,
    skipped: Vec<Skipped>,
}

/// A directory found in a directory.
struct Sub {
    name: String,
    path: PathBuf,
    /// For a symbolic link: the identity of its target (known before it is read).
    link: Option<Id>,
}

/// Walks every root of `rule`; see [`TemplateFiles::walk`].
pub(super) fn walk(rule: &TemplateFiles, stats: bool) -> Listing {
    let mut listing = Listing::default();
    for (root, dir) in rule.roots.iter().enumerate() {
        let real = dir.canonicalize().ok().filter(|real| real.is_dir());
        listing.roots.push((dir.clone(), real.clone()));
        match real {
            Some(real) => walk_root(rule, root, dir, &real, stats, &mut listing),
            None => listing.skipped.push(Skipped {
                root,
                name: String::new(),
                path: dir.clone(),
                problem: Problem::MissingRoot,
            }),
        }
    }
    // By name, and for one name the first root's file only.
    listing
        .files
        .sort_by(|a, b| (&a.name, a.root).cmp(&(&b.name, b.root)));
    listing
        .files
        .dedup_by(|later, first| later.name == first.name);
    listing
        .skipped
        .sort_by(|a, b| (a.root, &a.name).cmp(&(b.root, &b.name)));
    listing
}

/// Breadth-first from the root: the directories of one depth are read (in parallel), then taken
/// in order; a directory whose identity was taken already is not listed again.
fn walk_root(
    rule: &TemplateFiles,
    root: usize,
    dir: &Path,
    real_root: &Path,
    stats: bool,
    listing: &mut Listing,
) {
    let mut claimed: HashMap<Id, usize> = HashMap::new();
    let mut level = vec![Pending {
        name: String::new(),
        path: dir.to_path_buf(),
        parent: None,
        link: false,
    }];
    while !level.is_empty() {
        let reads = crate::par::map(&level, |at| read_dir(rule, root, real_root, at, stats));
        // First every directory of this depth takes its identity, in order; then their
        // subdirectories are queued for the next depth, in order.
        let mut listed: Vec<(usize, Vec<Sub>)> = Vec::new();
        for (at, read) in level.into_iter().zip(reads) {
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    listing.skipped.push(Skipped {
                        root,
                        name: at.name,
                        path: at.path,
                        problem: Problem::Io(lowercase(&e.to_string())),
                    });
                    continue;
                }
            };
            if let Some(&first) = claimed.get(&read.id) {
                // Two paths to one directory at one depth, or a directory reached by a link at
                // a smaller depth than by its own path, or a bind mount.
                let problem = if at.link {
                    link_problem_for(&listing.dirs, at.parent, first)
                } else {
                    Problem::SameDirectory(listing.dirs[first].name.clone())
                };
                listing.skipped.push(Skipped {
                    root,
                    name: at.name,
                    path: at.path,
                    problem,
                });
                continue;
            }
            let index = listing.dirs.len();
            claimed.insert(read.id.clone(), index);
            listing.by_id.insert((root, read.id), index);
            listing.dirs.push(WalkedDir {
                root,
                name: at.name,
                path: at.path,
                stat: read.stat,
                parent: at.parent,
            });
            listing.files.extend(read.files);
            listing.skipped.extend(read.skipped);
            listed.push((index, read.subdirs));
        }
        // A link to a directory listed at this depth or before is not followed. Two links to
        // one directory not listed yet are both queued: the first read takes it, and the
        // other is reported then, naming the one listed.
        let mut next: Vec<Pending> = Vec::new();
        for (index, subdirs) in listed {
            for sub in subdirs {
                if let Some(&first) = sub.link.as_ref().and_then(|id| claimed.get(id)) {
                    listing.skipped.push(Skipped {
                        root,
                        name: sub.name,
                        path: sub.path,
                        problem: link_problem_for(&listing.dirs, Some(index), first),
                    });
                    continue;
                }
                next.push(Pending {
                    link: sub.link.is_some(),
                    name: sub.name,
                    path: sub.path,
                    parent: Some(index),
                });
            }
        }
        level = next;
    }
}

/// A link from the directory `from` to the listed directory `target`: a loop if `target` is
/// `from` or contains it, else a second path to a directory listed under another name.
fn link_problem_for(dirs: &[WalkedDir], from: Option<usize>, target: usize) -> Problem {
    let mut at = from;
    while let Some(dir) = at {
        if dir == target {
            return Problem::LinkLoop;
        }
        at = dirs[dir].parent;
    }
    Problem::AlreadyListed(dirs[target].name.clone())
}

/// Why a link cannot be resolved.
pub(super) fn link_problem(e: std::io::Error) -> Problem {
    #[cfg(unix)]
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        return Problem::LinkLoop;
    }
    Problem::BrokenLink(lowercase(&e.to_string()))
}

/// Reads the directory `at`: its identity and stat through the handle it is read with, its
/// entries' types from the entries themselves (`d_type`: no `stat` per file, except with
/// `stats`, one `fstatat` per template file), links resolved.
#[cfg(unix)]
fn read_dir(
    rule: &TemplateFiles,
    root: usize,
    real_root: &Path,
    at: &Pending,
    stats: bool,
) -> std::io::Result<Read> {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    let fd = rustix::fs::open(
        &at.path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    let own = rustix::fs::fstat(&fd)?;
    let mut dir = rustix::fs::Dir::new(fd)?;
    // The names end to end in one buffer, each entry saying where its own lies: one allocation
    // per directory, not one per entry.
    let mut names: Vec<u8> = Vec::new();
    let mut entries: Vec<(std::ops::Range<usize>, FileType)> = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.extend_from_slice(name);
            entries.push((names.len() - name.len()..names.len(), entry.file_type()));
        }
    }
    entries.sort_unstable_by(|a, b| names[a.0.clone()].cmp(&names[b.0.clone()]));
    let dirfd = dir.fd()?;
    let stat = super::read::stat_of_raw(&own);
    let mut out = Read {
        id: Id((stat.dev, stat.ino)),
        stat,
        subdirs: Vec::new(),
        files: Vec::new(),
        skipped: Vec::new(),
    };
    for (range, mut kind) in entries {
        let raw = &names[range];
        let file_name = match std::str::from_utf8(raw) {
            Ok(name) => name,
            Err(_) => {
                use std::os::unix::ffi::OsStrExt;
                out.skipped.push(Skipped {
                    root,
                    name: join(&at.name, &String::from_utf8_lossy(raw)),
                    path: at.path.join(std::ffi::OsStr::from_bytes(raw)),
                    problem: Problem::NameNotUtf8,
                });
                continue;
            }
        };
        if kind == FileType::Unknown {
            // A file system without entry types: one `lstat`.
            match rustix::fs::statat(dirfd, file_name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => kind = FileType::from_raw_mode(stat.st_mode),
                Err(_) => continue, // gone meanwhile
            }
        }
        match kind {
            FileType::Directory => out.subdirs.push(Sub {
                name: join(&at.name, file_name),
                path: child(&at.path, file_name),
                link: None,
            }),
            FileType::RegularFile => {
                if rule.has_template_extension(file_name) {
                    let stat = stats
                        .then(|| {
                            rustix::fs::statat(dirfd, file_name, AtFlags::SYMLINK_NOFOLLOW).ok()
                        })
                        .flatten()
                        .map(|s| super::read::stat_of_raw(&s));
                    out.files.push(Found {
                        root,
                        name: join(&at.name, file_name),
                        path: child(&at.path, file_name),
                        target: None,
                        stat,
                    });
                }
            }
            FileType::Symlink => follow(rule, root, real_root, at, file_name, stats, &mut out),
            special => {
                if rule.has_template_extension(file_name) {
                    let kind = match special {
                        FileType::Fifo => "a FIFO",
                        FileType::Socket => "a socket",
                        FileType::CharacterDevice => "a character device",
                        FileType::BlockDevice => "a block device",
                        _ => "a special file",
                    };
                    out.skipped.push(Skipped {
                        root,
                        name: join(&at.name, file_name),
                        path: child(&at.path, file_name),
                        problem: Problem::Special(kind),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// [`read_dir`] through `std::fs::read_dir`, where entry types come from the entries too.
#[cfg(not(unix))]
fn read_dir(
    rule: &TemplateFiles,
    root: usize,
    real_root: &Path,
    at: &Pending,
    stats: bool,
) -> std::io::Result<Read> {
    let stat = Stat::of(&std::fs::metadata(&at.path)?);
    let id = Id(at.path.canonicalize()?);
    let mut entries = std::fs::read_dir(&at.path)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut out = Read {
        id,
        stat,
        subdirs: Vec::new(),
        files: Vec::new(),
        skipped: Vec::new(),
    };
    for entry in entries {
        let Ok(file_name) = entry.file_name().into_string() else {
            out.skipped.push(Skipped {
                root,
                name: join(&at.name, &entry.file_name().to_string_lossy()),
                path: entry.path(),
                problem: Problem::NameNotUtf8,
            });
            continue;
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            out.subdirs.push(Sub {
                name: join(&at.name, &file_name),
                path: entry.path(),
                link: None,
            });
        } else if kind.is_symlink() {
            follow(rule, root, real_root, at, &file_name, stats, &mut out);
        } else if rule.has_template_extension(&file_name) {
            if kind.is_file() {
                out.files.push(Found {
                    root,
                    name: join(&at.name, &file_name),
                    path: entry.path(),
                    target: None,
                    stat: stats
                        .then(|| entry.metadata().ok().map(|m| Stat::of(&m)))
                        .flatten(),
                });
            } else {
                out.skipped.push(Skipped {
                    root,
                    name: join(&at.name, &file_name),
                    path: entry.path(),
                    problem: Problem::Special(kind_of(&kind)),
                });
            }
        }
    }
    Ok(out)
}

/// A symbolic link `file_name` in `at`: followed when its target, fully resolved, is inside the
/// root's real path.
fn follow(
    rule: &TemplateFiles,
    root: usize,
    real_root: &Path,
    at: &Pending,
    file_name: &str,
    stats: bool,
    out: &mut Read,
) {
    let name = join(&at.name, file_name);
    let path = child(&at.path, file_name);
    let resolved = path.canonicalize().and_then(|real| {
        let meta = std::fs::metadata(&real)?;
        Ok((real, meta))
    });
    let problem = match resolved {
        Err(e) => link_problem(e),
        Ok((real, _)) if !real.starts_with(real_root) => Problem::OutsideRoot,
        Ok((real, meta)) if meta.is_dir() => {
            let id = id_of_meta(&meta, &real);
            out.subdirs.push(Sub {
                name,
                path: real,
                link: Some(id),
            });
            return;
        }
        Ok(_) if !rule.has_template_extension(file_name) => return,
        Ok((real, meta)) if meta.is_file() => {
            out.files.push(Found {
                root,
                name,
                path,
                target: Some(real),
                stat: stats.then(|| Stat::of(&meta)),
            });
            return;
        }
        Ok((_, meta)) => Problem::Special(kind_of(&meta.file_type())),
    };
    out.skipped.push(Skipped {
        root,
        name,
        path,
        problem,
    });
}
