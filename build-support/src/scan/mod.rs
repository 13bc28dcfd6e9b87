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
//! assert_eq!(scanned.cache.templates["pages/home.html"].transitive, ["base.html"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Roots are searched in order and the first root holding a name wins (askama's `dirs`).
//! Symbolic links are followed inside a root; a link that leads out of its root is reported and
//! never read, and a link loop is reported. A file that cannot be read or is not UTF-8 is
//! reported and left out. A file the lexer stops in is kept, with its hashes, and reported in
//! [`BuildCache::errors`].

pub mod index;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyze::content_hash;
use crate::format::{BuildCache, TemplateError, TemplateRecord, template_id};
use crate::graph::link;
use crate::lex::refs::Target;
use index::{FileStat, Index};

/// The extensions scanned unless configured otherwise.
pub const DEFAULT_EXTENSIONS: [&str; 8] = ["html", "htm", "xml", "txt", "svg", "j2", "jinja", "jinja2"];

/// The template roots and which files count as templates.
#[derive(Debug, Clone)]
pub struct Roots {
    /// `(directory on disk, label written into the BuildCache)`, in search order.
    pub dirs: Vec<(PathBuf, String)>,
    /// File extensions (without the dot) that are templates.
    pub extensions: Vec<String>,
}

impl Roots {
    /// Roots with the default extensions.
    pub fn new(dirs: Vec<(PathBuf, String)>) -> Self {
        Roots { dirs, extensions: DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect() }
    }

    fn is_template(&self, path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| self.extensions.iter().any(|x| x.eq_ignore_ascii_case(e)))
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
#[derive(Debug)]
pub enum ScanError {
    /// A root does not exist or is not a directory.
    MissingRoot(PathBuf),
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::MissingRoot(path) => {
                write!(f, "template root {} does not exist or is not a directory", path.display())
            }
        }
    }
}

impl std::error::Error for ScanError {}

/// What a scan found.
#[derive(Debug)]
pub struct Scanned {
    /// The BuildCache of the roots.
    pub cache: BuildCache,
    /// Problems: skipped files, lexer errors, missing references, cycles.
    pub warnings: Vec<Warning>,
    /// The stat of every template read, for the next scan's fast path.
    pub stats: Vec<FileStat>,
    /// How many files were read and analysed (the others were taken from `previous`).
    pub analysed: usize,
}

/// A template file found on disk.
struct Found {
    root: usize,
    name: String,
    path: PathBuf,
}

