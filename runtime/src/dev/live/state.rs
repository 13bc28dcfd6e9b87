//! What every open page shares: the overlay's status, the messages to send, the number of
//! live clients; and the thread that turns the watcher's events into them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::dev::{Batch, Event, Subscription, WatchError};
use crate::planner::Reason;

/// How many messages a slow client may fall behind before it is sent a full update instead.
const BACKLOG: usize = 32;

/// The environment variable naming the file the layer keeps while `cargo build` is needed
/// (set by `shipwright-templates dev`).
pub(crate) const MARKER_ENV: &str = "SHIPWRIGHT_REBUILD_MARKER";

/// What the overlay shows, as sent to the browser.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub(crate) struct Status {
    /// One entry per template that needs a rebuild: the planner's, then the pages the askama
    /// dev renderer left to the build's render although their files were edited.
    pub(crate) rebuild: Vec<RebuildEntry>,
    /// Errors the watcher reported with the latest batch.
    pub(crate) errors: Vec<ErrorEntry>,
}

/// A template that needs `cargo build`, and where to look.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct RebuildEntry {
    pub(crate) template: String,
    pub(crate) file: String,
    pub(crate) line: Option<u32>,
    pub(crate) reason: String,
}

/// An error for the overlay.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ErrorEntry {
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) message: String,
}

/// Shared by the layer's clones, the sessions and the event threads.
pub(crate) struct Shared {
    /// Pre-serialized JSON messages to every session.
    pub(crate) messages: broadcast::Sender<Arc<str>>,
    pub(crate) status: Mutex<Status>,
    /// Counts the template updates sent; a page carries the one it was rendered at.
    pub(crate) seq: AtomicU64,
    /// Open sessions.
    pub(crate) clients: AtomicUsize,
    /// Template names to their files, as the batches named them.
    paths: Mutex<HashMap<String, PathBuf>>,
    /// The watcher's events, until the layer is first applied.
    events: Mutex<Option<Subscription>>,
    marker: Mutex<Option<PathBuf>>,
    /// The planner's entries of [`Status::rebuild`], and the askama dev renderer's.
    planned: Mutex<Vec<RebuildEntry>>,
    rendered: Mutex<Vec<RebuildEntry>>,
}

impl Shared {
    pub(crate) fn new(events: Subscription, initial: Vec<(String, Reason)>) -> Shared {
        let (messages, _) = broadcast::channel(BACKLOG);
        let shared = Shared {
            messages,
            status: Mutex::new(Status::default()),
            seq: AtomicU64::new(0),
            clients: AtomicUsize::new(0),
            paths: Mutex::new(HashMap::new()),
            events: Mutex::new(Some(events)),
            marker: Mutex::new(std::env::var_os(MARKER_ENV).map(PathBuf::from)),
            planned: Mutex::new(Vec::new()),
            rendered: Mutex::new(Vec::new()),
        };
        let planned = shared.entries(initial.iter().map(|(t, r)| (t.as_str(), r)));
        shared.set_status(planned, Vec::new());
        shared
    }

    /// The status after a batch (or at the start): the planner's entries with the renderer's,
    /// and the batch's errors. Keeps the marker in step.
    fn set_status(&self, planned: Vec<RebuildEntry>, errors: Vec<ErrorEntry>) {
        let rebuild = with_rendered(&planned, &self.rendered.lock());
        *self.planned.lock() = planned;
        let status = Status { rebuild, errors };
        self.update_marker(&status);
        *self.status.lock() = status;
    }

    /// The pages the askama dev renderer left to the build's render although their files were
    /// edited changed: the overlay says `cargo build` is needed for them (and the marker asks
    /// the runner for it). Tells every page.
    #[cfg(all(feature = "askama", debug_assertions))]
    pub(crate) fn set_rendered(&self, problems: &[crate::askama::DevProblem]) {
        let rendered: Vec<RebuildEntry> = problems
            .iter()
            .filter(|p| p.edited)
            .map(|p| {
                let (file, line) = match &p.at {
                    Some((file, line)) => (self.file_of(file), Some(*line)),
                    None => (self.file_of(&p.template), None),
                };
                let shown = if p.last_good {
                    "the last version that rendered"
                } else {
                    "the build's version"
                };
                RebuildEntry {
                    template: p.template.clone(),
                    file,
                    line,
                    reason: format!("{}; the page shows {shown}", p.reason),
                }
            })
            .collect();
        {
            let mut current = self.rendered.lock();
            if *current == rendered {
                return;
            }
            *current = rendered;
        }
        let errors = self.status.lock().errors.clone();
        let planned = self.planned.lock().clone();
        self.set_status(planned, errors);
        self.send(&self.status_message());
    }

    /// Sends `message` to every open session (none is an error: no page is open).
    pub(crate) fn send(&self, message: &serde_json::Value) {
        let _ = self.messages.send(Arc::from(message.to_string()));
    }

    pub(crate) fn status_message(&self) -> serde_json::Value {
        let status = self.status.lock().clone();
        serde_json::json!({ "type": "status", "rebuild": status.rebuild, "errors": status.errors })
    }

    /// The file to show for a template: the one the watcher read it from (relative to the
    /// working directory when under it), else the template's name.
    pub(crate) fn file_of(&self, template: &str) -> String {
        match self.paths.lock().get(template) {
            Some(path) => display_path(path),
            None => template.to_string(),
        }
    }

