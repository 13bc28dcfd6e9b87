//! What the two peer apps share: the stylesheet route, the live-reload layer and the listener.
//! Each app adds only its page.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_livereload::LiveReloadLayer;

/// The page's data, the minimal example's.
pub const TITLE: &str = "Minimal";
/// The list under "More", the minimal example's.
pub const ITEMS: [&str; 2] = ["Templates checked by the build", "Edited live in dev"];

/// `/static/app.css` from `$PEERS_STATIC`, not cached (as the minimal example serves it in dev).
async fn asset(Path(file): Path<String>) -> Response {
    let Some(dir) = std::env::var_os("PEERS_STATIC") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file != "app.css" {
        return StatusCode::NOT_FOUND.into_response();
    }
    match std::fs::read_to_string(std::path::Path::new(&dir).join(&file)) {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `page` (the app's routes) with the stylesheet route, under `live` (tower-livereload's layer).
pub fn app(page: Router, live: LiveReloadLayer) -> Router {
    page.route("/static/{file}", get(asset)).layer(live)
}

/// Serves `app` on the address of the first argument (default `127.0.0.1:3000`); prints
/// `listening on http://ADDR` once it accepts connections.
pub async fn run(app: Router) -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
