//! What the watcher tells its subscribers.

use std::path::PathBuf;

use crate::planner::{Plan, Reason};

/// One message from the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Serving the new sources is enough: the cache entries of [`Batch::affected`] are gone,
    /// so the next render reads the files as they are now. Nothing differs from the build in
    /// a way that needs `cargo build` (after an undo, this is the event that says so).
    HotReload(Batch),
    /// After this batch, at least one template needs `cargo build`; the reasons are in
    /// [`Batch::rebuild_reasons`]. The cache entries of [`Batch::affected`] are gone all the
    /// same, so that the new sources are what gets served meanwhile.
    RebuildNeeded(Batch),
    /// Something went wrong: a file that could not be read, a template that does not lex, a
    /// root that cannot be watched. The watcher goes on.
    Error(WatchError),
}

impl Event {
    /// The batch, unless this is an error.
    pub fn batch(&self) -> Option<&Batch> {
        match self {
            Event::HotReload(batch) | Event::RebuildNeeded(batch) => Some(batch),
            Event::Error(_) => None,
        }
    }
}

/// One debounced batch of template file changes and what the planner made of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Numbers the batches of one watcher from 1 on.
    pub seq: u64,
    /// The template files this batch saw, sorted by name, with their state on disk now.
    pub templates: Vec<TemplateFile>,
    /// The planner's verdict after this batch, against the build: [`Plan::affected`] is what
    /// the cache dropped; [`Plan::decisions`] holds every template that differs from the build.
    pub plan: Plan,
}

impl Batch {
    /// The templates whose cache entries were dropped: the changed ones, every template that
    /// renders them, and every template with a dynamic reference.
    pub fn affected(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        self.plan.affected()
    }

    /// Why `cargo build` is needed, per template, sorted by template (empty in a
    /// [`Event::HotReload`]).
    pub fn rebuild_reasons(&self) -> impl Iterator<Item = (&str, &Reason)> {
        self.plan.rebuild_reasons()
    }

    /// Whether any template file's content differs from what the watcher last read of it.
    pub fn content_changed(&self) -> bool {
        self.templates.iter().any(|t| t.changed)
    }
}

/// A template file as a batch found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateFile {
    /// The template's name, relative to its root.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// blake3 of its bytes now, hex (the BuildCache's `hash`); `None` if the file is gone.
    pub hash: Option<String>,
    /// Whether that differs from what the watcher last read (a save of the same bytes, or a
    /// burst that ends where it began, leaves it `false`).
    pub changed: bool,
}

/// A problem the watcher met and reported; it goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(path.as_deref(), *line))]
pub struct WatchError {
    /// The file or directory, when there is one.
    pub path: Option<PathBuf>,
    /// The 1-based line in it, when there is one.
    pub line: Option<u32>,
    /// What went wrong, lowercase.
    pub message: String,
}

impl WatchError {
    pub(crate) fn new(
        path: Option<PathBuf>,
        line: Option<u32>,
        message: impl Into<String>,
    ) -> Self {
        WatchError {
            path,
            line,
            message: message.into(),
        }
    }
}

/// `path:line: `, `path: ` or nothing.
fn location(path: Option<&std::path::Path>, line: Option<u32>) -> String {
    match (path, line) {
        (Some(path), Some(line)) => format!("{}:{line}: ", path.display()),
        (Some(path), None) => format!("{}: ", path.display()),
        (None, _) => String::new(),
    }
}
