//! `autoreload-app [ADDR]`: the minimal example's page with minijinja and minijinja-autoreload,
//! read from `$PEERS_TEMPLATES`, under tower-livereload's layer: a change the reloader's watcher
//! sees tells the browser to reload the page. `$PEERS_STATIC` is the stylesheet's directory.
//!
//! minijinja-autoreload at its defaults: the environment re-created on a change (no fast
//! reload), the template directory watched recursively (`Notifier::watch_path`). The reloader
//! has no debounce: each file event it reacts to sends a reload. With `$PEERS_DEBOUNCE_MS` set,
//! the reload goes out once no event came for that many milliseconds (Shipwright's watcher
//! debounces its events over a window in the same way).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use minijinja_autoreload::AutoReloader;
use minijinja2::{Environment, context, path_loader};
use shipwright_peers::serve;
use tower_livereload::{LiveReloadLayer, Reloader};

async fn index(State(templates): State<Arc<AutoReloader>>) -> Result<Html<String>, StatusCode> {
    let render = || -> Result<String, minijinja2::Error> {
        let env = templates.acquire_env()?;
        env.get_template("index.html")?.render(context! {
            title => serve::TITLE,
            items => serve::ITEMS,
        })
    };
    render()
        .map(Html)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

/// What tells the browser: at once, or after `window` without another event.
fn announcer(reloader: Reloader, window: Option<Duration>) -> Arc<dyn Fn() + Send + Sync> {
    let Some(window) = window else {
        return Arc::new(move || reloader.reload());
    };
    let (events, quiet) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        while quiet.recv().is_ok() {
            loop {
                match quiet.recv_timeout(window) {
                    Ok(()) => continue,
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            reloader.reload();
        }
    });
    let events = std::sync::Mutex::new(events);
    Arc::new(move || {
        let _ = events.lock().expect("sender lock").send(());
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::var_os("PEERS_TEMPLATES")
        .ok_or("set PEERS_TEMPLATES to the template directory")?
        .into();
    let window = match std::env::var("PEERS_DEBOUNCE_MS") {
        Ok(ms) => Some(Duration::from_millis(ms.parse()?)),
        Err(_) => None,
    };
    let live = LiveReloadLayer::new();
    let announce = announcer(live.reloader(), window);
    let templates = AutoReloader::new(move |notifier| {
        let mut env = Environment::new();
        env.set_loader(path_loader(&dir));
        notifier.watch_path(&dir, true);
        let announce = Arc::clone(&announce);
        notifier.set_on_should_reload_callback(move || announce());
        Ok(env)
    });
    let page = Router::new()
        .route("/", get(index))
        .with_state(Arc::new(templates));
    serve::run(serve::app(page, live)).await?;
    Ok(())
}
