//! Save -> DOM updated, in headless Chromium, for the minimal app on the dev layer: the app as
//! a process over a copy of its files, a tab on `/`; from the moment the write returns to the
//! moment the page's client has applied the change (`window.__shipwright.appliedAt`, the page's
//! `performance.timeOrigin + performance.now()` against the system clock here):
//!
//! - template: a literal text edit of `index.html`, which the client fetches and morphs in;
//! - stylesheet: an edit of `static/app.css`, swapped in place (until the new sheet loaded).
//!
//! Saves are 40 ms apart, each measured alone. `cargo bench -p minimal --bench hot_reload`
//! (`-- --smoke`: 5 edits of each, for CI).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const PAUSE: Duration = Duration::from_millis(40);

/// (p50, p99, max) in milliseconds.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.5), at(0.99), samples[samples.len() - 1])
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1e3
}

async fn run(edits: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let browser = support::Browser::launch().await?;
    let site = support::site();
    let app = support::start(&site).await;
    let tab = browser.open(&format!("{}/", app.url)).await;
    tab.eval("window.__marker = 'kept'").await;
    let index = site.read("templates/index.html");
    let css = site.read("static/app.css");

    let mut template = Vec::with_capacity(edits);
    for i in 0..edits {
        tokio::time::sleep(PAUSE).await;
        let text = index.replace(
            "A plain axum and minijinja app. Edit this text and save.",
            &format!("Edit #{i}."),
        );
        std::fs::write(site.path("templates/index.html"), text).unwrap();
        let saved = now_ms();
        tab.wait_for(
            &format!("document.getElementById('intro').textContent === 'Edit #{i}.'"),
            "the edit in the DOM",
        )
        .await;
        let applied = tab.eval("window.__shipwright.appliedAt").await;
        template.push(applied.as_f64().expect("appliedAt") - saved);
    }

    let mut stylesheet = Vec::with_capacity(edits);
    for i in 0..edits {
        tokio::time::sleep(PAUSE).await;
        let colour = format!("rgb({}, {}, 7)", i % 256, i / 256);
        std::fs::write(
            site.path("static/app.css"),
            format!("{css}\n#title {{ color: {colour}; }}\n"),
        )
        .unwrap();
        let saved = now_ms();
        tab.wait_for(
            &format!("getComputedStyle(document.getElementById('title')).color === '{colour}' && document.querySelectorAll('link[rel=stylesheet]').length === 1"),
            "the new style",
        )
        .await;
        let applied = tab.eval("window.__shipwright.appliedAt").await;
        stylesheet.push(applied.as_f64().expect("appliedAt") - saved);
    }
    assert_eq!(tab.eval("window.__marker").await, "kept", "no reload");
    drop(app);
    Some((template, stylesheet))
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let edits = if smoke { 5 } else { 200 };
    println!("minimal app, dev layer, {edits} edits of each, save -> DOM updated in Chromium");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match runtime.block_on(run(edits)) {
        Some((template, stylesheet)) => {
            let (p50, p99, max) = percentiles(template);
            println!(
                "template (fetch + morph) : p50 {p50:6.2} ms  p99 {p99:6.2} ms  max {max:6.2} ms"
            );
            let (p50, p99, max) = percentiles(stylesheet);
            println!(
                "stylesheet (swap)        : p50 {p50:6.2} ms  p99 {p99:6.2} ms  max {max:6.2} ms"
            );
        }
        None => println!("save -> DOM: skipped (no Chromium, SHIPWRIGHT_SKIP_BROWSER=1)"),
    }
}
