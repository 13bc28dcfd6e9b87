//! The smallest app on Shipwright: axum and minijinja, with templates the build checks and, in
//! dev, edited live in the browser. What Shipwright asks of it: `build.rs` (one call), a
//! `#[derive(Template)]` per page, and in dev the watcher and the layer ([`app`]).
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

pub mod render;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use shipwright_runtime::Template;

/// `/`.
#[derive(Template, Serialize)]
#[template(path = "index.html")]
pub struct Index {
    /// The heading and the title.
    pub title: &'static str,
    /// The list under "More".
    pub items: Vec<&'static str>,
}

async fn index() -> Result<Html<String>, RenderError> {
    let page = Index {
        title: "Minimal",
        items: vec!["Templates checked by the build", "Edited live in dev"],
    };
    Ok(Html(render::render(Index::INFO.name, page)?))
}

/// A render that failed: `500`, with the error attached for the dev layer's overlay.
#[derive(Debug)]
pub struct RenderError(pub minijinja::Error);

impl From<minijinja::Error> for RenderError {
    fn from(error: minijinja::Error) -> Self {
        RenderError(error)
    }
}

impl IntoResponse for RenderError {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::INTERNAL_SERVER_ERROR, self.0.to_string()).into_response();
        response.extensions_mut().insert(Arc::new(self.0));
        response
    }
}

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
    let router = Router::new()
        .route("/", get(index))
        .route("/static/{file}", get(asset));
    #[cfg(feature = "dev")]
    {
        use shipwright_runtime::dev::{LiveReload, Watcher};
        use shipwright_runtime::{Binding, RebuildPlanner, RenderMode, embedded_templates};
        let planner = RebuildPlanner::from_embedded(embedded_templates!(), RenderMode::Runtime)
            .bind(Binding::of::<Index>());
        let watcher = Watcher::builder(planner, vec![templates_dir()]).start()?;
        let live = LiveReload::new(&watcher).static_dir(static_dir(), "/static");
        Ok(App {
            router: router.layer(live),
            watcher,
        })
    }
    #[cfg(not(feature = "dev"))]
    Ok(App { router })
}
