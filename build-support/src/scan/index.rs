//! The stat index: what each template's file looked like when it was last read, kept in a side
//! file beside the BuildCache (never inside it, which must not depend on the machine).
//!
//! The round trip (save, load, compare a stat) is the test `saved_and_loaded_with_its_stats`
//! below (the module is crate-private, so it cannot be a doctest).
//!
//! It also keeps the stat of every directory walked: adding, removing or renaming an entry moves
//! the directory's mtime, so an unchanged tree is confirmed without reading any directory.
//!
//! Like git's index, a file is taken as unchanged only when its size, mtime, ctime and inode all
//! match, and only when its mtime is older than the moment the index was written: a file changed
//! within the same clock tick as the write ("racily clean") is read again.
//!
//! The file is binary (little-endian fields, varints, an xxh3-64 checksum at the end): read with
//! one `read` and checked as a whole by its checksum, so that a torn or damaged index is never
//! taken as good and the scan starts over.

use std::path::Path;
use std::time::UNIX_EPOCH;

use shipwright_core::files::{OpenDir, Stat};

use super::binary::{Reader, Writer};

const HEADER: &str = "shipwright-scan-index 8";

/// Where the index sits under `OUT_DIR`, beside the BuildCache.
pub(crate) const FILE_NAME: &str = "shipwright/scan-index";

/// The stat of one template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    /// Index of its root.
    pub root: usize,
    /// Its template name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i128,
    /// Status-change time, ns since the epoch (0 where the platform has none).
    pub ctime_ns: i128,
    /// Inode number (0 where the platform has none).
    pub ino: u64,
}

/// What a stat says of a file's content, without its name.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
}

impl Stamp {
    /// The fields of the file rule's stat ([`Stat`]), which every stat here goes through, so
    /// that a stat taken by the walk, by a read or by a path compares equal.
    fn of(stat: &Stat) -> Stamp {
        Stamp {
            size: stat.size,
            mtime_ns: stat.mtime_ns,
            ctime_ns: stat.ctime_ns,
            ino: stat.ino,
        }
    }
}

impl FileStat {
    /// Stats `path` (following links).
    pub fn of(root: usize, name: &str, path: &Path) -> std::io::Result<FileStat> {
        Ok(FileStat::from_metadata(
            root,
            name,
            &std::fs::metadata(path)?,
        ))
    }

    /// The stat of an open file or a path already looked up.
    pub fn from_metadata(root: usize, name: &str, meta: &std::fs::Metadata) -> FileStat {
        FileStat::from_stat(root, name, &Stat::of(meta))
    }

    /// The stat the file rule took (by the walk, through a directory's handle, or by a read).
    pub fn from_stat(root: usize, name: &str, stat: &Stat) -> FileStat {
        let Stamp {
            size,
            mtime_ns,
            ctime_ns,
            ino,
        } = Stamp::of(stat);
        FileStat {
            root,
            name: name.to_string(),
            size,
            mtime_ns,
            ctime_ns,
            ino,
        }
    }

    fn stamp(&self) -> Stamp {
        Stamp {
            size: self.size,
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
            ino: self.ino,
        }
    }

    /// Same file, same stat, and changed before `racy_after` (the index's write time)?
    #[inline]
    pub fn same_as(&self, now: &FileStat, racy_after: i128) -> bool {
        self.stamp_still(now.stamp(), racy_after)
    }

    /// Does the file at `path` (following links) still have this stat, changed before
    /// `racy_after`? A file that cannot be stat-ed has not.
    pub fn still_at(&self, path: &Path, racy_after: i128) -> bool {
        std::fs::metadata(path)
            .is_ok_and(|meta| self.stamp_still(Stamp::of(&Stat::of(&meta)), racy_after))
    }

    /// [`still_at`](Self::still_at) for the file `file_name` of the directory open as `dir`:
    /// the kernel looks up one name instead of the whole path.
    pub fn still_in(&self, dir: &OpenDir, file_name: &str, racy_after: i128) -> bool {
        dir.stat(file_name)
            .is_ok_and(|stat| self.stamp_still(Stamp::of(&stat), racy_after))
    }

    #[inline]
    fn stamp_still(&self, now: Stamp, racy_after: i128) -> bool {
        self.stamp() == now && now.mtime_ns < racy_after && now.ctime_ns < racy_after
    }
}

/// The side file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// What the scan was configured with (roots and extensions): another key, another scan.
    pub key: String,
    /// The stat of the BuildCache file written with this index.
    pub cache: FileStat,
    /// The stat of the records side file written with it ([`super::records`]).
    pub records: FileStat,
    /// The stat of the template registry (the sources file) written with it
    /// ([`shipwright_core::registry`]).
    pub registry: FileStat,
    /// The warnings of that scan, to print again when nothing changed.
    pub warnings: Vec<String>,
    /// When the index was written, ns since the epoch (set by [`Index::save`]).
    pub written_ns: i128,
    /// Every template file read.
    pub files: Vec<FileStat>,
    /// Every directory walked (`name` relative to its root, `""` for the root).
    pub dirs: Vec<FileStat>,
    /// Whether `files` covers every template file: none was skipped (see
    /// [`super::Scanned::complete`]). A skipped file's changes are not tracked, so without this
    /// the fast path is not taken.
    pub complete: bool,
    /// Whether the walk met nothing to report ([`super::Scanned::walk_clean`]).
    pub walk_clean: bool,
}

impl Index {
    /// Reads an index; `None` if it is missing, of another version or damaged in any way.
    pub fn load(path: &Path) -> Option<Index> {
        Self::decode(&std::fs::read(path).ok()?)
    }

