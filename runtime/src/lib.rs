//! The Shipwright runtime: render an app's templates, and in dev show every template edit in the
//! open pages at once, or say exactly when and why `cargo build` is needed.
//!
//! ```ignore
//! // build.rs: shipwright_build::Builder::new().build()?;  (roots from Cargo.toml, else `templates`)
//! use std::sync::Arc;
//! use axum::{Router, extract::State, response::Html, routing::get};
//! use shipwright_runtime::render::{RenderError, Templates};
//! use shipwright_runtime::{Template, embedded_templates};
//!
//! #[derive(Template, serde::Serialize)]
//! #[template(path = "index.html")] // checked at compile time against the struct's fields
//! struct Index { title: String }
//!
//! async fn index(State(t): State<Arc<Templates>>) -> Result<Html<String>, RenderError> {
//!     Ok(Html(t.render(&Index { title: "Hello".into() })?))
//! }
//!
//! let templates = Arc::new(Templates::new(embedded_templates!())?); // files on disk in dev
//! let router = Router::new().route("/", get(index)).with_state(Arc::clone(&templates));
//! #[cfg(feature = "dev")]
//! let (router, _watcher) = {
//!     use shipwright_runtime::{Binding, RebuildPlanner, RenderMode, dev::{LiveReload, Watcher}};
//!     let planner = RebuildPlanner::from_embedded(embedded_templates!(), RenderMode::Runtime)
//!         .bind(Binding::of::<Index>());
//!     let watcher = Watcher::builder(planner, embedded_templates!().root_dirs())
//!         .templates(&templates)
//!         .start()?;
//!     (router.layer(LiveReload::new(&watcher)), watcher)
//! };
//! ```
//!
//! `examples/minimal` in the repository is this app, built and tested in a browser in CI.
//!
//! - [`render::Templates`]: a minijinja environment over the [`TemplateCache`]; only the
//!   templates an edit changed are compiled again, and a broken edit keeps the last good version.
//! - [`dev::live::LiveReload`](dev/live/struct.LiveReload.html): the dev layer for an axum
//!   router: the client in every HTML page, the page morphed in place on a hot reload (form
//!   values, focus, scroll kept), CSS swapped, and an overlay naming file, line and reason
//!   when `cargo build` is needed.
//! - [`RebuildPlanner`]: per changed template, unchanged, hot reload or rebuild, and why.
//! - [`Template`], [`template!`], [`embedded_templates!`]: what the build recorded, bound to
//!   Rust types at compile time.
//!
//! # Cargo Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `minijinja` | no | [`render`]: rendering with minijinja over the template cache |
//! | `dev` | no | `dev`: the watcher of the template roots, re-planning each edit against the build |
//! | `axum` | no | `dev::live`: the dev layer for an axum router; implies `dev` |
//! | `askama` | no | [`askama::render`]: askama's compiled render, and with `dev` in a debug build the dev renderer of edited askama templates; implies `minijinja` |
//!
//! None is on by default: turn `dev` and `axum` on in a feature of the app that its release
//! builds leave off (as `examples/minimal` does), so a release build carries no watcher and no
//! layer.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod askama;
pub mod cache;
#[cfg(feature = "dev")]
pub mod dev;
pub mod graph;
pub mod monitor;
pub mod planner;
#[cfg(feature = "minijinja")]
pub mod render;
mod template;

pub use cache::{CacheStats, TemplateCache};
pub use graph::{DependencyGraph, TemplateId};
pub use monitor::PerformanceMonitor;
pub use planner::{Binding, Change, Decision, Plan, Reason, RebuildPlanner, RenderMode, Severity};
pub use shipwright_core::format::{BuildCache, FormatError};
/// `#[derive(Template)]`: binds a struct to a template; see [`Template`].
pub use shipwright_macros::Template;
/// `template!("pages/home.html")`: the template's [`TemplateInfo`], as `&'static`.
pub use shipwright_macros::template;
#[doc(hidden)]
pub use template::__private;
pub use template::{
    Dep, DynamicRef, Embedded, Template, TemplateInfo, TemplateRecord, Var, find_template,
};
