//! A LiveView-style app on Shipwright: axum serves pages that the runtime's
//! `render::Templates` renders (the files of `templates/` in dev, the sources the build
//! embedded otherwise); a WebSocket carries the browser's events to the server, which holds the state
//! and answers with the HTML of the parts that changed. With the `dev` feature (on by
//! default) the runtime's watcher drops edited templates from the `Templates`' cache and the runtime's dev
//! layer (`shipwright_runtime::dev::LiveReload`) does the rest: its re-render hook tells
//! every socket to render again and send its changed parts (no reload, the count kept), and
//! the layer's own client shows the overlay when an edit needs `cargo build`, swaps the
//! stylesheet, and reconnects after a restart. What is this app's own: its pages, its
//! counter and socket, its part diff, and the hook.
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

mod live;
pub mod pages;
pub mod render;
mod server;

pub use live::check_origin;
pub use server::{AppState, Config, Server, embedded};
