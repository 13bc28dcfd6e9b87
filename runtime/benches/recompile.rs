//! How many templates one partial edit makes minijinja compile again, and how long the next
//! renders of every page take: the runtime's `render::Templates` kept in step by the dev
//! watcher, against `minijinja-autoreload` (which recreates the environment, or with fast
//! reload clears every template, on any change), on the generated site of the scan benchmark.
//!
//! `cargo bench -p shipwright-runtime --bench recompile` (1,000 templates, 5 edits; `-- --smoke`:
//! 300 templates, 1 edit). Prints a Markdown table and merges `recompile_*` into
//! `target/shipwright-bench/summary.json`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use minijinja::{Environment, Value, context};
use minijinja_autoreload::AutoReloader;
use shipwright_fixtures::{generate_site, merge_summary};
use shipwright_runtime::dev::{Event, Watcher};
use shipwright_runtime::render::Templates;
use shipwright_runtime::{RebuildPlanner, RenderMode};

/// The partial edited: included by every page of 4 of the 200 partial slots, by a base and by
/// a layout.
const PARTIAL: &str = "partials/p000.html";
const PATIENCE: Duration = Duration::from_secs(30);

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (pages, edits) = if smoke { (36, 1) } else { (736, 5) };
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("templates");
    let files = generate_site(&root, pages);
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            let name = f.strip_prefix(&root).expect("under the root");
            name.to_str().expect("UTF-8").replace('\\', "/")
        })
        .collect();
    let page_names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with("pages/"))
        .collect();
    let original = std::fs::read_to_string(root.join(PARTIAL)).expect("the partial");
    let edit = |n: usize| {
        let text = original.replacen("<section", &format!("<section data-edit=\"{n}\""), 1);
        std::fs::write(root.join(PARTIAL), text).expect("edit");
    };
    let ctx = context! {
        site => context! { name => "Site" },
        user => context! { name => "Ada" },
        item => context! { title => "Item" },
        items => vec![context! { title => "<One>", body => "first" }, context! { title => "Two", body => "second" }],
    };

    // Ours: the templates the watcher keeps in step.
    let build = {
        let roots = shipwright_build::scan::Roots::new(vec![(root.clone(), "templates".into())]);
        shipwright_build::scan::scan(&roots, None)
            .expect("scan")
            .cache
    };
    let templates = Templates::from_roots(vec![root.clone()]).expect("root");
    let watcher = Watcher::builder(
        RebuildPlanner::new(build, RenderMode::Runtime),
        vec![root.clone()],
    )
    .templates(&templates)
    .start()
    .expect("watcher");
    let events = watcher.subscribe();
    let render_ours = || render_all(templates.environment(), &page_names, &ctx);
    render_ours();
    let cold = templates.compilations();
    let mut ours = Runs::default();
    for n in 0..edits {
        edit(n);
        wait_for_batch(&events);
        let before = templates.compilations();
        let started = Instant::now();
        render_ours();
        ours.add(templates.compilations() - before, started.elapsed());
    }
    drop(watcher);
    std::fs::write(root.join(PARTIAL), &original).expect("undo");

    // minijinja-autoreload, watching the root, in both of its modes.
    let mut peers = Vec::new();
    for fast in [false, true] {
        let loads = Arc::new(AtomicU64::new(0));
        let (reloading, reloads) = mpsc::channel();
        let reloader = {
            let (root, loads) = (root.clone(), Arc::clone(&loads));
            AutoReloader::new(move |notifier| {
                let mut env = Environment::new();
                let (root, loads) = (root.clone(), Arc::clone(&loads));
                let files = minijinja::path_loader(&root);
                env.set_loader(move |name| {
                    loads.fetch_add(1, Ordering::Relaxed);
                    files(name)
                });
                notifier.set_fast_reload(fast);
                notifier.watch_path(&root, true);
                Ok(env)
            })
        };
        let sender = std::sync::Mutex::new(reloading);
        reloader.notifier().set_on_should_reload_callback(move || {
            let _ = sender.lock().expect("sender").send(());
        });
        let render_peer = || {
            let env = reloader.acquire_env().expect("environment");
            render_all(&env, &page_names, &ctx);
        };
        render_peer();
        let peer_cold = loads.load(Ordering::Relaxed);
        let mut runs = Runs::default();
        for n in 0..edits {
            while reloads.try_recv().is_ok() {}
            edit(n);
            reloads
                .recv_timeout(PATIENCE)
                .expect("autoreload saw the edit");
            let before = loads.load(Ordering::Relaxed);
            let started = Instant::now();
            render_peer();
            runs.add(loads.load(Ordering::Relaxed) - before, started.elapsed());
        }
        std::fs::write(root.join(PARTIAL), &original).expect("undo");
        peers.push((fast, peer_cold, runs));
    }

    println!(
        "{} templates, {} pages rendered, {edits} edit(s) of {PARTIAL}\n",
        names.len(),
        page_names.len()
    );
    println!(
        "| | first render: compiled | after one edit: compiled | renders after the edit, median |"
    );
    println!("| --- | --- | --- | --- |");
    println!(
        "| shipwright `Templates` | {cold} | {} | {:.1} ms |",
        ours.compiled_median(),
        ours.time_median_ms()
    );
    let mut compiled = serde_json::json!({ "shipwright": ours.compiled_median() });
    let mut render_ms = serde_json::json!({ "shipwright": ours.time_median_ms() });
    for (fast, cold, runs) in &peers {
        let (mode, key) = if *fast {
            ("fast reload", "autoreload_fast")
        } else {
            ("default", "autoreload")
        };
        println!(
            "| minijinja-autoreload ({mode}) | {cold} | {} | {:.1} ms (ours: {:.2}×) |",
            runs.compiled_median(),
            runs.time_median_ms(),
            ours.time_median_ms() / runs.time_median_ms()
        );
        compiled[key] = runs.compiled_median().into();
        render_ms[key] = runs.time_median_ms().into();
    }
    let mut units = serde_json::Map::new();
    units.insert("recompile_compiled".into(), "templates".into());
    units.insert("recompile_render_ms".into(), "ms".into());
    let mut metrics = serde_json::Map::new();
    metrics.insert("recompile_compiled".into(), compiled);
    metrics.insert("recompile_render_ms".into(), render_ms);
    merge_summary(units, metrics);
}

