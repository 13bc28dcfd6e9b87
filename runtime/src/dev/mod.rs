//! The dev watcher: template edits on disk, planned against the build, the cache's stale
//! entries dropped, and events to whoever listens (the app's browser socket, a log line).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use shipwright_runtime::dev::{Event, Watcher};
//! use shipwright_runtime::{RebuildPlanner, RenderMode, TemplateCache};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("home.html"), "<h1>{{ title }}</h1>{% include 'nav.html' %}")?;
//! std::fs::write(dir.path().join("nav.html"), "<nav>home</nav>")?;
//! // In an application: `RebuildPlanner::from_embedded(embedded_templates!(), ...)`.
//! let roots = shipwright_build::scan::Roots::new(vec![(dir.path().into(), "templates".into())]);
//! let build = shipwright_build::scan::scan(&roots, None)?.cache;
//!
//! let cache: Arc<TemplateCache<Arc<str>>> = Arc::new(TemplateCache::from_build_cache(&build));
//! cache.insert("nav.html", Arc::from("<nav>home</nav>"));
//! let planner = RebuildPlanner::new(build, RenderMode::Runtime);
//! let watcher = Watcher::builder(planner, vec![dir.path().into()])
//!     .debounce(Duration::from_millis(10))
//!     .cache(Arc::clone(&cache))
//!     .start()?;
//! let events = watcher.subscribe();
//!
//! std::fs::write(dir.path().join("nav.html"), "<nav>Home</nav>")?;
//! let Event::HotReload(batch) = events.recv_timeout(Duration::from_secs(10))? else { panic!() };
//! assert_eq!(batch.affected().collect::<Vec<_>>(), ["home.html", "nav.html"]);
//! assert_eq!(batch.templates[0].name, "nav.html");
//! assert_eq!(batch.plan.decision("nav.html").unwrap().to_string(), "hot reload: literal text changed in nav.html");
//! assert!(cache.get("nav.html").is_none(), "the stale source is gone");
//!
//! // An include of a template that does not exist: `cargo build` needed, and why.
//! std::fs::write(dir.path().join("nav.html"), "<nav>{% include 'menu.html' %}</nav>")?;
//! let Event::RebuildNeeded(batch) = events.recv_timeout(Duration::from_secs(10))? else { panic!() };
//! let (template, reason) = batch.rebuild_reasons().find(|(t, _)| *t == "nav.html").unwrap();
//! assert_eq!(reason.to_string(), "nav.html references menu.html, which is not a template");
//! # let _ = template;
//! # Ok(())
//! # }
//! ```
//!
//! # How a batch is handled
//!
//! notify reports the file events (inotify, FSEvents, ReadDirectoryChangesW: no polling),
//! and the watcher gathers them into batches: a batch ends when no event came for the
//! [debounce window](WatcherBuilder::debounce), or 1 ms after an event that completes a file
//! (closed by its writer, or renamed into place) when nothing followed it, so that a save
//! reaches the page without waiting out the window. For each batch the watcher reads every template file the events name,
//! hashes it, gives the new texts to the [`RebuildPlanner`], calls the invalidation hooks
//! with the plan's `affected` templates, and then publishes: an [`Event::Error`] for each
//! template that does not lex (file and line), then [`Event::HotReload`] or
//! [`Event::RebuildNeeded`]. A file the events name is always invalidated, even when its
//! bytes are what the watcher last read, so that nothing read half-way through a save can
//! stay in the cache: whatever the editor does (write in place, write a temporary file and
//! rename it over, truncate then write, delete then create, a thousand saves in a row), the
//! last event comes after the last write, and its batch reads the final bytes.
//!
//! A directory in an event is read whole; a template root that disappears reports its
//! templates as removed, and when it is made again the watcher watches it anew and reads it.
//! Errors (a file that cannot be read, a root that cannot be watched, even a panic in a hook)
//! are published as [`Event::Error`]; the watcher goes on.
//!
//! At [`start`](WatcherBuilder::start), before it returns, the watcher reads every root
//! once and handles whatever differs from the build (edits made while the app was not
//! running) as a batch, so that a cache seeded from the embedded sources serves no stale
//! template from the first request on.

mod event;
#[cfg(feature = "axum")]
pub mod live;
mod subscribe;
mod track;
pub(crate) mod watch;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

pub use event::{Batch, Event, TemplateFile, WatchError};
#[cfg(feature = "axum")]
pub use live::LiveReload;
pub use subscribe::{RecvError, Subscription};

use crate::cache::{TemplateCache, Weigher};
use crate::planner::{Plan, RebuildPlanner};
use subscribe::Hub;
use track::{Check, Hook, Tracker};

/// The default [debounce window](WatcherBuilder::debounce): 10 ms.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(10);

/// Watches template roots and publishes what their changes mean; stops when dropped.
pub struct Watcher {
    hub: Arc<Hub>,
    plan: Arc<Mutex<Plan>>,
    running: Option<watch::Running>,
}

