//! One batch: read and hash the files the batch names, plan, invalidate, and say what
//! happened. No file events here: the paths come from [`super::watch`] (or from a test).
//!
//! Which files are templates, under which names, is [`shipwright_core::files`]' rule, with the
//! extensions the build recorded: the roots are walked by that rule (each directory once, links
//! only inside the root, special files never opened), and an event's path names a template only
//! if that walk lists it ([`Listing::locate`]). A batch of edits to files the last walk listed
//! reads just those files; anything else (a file made, removed or renamed, a directory, a link)
//! walks the roots again first.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use shipwright_core::analyze::content_hash;
use shipwright_core::files::{Listing, Problem, TemplateFiles};

use super::event::{Batch, Event, TemplateFile, WatchError};
use crate::planner::{Change, Decision, Plan, Reason, RebuildPlanner};

/// Called with the names whose cache entries must go, before the batch's events are sent.
pub(crate) type Hook = Box<dyn Fn(&[String]) + Send + Sync>;

/// Called with each template a batch read (name, text): why the app cannot use that text (its
/// engine does not parse it), as (1-based line, message).
pub(crate) type Check = Box<dyn Fn(&str, &str) -> Option<(Option<u32>, String)> + Send + Sync>;

/// What the watcher knows between batches.
pub(crate) struct Tracker {
    planner: RebuildPlanner,
    /// The file rule: the roots, and the extensions of the planner's BuildCache.
    files: TemplateFiles,
    /// The last walk of the roots (`None` before the first).
    listing: Option<Listing>,
    /// What the last walk reported (path, message): a report is published when it first appears.
    reported: HashSet<(PathBuf, String)>,
    /// The template files on disk as last read: name -> (root index, content hash).
    known: BTreeMap<String, (usize, String)>,
    hooks: Vec<Hook>,
    checks: Vec<Check>,
    /// The templates the checks refused, as last read, by name: reported with every batch
    /// until an edit makes them pass (or removes them).
    refused: BTreeMap<String, WatchError>,
    seq: u64,
    plan: Plan,
    /// What this process last wrote to the planner's rebuild stamp.
    stamped: Option<String>,
    /// How many directories the walks read, for tests that count the work.
    #[cfg(test)]
    pub(crate) dirs_read: usize,
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

/// What an event's path asks for.
enum Look {
    /// Nothing: outside the roots, or a file that is no template and no directory.
    Nothing,
    /// A file the last walk listed.
    Listed,
    /// Something the last walk cannot answer for: walk again.
    Walk,
}

impl Tracker {
    /// `roots` in the order of the planner's BuildCache roots. The files are assumed to be
    /// the build's until a batch reads them.
    pub(crate) fn new(
        planner: RebuildPlanner,
        roots: Vec<PathBuf>,
        hooks: Vec<Hook>,
        checks: Vec<Check>,
    ) -> Self {
        let known = planner
            .baseline()
            .templates
            .iter()
            .map(|(name, r)| (name.clone(), (r.root, r.hash.clone())))
            .collect();
        let files = TemplateFiles::of_build(planner.baseline(), roots);
        Tracker {
            planner,
            files,
            listing: None,
            reported: HashSet::new(),
            known,
            hooks,
            checks,
            refused: BTreeMap::new(),
            seq: 0,
            plan: Plan::default(),
            stamped: None,
            #[cfg(test)]
            dirs_read: 0,
        }
    }

