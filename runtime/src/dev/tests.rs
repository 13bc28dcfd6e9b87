use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shipwright_core::analyze::content_hash;
use shipwright_core::format::BuildCache;

use super::track::{Mode, Tracker};
use super::*;
use crate::planner::{Binding, Decision, Reason, RenderMode};

/// Long enough for any batch on a loaded CI machine; a test waits this long only when it fails.
const PATIENCE: Duration = Duration::from_secs(20);

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A root with `home.html` (extends `base.html`, includes `nav.html`) and its BuildCache.
fn site() -> (tempfile::TempDir, PathBuf, BuildCache) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(
        &root,
        "base.html",
        "<body>{% block content %}{% endblock %}</body>",
    );
    write(
        &root,
        "home.html",
        "{% extends 'base.html' %}{% block content %}<h1>{{ title }}</h1>{% include 'parts/nav.html' %}{% endblock %}",
    );
    write(&root, "parts/nav.html", "<nav>home</nav>");
    let build = scan_root(&root);
    (dir, root, build)
}

fn tracker(build: &BuildCache, root: &Path) -> Tracker {
    let planner = RebuildPlanner::new(build.clone(), RenderMode::Runtime);
    Tracker::new(planner, vec![root.to_path_buf()], Vec::new(), Vec::new())
}

fn only_batch(events: Vec<Event>) -> Batch {
    let mut batches: Vec<Batch> = events
        .into_iter()
        .filter_map(|e| e.batch().cloned())
        .collect();
    assert_eq!(batches.len(), 1, "one batch");
    batches.pop().unwrap()
}

#[test]
fn a_text_edit_hot_reloads_the_file_and_what_renders_it() {
    let (_dir, root, build) = site();
    let mut tracker = tracker(&build, &root);
    write(&root, "parts/nav.html", "<nav>Home</nav>");
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let Event::HotReload(batch) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(batch.seq, 1);
    assert_eq!(
        batch.affected().collect::<Vec<_>>(),
        ["home.html", "parts/nav.html"]
    );
    assert_eq!(batch.templates.len(), 1);
    let file = &batch.templates[0];
    assert_eq!((file.name.as_str(), file.changed), ("parts/nav.html", true));
    assert_eq!(
        file.hash.as_deref(),
        Some(content_hash(b"<nav>Home</nav>").as_str())
    );
    assert!(batch.content_changed());
}

#[test]
fn the_same_bytes_again_are_still_invalidated_but_not_changed() {
    let (_dir, root, build) = site();
    let invalidated = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let log = Arc::clone(&invalidated);
    let planner = RebuildPlanner::new(build.clone(), RenderMode::Runtime);
    let hook: track::Hook =
        Box::new(move |names: &[String]| log.lock().extend(names.iter().cloned()));
    let mut tracker = Tracker::new(planner, vec![root.clone()], vec![hook], Vec::new());
    let batch = only_batch(tracker.batch(&[root.join("base.html")], Mode::Events));
    assert!(!batch.content_changed());
    assert_eq!(
        *batch.plan.decision("base.html").unwrap(),
        Decision::Unchanged
    );
    assert_eq!(*invalidated.lock(), ["base.html", "home.html"]);
    // A rescan skips files whose bytes are known.
    assert!(
        tracker
            .batch(std::slice::from_ref(&root), Mode::Rescan)
            .is_empty()
    );
}

#[test]
fn a_missing_include_needs_a_rebuild_and_its_undo_clears_it() {
    let (_dir, root, build) = site();
    let mut tracker = tracker(&build, &root);
    write(
        &root,
        "parts/nav.html",
        "<nav>{% include 'menu.html' %}</nav>",
    );
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let Event::RebuildNeeded(batch) = &events[0] else {
        panic!("{events:?}")
    };
    let reasons: Vec<String> = batch
        .rebuild_reasons()
        .map(|(t, r)| format!("{t}: {r}"))
        .collect();
    assert_eq!(
        reasons,
        [
            "home.html: renders parts/nav.html: parts/nav.html references menu.html, which is not a template",
            "parts/nav.html: parts/nav.html references menu.html, which is not a template",
        ]
    );
    write(&root, "parts/nav.html", "<nav>home</nav>");
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let Event::HotReload(batch) = &events[0] else {
        panic!("{events:?}")
    };
    assert!(!batch.plan.needs_rebuild());
    assert_eq!(
        *batch.plan.decision("parts/nav.html").unwrap(),
        Decision::Unchanged
    );
}

