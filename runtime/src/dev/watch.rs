//! The file events: notify's watcher on every root (recursive) and on each root's parent
//! (so that a root removed and made again is seen), and the thread that gathers them into
//! batches and turns each into a [`Tracker`] batch.
//!
//! # When a batch ends
//!
//! A batch ends when no event came for the debounce window, or sooner, [`SETTLE`] after an
//! event that completes a file (its writer closed it, or it was renamed into place) when
//! nothing followed it. An editor that saves in several writes (truncate, write, write, close;
//! or a temporary file renamed over the template) ends with such an event, so its save is one
//! batch that reads the final bytes, without waiting out the window. A save whose steps are
//! further apart than that (a delete, then a create a while later) may be two batches: each
//! reads the files as they are when it runs, and the last one reads the final bytes, so the
//! only cost is an extra batch. A batch ends at [`LONGEST`] at the latest, so that a stream of
//! events without a pause still makes progress.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecursiveMode, Watcher as _};
use parking_lot::Mutex;

use super::event::{Event, WatchError};
use super::subscribe::Hub;
use super::track::{Mode, Tracker, io_error};
use crate::planner::Plan;

type Notify = notify::RecommendedWatcher;

/// How long a batch waits, after an event that completes a file, for more events.
pub(crate) const SETTLE: Duration = Duration::from_millis(1);

/// The longest a batch gathers events.
const LONGEST: Duration = Duration::from_millis(250);

/// What the event thread receives.
pub(crate) enum Message {
    Event(notify::Result<notify::Event>),
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
    let mut notify = notify::RecommendedWatcher::new(
        move |result| {
            let _ = events.send(Message::Event(result));
        },
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
        .spawn(move || run(receiver, debounce, notify, roots, tracker, hub, plan))
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

/// The event thread: the events of each batch (see the [module documentation](self)) are
/// one tracker batch. Nothing here ends the loop but [`Message::Stop`] or the watcher being
/// dropped.
fn run(
    receiver: Receiver<Message>,
    window: Duration,
    mut notify: Notify,
    mut roots: Vec<Root>,
    mut tracker: Tracker,
    hub: Arc<Hub>,
    plan: Arc<Mutex<Plan>>,
) {
    while let Ok(first) = receiver.recv() {
        let mut gathered = Gathered::default();
        gather(&receiver, first, window, |message| gathered.add(message));
        let Gathered {
            mut paths,
            mut rescan,
            mut events,
            stop,
        } = gathered;
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

/// The events of one batch, as they come.
#[derive(Default)]
struct Gathered {
    paths: BTreeSet<PathBuf>,
    rescan: bool,
    /// Errors notify reported.
    events: Vec<Event>,
    stop: bool,
}

impl Gathered {
    /// Takes `message` in.
    fn add(&mut self, message: Message) -> Step {
        match message {
            Message::Stop => {
                self.stop = true;
                Step::Stop
            }
            Message::Event(Ok(event)) => {
                self.rescan |= event.need_rescan();
                let step = Step::after(&event.kind);
                if writes(&event.kind) {
                    self.paths.extend(event.paths);
                }
                step
            }
            Message::Event(Err(error)) => {
                let path = error.paths.first().cloned();
                self.events.push(Event::Error(WatchError::new(
                    path,
                    None,
                    notify_message(&error),
                )));
                Step::More
            }
        }
    }
}

/// What a batch does after a message.
pub(crate) enum Step {
    /// Waits the window for more.
    More,
    /// Waits [`SETTLE`] for more: the message completed a file.
    Settle,
    /// Ends now.
    Stop,
}

impl Step {
    /// [`Step::Settle`] after an event that completes a file, else [`Step::More`].
    pub(crate) fn after(kind: &EventKind) -> Step {
        if completes(kind) {
            Step::Settle
        } else {
            Step::More
        }
    }
}

/// Hands `first` and then each message `receiver` brings to `take` until the batch ends (see
/// the [module documentation](self)): no message for `window`, or for [`SETTLE`] after one
/// that completes a file, or [`LONGEST`] after `first`, or `take` says stop.
pub(crate) fn gather<M>(
    receiver: &Receiver<M>,
    first: M,
    window: Duration,
    mut take: impl FnMut(M) -> Step,
) {
    let started = Instant::now();
    let mut next = Some(first);
    while let Some(message) = next.take() {
        let wait = match take(message) {
            Step::Stop => return,
            Step::Settle => SETTLE,
            Step::More => window,
        };
        next = receiver
            .recv_timeout(wait.min(LONGEST.saturating_sub(started.elapsed())))
            .ok();
    }
}

/// Whether an event kind ends a save: the writer closed the file, or it was renamed into place.
fn completes(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
    )
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