    fn entries<'a>(
        &self,
        reasons: impl Iterator<Item = (&'a str, &'a Reason)>,
    ) -> Vec<RebuildEntry> {
        reasons
            .map(|(template, reason)| {
                let (file, line) = match reason.location() {
                    Some((file, line)) => (file, Some(line)),
                    None => (changed_template(reason), None),
                };
                RebuildEntry {
                    template: template.to_string(),
                    file: self.file_of(file),
                    line,
                    reason: reason.to_string(),
                }
            })
            .collect()
    }

    /// Sets the runner's marker file and brings it in step with the status now.
    pub(crate) fn set_marker(&self, marker: Option<PathBuf>) {
        *self.marker.lock() = marker;
        let status = self.status.lock().clone();
        self.update_marker(&status);
    }

    /// Takes the watcher's events (once) for [`run`].
    pub(crate) fn take_events(&self) -> Option<Subscription> {
        self.events.lock().take()
    }

    /// Keeps the runner's marker file in step: written (with the reasons) while a rebuild is
    /// needed, gone otherwise.
    fn update_marker(&self, status: &Status) {
        let marker = self.marker.lock();
        let Some(marker) = marker.as_ref() else {
            return;
        };
        let result = if status.rebuild.is_empty() {
            match std::fs::remove_file(marker) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        } else {
            let text: String = status
                .rebuild
                .iter()
                .map(|r| match r.line {
                    Some(line) => format!("{}:{line}: {}\n", r.file, r.reason),
                    None => format!("{}: {}\n", r.file, r.reason),
                })
                .collect();
            let temp = marker.with_extension("writing");
            std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, marker))
        };
        if let Err(e) = result {
            eprintln!("shipwright: cannot update {}: {e}", marker.display());
        }
    }
}

/// Reads the watcher's events until it stops: each batch updates the status (and the
/// runner's marker), calls the app's re-render hook when a template's content changed, and
/// tells every page.
pub(crate) fn run(shared: Arc<Shared>, events: Subscription, rerender: Option<RerenderHook>) {
    let mut errors: Vec<ErrorEntry> = Vec::new();
    while let Ok(event) = events.recv() {
        match event {
            Event::HotReload(batch) | Event::RebuildNeeded(batch) => {
                on_batch(
                    &shared,
                    &batch,
                    std::mem::take(&mut errors),
                    rerender.as_ref(),
                );
            }
            Event::Error(error) => {
                eprintln!("shipwright: {error}");
                errors.push(error_entry(&error));
            }
        }
    }
}

/// The app's re-render hook.
pub(crate) type RerenderHook = Arc<dyn Fn(&Batch) + Send + Sync>;

fn on_batch(
    shared: &Shared,
    batch: &Batch,
    errors: Vec<ErrorEntry>,
    rerender: Option<&RerenderHook>,
) {
    {
        let mut paths = shared.paths.lock();
        for template in &batch.templates {
            paths.insert(template.name.clone(), template.path.clone());
        }
    }
    shared.set_status(shared.entries(batch.rebuild_reasons()), errors);
    if batch.content_changed() {
        if let Some(hook) = rerender {
            let call = std::panic::AssertUnwindSafe(|| hook(batch));
            if std::panic::catch_unwind(call).is_err() {
                eprintln!("shipwright: the app's re-render hook panicked");
            }
        }
        let seq = shared.seq.fetch_add(1, Ordering::AcqRel) + 1;
        shared.send(&serde_json::json!({ "type": "update", "seq": seq }));
    }
    shared.send(&shared.status_message());
    log(batch);
}

fn log(batch: &Batch) {
    if batch.plan.needs_rebuild() {
        for (template, reason) in batch.rebuild_reasons() {
            eprintln!("shipwright: cargo build needed for {template}: {reason}");
        }
    } else if batch.content_changed() {
        let names: Vec<&str> = batch.templates.iter().map(|t| t.name.as_str()).collect();
        eprintln!(
            "shipwright: hot reload of {} ({} affected)",
            names.join(", "),
            batch.affected().len()
        );
    }
}

fn error_entry(error: &WatchError) -> ErrorEntry {
    ErrorEntry {
        file: error.path.as_deref().map(display_path),
        line: error.line,
        message: error.message.clone(),
    }
}

/// `planned`, then each of `rendered` whose template the planner does not list already.
fn with_rendered(planned: &[RebuildEntry], rendered: &[RebuildEntry]) -> Vec<RebuildEntry> {
    let listed = |entry: &RebuildEntry| planned.iter().any(|p| p.template == entry.template);
    planned
        .iter()
        .chain(rendered.iter().filter(|r| !listed(r)))
        .cloned()
        .collect()
}

/// The template whose edit caused `reason`.
fn changed_template(reason: &Reason) -> &str {
    match reason {
        Reason::Dependency { cause } => changed_template(cause),
        Reason::MissingVariable { used_in, .. } => used_in,
        other => other.template(),
    }
}

/// `path` relative to the working directory when it is under it (where `cargo run` runs: the
/// crate), else as it is.
pub(crate) fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative.as_deref().unwrap_or(path).display().to_string()
}
