//! Static files: a directory watched with notify; a changed stylesheet is swapped in place on
//! every page (`css`), any other changed file reloads them (`reload`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::state::{ErrorEntry, Shared, display_path};
use crate::dev::watch::{Step, gather};

/// How long a batch of static file events waits for more (see [`gather`]).
const WINDOW: Duration = crate::dev::DEFAULT_DEBOUNCE;

/// Watches `dir`, served under `url` (`/static`), until the returned watcher is dropped.
/// A directory that cannot be watched is reported on the overlay and in the log.
pub(crate) fn watch(
    shared: &Arc<Shared>,
    dir: &Path,
    url: &str,
) -> Option<notify::RecommendedWatcher> {
    let (sender, receiver) = mpsc::channel();
    let started = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let _ = sender.send(event);
    })
    .and_then(|mut watcher| {
        watcher.watch(dir, RecursiveMode::Recursive)?;
        Ok(watcher)
    });
    let watcher = match started {
        Ok(watcher) => watcher,
        Err(e) => {
            let message = format!("cannot watch the static directory: {e}");
            eprintln!("shipwright: {}: {message}", dir.display());
            shared.status.lock().errors.push(ErrorEntry {
                file: Some(display_path(dir)),
                line: None,
                message,
            });
            return None;
        }
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let url = url.trim_end_matches('/').to_string();
    let shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("shipwright-static".into())
        .spawn(move || forward(&receiver, &shared, &dir, &url));
    if let Err(e) = spawned {
        eprintln!("shipwright: cannot start the static file thread: {e}");
        return None;
    }
    Some(watcher)
}

/// Gathers the events of each save and tells the pages; ends when the watcher is dropped.
fn forward(
    events: &mpsc::Receiver<notify::Result<notify::Event>>,
    shared: &Shared,
    dir: &Path,
    url: &str,
) {
    while let Ok(first) = events.recv() {
        let mut changed = BTreeSet::new();
        gather(events, first, WINDOW, |event| match event {
            Ok(event) => {
                let step = Step::after(&event.kind);
                if writes(&event.kind) {
                    changed.extend(event.paths);
                }
                step
            }
            Err(e) => {
                eprintln!("shipwright: static files: {e}");
                Step::More
            }
        });
        let mut reload = false;
        for path in changed {
            if ignored(&path) || !path.is_file() {
                continue;
            }
            let Some(relative) = path.strip_prefix(dir).ok().and_then(url_path) else {
                continue;
            };
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("css"))
            {
                eprintln!("shipwright: stylesheet {} changed", display_path(&path));
                shared.send(
                    &serde_json::json!({ "type": "css", "path": format!("{url}/{relative}") }),
                );
            } else {
                eprintln!(
                    "shipwright: static file {} changed: reloading the pages",
                    display_path(&path)
                );
                reload = true;
            }
        }
        if reload {
            shared.send(&serde_json::json!({ "type": "reload", "why": "a static file changed" }));
        }
    }
}

/// Events that can change what a file holds (not opens and reads: serving the file must not
/// trigger a swap of it).
fn writes(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

/// Editors' scratch files: hidden ones, backups, swap files.
fn ignored(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    name.starts_with('.')
        || name.ends_with('~')
        || [".swp", ".swx", ".tmp", ".saving"]
            .iter()
            .any(|s| name.ends_with(s))
        || name.bytes().all(|b| b.is_ascii_digit())
}

/// A relative path as a URL path (`/`-separated, each part percent-encoded where needed).
fn url_path(relative: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for part in relative.components() {
        let std::path::Component::Normal(part) = part else {
            return None;
        };
        parts.push(encode(part.to_str()?));
    }
    Some(parts.join("/"))
}

fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for b in part.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The watchers of the layer's static directories, kept for its lifetime.
pub(crate) type Watchers = Vec<notify::RecommendedWatcher>;
