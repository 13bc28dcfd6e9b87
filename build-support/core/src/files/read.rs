//! Reading a template file by the rule: opened without blocking, checked through its own
//! handle to be a regular file, read up to a size limit.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::{FileError, Problem, Stat};

/// Reads the regular file at `path` (links followed) by the rule: opened with `O_NONBLOCK`, so
/// that a FIFO cannot block the open; checked through the opened handle's own metadata to be a
/// regular file; at most `max_size` bytes, a larger file is an error naming it.
///
/// ```
/// use shipwright_core::files::{Problem, read_file};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.html");
/// std::fs::write(&path, "hello")?;
/// assert_eq!(read_file(&path, 16)?, b"hello");
/// let error = read_file(&path, 4).unwrap_err();
/// assert_eq!(error.problem, Problem::TooLarge { size: 5, limit: 4 });
/// assert!(error.to_string().ends_with("a.html: 5 bytes, over the limit of 4 bytes; skipped"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_file(path: &Path, max_size: u64) -> Result<Vec<u8>, FileError> {
    let mut bytes = Vec::new();
    read_path(path, max_size, false, &mut bytes)?;
    Ok(bytes)
}

/// [`read_file`] onto the end of `bytes` (a buffer to reuse, or one that gathers several
/// files), and the file's stat, taken through the opened handle. On an error `bytes` is left as
/// it was.
pub fn read_file_into(path: &Path, max_size: u64, bytes: &mut Vec<u8>) -> Result<Stat, FileError> {
    read_path(path, max_size, false, bytes)
}

/// Reads `path` onto the end of `bytes` (see [`read_file`]); with `no_follow`, a symbolic link as the last
/// component is refused.
pub(crate) fn read_path(
    path: &Path,
    max_size: u64,
    no_follow: bool,
    bytes: &mut Vec<u8>,
) -> Result<Stat, FileError> {
    let file = open(path, no_follow).map_err(|e| FileError::io(path, e))?;
    read_opened(file, || path.to_path_buf(), max_size, bytes)
}

#[cfg(unix)]
fn open(path: &Path, no_follow: bool) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    if no_follow {
        flags |= OFlags::NOFOLLOW;
    }
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

#[cfg(not(unix))]
fn open(path: &Path, _no_follow: bool) -> std::io::Result<File> {
    // No FIFOs to block on here: a special file is refused by its metadata after the open.
    File::open(path)
}

/// A directory whose files are opened by name (`openat` on Unix: the kernel looks up one name
/// per file instead of the whole path). One that cannot be opened falls back to paths.
#[derive(Debug)]
pub struct OpenDir {
    path: PathBuf,
    #[cfg(unix)]
    fd: Option<std::os::fd::OwnedFd>,
}

impl OpenDir {
    /// Opens `dir` to look names up in it (`O_PATH` where there is one).
    pub fn open(dir: &Path) -> OpenDir {
        OpenDir {
            path: dir.to_path_buf(),
            #[cfg(unix)]
            fd: open_dir(dir).ok(),
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file `file_name` of this directory onto the end of `bytes`, by the rule (see
    /// [`read_file`]; links followed), and gives its stat, taken through the opened handle. On
    /// an error `bytes` is left as it was.
    pub fn read_into(
        &self,
        file_name: &str,
        max_size: u64,
        bytes: &mut Vec<u8>,
    ) -> Result<Stat, FileError> {
        #[cfg(unix)]
        if let Some(fd) = &self.fd {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
            let opened = rustix::fs::openat(fd, file_name, flags, Mode::empty());
            let path = || self.path.join(file_name);
            let file = opened.map_err(|e| FileError::io(&path(), e.into()))?;
            return read_opened(File::from(file), path, max_size, bytes);
        }
        read_path(&self.path.join(file_name), max_size, false, bytes)
    }

    /// The stat of the file `file_name` of this directory (links followed).
    pub fn stat(&self, file_name: &str) -> std::io::Result<Stat> {
        #[cfg(unix)]
        if let Some(fd) = &self.fd {
            let stat = rustix::fs::statat(fd, file_name, rustix::fs::AtFlags::empty())?;
            return Ok(stat_of_raw(&stat));
        }
        std::fs::metadata(self.path.join(file_name)).map(|meta| Stat::of(&meta))
    }
}

/// A directory opened to look names up in it, not to read it (`O_PATH` where there is one).
#[cfg(unix)]
fn open_dir(path: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let access = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let access = OFlags::RDONLY;
    Ok(rustix::fs::open(
        path,
        access | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// The same fields as [`Stat::of`] from a raw stat.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // the field types differ between platforms
pub(super) fn stat_of_raw(stat: &rustix::fs::Stat) -> Stat {
    let mtime_ns = if stat.st_mtime < 0 {
        0
    } else {
        stat.st_mtime as i128 * 1_000_000_000 + stat.st_mtime_nsec as i128
    };
    Stat {
        size: stat.st_size as u64,
        mtime_ns,
        ctime_ns: stat.st_ctime as i128 * 1_000_000_000 + stat.st_ctime_nsec as i128,
        dev: stat.st_dev as u64,
        ino: stat.st_ino as u64,
    }
}

/// Checks the opened `file` to be a regular file no larger than `max_size`, and reads it whole
/// onto the end of `bytes`: for a file that did not grow since its stat, one `read` (one byte
/// more than the stat says is asked for, so that a file that grew is seen to have grown). On an
/// error `bytes` is left as it was. `path` names the file in an error (built only then).
fn read_opened(
    mut file: File,
    path: impl Fn() -> PathBuf,
    max_size: u64,
    bytes: &mut Vec<u8>,
) -> Result<Stat, FileError> {
    let meta = file.metadata().map_err(|e| FileError::io(&path(), e))?;
    if !meta.is_file() {
        return Err(not_regular(&path(), &meta));
    }
    let stat = Stat::of(&meta);
    if stat.size > max_size {
        return Err(too_large(&path(), stat.size, max_size));
    }
    // Never more than one byte over the limit: enough to see that a file grew past it.
    let cap = usize::try_from(max_size.saturating_add(1)).unwrap_or(usize::MAX);
    let start = bytes.len();
    let mut len = (stat.size as usize).saturating_add(1).min(cap);
    bytes.resize(start + len, 0);
    let mut filled = 0;
    let result = loop {
        match file.read(&mut bytes[start + filled..]) {
            Ok(0) => break Ok(stat),
            Ok(n) => {
                filled += n;
                if filled as u64 > max_size {
                    break Err(too_large(&path(), filled as u64, max_size));
                }
                // A short read of a regular file is its end (once the stat's size is reached:
                // one `read` returns at most about 2 GiB).
                if filled < len && filled as u64 >= stat.size {
                    break Ok(stat);
                }
                if filled == len {
                    len = len.saturating_mul(2).min(cap);
                    bytes.resize(start + len, 0);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(FileError::io(&path(), e)),
        }
    };
    bytes.truncate(if result.is_ok() {
        start + filled
    } else {
        start
    });
    result
}

#[cold]
fn not_regular(path: &Path, meta: &std::fs::Metadata) -> FileError {
    FileError::new(path, Problem::Special(kind_of(&meta.file_type())))
}

#[cold]
fn too_large(path: &Path, size: u64, limit: u64) -> FileError {
    FileError::new(path, Problem::TooLarge { size, limit })
}

/// What a file that is not a regular file is, for messages.
pub(super) fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}