#[test]
fn a_rebuild_writes_the_stamp_and_a_hot_reload_does_not() {
    let (dir, root, build) = site();
    let stamp = dir.path().join("out/shipwright/rebuild-stamp");
    let planner = RebuildPlanner::new(build, RenderMode::Runtime)
        .bind(Binding::new("home.html", "Home", ["title"]))
        .rebuild_stamp(&stamp);
    let mut tracker = Tracker::new(planner, vec![root.clone()], Vec::new(), Vec::new());
    write(&root, "parts/nav.html", "<nav>Home</nav>");
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    assert!(matches!(events[..], [Event::HotReload(_)]), "{events:?}");
    assert!(!stamp.exists(), "a hot reload asks for no build");

    write(&root, "parts/nav.html", "<nav>{{ user }}</nav>");
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    assert!(
        matches!(events[..], [Event::RebuildNeeded(_)]),
        "{events:?}"
    );
    let text = std::fs::read_to_string(&stamp).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("cargo build needed"), "{text}");
    assert_eq!(
        lines[1],
        "home.html: new variable `user` is not a field of `Home` (fields: title); it is read in \
         parts/nav.html, which home.html renders"
    );

    // The same verdict again (another save of the same text): the stamp is left alone.
    let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1);
    let file = std::fs::File::options().write(true).open(&stamp).unwrap();
    file.set_modified(old).unwrap();
    drop(file);
    tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let modified = std::fs::metadata(&stamp).unwrap().modified().unwrap();
    assert_eq!(modified, old);

    // A stamp that cannot be written is an error event, and the verdict goes out all the same.
    let blocked = dir.path().join("blocked");
    write(
        dir.path(),
        "blocked",
        "a file where the stamp's directory should be",
    );
    let planner = RebuildPlanner::new(scan_root(&root), RenderMode::Runtime)
        .bind(Binding::new("home.html", "Home", ["title"]))
        .rebuild_stamp(blocked.join("rebuild-stamp"));
    let mut tracker = Tracker::new(planner, vec![root.clone()], Vec::new(), Vec::new());
    write(&root, "parts/nav.html", "<nav>{{ cart }}</nav>");
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let Event::Error(error) = &events[0] else {
        panic!("{events:?}")
    };
    assert!(
        error.message.starts_with("cannot write the rebuild stamp"),
        "{error:?}"
    );
    assert!(matches!(events[1], Event::RebuildNeeded(_)), "{events:?}");
}

/// The BuildCache of `root` as it is now.
fn scan_root(root: &Path) -> BuildCache {
    let roots = shipwright_build::scan::Roots::new(vec![(root.to_path_buf(), "templates".into())]);
    shipwright_build::scan::scan(&roots, None).unwrap().cache
}

#[test]
fn a_template_that_does_not_lex_is_an_error_with_file_and_line() {
    let (_dir, root, build) = site();
    let mut tracker = tracker(&build, &root);
    write(&root, "parts/nav.html", "<nav>\n{{ title </nav>");
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let Event::Error(error) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        error.path.as_deref(),
        Some(root.join("parts/nav.html").as_path())
    );
    assert_eq!(error.line, Some(2));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2: ", root.join("parts/nav.html").display())),
        "{error}"
    );
    let Event::RebuildNeeded(batch) = &events[1] else {
        panic!("{events:?}")
    };
    assert!(matches!(
        *batch.plan.decision("parts/nav.html").unwrap(),
        Decision::Rebuild {
            reason: Reason::Parse { line: 2, .. }
        }
    ));
}