    pub(crate) fn roots(&self) -> &[PathBuf] {
        self.files.roots()
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
        let mut errors = Vec::new();
        let seen = self.collect(paths, mode, &mut errors);
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
            self.run_checks(&name, &seen.path, content.as_deref());
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
        let mut lexed = HashSet::new();
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
                lexed.insert(file.name.as_str());
            }
        }
        // What the engine refuses, and our lexer did not already (one error a problem).
        events.extend(
            self.refused
                .iter()
                .filter(|(name, _)| !lexed.contains(name.as_str()))
                .map(|(_, error)| Event::Error(error.clone())),
        );
        if plan.needs_rebuild()
            && let Err(error) = self.request_rebuild(&plan)
        {
            events.push(Event::Error(error));
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

    /// Writes the planner's rebuild stamp with the plan's rebuild reasons, one line a template,
    /// unless this process wrote these very lines last: the next `cargo build` of a dev build
    /// then reruns the build script and recompiles, where the derive checks the templates again.
    #[cold]
    fn request_rebuild(&mut self, plan: &Plan) -> Result<(), WatchError> {
        let Some(stamp) = self.planner.stamp() else {
            return Ok(());
        };
        let text: String = plan
            .rebuild_reasons()
            .map(|(template, reason)| format!("{template}: {reason}\n"))
            .collect();
        if self.stamped.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        shipwright_core::devbuild::request_rebuild(stamp, &text).map_err(|e| {
            let mut error = io_error(stamp, &e);
            error.message = format!("cannot write the rebuild stamp: {}", error.message);
            error
        })?;
        self.stamped = Some(text);
        Ok(())
    }

    /// Runs the checks on `text`, the content of `name` now (`None`: gone), and keeps
    /// [`Tracker::refused`] in step.
    fn run_checks(&mut self, name: &str, path: &Path, text: Option<&str>) {
        let refusal = text.and_then(|text| self.checks.iter().find_map(|check| check(name, text)));
        match refusal {
            Some((line, message)) => {
                let error = WatchError::new(Some(path.to_path_buf()), line, message);
                self.refused.insert(name.to_string(), error);
            }
            None => {
                self.refused.remove(name);
            }
        }
    }

    /// The templates this batch reads, by name: every template file the paths name (a file, or
    /// every template under a directory), every template the roots gained or lost since the
    /// last walk when this batch walks them, and with [`Mode::Rescan`] every template.
    fn collect<P: AsRef<Path>>(
        &mut self,
        paths: &[P],
        mode: Mode,
        errors: &mut Vec<WatchError>,
    ) -> BTreeMap<String, Seen> {
        let looks: Vec<Look> = paths.iter().map(|p| self.look(p.as_ref())).collect();
        let walk = mode == Mode::Rescan || looks.iter().any(|l| matches!(l, Look::Walk));
        if walk {
            self.walk(errors);
        } else if looks.iter().all(|l| matches!(l, Look::Nothing)) {
            return BTreeMap::new();
        }
        let listing = self.listing.as_ref().expect("walked");
        // name -> (root, path to show, file to read); `None`: gone.
        let mut wanted: BTreeMap<String, Option<(usize, PathBuf, PathBuf)>> = BTreeMap::new();
        let mut want = |found: &shipwright_core::files::Found| {
            wanted.insert(
                found.name.clone(),
                Some((found.root, found.path.clone(), found.file().to_path_buf())),
            );
        };
        if walk {
            for found in listing.files() {
                let same = self
                    .known
                    .get(&found.name)
                    .is_some_and(|(r, _)| *r == found.root);
                if mode == Mode::Rescan || !same {
                    want(found);
                }
            }
        }
        for path in paths {
            let path = path.as_ref();
            if let Some((_, name)) = listing.locate(path) {
                want(listing.get(name).expect("a listed template"));
            } else if let Some((root, dir)) = listing.locate_dir(path) {
                listing.under(root, dir).for_each(&mut want);
            }
        }
        if walk {
            for name in self.known.keys() {
                if listing.get(name).is_none() {
                    wanted.insert(name.clone(), None);
                }
            }
        }
        let mut seen = BTreeMap::new();
        for (name, file) in wanted {
            let Some((root, path, file)) = file else {
                let (root, _) = self.known[&name];
                let path = self.files.roots()[root].join(&name);
                seen.insert(
                    name,
                    Seen {
                        root,
                        path,
                        bytes: None,
                    },
                );
                continue;
            };
            let bytes = match shipwright_core::files::read_file(&file, self.files.size_limit()) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.is_not_found() => None,
                // Special now, or too large: not a template any more.
                Err(e) if matches!(e.problem, Problem::Special(_) | Problem::TooLarge { .. }) => {
                    errors.push(WatchError::new(
                        Some(path.clone()),
                        None,
                        e.problem.to_string(),
                    ));
                    None
                }
                Err(e) => {
                    errors.push(WatchError::new(Some(path), None, e.problem.to_string()));
                    continue;
                }
            };
            seen.insert(name, Seen { root, path, bytes });
        }
        seen
    }

    /// What the event's `path` asks for, by the last walk and one `lstat`.
    fn look(&self, path: &Path) -> Look {
        if !self.files.roots().iter().any(|root| path.starts_with(root)) {
            return Look::Nothing;
        }
        let template_like = self.files.has_template_extension(&path.to_string_lossy());
        let Some(listing) = &self.listing else {
            return if template_like || !path.is_file() {
                Look::Walk
            } else {
                Look::Nothing
            };
        };
        match path.symlink_metadata() {
            Ok(meta) if meta.is_file() => match listing.locate(path) {
                Some(_) => Look::Listed,
                None if template_like => Look::Walk,
                None => Look::Nothing,
            },
            // A directory, a link, a special file named like a template.
            Ok(meta) if meta.is_dir() || meta.file_type().is_symlink() || template_like => {
                Look::Walk
            }
            Ok(_) => Look::Nothing,
            // Gone: a template, or a directory that held some.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if template_like || listing.had_dir(path) {
                    Look::Walk
                } else {
                    Look::Nothing
                }
            }
            Err(_) => Look::Walk,
        }
    }

    /// Walks the roots by the file rule; what it reports that the last walk did not is an
    /// error of this batch (a root that is missing is not: its templates are gone).
    fn walk(&mut self, errors: &mut Vec<WatchError>) {
        let listing = self.files.walk();
        #[cfg(test)]
        {
            self.dirs_read += listing.dirs().len();
        }
        let mut reported = HashSet::new();
        for skipped in listing.skipped() {
            if skipped.problem == Problem::MissingRoot {
                continue;
            }
            let key = (skipped.path.clone(), skipped.problem.to_string());
            if !self.reported.contains(&key) {
                errors.push(WatchError::new(Some(key.0.clone()), None, key.1.clone()));
            }
            reported.insert(key);
        }
        self.reported = reported;
        self.listing = Some(listing);
    }
}

/// A template file as read by this batch.
struct Seen {
    root: usize,
    path: PathBuf,
    /// `None`: gone.
    bytes: Option<Vec<u8>>,
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
