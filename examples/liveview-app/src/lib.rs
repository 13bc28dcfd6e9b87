//! A LiveView-style app on Shipwright: axum serves pages that minijinja renders from
//! `templates/`, through the runtime's `TemplateCache` (seeded from the sources the build
//! embedded); a WebSocket carries the browser's events to the server, which holds the state
//! and answers with the HTML of the parts that changed. With the `dev` feature (on by
//! default) the runtime's watcher drops edited templates from the cache and every open page
//! gets its changed parts, with no reload and its state kept; when an edit needs
//! `cargo build`, an overlay names the file and the reason, until the edit is undone.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let server = liveview_app::Server::bind(liveview_app::Config::default()).await?;
//! println!("listening on http://{}", server.addr());
//! server.serve(std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "dev")]
mod dev;
mod live;
pub mod pages;
pub mod render;
mod server;

pub use live::check_origin;
pub use server::{AppState, Config, Server, Status, StatusError, StatusReason, embedded};