#[test]
fn a_removed_directory_removes_its_templates_and_a_new_one_adds_them() {
    let (_dir, root, build) = site();
    let mut tracker = tracker(&build, &root);
    std::fs::remove_dir_all(root.join("parts")).unwrap();
    let batch = only_batch(tracker.batch(&[root.join("parts")], Mode::Events));
    assert_eq!(batch.templates.len(), 1);
    assert_eq!(
        (
            batch.templates[0].name.as_str(),
            batch.templates[0].hash.as_ref()
        ),
        ("parts/nav.html", None)
    );
    assert_eq!(
        batch.plan.decision("parts/nav.html").unwrap().to_string(),
        "rebuild: removed: parts/nav.html"
    );

    write(&root, "parts/nav.html", "<nav>home</nav>");
    write(&root, "parts/extra.html", "new");
    let batch = only_batch(tracker.batch(&[root.join("parts")], Mode::Events));
    let names: Vec<&str> = batch.templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["parts/extra.html", "parts/nav.html"]);
    assert_eq!(
        *batch.plan.decision("parts/nav.html").unwrap(),
        Decision::Unchanged
    );
    assert!(
        batch
            .plan
            .decision("parts/extra.html")
            .unwrap()
            .to_string()
            .starts_with("hot reload: added: parts/extra.html")
    );
}

#[test]
fn files_that_are_not_templates_and_paths_outside_the_roots_are_ignored() {
    let (dir, root, build) = site();
    let mut tracker = tracker(&build, &root);
    write(&root, "home.html.swp", "x");
    write(dir.path(), "elsewhere.html", "x");
    assert!(
        tracker
            .batch(
                &[
                    root.join("home.html.swp"),
                    dir.path().join("elsewhere.html")
                ],
                Mode::Events
            )
            .is_empty()
    );
}

#[test]
fn invalid_utf8_is_reported_and_planned_with_replacement_characters() {
    let (_dir, root, build) = site();
    let mut tracker = tracker(&build, &root);
    std::fs::write(root.join("parts/nav.html"), b"<nav>\xff</nav>").unwrap();
    let events = tracker.batch(&[root.join("parts/nav.html")], Mode::Events);
    let Event::Error(error) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(error.message, "not UTF-8: read with replacement characters");
    let Event::HotReload(batch) = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(
        batch.templates[0].hash.as_deref(),
        Some(content_hash(b"<nav>\xff</nav>").as_str())
    );
}

// ---- the watcher on real files ----