/// Renders every page; a failure ends the bench (the site renders with this context).
fn render_all(env: &Environment<'_>, pages: &[&str], ctx: &Value) {
    for page in pages {
        env.get_template(page)
            .and_then(|t| t.render(ctx))
            .unwrap_or_else(|e| panic!("{page}: {e:#}"));
    }
}

/// Waits for the watcher's batch of the edit.
fn wait_for_batch(events: &shipwright_runtime::dev::Subscription) {
    loop {
        match events
            .recv_timeout(PATIENCE)
            .expect("the watcher saw the edit")
        {
            Event::HotReload(batch) | Event::RebuildNeeded(batch) if batch.content_changed() => {
                return;
            }
            _ => {}
        }
    }
}

/// The compilations and render times after each edit.
#[derive(Default)]
struct Runs {
    compiled: Vec<u64>,
    times: Vec<Duration>,
}

impl Runs {
    fn add(&mut self, compiled: u64, time: Duration) {
        self.compiled.push(compiled);
        self.times.push(time);
    }

    fn compiled_median(&self) -> u64 {
        let mut v = self.compiled.clone();
        v.sort_unstable();
        v[v.len() / 2]
    }

    fn time_median_ms(&self) -> f64 {
        let mut v = self.times.clone();
        v.sort_unstable();
        v[v.len() / 2].as_secs_f64() * 1e3
    }
}