impl Watcher {
    /// Options for a watcher of `roots`, the directories of the planner's BuildCache roots, in
    /// the same order.
    pub fn builder(planner: RebuildPlanner, roots: Vec<PathBuf>) -> WatcherBuilder {
        WatcherBuilder {
            planner,
            roots,
            debounce: DEFAULT_DEBOUNCE,
            hooks: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Every event published from now on.
    pub fn subscribe(&self) -> Subscription {
        self.hub.subscribe()
    }

    /// The planner's verdict after the latest batch (or the start-up read): every template
    /// that differs from the build, with its decision. `needs_rebuild()` tells whether the
    /// overlay should be up now.
    pub fn plan(&self) -> Plan {
        self.plan.lock().clone()
    }

    /// Stops watching and waits for the event thread; subscribers then see
    /// [`RecvError::Closed`] after the events already sent.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.sender.send(watch::Message::Stop);
            let _ = running.thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Watcher`].
pub struct WatcherBuilder {
    planner: RebuildPlanner,
    roots: Vec<PathBuf>,
    debounce: Duration,
    hooks: Vec<Hook>,
    checks: Vec<Check>,
}

impl WatcherBuilder {
    /// How long a batch waits for more events after one that does not complete a file (a
    /// file made, truncated, written to, removed). A save ends with an event that completes
    /// the file (the writer closes it, or renames it into place), and then the batch waits
    /// only 1 ms, so the window delays only saves that end otherwise. Editors write a file in
    /// several steps within a millisecond or two; a longer window only delays those updates.
    /// Whatever the window, a batch reads files as they are when it runs and every event is
    /// followed by a batch, so the last one always reads the final bytes. Defaults to:
    /// [`DEFAULT_DEBOUNCE`] (10 ms).
    ///
    /// # Panics
    ///
    /// If `window` is zero.
    pub fn debounce(mut self, window: Duration) -> Self {
        assert!(!window.is_zero(), "the debounce window must not be zero");
        self.debounce = window;
        self
    }

    /// Drops the affected templates from `cache` (with everything that depends on them, by
    /// the cache's graph) before each batch's events go out. Defaults to: no cache.
    pub fn cache<V, W>(self, cache: Arc<TemplateCache<V, W>>) -> Self
    where
        V: Send + Sync + 'static,
        W: Weigher<V> + Send + Sync + 'static,
    {
        self.on_invalidate(move |names| {
            cache.invalidate_many(names.iter().map(String::as_str));
        })
    }

    /// Keeps `templates` in step with the roots: drops the affected templates from its
    /// [cache](crate::render::Templates::cache) (as [`cache`](Self::cache) does), and checks
    /// that minijinja parses each template a batch reads. A template that does not is
    /// reported as an [`Event::Error`] with its file and line with every batch (the overlay
    /// shows it) until an edit makes it parse again; meanwhile `templates` serves its last
    /// good version.
    #[cfg(feature = "minijinja")]
    pub fn templates(mut self, templates: &crate::render::Templates) -> Self {
        let check = templates.syntax_check();
        self.checks.push(Box::new(move |name, text| {
            check(name, text).map(|(broken, older)| {
                let line = broken.line.and_then(|l| u32::try_from(l).ok());
                let served = if older {
                    "its last good version is served"
                } else {
                    "it has no good version to serve"
                };
                (line, format!("syntax error: {}; {served}", broken.message))
            })
        }));
        self.cache(Arc::clone(templates.cache()))
    }

    /// Calls `hook` with each batch's affected templates, sorted, before the batch's events go
    /// out: for caches of the app's own (compiled templates, rendered pages). Defaults to:
    /// none.
    pub fn on_invalidate(mut self, hook: impl Fn(&[String]) + Send + Sync + 'static) -> Self {
        self.hooks.push(Box::new(hook));
        self
    }

    /// Watches the roots, reads them once (see the [module documentation](self)), and starts
    /// the event thread. Fails when the watcher cannot start: the operating system refuses,
    /// or the parent directory of a root does not exist. A root that does not exist yet is
    /// not an error: it is watched once it appears.
    pub fn start(self) -> Result<Watcher, WatchError> {
        let roots = self
            .roots
            .iter()
            .map(|dir| absolute(dir))
            .collect::<Result<Vec<_>, _>>()?;
        let tracker = Tracker::new(self.planner, roots, self.hooks, self.checks);
        let hub = Arc::new(Hub::default());
        let plan = Arc::new(Mutex::new(Plan::default()));
        let running = watch::start(tracker, self.debounce, Arc::clone(&hub), Arc::clone(&plan))?;
        Ok(Watcher {
            hub,
            plan,
            running: Some(running),
        })
    }
}

impl fmt::Debug for WatcherBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatcherBuilder")
            .field("roots", &self.roots)
            .field("debounce", &self.debounce)
            .field("hooks", &self.hooks.len())
            .finish_non_exhaustive()
    }
}

/// The root as the file events will name it: its parent resolved (symbolic links too), its
/// own name kept, so that a root that does not exist yet has a path all the same.
fn absolute(dir: &std::path::Path) -> Result<PathBuf, WatchError> {
    let absolute = std::path::absolute(dir).map_err(|e| track::io_error(dir, &e))?;
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Ok(absolute);
    };
    let parent = parent.canonicalize().map_err(|e| {
        let mut error = track::io_error(parent, &e);
        error.message = format!(
            "the parent of the template root {} cannot be watched: {}",
            dir.display(),
            error.message
        );
        error
    })?;
    Ok(parent.join(name))
}
