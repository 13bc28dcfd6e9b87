//! The dev loop three ways, in one run, over the minimal example's templates and in the same
//! headless Chromium: from the moment a template save returns to the moment the page shows the
//! edit.
//!
//! - **Shipwright**: the minimal example (dev layer, default batching): the page fetches itself and
//!   morphs the DOM in place; the time is the client's `appliedAt`.
//! - **minijinja-autoreload + tower-livereload** (`autoreload-app`): the reloader's watcher tells
//!   tower-livereload, which reloads the page; the time is the new document's
//!   `domContentLoadedEventEnd`. Twice: at the defaults (no debounce: a reload per file event),
//!   and with the reload sent after the same 10 ms debounce window as Shipwright's.
//! - **askama** (a copy of `askama-app` under `target/shipwright-bench/peers/askama-app`): as
//!   `cargo watch -x run` does, the app killed, `cargo build` (dev, incremental), the app started
//!   again on the same port; tower-livereload's page reconnects (it retries every second, its
//!   default) and reloads; the time is the new document's `domContentLoadedEventEnd`.
//!
//! Two kinds of edit of `index.html`: a literal (the intro text) and an expression (a sum added
//! to the heading's `{{ title }}`). Each save waits for the page to settle first. Shipwright's
//! edits alternate the two kinds (each edit changes only its own element), so that neither kind
//! is measured later in the tab's life than the other.
//!
//! `cargo bench -p shipwright-peers --bench dev_loop` (50 edits of each kind, 5 for askama;
//! `-- --smoke`: 3, and 1 for askama; `-- --shipwright`: Shipwright's rows only). Shipwright's
//! rows include its steps as the client timed them. It builds the apps first (dev profile).
//! Without Chromium it fails, unless `SHIPWRIGHT_SKIP_BROWSER=1` (then it says so and measures
//! nothing).

#[path = "../../../examples/support/browser.rs"]
mod browser;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use browser::{App, Browser, Site, Tab};
use shipwright_peers::{
    Cargo, bench_dir, load_average, lock_like_workspace, percentiles, workspace, write,
};

/// Time for the page to settle between saves: a reloaded page has reopened its event stream.
const SETTLE: Duration = Duration::from_millis(250);
/// Shipwright's default debounce window (`shipwright_runtime::dev::DEFAULT_DEBOUNCE`).
const DEBOUNCE_MS: &str = "10";

/// Where each kind of edit writes in `index.html`: the intro paragraph's text, the heading's.
const INTRO: (&str, &str) = ("<p id=\"intro\">", "</p>");
const HEADING: (&str, &str) = ("<h1 id=\"title\">", "</h1>");

/// Shipwright's rows: save → new DOM, then its steps, from the client's times
/// (`window.__shipwright`'s `receivedAt`, `fetchedAt`, `parsedAt`, `appliedAt`).
const STEPS: [&str; 5] = [
    SHIPWRIGHT,
    "Shipwright, of which save → update received",
    "Shipwright, of which → page fetched",
    "Shipwright, of which → parsed",
    "Shipwright, of which → morphed",
];
const SHIPWRIGHT: &str = "Shipwright (morph)";

#[derive(Clone, Copy)]
enum Edit {
    Literal,
    Expression,
}

impl Edit {
    const ALL: [Edit; 2] = [Edit::Literal, Edit::Expression];

    fn name(self) -> &'static str {
        match self {
            Edit::Literal => "literal",
            Edit::Expression => "expression",
        }
    }

    /// `index` with edit number `i`, and the page's condition for it. Only this kind's element
    /// changes, so that edits of the two kinds can follow each other.
    fn apply(self, index: &str, i: usize) -> (String, String) {
        let ((open, close), inner, condition) = match self {
            Edit::Literal => (
                INTRO,
                format!("Edit #{i}."),
                format!("document.getElementById('intro').textContent === 'Edit #{i}.'"),
            ),
            Edit::Expression => (
                HEADING,
                format!("{{{{ title }}}} {{{{ 1000 + {i} }}}}"),
                format!(
                    "document.getElementById('title').textContent === 'Minimal {}'",
                    1000 + i
                ),
            ),
        };
        let start = index.find(open).expect("index.html has the element") + open.len();
        let end = start + index[start..].find(close).expect("the element is closed");
        (
            format!("{}{inner}{}", &index[..start], &index[end..]),
            condition,
        )
    }
}