    /// [`Index::decode`] for the fuzz targets (`fuzz/`); it is private outside fuzzing.
    #[cfg(fuzzing)]
    #[doc(hidden)]
    pub fn fuzz_decode(bytes: &[u8]) -> Option<Index> {
        Self::decode(bytes)
    }

    /// The index in the bytes of an index file; `None` if they are of another version or
    /// damaged in any way.
    fn decode(bytes: &[u8]) -> Option<Index> {
        let mut r = Reader::open(bytes, HEADER)?;
        let key = r.str()?.to_string();
        let cache = read_stat(&mut r)?;
        let records = read_stat(&mut r)?;
        let registry = read_stat(&mut r)?;
        let written_ns = r.i128()?;
        let warnings = (0..r.len()?)
            .map(|_| r.str().map(str::to_string))
            .collect::<Option<Vec<_>>>()?;
        let files = (0..r.len()?)
            .map(|_| read_stat(&mut r))
            .collect::<Option<Vec<_>>>()?;
        let flags = r.varint()?;
        let (complete, walk_clean) = (flags & 1 != 0, flags & 2 != 0);
        let dirs = (0..r.len()?)
            .map(|_| read_stat(&mut r))
            .collect::<Option<Vec<_>>>()?;
        r.at_end().then_some(Index {
            complete,
            walk_clean,
            key,
            cache,
            records,
            registry,
            warnings,
            written_ns,
            files,
            dirs,
        })
    }

    /// Writes the index atomically, stamping it with the current time.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let names: usize = self
            .files
            .iter()
            .chain(&self.dirs)
            .map(|f| f.name.len())
            .sum();
        let mut w = Writer::new(
            HEADER,
            32 * (self.files.len() + self.dirs.len()) + names + 256,
        );
        w.str(&self.key);
        write_stat(&mut w, &self.cache);
        write_stat(&mut w, &self.records);
        write_stat(&mut w, &self.registry);
        w.i128(now);
        w.len(self.warnings.len());
        for warning in &self.warnings {
            w.str(warning);
        }
        let stats = |w: &mut Writer, list: &[FileStat]| {
            w.len(list.len());
            for stat in list {
                write_stat(w, stat);
            }
        };
        stats(&mut w, &self.files);
        w.varint(u64::from(self.complete) | u64::from(self.walk_clean) << 1);
        stats(&mut w, &self.dirs);
        crate::write::atomic_write(path, &w.finish()).map(drop)
    }
}

fn write_stat(w: &mut Writer, f: &FileStat) {
    // Roots count from 1; 0 is the stat of an output file (`usize::MAX`).
    w.varint(if f.root == usize::MAX {
        0
    } else {
        f.root as u64 + 1
    });
    w.varint(f.size);
    w.time(f.mtime_ns);
    w.time(f.ctime_ns);
    w.varint(f.ino);
    w.str(&f.name);
}

fn read_stat(r: &mut Reader<'_>) -> Option<FileStat> {
    let root = match r.varint()? {
        0 => usize::MAX,
        root => usize::try_from(root - 1).ok()?,
    };
    let (size, mtime_ns, ctime_ns, ino) = (r.varint()?, r.time()?, r.time()?, r.varint()?);
    Some(FileStat {
        root,
        size,
        mtime_ns,
        ctime_ns,
        ino,
        name: r.str()?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_and_loaded_with_its_stats() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("a.html");
        std::fs::write(&path, "hello")?;
        let stat = FileStat::of(0, "a.html", &path)?;
        let index = Index {
            key: "roots".into(),
            cache: stat.clone(),
            records: stat.clone(),
            registry: stat.clone(),
            warnings: vec![],
            written_ns: 0,
            files: vec![stat.clone()],
            dirs: vec![],
            complete: true,
            walk_clean: true,
        };
        let file = dir.path().join("index");
        index.save(&file)?;
        let back = Index::load(&file).unwrap();
        assert_eq!(back.files, index.files);
        assert!(back.written_ns > 0);
        assert!(
            back.files[0].same_as(&stat, i128::MAX),
            "same stat, written long before `racy_after`"
        );
        Ok(())
    }

    #[test]
    fn damaged_index_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let cache = FileStat {
            root: usize::MAX,
            name: String::new(),
            size: 1,
            mtime_ns: 1,
            ctime_ns: 1,
            ino: 1,
        };
        let file = FileStat {
            root: 0,
            name: "a\tb.html".into(),
            size: 2,
            mtime_ns: -3,
            ctime_ns: 4,
            ino: 5,
        };
        let index = Index {
            key: "k".into(),
            records: FileStat {
                size: 9,
                ..cache.clone()
            },
            registry: FileStat {
                ino: 7,
                ..cache.clone()
            },
            cache,
            warnings: vec!["w1".into()],
            written_ns: 0,
            files: vec![file],
            dirs: vec![],
            complete: true,
            walk_clean: false,
        };
        index.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let back = Index::load(&path).unwrap();
        assert_eq!(
            back,
            Index {
                written_ns: back.written_ns,
                ..index
            }
        );
        assert!(back.written_ns > 0);
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(Index::load(&path).is_none(), "a torn index must not load");
        let mut other = bytes.clone();
        other[HEADER.len() - 1] = b'6';
        std::fs::write(&path, other).unwrap();
        assert!(Index::load(&path).is_none(), "another version");
    }

    #[test]
    fn racily_clean_files_are_not_trusted() {
        let stat = FileStat {
            root: 0,
            name: "a".into(),
            size: 1,
            mtime_ns: 100,
            ctime_ns: 100,
            ino: 1,
        };
        assert!(stat.same_as(&stat, 101));
        assert!(!stat.same_as(&stat, 100));
        let moved = FileStat {
            ino: 2,
            ..stat.clone()
        };
        assert!(!stat.same_as(&moved, 1000));
    }
}