/// A watcher over `site()`, a cache of sources filled from disk, and a thread that keeps
/// reading templates through the cache while the test saves (as requests would), so that
/// half-written files do get into the cache.
struct Live {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cache: Arc<TemplateCache<Arc<str>>>,
    watcher: Watcher,
    events: Subscription,
    readers: Vec<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Live {
    fn start() -> Live {
        let (dir, root, build) = site();
        let cache: Arc<TemplateCache<Arc<str>>> = Arc::new(TemplateCache::from_build_cache(&build));
        // home.html is bound, so that its removal needs a rebuild.
        let planner = RebuildPlanner::new(build, RenderMode::Runtime).bind(Binding::new(
            "home.html",
            "Home",
            ["title"],
        ));
        let watcher = Watcher::builder(planner, vec![root.clone()])
            .cache(Arc::clone(&cache))
            .start()
            .unwrap();
        let events = watcher.subscribe();
        let stop = Arc::new(AtomicBool::new(false));
        let readers = (0..2)
            .map(|_| {
                let (cache, root, stop) = (Arc::clone(&cache), root.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        for name in ["parts/nav.html", "home.html"] {
                            let _ = served(&cache, &root, name);
                        }
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        Live {
            _dir: dir,
            root,
            cache,
            watcher,
            events,
            readers,
            stop,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Waits for the batch in which `name` has the hash of `text`.
    fn wait_for(&self, name: &str, text: Option<&str>) -> Batch {
        let hash = text.map(|t| content_hash(t.as_bytes()));
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::HotReload(batch) | Event::RebuildNeeded(batch)) => {
                    if batch
                        .templates
                        .iter()
                        .any(|t| t.name == name && t.hash == hash)
                    {
                        return batch;
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("no batch with {name} at {hash:?}: {e}"),
            }
        }
    }

    /// Saves with `save`, waits for the final batch, and checks what the cache serves.
    fn check(self, name: &str, last: &str, save: impl FnOnce(&Path)) {
        save(&self.path(name));
        self.wait_for(name, Some(last));
        assert_eq!(
            served(&self.cache, &self.root, name).as_deref(),
            Some(last),
            "the cache serves the file's final content"
        );
        assert_eq!(std::fs::read_to_string(self.path(name)).unwrap(), last);
        self.cache.validate();
        self.finish();
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        for reader in self.readers {
            reader.join().unwrap();
        }
        self.watcher.stop();
        loop {
            match self.events.recv_timeout(PATIENCE) {
                Ok(_) => continue,
                Err(e) => {
                    break assert_eq!(
                        e,
                        RecvError::Closed,
                        "a stopped watcher closes its subscriptions"
                    );
                }
            }
        }
    }
}

/// What a request would render: the cached source, or the file read into the cache.
fn served(cache: &TemplateCache<Arc<str>>, root: &Path, name: &str) -> Option<Arc<str>> {
    cache
        .try_get_or_insert_with(name, || {
            std::fs::read_to_string(root.join(name)).map(Arc::from)
        })
        .ok()
}

#[test]
fn save_in_place() {
    let live = Live::start();
    live.check("parts/nav.html", "<nav>in place</nav>", |path| {
        std::fs::write(path, "<nav>in place</nav>").unwrap()
    });
}

#[test]
fn save_to_a_temporary_file_renamed_over() {
    let live = Live::start();
    live.check("parts/nav.html", "<nav>renamed</nav>", |path| {
        let temp = path.with_file_name(".nav.html.tmp~");
        std::fs::write(&temp, "<nav>renamed</nav>").unwrap();
        std::fs::rename(&temp, path).unwrap();
    });
}

#[test]
fn save_by_truncating_then_writing() {
    use std::io::Write;
    let live = Live::start();
    live.check(
        "parts/nav.html",
        "<nav>truncated, then written</nav>",
        |path| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .unwrap();
            file.sync_all().unwrap();
            // Longer than the debounce window: the empty file is a batch of its own, and the
            // readers cache it.
            std::thread::sleep(Duration::from_millis(60));
            file.write_all(b"<nav>truncated, ").unwrap();
            file.write_all(b"then written</nav>").unwrap();
        },
    );
}

#[test]
fn save_by_deleting_then_creating() {
    let live = Live::start();
    live.check("parts/nav.html", "<nav>made again</nav>", |path| {
        std::fs::remove_file(path).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        std::fs::write(path, "<nav>made again</nav>").unwrap();
    });
}

#[test]
fn a_burst_of_a_thousand_saves() {
    let live = Live::start();
    live.check("parts/nav.html", "<nav>save 999</nav>", |path| {
        for i in 0..1000 {
            std::fs::write(path, format!("<nav>save {i}</nav>")).unwrap();
        }
    });
}

#[test]
fn a_burst_that_ends_where_it_began_leaves_no_half_written_file_cached() {
    use std::io::Write;
    let live = Live::start();
    let name = "parts/nav.html";
    let path = live.path(name);
    for i in 0..200 {
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(format!("<nav>{i}").as_bytes()).unwrap();
        file.write_all(b"</nav>").unwrap();
    }
    std::fs::write(&path, "<nav>home</nav>").unwrap();
    live.wait_for(name, Some("<nav>home</nav>"));
    assert_eq!(
        served(&live.cache, &live.root, name).as_deref(),
        Some("<nav>home</nav>")
    );
    live.finish();
}

#[test]
fn the_watcher_survives_errors_and_goes_on() {
    let (_dir, root, build) = site();
    let planner = RebuildPlanner::new(build, RenderMode::Runtime);
    let watcher = Watcher::builder(planner, vec![root.clone()])
        .on_invalidate(|names| {
            assert!(
                !names.iter().any(|n| n == "base.html"),
                "a hook that panics on base.html"
            )
        })
        .start()
        .unwrap();
    let events = watcher.subscribe();
    let next = || events.recv_timeout(PATIENCE).unwrap();
    let panicked = |event: &Event| matches!(event, Event::Error(e) if e.message.starts_with("internal error in the watcher: a hook that panics on base.html"));

    write(
        &root,
        "base.html",
        "<body>{% block content %}{% endblock %}</body>!",
    );
    let event = next();
    assert!(panicked(&event), "the hook's panic is reported: {event:?}");

    write(&root, "parts/nav.html", "<nav>{{ title </nav>");
    // The save of base.html may have been more than one batch, each one a panic.
    let event = std::iter::repeat_with(next).find(|e| !panicked(e)).unwrap();
    let Event::Error(error) = event else {
        panic!("the lexer's error is reported: {event:?}")
    };
    assert_eq!(
        (error.path.as_deref(), error.line),
        (Some(root.join("parts/nav.html").as_path()), Some(1))
    );
    assert!(matches!(next(), Event::RebuildNeeded(_)));

    write(&root, "parts/nav.html", "<nav>fine</nav>");
    // A save may be seen half-way (`fs::write` truncates, then writes: a batch of the empty
    // file); the last batch reads the final bytes.
    let fine = Some(content_hash(b"<nav>fine</nav>"));
    let batch = std::iter::repeat_with(next)
        .find_map(|event| match event {
            Event::HotReload(batch) if batch.templates[0].hash == fine => Some(batch),
            Event::HotReload(_) | Event::RebuildNeeded(_) => None,
            other => panic!("the watcher goes on: {other:?}"),
        })
        .unwrap();
    assert!(!batch.plan.needs_rebuild(), "{:?}", batch.plan);
}

#[test]
fn a_root_removed_and_made_again_is_watched_again() {
    let live = Live::start();
    std::fs::remove_dir_all(&live.root).unwrap();
    let batch = live.wait_for("parts/nav.html", None);
    assert!(batch.plan.needs_rebuild());
    assert!(batch.templates.iter().all(|t| t.hash.is_none()));
    assert_eq!(
        served(&live.cache, &live.root, "parts/nav.html"),
        None,
        "nothing is served from a removed root"
    );

    write(
        &live.root,
        "base.html",
        "<body>{% block content %}{% endblock %}</body>",
    );
    write(
        &live.root,
        "home.html",
        "{% extends 'base.html' %}{% block content %}<h1>{{ title }}</h1>{% include 'parts/nav.html' %}{% endblock %}",
    );
    write(&live.root, "parts/nav.html", "<nav>back</nav>");
    live.wait_for("parts/nav.html", Some("<nav>back</nav>"));
    // The new root is watched: an edit inside it is seen.
    write(&live.root, "parts/nav.html", "<nav>edited after</nav>");
    let batch = live.wait_for("parts/nav.html", Some("<nav>edited after</nav>"));
    assert!(!batch.plan.needs_rebuild(), "{:?}", batch.plan);
    assert_eq!(
        served(&live.cache, &live.root, "parts/nav.html").as_deref(),
        Some("<nav>edited after</nav>")
    );
    live.finish();
}

#[test]
fn start_up_reads_edits_made_before_it_and_drops_their_seeded_entries() {
    let (_dir, root, build) = site();
    let cache: Arc<TemplateCache<Arc<str>>> = Arc::new(TemplateCache::from_build_cache(&build));
    cache.insert("parts/nav.html", Arc::from("<nav>home</nav>"));
    cache.insert(
        "base.html",
        Arc::from("<body>{% block content %}{% endblock %}</body>"),
    );
    write(&root, "parts/nav.html", "<nav>edited while stopped</nav>");
    let planner = RebuildPlanner::new(build, RenderMode::Runtime);
    let watcher = Watcher::builder(planner, vec![root.clone()])
        .cache(Arc::clone(&cache))
        .start()
        .unwrap();
    assert!(cache.get("parts/nav.html").is_none());
    assert!(
        cache.get("base.html").is_some(),
        "an unchanged template keeps its entry"
    );
    assert_eq!(
        watcher
            .plan()
            .decision("parts/nav.html")
            .unwrap()
            .to_string(),
        "hot reload: literal text changed in parts/nav.html"
    );
}

#[test]
fn a_root_whose_parent_is_missing_is_an_error_naming_it() {
    let (dir, _root, build) = site();
    let planner = RebuildPlanner::new(build, RenderMode::Runtime);
    let missing = dir.path().join("no/such/templates");
    let error = Watcher::builder(planner, vec![missing])
        .start()
        .unwrap_err();
    assert_eq!(
        error.path.as_deref(),
        Some(dir.path().join("no/such").as_path())
    );
    assert!(error.message.contains("cannot be watched"), "{error}");
}

#[test]
fn subscriptions_can_be_awaited_without_a_runtime_of_their_own() {
    let live = Live::start();
    let events = live.watcher.subscribe();
    write(&live.root, "parts/nav.html", "<nav>awaited</nav>");
    let event = block_on(events.recv_async()).unwrap();
    assert!(
        matches!(event, Event::HotReload(ref b) if b.templates[0].hash == Some(content_hash(b"<nav>awaited</nav>"))),
        "{event:?}"
    );
    live.finish();
}

/// The smallest executor: polls on the calling thread, parks until woken.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

// ---- the file rule (issue 13): extensions from the build, special files, link loops ----

/// Runs `f` on a thread of its own and gives its answer, or fails if there is none within 30 s:
/// a watcher blocked for ever (in `open`, in a walk that never ends) fails the test instead of
/// hanging it. On a time-out the thread is left behind.
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = send.send(f());
    });
    match receive.recv_timeout(Duration::from_secs(30)) {
        Ok(answer) => answer,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(thread.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no answer in 30 s"),
    }
}

/// The events up to the first batch that holds `name` with the hash of `text`.
fn events_until(events: &Subscription, name: &str, text: &str) -> Vec<Event> {
    let hash = Some(content_hash(text.as_bytes()));
    let mut seen = Vec::new();
    loop {
        let event = events
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|e| panic!("no batch with {name} at {text:?}: {e}; saw {seen:?}"));
        let done = event
            .batch()
            .is_some_and(|b| b.templates.iter().any(|t| t.name == name && t.hash == hash));
        seen.push(event);
        if done {
            return seen;
        }
    }
}

/// Bug 7: with `Builder::extensions(["tera"])` the watcher counted only the default extensions:
/// at start it reported every `.tera` template removed, and it ignored their edits. The
/// extensions now come from the BuildCache (case-insensitive, as the build counts them).
#[test]
fn bug7_the_watcher_counts_the_extensions_the_build_counted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(
        &root,
        "base.tera",
        "<body>{% block content %}{% endblock %}</body>",
    );
    write(
        &root,
        "home.TERA",
        "{% extends 'base.tera' %}{% block content %}{{ title }}{% endblock %}",
    );
    write(&root, "notes.html", "not a template in this build");
    let built = shipwright_build::Builder::new()
        .manifest_dir(dir.path())
        .out_dir(dir.path().join("out"))
        .cargo_directives(false)
        .extensions(["tera"])
        .build()
        .unwrap();
    let build = BuildCache::load(&built.path).unwrap();
    assert_eq!(
        build.templates.keys().collect::<Vec<_>>(),
        ["base.tera", "home.TERA"]
    );
    assert_eq!(build.extensions, ["tera"]);