/// Navigates `tab` to `url` and waits until the page has loaded.
async fn visit(tab: &Tab<'_>, url: &str) {
    tab.call("Page.navigate", serde_json::json!({ "url": url }))
        .await;
    tab.poll_across_reload(
        &format!("location.href === '{url}' && document.readyState === 'complete' ? true : null"),
        "the page loaded",
    )
    .await;
}

/// The new document's `domContentLoadedEventEnd` on the system clock, once `condition` holds in
/// it (across the reload).
async fn reloaded(tab: &Tab<'_>, condition: &str) -> f64 {
    let navigation = "performance.getEntriesByType('navigation')[0]";
    tab.poll_across_reload(
        &format!(
            "({condition}) && {navigation}.domContentLoadedEventEnd > 0 ? performance.timeOrigin + {navigation}.domContentLoadedEventEnd : null"
        ),
        "the edit in the reloaded page",
    )
    .await
    .as_f64()
    .expect("a time")
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1e3
}

/// Save → new DOM, `edits` of `kind` to `templates/index.html` under `site`, for an app whose page
/// reloads (`restart`: the askama loop's kill, build and start; `None`: the app reloads itself).
async fn reloading(
    tab: &Tab<'_>,
    index: &Path,
    kind: Edit,
    edits: usize,
    mut restart: Option<&mut Askama<'_>>,
) -> Vec<f64> {
    let original = std::fs::read_to_string(index).unwrap();
    let mut samples = Vec::with_capacity(edits);
    for i in 0..edits {
        tokio::time::sleep(SETTLE).await;
        let (text, condition) = kind.apply(&original, i);
        std::fs::write(index, text).unwrap();
        let saved = now_ms();
        if let Some(askama) = restart.as_mut() {
            askama.restart().await;
        }
        samples.push(reloaded(tab, &condition).await - saved);
    }
    std::fs::write(index, original).unwrap();
    samples
}

/// The askama loop: its app, and how to build and start it.
struct Askama<'a> {
    cargo: &'a Cargo,
    dir: &'a Path,
    addr: String,
    static_dir: &'a Path,
    app: Option<App>,
    /// How long each restart took, in ms: kill, build, start until the app listens again.
    restarts: Vec<f64>,
}

impl Askama<'_> {
    async fn start(&mut self) {
        let binary = self.cargo.binary("askama-app");
        self.app = Some(
            App::start(
                binary.to_str().unwrap(),
                &[self.addr.as_ref()],
                &[("PEERS_STATIC", self.static_dir)],
            )
            .await,
        );
    }

    /// What `cargo watch -x run` does on a change: kill, build, run.
    async fn restart(&mut self) {
        let began = now_ms();
        if let Some(app) = self.app.take() {
            app.stop().await;
        }
        tokio::task::block_in_place(|| self.cargo.run(self.dir, &["build"]));
        self.start().await;
        self.restarts.push(now_ms() - began);
    }
}

/// The workspace's target directory (where `cargo build` puts the minimal example).
fn workspace_target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// Builds the minimal example and `autoreload-app` in the dev profile.
fn build_workspace_apps() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "minimal",
            "--bin",
            "minimal",
            "-p",
            "shipwright-peers",
            "--bin",
            "autoreload-app",
            "--features",
            "shipwright-peers/apps",
        ])
        .current_dir(workspace())
        .status()
        .unwrap();
    assert!(status.success(), "cargo build of the apps");
}

