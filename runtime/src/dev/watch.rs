//! The file events: notify's debouncer on every root (recursive) and on each root's parent
//! (so that a root removed and made again is seen), and the thread that turns each debounced
//! batch into a [`Tracker`] batch.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer_opt};
use parking_lot::Mutex;

use super::event::{Event, WatchError};
use super::subscribe::Hub;
use super::track::{Mode, Tracker, io_error};
use crate::planner::Plan;

type Notify = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// What the event thread receives.
pub(crate) enum Message {
    Events(DebounceEventResult),
    Stop,
}

/// The running side of a [`Watcher`](super::Watcher).
pub(crate) struct Running {
    pub(crate) sender: Sender<Message>,
    pub(crate) thread: std::thread::JoinHandle<()>,
}

/// Watches the roots, runs the start-up rescan (its events go to `hub` before this returns),
/// and starts the event thread.
pub(crate) fn start(
    mut tracker: Tracker,
    debounce: Duration,
    hub: Arc<Hub>,
    plan: Arc<Mutex<Plan>>,
) -> Result<Running, WatchError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let events = sender.clone();
    // Links are not followed: every directory a template can be in is a real directory under
    // the root (the file rule follows links only inside the root's real path), so each is
    // watched once, by its own path; following them would watch a link loop or a chain of
    // diamonds path by path, without end.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut notify = new_debouncer_opt::<_, notify::RecommendedWatcher, RecommendedCache>(
        debounce,
        None,
        move |result| {
            let _ = events.send(Message::Events(result));
        },
        RecommendedCache::new(),
        config,
    )
    .map_err(|e| {
        WatchError::new(
            None,
            None,
            format!("cannot start the file watcher: {}", notify_message(&e)),
        )
    })?;
    let mut roots: Vec<Root> = Vec::new();
    for dir in tracker.roots() {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Err(e) = notify.watch(parent, RecursiveMode::NonRecursive) {
            return Err(WatchError::new(
                Some(parent.to_path_buf()),
                None,
                format!(
                    "cannot watch the parent of a template root: {}",
                    notify_message(&e)
                ),
            ));
        }
        let mut root = Root {
            dir: dir.clone(),
            watched: false,
        };
        if let Some(error) = root.rewatch(&mut notify) {
            publish(&hub, &plan, &tracker, vec![Event::Error(error)]);
        }
        roots.push(root);
    }
    let dirs: Vec<PathBuf> = tracker.roots().to_vec();
    let events = tracker.batch(&dirs, Mode::Rescan);
    publish(&hub, &plan, &tracker, events);
    let thread = std::thread::Builder::new()
        .name("shipwright-dev-watcher".into())
        .spawn(move || run(receiver, notify, roots, tracker, hub, plan))
        .map_err(|e| io_error(Path::new("."), &e))?;
    Ok(Running { sender, thread })
}

/// A template root and whether notify watches it now.
struct Root {
    dir: PathBuf,
    watched: bool,
}

impl Root {
    /// Watches the root again if it exists and is not watched; an error if that fails.
    fn rewatch(&mut self, notify: &mut Notify) -> Option<WatchError> {
        if self.watched || !self.dir.is_dir() {
            return None;
        }
        // A root that was removed leaves a dead watch behind; forget it first.
        let _ = notify.unwatch(&self.dir);
        match notify.watch(&self.dir, RecursiveMode::Recursive) {
            Ok(()) => {
                self.watched = true;
                None
            }
            Err(e) => Some(WatchError::new(
                Some(self.dir.clone()),
                None,
                format!("cannot watch the template root: {}", notify_message(&e)),
            )),
        }
    }
}

/// The event thread: each debounced batch (and whatever queued behind it) is one tracker
/// batch. Nothing here ends the loop but [`Message::Stop`] or the watcher being dropped.
fn run(
    receiver: Receiver<Message>,
    mut notify: Notify,
    mut roots: Vec<Root>,
    mut tracker: Tracker,
    hub: Arc<Hub>,
    plan: Arc<Mutex<Plan>>,
) {
    while let Ok(first) = receiver.recv() {
        let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
        let mut rescan = false;
        let mut events = Vec::new();
        let mut stop = false;
        // Coalesce what is already queued: a burst of saves becomes one plan.
        for message in std::iter::once(first).chain(std::iter::from_fn(|| receiver.try_recv().ok()))
        {
            match message {
                Message::Stop => stop = true,
                Message::Events(Ok(batch)) => {
                    for event in batch {
                        rescan |= event.need_rescan();
                        if writes(&event.kind) {
                            paths.extend(event.event.paths);
                        }
                    }
                }
                Message::Events(Err(errors)) => {
                    for error in errors {
                        let path = error.paths.first().cloned();
                        events.push(Event::Error(WatchError::new(
                            path,
                            None,
                            notify_message(&error),
                        )));
                    }
                }
            }
        }
        if stop {
            break;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            // A root that is gone: its watch died with it. A root that is back: watch it again
            // and read all of it (files made before the new watch saw them).
            for root in &mut roots {
                if root.watched && !root.dir.is_dir() {
                    root.watched = false;
                    let _ = notify.unwatch(&root.dir);
                    paths.insert(root.dir.clone());
                } else if !root.watched && root.dir.is_dir() {
                    match root.rewatch(&mut notify) {
                        Some(error) => events.push(Event::Error(error)),
                        None => rescan = true,
                    }
                }
            }
            let paths: Vec<PathBuf> = paths.into_iter().collect();
            events.extend(tracker.batch(&paths, Mode::Events));
            if rescan {
                let dirs: Vec<PathBuf> = roots.iter().map(|r| r.dir.clone()).collect();
                events.extend(tracker.batch(&dirs, Mode::Rescan));
            }
            events
        }));
        let events = outcome.unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned());
            vec![Event::Error(WatchError::new(
                None,
                None,
                format!(
                    "internal error in the watcher: {}",
                    message.as_deref().unwrap_or("panic")
                ),
            ))]
        });
        publish(&hub, &plan, &tracker, events);
    }
    hub.close();
}

/// Whether an event kind can mean new bytes: not a read (the app reading a template must
/// not start a batch, which would make it read the template again).
fn writes(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn publish(hub: &Hub, plan: &Mutex<Plan>, tracker: &Tracker, events: Vec<Event>) {
    if events.iter().any(|e| e.batch().is_some()) {
        *plan.lock() = tracker.plan().clone();
    }
    for event in &events {
        hub.publish(event);
    }
}

/// notify's error, lowercase, with the paths it names.
fn notify_message(error: &notify::Error) -> String {
    let text = match &error.kind {
        notify::ErrorKind::Io(e) => e.to_string(),
        notify::ErrorKind::PathNotFound => "no such file or directory".to_string(),
        notify::ErrorKind::WatchNotFound => "not watched".to_string(),
        notify::ErrorKind::MaxFilesWatch => {
            "the operating system's limit of watched files is reached".to_string()
        }
        notify::ErrorKind::InvalidConfig(config) => format!("invalid configuration {config:?}"),
        notify::ErrorKind::Generic(text) => text.clone(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}
