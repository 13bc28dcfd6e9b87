//! The smallest app on Shipwright: axum and minijinja, with templates the build checks and, in
//! dev, edited live in the browser. What Shipwright asks of it: `build.rs` (one call), a
//! `#[derive(Template)]` per page, the runtime's [`Templates`] to render, and in dev the
//! watcher and the layer ([`app`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let app = minimal::app()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.router).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use shipwright_runtime::render::{RenderError, Templates};
use shipwright_runtime::{Template, embedded_templates};

// README: page
/// `/`.
#[derive(Template, Serialize)]
#[template(path = "index.html")]
pub struct Index {
    /// The heading and the title.
    pub title: &'static str,
    /// The list under "More".
    pub items: Vec<&'static str>,
}

async fn index(State(templates): State<Arc<Templates>>) -> Result<Html<String>, RenderError> {
    let page = Index {
        title: "Minimal",
        items: vec!["Templates checked by the build", "Edited live in dev"],
    };
    Ok(Html(templates.render(&page)?))
}
// README: end

/// `/static/{file}`: from the static directory in dev (so that edits show), embedded
/// otherwise.
async fn asset(Path(file): Path<String>) -> Response {
    let css = [
        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    match file.as_str() {
        "app.css" if cfg!(feature = "dev") => {
            match std::fs::read_to_string(static_dir().join("app.css")) {
                Ok(text) => (css, text).into_response(),
                Err(_) => StatusCode::NOT_FOUND.into_response(),
            }
        }
        "app.css" => (css, include_str!("../static/app.css")).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The template root: `$SHIPWRIGHT_TEMPLATES`, else the crate's `templates/`.
pub fn templates_dir() -> PathBuf {
    std::env::var_os("SHIPWRIGHT_TEMPLATES").map_or_else(
        || concat!(env!("CARGO_MANIFEST_DIR"), "/templates").into(),
        PathBuf::from,
    )
}

/// The static directory: `$SHIPWRIGHT_STATIC`, else the crate's `static/`.
pub fn static_dir() -> PathBuf {
    std::env::var_os("SHIPWRIGHT_STATIC").map_or_else(
        || concat!(env!("CARGO_MANIFEST_DIR"), "/static").into(),
        PathBuf::from,
    )
}

/// The app: its router and, in dev, the watcher that feeds the layer (keep it alive).
pub struct App {
    /// The routes, with the dev layer in dev.
    pub router: Router,
    /// The template watcher.
    #[cfg(feature = "dev")]
    pub watcher: shipwright_runtime::dev::Watcher,
}

/// The routes; in dev, the template watcher and the live reload layer over them.
pub fn app() -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    // README: app
    let embedded = embedded_templates!();
    // In dev (a debug build with the `dev` feature) the roots on disk; else the embedded sources.
    let templates = match std::env::var_os("SHIPWRIGHT_TEMPLATES") {
        Some(dir) => Templates::with_roots(embedded, vec![dir.into()])?,
        None => Templates::new(embedded)?,
    };
    let templates = Arc::new(templates);
    let router = Router::new()
        .route("/", get(index))
        .route("/static/{file}", get(asset))
        .with_state(Arc::clone(&templates));
    #[cfg(feature = "dev")]
    {
        use shipwright_runtime::dev::{LiveReload, Watcher};
        use shipwright_runtime::{Binding, RebuildPlanner, RenderMode};
        let planner = RebuildPlanner::from_embedded(embedded, RenderMode::Runtime)
            .bind(Binding::of::<Index>());
        let watcher = Watcher::builder(planner, vec![templates_dir()])
            .templates(&templates)
            .start()?;
        let live = LiveReload::new(&watcher).static_dir(static_dir(), "/static");
        // README: end
        Ok(App {
            router: router.layer(live),
            watcher,
        })
    }
    #[cfg(not(feature = "dev"))]
    Ok(App { router })
}
