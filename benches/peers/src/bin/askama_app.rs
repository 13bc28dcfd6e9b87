//! `askama-app [ADDR]`: the minimal example's page with askama, its templates compiled into the
//! binary, under tower-livereload's layer at its defaults (the page reloads when the server comes
//! back after a restart). `$PEERS_STATIC` is the stylesheet's directory.
//!
//! The dev-loop bench builds a copy of this file as a crate of its own whose templates it edits,
//! rebuilds and restarts, as cargo-watch does.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use shipwright_peers::serve;

/// `/`.
#[derive(Template)]
#[template(path = "index.html")]
struct Index {
    title: &'static str,
    items: Vec<&'static str>,
}

async fn index() -> Result<Html<String>, StatusCode> {
    let page = Index {
        title: serve::TITLE,
        items: serve::ITEMS.to_vec(),
    };
    page.render()
        .map(Html)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let page = Router::new().route("/", get(index));
    serve::run(serve::app(page, tower_livereload::LiveReloadLayer::new())).await
}
