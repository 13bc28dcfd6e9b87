//! One batch: read and hash the files the batch names, plan, invalidate, and say what
//! happened. No file events here: the paths come from [`super::watch`] (or from a test).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use shipwright_core::analyze::content_hash;
use shipwright_core::format::DEFAULT_EXTENSIONS;

use super::event::{Batch, Event, TemplateFile, WatchError};
use crate::planner::{Change, Decision, Plan, Reason, RebuildPlanner};

/// Called with the names whose cache entries must go, before the batch's events are sent.
pub(crate) type Hook = Box<dyn Fn(&[String]) + Send + Sync>;

/// What the watcher knows between batches.
pub(crate) struct Tracker {
    planner: RebuildPlanner,
    roots: Vec<PathBuf>,
    /// The template files on disk as last read: name -> (root index, content hash).
    known: BTreeMap<String, (usize, String)>,
    hooks: Vec<Hook>,
    seq: u64,
    plan: Plan,
}

/// How a batch treats a file whose bytes are what the watcher last read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The file had an event: it is in the batch, and its cache entries go (something may have
    /// read it half-written between the save and this batch).
    Events,
    /// A rescan (start-up, a root that came back, an event queue that overflowed): only files
    /// that differ from what was last read are in the batch.
    Rescan,
}

impl Tracker {
    /// `roots` in the order of the planner's BuildCache roots. The files are assumed to be
    /// the build's until a batch reads them.
    pub(crate) fn new(planner: RebuildPlanner, roots: Vec<PathBuf>, hooks: Vec<Hook>) -> Self {
        let known = planner
            .baseline()
            .templates
            .iter()
            .map(|(name, r)| (name.clone(), (r.root, r.hash.clone())))
            .collect();
        Tracker {
            planner,
            roots,
            known,
            hooks,
            seq: 0,
            plan: Plan::default(),
        }
    }