    let planner = RebuildPlanner::new(build.clone(), RenderMode::Runtime);
    let watcher = Watcher::builder(planner, vec![root.clone()])
        .start()
        .unwrap();
    assert_eq!(
        watcher.plan().decisions().count(),
        0,
        "nothing differs from the build at start: {:?}",
        watcher.plan()
    );
    let events = watcher.subscribe();
    let text = "<body>edited{% block content %}{% endblock %}</body>";
    write(&root, "base.tera", text);
    let seen = events_until(&events, "base.tera", text);
    let Some(Event::HotReload(batch)) = seen.last() else {
        panic!("{seen:?}")
    };
    assert_eq!(
        batch.affected().collect::<Vec<_>>(),
        ["base.tera", "home.TERA"]
    );

    // A file with an extension the build did not count is not a template.
    let mut tracker = tracker(&build, &root);
    write(&root, "notes.html", "still not a template");
    assert!(
        tracker
            .batch(&[root.join("notes.html")], Mode::Events)
            .is_empty()
    );
}

/// Bug 4: `mkfifo templates/partials/fifo.html` blocked the watcher's thread for ever in
/// `open`, so no later edit hot-reloaded. A special file named like a template is now reported
/// and never opened in a way that blocks.
#[cfg(unix)]
#[test]
fn bug4_a_fifo_named_like_a_template_does_not_stop_the_watcher() {
    let (dir, root, build) = site();
    let seen = within("the watcher after a FIFO", move || {
        let _dir = dir;
        let planner = RebuildPlanner::new(build, RenderMode::Runtime);
        let watcher = Watcher::builder(planner, vec![root.clone()])
            .start()
            .unwrap();
        let events = watcher.subscribe();
        let made = std::process::Command::new("mkfifo")
            .arg(root.join("parts/fifo.html"))
            .status()
            .unwrap();
        assert!(made.success());
        // Give the FIFO's own event a batch of its own before the edit.
        std::thread::sleep(Duration::from_millis(100));
        write(&root, "parts/nav.html", "<nav>after the fifo</nav>");
        let seen = events_until(&events, "parts/nav.html", "<nav>after the fifo</nav>");
        (root, seen)
    });
    let (root, seen) = seen;
    let fifo = root.join("parts/fifo.html");
    assert!(
        seen.iter().any(|e| matches!(e, Event::Error(e)
            if e.path.as_deref() == Some(fifo.as_path())
                && e.message == "not a regular file (a FIFO); skipped")),
        "the FIFO is reported: {seen:?}"
    );
    assert!(
        seen.iter()
            .filter_map(Event::batch)
            .all(|b| b.templates.iter().all(|t| t.name != "parts/fifo.html")),
        "the FIFO is no template: {seen:?}"
    );
}

