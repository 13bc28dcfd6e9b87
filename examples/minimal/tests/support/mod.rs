//! The shared browser support, and this app started over a copy of its files.
#![allow(dead_code, unreachable_pub)]

#[path = "../../../support/browser.rs"]
mod browser;

pub use browser::*;

/// A copy of the app's `templates/` and `static/`.
pub fn site() -> Site {
    Site::copy(env!("CARGO_MANIFEST_DIR"), &["templates", "static"])
}

/// The app's binary over `site`, on a free loopback port.
pub async fn start(site: &Site) -> App {
    start_at(site, env!("CARGO_BIN_EXE_minimal"), "127.0.0.1:0").await
}

/// `binary` (the app's, or a copy of it) over `site`, on `addr`.
pub async fn start_at(site: &Site, binary: &str, addr: &str) -> App {
    App::start(
        binary,
        &[addr.as_ref()],
        &[
            ("SHIPWRIGHT_TEMPLATES", &site.path("templates")),
            ("SHIPWRIGHT_STATIC", &site.path("static")),
        ],
    )
    .await
}
