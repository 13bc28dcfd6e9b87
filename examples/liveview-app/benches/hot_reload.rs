//! Hot-reload latency over 200 edits of a template's literal text:
//!
//! - save -> event: the runtime's watcher in this process; from the moment `fs::write`
//!   returns to the moment the subscriber holds the batch with the new hash;
//! - save -> DOM: the app as a process, the counter page in headless Chromium; from the
//!   moment `fs::write` returns to the moment the page's script has swapped the new HTML in
//!   (`performance.timeOrigin + performance.now()` in the page against the system clock here).
//!
//! Saves write the file in place, 40 ms apart, each measured alone. `cargo bench -p liveview-app --bench
//! hot_reload` (`-- --smoke`: 5 edits, for CI).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use shipwright_core::analyze::content_hash;
use shipwright_runtime::dev::{DEFAULT_DEBOUNCE, Event, Watcher};
use shipwright_runtime::{RebuildPlanner, RenderMode};
use support::{Browser, Templates};

const NAME: &str = "partials/counter_value.html";

/// Between two saves: long enough for the last events of one save (a close after the write)
/// to be handled before the next, so that each save is measured alone, as a person's would be.
const PAUSE: Duration = Duration::from_millis(40);

fn edit(i: usize) -> String {
    format!("<output data-live=\"counter\">Count #{i}: {{{{ count }}}}</output>\n")
}

/// (p50, p99, max) in milliseconds.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.5), at(0.99), samples[samples.len() - 1])
}

fn save_to_event(edits: usize) -> Vec<f64> {
    let templates = Templates::copy();
    let planner = RebuildPlanner::from_embedded(liveview_app::embedded(), RenderMode::Runtime);
    let watcher = Watcher::builder(planner, vec![templates.root.clone()])
        .start()
        .expect("watcher");
    let events = watcher.subscribe();
    let mut samples = Vec::with_capacity(edits);
    for i in 0..edits {
        std::thread::sleep(PAUSE);
        let text = edit(i);
        let hash = content_hash(text.as_bytes());
        std::fs::write(templates.path(NAME), &text).unwrap();
        let saved = Instant::now();
        loop {
            match events
                .recv_timeout(Duration::from_secs(30))
                .expect("an event")
            {
                Event::HotReload(batch) | Event::RebuildNeeded(batch)
                    if batch
                        .templates
                        .iter()
                        .any(|t| t.name == NAME && t.hash.as_deref() == Some(&hash)) =>
                {
                    samples.push(saved.elapsed().as_secs_f64() * 1e3);
                    break;
                }
                _ => {}
            }
        }
    }
    samples
}

async fn save_to_dom(edits: usize) -> Option<Vec<f64>> {
    let browser = Browser::launch().await?;
    let templates = Templates::copy();
    let app = support::start(&templates, &[]).await;
    let tab = browser.open(&format!("{}/counter", app.url)).await;
    tab.wait_for(
        "window.__liveview && window.__liveview.connected",
        "the app's socket",
    )
    .await;
    let mut samples = Vec::with_capacity(edits);
    for i in 0..edits {
        tokio::time::sleep(PAUSE).await;
        std::fs::write(templates.path(NAME), edit(i)).unwrap();
        let saved = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1e3;
        tab.wait_for(&format!("document.querySelector('[data-live=counter]').textContent.startsWith('Count #{i}:')"), "the edit in the DOM")
            .await;
        let applied = tab.eval("window.__liveview.appliedAt").await;
        samples.push(applied.as_f64().expect("appliedAt") - saved);
    }
    Some(samples)
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let edits = if smoke { 5 } else { 200 };
    let window = DEFAULT_DEBOUNCE.as_secs_f64() * 1e3;
    println!("hot reload, {edits} edits of {NAME}, debounce window {window} ms");

    let (p50, p99, max) = percentiles(save_to_event(edits));
    println!("save -> event : p50 {p50:6.2} ms  p99 {p99:6.2} ms  max {max:6.2} ms");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match runtime.block_on(save_to_dom(edits)) {
        Some(samples) => {
            let (p50, p99, max) = percentiles(samples);
            println!("save -> DOM   : p50 {p50:6.2} ms  p99 {p99:6.2} ms  max {max:6.2} ms");
        }
        None => println!("save -> DOM   : skipped (no Chromium)"),
    }
}