/// The askama app as a crate of its own over a copy of the minimal example's templates, built.
fn askama_crate(cargo: &Cargo) -> PathBuf {
    let dir = bench_dir().join("askama-app");
    let peers = workspace().join("benches/peers");
    write(
        &dir,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"askama-app\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\naskama = \"0.16\"\n\
             axum = {{ version = \"0.8\", default-features = false, features = [\"http1\", \"tokio\"] }}\n\
             tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n\
             tower-livereload = \"0.10\"\n\
             shipwright-peers = {{ path = \"{}\", features = [\"serve\"] }}\n\n[workspace]\n",
            peers.display()
        ),
    );
    write(
        &dir,
        "src/main.rs",
        &std::fs::read_to_string(peers.join("src/bin/askama_app.rs")).unwrap(),
    );
    write(&dir, "askama.toml", "[general]\ndirs = [\"templates\"]\n");
    let templates = workspace().join("examples/minimal/templates");
    for name in ["layout.html", "index.html"] {
        write(
            &dir,
            &format!("templates/{name}"),
            &std::fs::read_to_string(templates.join(name)).unwrap(),
        );
    }
    lock_like_workspace(&dir);
    cargo.run(&dir, &["build"]);
    dir
}

struct Row {
    app: &'static str,
    kind: Edit,
    samples: Vec<f64>,
}