/// Scans every root. With `previous` (the last index and its BuildCache), files whose stat
/// did not move are not read again.
pub fn scan(roots: &Roots, previous: Option<(&Index, &BuildCache)>) -> Result<Scanned, ScanError> {
    let mut warnings = Vec::new();
    let found = walk(roots, &mut warnings)?;
    let known: HashMap<(usize, &str), &FileStat> = previous
        .map(|(index, _)| index.files.iter().map(|f| ((f.root, f.name.as_str()), f)).collect())
        .unwrap_or_default();
    let racy_after = previous.map_or(0, |(index, _)| index.written_ns);
    let kept = |file: &Found, stat: &FileStat| -> Option<FileResult> {
        let (_, old_cache) = previous?;
        let unchanged = known.get(&(file.root, file.name.as_str()))?.same_as(stat, racy_after);
        let record = old_cache.templates.get(&file.name).filter(|r| unchanged && r.root == file.root)?;
        let error = old_cache.errors.iter().find(|e| e.template == file.name).cloned();
        Some(FileResult::Kept { record: record.clone(), error, stat: stat.clone() })
    };

    let results: Vec<FileResult> = found
        .par_iter()
        .map(|file| match FileStat::of(file.root, &file.name, &file.path) {
            Ok(stat) => kept(file, &stat).unwrap_or_else(|| read_one(roots, file, stat)),
            Err(e) => FileResult::Skipped(warning(roots, file, None, format!("cannot read: {e}"))),
        })
        .collect();

    let mut cache = BuildCache::new(roots.dirs.iter().map(|(_, label)| label.clone()).collect());
    let mut stats = Vec::with_capacity(results.len());
    let mut lines: HashMap<(String, String), u32> = HashMap::new();
    let mut analysed = 0;
    for (file, result) in found.iter().zip(results) {
        let (record, error, stat) = match result {
            FileResult::Skipped(w) => {
                warnings.push(w);
                continue;
            }
            FileResult::Kept { record, error, stat } => (record, error, stat),
            FileResult::Read { record, error, stat, dep_lines } => {
                analysed += 1;
                lines.extend(dep_lines.into_iter().map(|(dep, line)| ((file.name.clone(), dep), line)));
                (record, error, stat)
            }
        };
        if let Some(error) = &error {
            warnings.push(warning(roots, file, Some(error.line), error.message.clone()));
        }
        cache.errors.extend(error);
        cache.templates.insert(file.name.clone(), record);
        stats.push(stat);
    }
    if let Some((_, old_cache)) = previous {
        for m in &old_cache.missing {
            lines.entry((m.template.clone(), m.name.clone())).or_insert(m.line);
        }
    }
    let by_name: HashMap<&str, &Found> = found.iter().map(|f| (f.name.as_str(), f)).collect();
    link(&mut cache, |template, dep| {
        if let Some(&line) = lines.get(&(template.to_string(), dep.to_string())) {
            return line;
        }
        // A kept file whose reference just lost its target: read it again for the line.
        by_name.get(template).and_then(|file| dep_lines_of(&file.path).into_iter().find(|(d, _)| d == dep)).map_or(0, |(_, line)| line)
    });
    for m in &cache.missing {
        let file = by_name[m.template.as_str()];
        warnings.push(warning(roots, file, Some(m.line), format!("`{}` {}: {}", m.name, m.reason, "reference does not resolve")));
    }
    for cycle in &cache.cycles {
        let file = by_name[cycle[0].as_str()];
        warnings.push(warning(roots, file, None, format!("dependency cycle: {}", cycle.join(" -> "))));
    }
    warnings.sort();
    Ok(Scanned { cache, warnings, stats, analysed })
}

/// The fast path: did no template file appear, vanish or change its stat since `index`?
/// Walks the roots and stats every file; reads none.
pub fn unchanged(roots: &Roots, index: &Index) -> Result<bool, ScanError> {
    let mut warnings = Vec::new();
    let found = walk(roots, &mut warnings)?;
    if found.len() != index.files.len() {
        return Ok(false);
    }
    Ok(found.par_iter().zip(&index.files).all(|(file, old)| {
        file.root == old.root
            && file.name == old.name
            && FileStat::of(file.root, &file.name, &file.path).is_ok_and(|now| old.same_as(&now, index.written_ns))
    }))
}

enum FileResult {
    Skipped(Warning),
    Kept { record: TemplateRecord, error: Option<TemplateError>, stat: FileStat },
    Read { record: TemplateRecord, error: Option<TemplateError>, stat: FileStat, dep_lines: Vec<(String, u32)> },
}