/// Bug 5: a directory holding a symbolic link loop, moved into a root, made the watcher's walk
/// run away (100% CPU, 12 MB/s): each directory is now read once, links to a directory already
/// read are reported and not followed.
#[cfg(unix)]
#[test]
fn bug5_a_symlink_loop_moved_into_a_root_is_walked_once() {
    use std::os::unix::fs::symlink;
    let (dir, root, build) = site();
    let outside = dir.path().join("loop");
    write(&outside, "inner.html", "inner");
    symlink(".", outside.join("again")).unwrap();
    symlink(".", outside.join("more")).unwrap();
    symlink("..", outside.join("up")).unwrap();
    symlink("../parts", outside.join("parts")).unwrap();
    let mut tracker = tracker(&build, &root);
    std::fs::rename(&outside, root.join("loop")).unwrap();
    let (tracker, events) = within("a batch over a link loop", move || {
        let events = tracker.batch(&[root.join("loop")], Mode::Events);
        (tracker, events)
    });
    let batch = only_batch(events.clone());
    assert_eq!(
        batch
            .templates
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["loop/inner.html"],
        "one new template, no loop/again/…: {events:?}"
    );
    let reported: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Error(e) => Some(e.message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reported,
        [
            "symbolic link loop; not followed",
            "symbolic link loop; not followed",
            "symbolic link to a directory already listed as `parts`; not followed",
            "symbolic link loop; not followed",
        ],
        "{events:?}"
    );
    assert_eq!(
        tracker.dirs_read, 3,
        "the root, parts and loop, each read once"
    );
    drop(tracker);

    // The running watcher: the loop moved in, then an edit, which hot-reloads.
    let (dir, root, build) = site();
    let outside = dir.path().join("loop");
    write(&outside, "inner.html", "inner");
    symlink(".", outside.join("again")).unwrap();
    symlink(".", outside.join("more")).unwrap();
    symlink("..", outside.join("up")).unwrap();
    within("the watcher after a link loop", move || {
        let _dir = dir;
        let planner = RebuildPlanner::new(build, RenderMode::Runtime);
        let watcher = Watcher::builder(planner, vec![root.clone()])
            .start()
            .unwrap();
        let events = watcher.subscribe();
        std::fs::rename(&outside, root.join("loop")).unwrap();
        events_until(&events, "loop/inner.html", "inner");
        write(&root, "parts/nav.html", "<nav>after the loop</nav>");
        events_until(&events, "parts/nav.html", "<nav>after the loop</nav>");
    });
}