async fn run(edits: usize, askama_edits: usize, peers: bool) -> Option<Vec<Row>> {
    let browser = Browser::launch().await?;
    println!("building the apps (dev profile) ...");
    build_workspace_apps();
    let cargo = Cargo::shared();
    let askama_dir = askama_crate(&cargo);
    let target = workspace_target().join("debug");
    let mut rows = Vec::new();

    // Shipwright: the minimal example, as its own bench runs it (its tab, reused by the peers).
    let tab = {
        let site = Site::copy(
            workspace().join("examples/minimal").to_str().unwrap(),
            &["templates", "static"],
        );
        let binary = target.join("minimal");
        let app = App::start(
            binary.to_str().unwrap(),
            &["127.0.0.1:0".as_ref()],
            &[
                ("SHIPWRIGHT_TEMPLATES", &site.path("templates")),
                ("SHIPWRIGHT_STATIC", &site.path("static")),
            ],
        )
        .await;
        let tab = browser.open(&format!("{}/", app.url)).await;
        tab.eval("window.__marker = 'kept'").await;
        let index = site.path("templates/index.html");
        let mut index_text = site.read("templates/index.html");
        // The two kinds in turn, so that neither is measured later in the tab's life. Per kind:
        // the whole time, then its steps as the client saw them.
        let mut samples = Edit::ALL.map(|_| STEPS.map(|_| Vec::with_capacity(edits)));
        for i in 0..edits {
            for (kind, samples) in Edit::ALL.into_iter().zip(&mut samples) {
                tokio::time::sleep(SETTLE).await;
                let (text, condition) = kind.apply(&index_text, i);
                std::fs::write(&index, &text).unwrap();
                let saved = now_ms();
                index_text = text;
                tab.wait_for(&condition, "the edit in the DOM").await;
                let times = tab
                    .eval("(({ receivedAt, fetchedAt, parsedAt, appliedAt }) => [receivedAt, fetchedAt, parsedAt, appliedAt])(window.__shipwright)")
                    .await;
                let times: Vec<f64> = times
                    .as_array()
                    .expect("the client's times")
                    .iter()
                    .map(|t| t.as_f64().expect("a time"))
                    .collect();
                samples[0].push(times[3] - saved);
                let mut before = saved;
                for (step, at) in samples[1..].iter_mut().zip(times) {
                    step.push(at - before);
                    before = at;
                }
            }
        }
        for (kind, steps) in Edit::ALL.into_iter().zip(samples) {
            for (app, samples) in STEPS.into_iter().zip(steps) {
                rows.push(Row { app, kind, samples });
            }
        }
        assert_eq!(tab.eval("window.__marker").await, "kept", "no reload");
        app.stop().await;
        tab
    };
    if !peers {
        return Some(rows);
    }

    // minijinja-autoreload + tower-livereload, at the defaults and with the debounce window.
    for (name, debounce) in [
        ("autoreload + livereload, defaults", None),
        ("autoreload + livereload, 10 ms debounce", Some(DEBOUNCE_MS)),
    ] {
        let site = Site::copy(
            workspace().join("examples/minimal").to_str().unwrap(),
            &["templates", "static"],
        );
        let binary = target.join("autoreload-app");
        let window = PathBuf::from(debounce.unwrap_or_default());
        let mut env = vec![
            ("PEERS_TEMPLATES", site.path("templates")),
            ("PEERS_STATIC", site.path("static")),
        ];
        if debounce.is_some() {
            env.push(("PEERS_DEBOUNCE_MS", window));
        }
        let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
        let app = App::start(binary.to_str().unwrap(), &["127.0.0.1:0".as_ref()], &env).await;
        visit(&tab, &format!("{}/", app.url)).await;
        let index = site.path("templates/index.html");
        for kind in Edit::ALL {
            let samples = reloading(&tab, &index, kind, edits, None).await;
            rows.push(Row {
                app: name,
                kind,
                samples,
            });
        }
        app.stop().await;
    }

    // askama: kill, cargo build, start again on the same port.
    {
        let site = Site::copy(
            workspace().join("examples/minimal").to_str().unwrap(),
            &["static"],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let static_dir = site.path("static");
        let mut askama = Askama {
            cargo: &cargo,
            dir: &askama_dir,
            addr: format!("127.0.0.1:{port}"),
            static_dir: &static_dir,
            app: None,
            restarts: Vec::new(),
        };
        askama.start().await;
        let url = format!("{}/", askama.app.as_ref().expect("started").url);
        visit(&tab, &url).await;
        let index = askama_dir.join("templates/index.html");
        for kind in Edit::ALL {
            let samples = reloading(&tab, &index, kind, askama_edits, Some(&mut askama)).await;
            rows.push(Row {
                app: "askama (build + restart + reload)",
                kind,
                samples,
            });
            rows.push(Row {
                app: "askama, of which kill + build + start",
                kind,
                samples: std::mem::take(&mut askama.restarts),
            });
        }
        if let Some(app) = askama.app.take() {
            app.stop().await;
        }
    }
    Some(rows)
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (edits, askama_edits) = if smoke { (3, 1) } else { (50, 5) };
    // `--shipwright`: Shipwright's rows only, for work on the client.
    let peers = !std::env::args().any(|a| a == "--shipwright");
    println!(
        "dev loop, save -> new DOM in headless Chromium; load average {} at the start",
        load_average()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some(rows) = runtime.block_on(run(edits, askama_edits, peers)) else {
        println!("save -> DOM: skipped (no Chromium, SHIPWRIGHT_SKIP_BROWSER=1)");
        return;
    };
    println!("\n| app | edit | edits | p50 | p99 | max |\n| --- | --- | --- | --- | --- | --- |");
    let mut p50 = std::collections::HashMap::new();
    for row in rows {
        let n = row.samples.len();
        let (median, p99, max) = percentiles(row.samples);
        println!(
            "| {} | {} | {n} | {median:.1} ms | {p99:.1} ms | {max:.1} ms |",
            row.app,
            row.kind.name()
        );
        p50.insert((row.app, row.kind.name()), median);
    }
    if !peers {
        return;
    }
    println!(
        "\nratios at p50 (targets: askama / Shipwright >= 100, Shipwright / autoreload <= 0.5):"
    );
    for kind in Edit::ALL.map(Edit::name) {
        let ours = p50[&(SHIPWRIGHT, kind)];
        let askama = p50[&("askama (build + restart + reload)", kind)];
        let defaults = p50[&("autoreload + livereload, defaults", kind)];
        let debounced = p50[&("autoreload + livereload, 10 ms debounce", kind)];
        println!(
            "- {kind}: askama / Shipwright {:.0}x; Shipwright / autoreload {:.2} (defaults), {:.2} (10 ms debounce)",
            askama / ours,
            ours / defaults,
            ours / debounced
        );
    }
    println!("load average {} at the end", load_average());
}
