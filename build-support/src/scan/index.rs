//! The stat index: what each template's file looked like when it was last read, kept in a side
//! file beside the BuildCache (never inside it, which must not depend on the machine).
//!
//! ```
//! use shipwright_build::scan::index::{FileStat, Index};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("a.html");
//! std::fs::write(&path, "hello")?;
//! let stat = FileStat::of(0, "a.html", &path)?;
//! let index = Index { key: "roots".into(), cache: stat.clone(), warnings: vec![], written_ns: 0, files: vec![stat.clone()], dirs: vec![] };
//! let file = dir.path().join("index");
//! index.save(&file)?;
//! let back = Index::load(&file).unwrap();
//! assert_eq!(back.files, index.files);
//! assert!(back.written_ns > 0);
//! assert!(back.files[0].same_as(&stat, i128::MAX), "same stat, written long before `racy_after`");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! It also keeps the stat of every directory walked: adding, removing or renaming an entry moves
//! the directory's mtime, so an unchanged tree is confirmed without reading any directory.
//!
//! Like git's index, a file is taken as unchanged only when its size, mtime, ctime and inode all
//! match, and only when its mtime is older than the moment the index was written: a file changed
//! within the same clock tick as the write ("racily clean") is read again.

use std::io::Write as _;
use std::path::Path;
use std::time::UNIX_EPOCH;

const HEADER: &str = "shipwright-scan-index 2";

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

impl FileStat {
    /// Stats `path` (following links).
    pub fn of(root: usize, name: &str, path: &Path) -> std::io::Result<FileStat> {
        Ok(FileStat::from_metadata(root, name, &std::fs::metadata(path)?))
    }

    /// The stat of an open file or a path already looked up.
    pub fn from_metadata(root: usize, name: &str, meta: &std::fs::Metadata) -> FileStat {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let (ctime_ns, ino) = {
            use std::os::unix::fs::MetadataExt;
            (i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()), meta.ino())
        };
        #[cfg(not(unix))]
        let (ctime_ns, ino) = (0, 0);
        FileStat { root, name: name.to_string(), size: meta.len(), mtime_ns, ctime_ns, ino }
    }

    /// Same file, same stat, and changed before `racy_after` (the index's write time)?
    #[inline]
    pub fn same_as(&self, now: &FileStat, racy_after: i128) -> bool {
        self.size == now.size
            && self.mtime_ns == now.mtime_ns
            && self.ctime_ns == now.ctime_ns
            && self.ino == now.ino
            && now.mtime_ns < racy_after
            && now.ctime_ns < racy_after
    }
}

/// The side file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// What the scan was configured with (roots and extensions): another key, another scan.
    pub key: String,
    /// The stat of the BuildCache file written with this index.
    pub cache: FileStat,
    /// The warnings of that scan, to print again when nothing changed.
    pub warnings: Vec<String>,
    /// When the index was written, ns since the epoch (set by [`Index::save`]).
    pub written_ns: i128,
    /// Every template file read.
    pub files: Vec<FileStat>,
    /// Every directory walked (`name` relative to its root, `""` for the root).
    pub dirs: Vec<FileStat>,
}

impl Index {
    /// Reads an index; `None` if it is missing, of another version or damaged in any way.
    pub fn load(path: &Path) -> Option<Index> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let key = unescape(lines.next()?.strip_prefix("key\t")?);
        let cache = parse_stat(lines.next()?.strip_prefix("cache\t")?)?;
        let written_ns = lines.next()?.strip_prefix("written\t")?.parse().ok()?;
        let warning_count: usize = lines.next()?.strip_prefix("warnings\t")?.parse().ok()?;
        let mut warnings = Vec::with_capacity(warning_count);
        for _ in 0..warning_count {
            warnings.push(unescape(lines.next()?));
        }
        let file_count: usize = lines.next()?.strip_prefix("files\t")?.parse().ok()?;
        let mut files = Vec::with_capacity(file_count);
        for _ in 0..file_count {
            files.push(parse_stat(lines.next()?)?);
        }
        let dir_count: usize = lines.next()?.strip_prefix("dirs\t")?.parse().ok()?;
        let mut dirs = Vec::with_capacity(dir_count);
        for _ in 0..dir_count {
            dirs.push(parse_stat(lines.next()?)?);
        }
        (lines.next()? == "end").then_some(Index { key, cache, warnings, written_ns, files, dirs })
    }

    /// Writes the index atomically, stamping it with the current time.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let now = std::time::SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128);
        let mut out = Vec::with_capacity(64 * self.files.len() + 256);
        writeln!(out, "{HEADER}")?;
        writeln!(out, "key\t{}", escape(&self.key))?;
        writeln!(out, "cache\t{}", stat_line(&self.cache))?;
        writeln!(out, "written\t{now}")?;
        writeln!(out, "warnings\t{}", self.warnings.len())?;
        for w in &self.warnings {
            writeln!(out, "{}", escape(w))?;
        }
        writeln!(out, "files\t{}", self.files.len())?;
        for f in &self.files {
            writeln!(out, "{}", stat_line(f))?;
        }
        writeln!(out, "dirs\t{}", self.dirs.len())?;
        for d in &self.dirs {
            writeln!(out, "{}", stat_line(d))?;
        }
        writeln!(out, "end")?;
        crate::write::atomic_write(path, &out).map(drop)
    }
}

fn stat_line(f: &FileStat) -> String {
    format!("{}\t{}\t{}\t{}\t{}\t{}", f.root, f.size, f.mtime_ns, f.ctime_ns, f.ino, escape(&f.name))
}

fn parse_stat(line: &str) -> Option<FileStat> {
    let mut f = line.split('\t');
    let stat = FileStat {
        root: f.next()?.parse().ok()?,
        size: f.next()?.parse().ok()?,
        mtime_ns: f.next()?.parse().ok()?,
        ctime_ns: f.next()?.parse().ok()?,
        ino: f.next()?.parse().ok()?,
        name: unescape(f.next()?),
    };
    f.next().is_none().then_some(stat)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for s in ["plain", "tab\there", "new\nline", "back\\slash\\n"] {
            assert_eq!(unescape(&escape(s)), s);
        }
    }

    #[test]
    fn damaged_index_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index");
        let cache = FileStat { root: 0, name: "c".into(), size: 1, mtime_ns: 1, ctime_ns: 1, ino: 1 };
        let index = Index { key: "k".into(), cache, warnings: vec!["w1".into()], written_ns: 0, files: vec![], dirs: vec![] };
        index.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(Index::load(&path).is_some());
        std::fs::write(&path, &text[..text.len() - 4]).unwrap();
        assert!(Index::load(&path).is_none(), "a torn index must not load");
        std::fs::write(&path, text.replace("index 2", "index 3")).unwrap();
        assert!(Index::load(&path).is_none());
    }

    #[test]
    fn racily_clean_files_are_not_trusted() {
        let stat = FileStat { root: 0, name: "a".into(), size: 1, mtime_ns: 100, ctime_ns: 100, ino: 1 };
        assert!(stat.same_as(&stat, 101));
        assert!(!stat.same_as(&stat, 100));
        let moved = FileStat { ino: 2, ..stat.clone() };
        assert!(!stat.same_as(&moved, 1000));
    }
}
