//! The Shipwright runtime.
//!
//! # Cargo Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `dev` | [`dev`]: the watcher of template roots, re-planning each edit against the build |
//! | `axum` | `dev::live`: the dev layer for an axum router (client injection, live channel, morph, CSS swap, overlay); implies `dev` |
//! | `minijinja` | with `axum`: the dev layer reads the template and line of a `minijinja::Error` the app attaches to a failed response |
//!
//! None is on by default: a release build carries no watcher and no layer.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

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