/// Reads, hashes and analyses one file.
fn read_one(roots: &Roots, file: &Found, stat: FileStat) -> FileResult {
    let bytes = match std::fs::read(&file.path) {
        Ok(bytes) => bytes,
        Err(e) => return FileResult::Skipped(warning(roots, file, None, format!("cannot read: {e}"))),
    };
    let hash = content_hash(&bytes);
    let src = match std::str::from_utf8(&bytes) {
        Ok(src) => src,
        Err(e) => {
            let line = crate::lex::line_of(&String::from_utf8_lossy(&bytes[..e.valid_up_to()]), usize::MAX);
            return FileResult::Skipped(warning(roots, file, Some(line), format!("not UTF-8 (byte {}); skipped", e.valid_up_to())));
        }
    };
    let mut record = TemplateRecord {
        id: template_id(&file.name),
        root: file.root,
        hash,
        static_hash: String::new(),
        interface_hash: String::new(),
        size: bytes.len() as u64,
        deps: Vec::new(),
        dynamic: Vec::new(),
        transitive: Vec::new(),
        vars: Vec::new(),
    };
    match crate::analyze::analyze(src) {
        Ok(analysis) => {
            let dep_lines = static_lines(&analysis.references);
            record.static_hash = analysis.static_hash;
            record.interface_hash = analysis.interface_hash;
            record.deps = analysis.deps;
            record.dynamic = analysis.dynamic;
            record.vars = analysis.vars;
            FileResult::Read { record, error: None, stat, dep_lines }
        }
        Err(e) => {
            // The hashes of a file that does not lex are its content hash: any edit changes them.
            record.static_hash = record.hash.clone();
            record.interface_hash = record.hash.clone();
            let error = TemplateError { template: file.name.clone(), line: e.line, message: e.message };
            FileResult::Read { record, error: Some(error), stat, dep_lines: Vec::new() }
        }
    }
}

fn static_lines(references: &[crate::lex::refs::Reference]) -> Vec<(String, u32)> {
    references
        .iter()
        .filter_map(|r| match &r.target {
            Target::Static(name) => Some((name.clone(), r.line)),
            Target::Dynamic(_) => None,
        })
        .collect()
}

#[cold]
fn dep_lines_of(path: &Path) -> Vec<(String, u32)> {
    let Ok(src) = std::fs::read_to_string(path) else { return Vec::new() };
    crate::analyze::analyze(&src).map(|a| static_lines(&a.references)).unwrap_or_default()
}

#[cold]
fn warning(roots: &Roots, file: &Found, line: Option<u32>, message: String) -> Warning {
    Warning { file: format!("{}/{}", roots.dirs[file.root].1, file.name), line, message }
}

/// Every template file under the roots, first root first, a name only once.
fn walk(roots: &Roots, warnings: &mut Vec<Warning>) -> Result<Vec<Found>, ScanError> {
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for (root, (dir, label)) in roots.dirs.iter().enumerate() {
        let canonical_root = dir.canonicalize().map_err(|_| ScanError::MissingRoot(dir.clone()))?;
        if !canonical_root.is_dir() {
            return Err(ScanError::MissingRoot(dir.clone()));
        }
        let mut entries = walkdir::WalkDir::new(dir).follow_links(true).into_iter();
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let file = e.path().map_or_else(|| label.clone(), |p| display(label, dir, p));
                    let message = if e.loop_ancestor().is_some() {
                        "symbolic link loop; not followed".to_string()
                    } else {
                        format!("cannot read: {}", e.io_error().map_or_else(|| e.to_string(), |io| io.to_string()))
                    };
                    warnings.push(Warning { file, line: None, message });
                    continue;
                }
            };
            if entry.path_is_symlink() {
                let inside = entry.path().canonicalize().is_ok_and(|target| target.starts_with(&canonical_root));
                if !inside {
                    let file = display(label, dir, entry.path());
                    warnings.push(Warning { file, line: None, message: "symbolic link leads out of the template root; not read".into() });
                    if entry.file_type().is_dir() {
                        entries.skip_current_dir();
                    }
                    continue;
                }
            }
            if !entry.file_type().is_file() || !roots.is_template(entry.path()) {
                continue;
            }
            let Some(name) = relative_name(dir, entry.path()) else {
                let file = display(label, dir, entry.path());
                warnings.push(Warning { file, line: None, message: "file name is not UTF-8; skipped".into() });
                continue;
            };
            found.entry(name.clone()).or_insert(Found { root, name, path: entry.into_path() });
        }
    }
    Ok(found.into_values().collect())
}

/// `pages/home.html` for `<root>/pages/home.html`.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let mut name = String::new();
    for part in relative.components() {
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(part.as_os_str().to_str()?);
    }
    Some(name)
}

fn display(label: &str, root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    format!("{label}/{}", relative.to_string_lossy().replace('\\', "/"))
}