/// The events of the batch that holds `name` at the hash of `text`: the errors before it, and
/// the batch.
fn errors_until(events: &Subscription, name: &str, text: &str) -> (Vec<WatchError>, Batch) {
    let hash = Some(content_hash(text.as_bytes()));
    let mut errors = Vec::new();
    loop {
        match events.recv_timeout(PATIENCE).unwrap() {
            Event::Error(error) => errors.push(error),
            Event::HotReload(batch) | Event::RebuildNeeded(batch) => {
                if batch
                    .templates
                    .iter()
                    .any(|t| t.name == name && t.hash == hash)
                {
                    return (errors, batch);
                }
                errors.clear();
            }
        }
    }
}

#[cfg(feature = "minijinja")]
#[test]
fn a_template_minijinja_cannot_parse_is_reported_until_it_parses_again() {
    use crate::render::Templates;
    let (_dir, root, build) = site();
    let templates = Templates::from_roots(vec![root.clone()]).unwrap();
    let home = || templates.render_template("home.html", ()).unwrap();
    assert!(home().contains("<nav>home</nav>"));
    let planner = RebuildPlanner::new(build, RenderMode::Runtime);
    let watcher = Watcher::builder(planner, vec![root.clone()])
        .templates(&templates)
        .start()
        .unwrap();
    let events = watcher.subscribe();

    // Our lexer takes it (a tag left open is the engine's to find); minijinja does not.
    let broken = "<nav>\n{% if title %}home</nav>";
    write(&root, "parts/nav.html", broken);
    let (errors, batch) = errors_until(&events, "parts/nav.html", broken);
    assert!(
        !batch.plan.needs_rebuild(),
        "a syntax error is not a rebuild"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].path.as_deref(),
        Some(&*root.join("parts/nav.html"))
    );
    assert_eq!(errors[0].line, Some(2), "{errors:?}");
    assert!(
        errors[0].message.starts_with("syntax error: ")
            && errors[0]
                .message
                .ends_with("; its last good version is served"),
        "{errors:?}"
    );
    assert!(home().contains("<nav>home</nav>"), "the last good version");
    assert_eq!(templates.broken().len(), 1);

    // Still broken: reported again with a batch about another template.
    let base = "<body>{% block content %}{% endblock %}</body>\n";
    write(&root, "base.html", base);
    let (errors, _) = errors_until(&events, "base.html", base);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, Some(2));

    // Fixed: no error, and the new text renders.
    write(&root, "parts/nav.html", "<nav>Home</nav>");
    let (errors, _) = errors_until(&events, "parts/nav.html", "<nav>Home</nav>");
    assert!(errors.is_empty(), "{errors:?}");
    assert!(home().contains("<nav>Home</nav>"));
    assert!(templates.broken().is_empty());
}

#[test]
fn a_save_that_closes_the_file_ends_its_batch_without_waiting_out_the_window() {
    let (_dir, root, build) = site();
    let planner = RebuildPlanner::new(build, RenderMode::Runtime);
    // A window far longer than the test's patience: only the close can end the batch.
    let watcher = Watcher::builder(planner, vec![root.clone()])
        .debounce(Duration::from_secs(600))
        .start()
        .unwrap();
    let events = watcher.subscribe();
    // In place (truncate, write, close) and by a rename over the file.
    write(&root, "parts/nav.html", "<nav>Home</nav>");
    let (_, batch) = errors_until(&events, "parts/nav.html", "<nav>Home</nav>");
    assert_eq!(batch.templates.len(), 1, "{batch:?}");
    write(&root, "parts/.nav.tmp", "<nav>HOME</nav>");
    std::fs::rename(root.join("parts/.nav.tmp"), root.join("parts/nav.html")).unwrap();
    errors_until(&events, "parts/nav.html", "<nav>HOME</nav>");
}