    pub(crate) fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The planner's verdict after the last batch.
    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Reads what `paths` name (files or directories, present or gone), plans, invalidates,
    /// and returns the events to publish: errors first, then the batch, if it saw any
    /// template.
    pub(crate) fn batch<P: AsRef<Path>>(&mut self, paths: &[P], mode: Mode) -> Vec<Event> {
        let mut events = Vec::new();
        let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
        let mut errors = Vec::new();
        for path in paths {
            self.collect(path.as_ref(), &mut seen, &mut errors);
        }
        events.extend(errors.into_iter().map(Event::Error));
        let mut files = Vec::with_capacity(seen.len());
        let mut changes = Vec::with_capacity(seen.len());
        for (name, seen) in seen {
            let (hash, changed, content) = match seen.bytes {
                Some(bytes) => {
                    let hash = content_hash(&bytes);
                    let changed = self.known.get(&name).is_none_or(|(_, h)| *h != hash);
                    if !changed && mode == Mode::Rescan {
                        continue;
                    }
                    self.known.insert(name.clone(), (seen.root, hash.clone()));
                    let text = match String::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(e) => {
                            events.push(Event::Error(WatchError::new(
                                Some(seen.path.clone()),
                                None,
                                "not UTF-8: read with replacement characters",
                            )));
                            String::from_utf8_lossy(e.as_bytes()).into_owned()
                        }
                    };
                    (Some(hash), changed, Some(text))
                }
                None => {
                    let changed = self.known.remove(&name).is_some();
                    if !changed && mode == Mode::Rescan {
                        continue;
                    }
                    (None, changed, None)
                }
            };
            changes.push(Change {
                name: name.clone(),
                content,
            });
            files.push(TemplateFile {
                name,
                path: seen.path,
                hash,
                changed,
            });
        }
        if files.is_empty() {
            return events;
        }
        let plan = self.planner.apply(changes);
        if !self.hooks.is_empty() {
            let affected: Vec<String> = plan.affected().map(str::to_string).collect();
            for hook in &self.hooks {
                hook(&affected);
            }
        }
        for file in &files {
            if let Some(Decision::Rebuild {
                reason:
                    Reason::Parse {
                        template,
                        line,
                        message,
                    },
            }) = plan.decision(&file.name)
                && *template == file.name
            {
                events.push(Event::Error(WatchError::new(
                    Some(file.path.clone()),
                    Some(*line),
                    message.clone(),
                )));
            }
        }
        self.seq += 1;
        self.plan = plan.clone();
        let batch = Batch {
            seq: self.seq,
            templates: files,
            plan,
        };
        events.push(if batch.plan.needs_rebuild() {
            Event::RebuildNeeded(batch)
        } else {
            Event::HotReload(batch)
        });
        events
    }

    /// Adds the templates `path` names to `seen`: the file, or every file under the
    /// directory, and every known template under it that is gone.
    fn collect(
        &self,
        path: &Path,
        seen: &mut BTreeMap<String, Seen>,
        errors: &mut Vec<WatchError>,
    ) {
        let Some((root, name)) = self.locate(path) else {
            return;
        };
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                walk(path, &mut found, errors);
                for file in found {
                    if let Some((_, name)) = self.locate(&file).filter(|(_, n)| is_template(n)) {
                        read(root, name, file, seen, errors);
                    }
                }
                self.gone_under(root, &name, seen);
            }
            Ok(_) if is_template(&name) => read(root, name, path.to_path_buf(), seen, errors),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if is_template(&name) {
                    seen.insert(
                        name.clone(),
                        Seen {
                            root,
                            path: path.to_path_buf(),
                            bytes: None,
                        },
                    );
                }
                self.gone_under(root, &name, seen);
            }
            Err(e) => errors.push(io_error(path, &e)),
        }
    }

    /// Every known template of `root` under the directory `name` ("" for the root itself)
    /// that is not in `seen` is gone.
    fn gone_under(&self, root: usize, name: &str, seen: &mut BTreeMap<String, Seen>) {
        let prefix = if name.is_empty() {
            String::new()
        } else {
            format!("{name}/")
        };
        for (known, (r, _)) in self.known.range(prefix.clone()..) {
            if !known.starts_with(&prefix) {
                break;
            }
            if *r == root && !seen.contains_key(known) {
                let path = self.roots[root].join(known);
                seen.insert(
                    known.clone(),
                    Seen {
                        root,
                        path,
                        bytes: None,
                    },
                );
            }
        }
    }

    /// The root a path is under and its name there ("" for the root itself).
    fn locate(&self, path: &Path) -> Option<(usize, String)> {
        self.roots.iter().enumerate().find_map(|(i, root)| {
            let relative = path.strip_prefix(root).ok()?;
            let parts: Option<Vec<&str>> = relative
                .components()
                .map(|c| c.as_os_str().to_str())
                .collect();
            Some((i, parts?.join("/")))
        })
    }
}

/// A template file as read by this batch.
struct Seen {
    root: usize,
    path: PathBuf,
    /// `None`: gone.
    bytes: Option<Vec<u8>>,
}

/// Is `name` a template by its extension (the build script's default extensions)?
fn is_template(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| DEFAULT_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Reads a template file into `seen` (gone if it vanished since the event).
fn read(
    root: usize,
    name: String,
    path: PathBuf,
    seen: &mut BTreeMap<String, Seen>,
    errors: &mut Vec<WatchError>,
) {
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return errors.push(io_error(&path, &e)),
    };
    seen.insert(name, Seen { root, path, bytes });
}

/// Every file under `dir` (symbolic links followed); what vanishes meanwhile is skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<WatchError>) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let entries = match std::fs::read_dir(&at) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(io_error(&at, &e));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => stack.push(path),
                Ok(_) => out.push(path),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => errors.push(io_error(&path, &e)),
            }
        }
    }
}

/// An I/O error on `path`, its message lowercase as the rest of the workspace writes them.
pub(crate) fn io_error(path: &Path, e: &io::Error) -> WatchError {
    let text = e.to_string();
    let mut chars = text.chars();
    let message = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    };
    WatchError::new(Some(path.to_path_buf()), None, message)
}
