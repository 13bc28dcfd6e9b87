//! The Shipwright runtime.
#![deny(missing_docs)]

pub mod cache;
#[cfg(feature = "dev")]
pub mod dev;
pub mod graph;
pub mod monitor;
pub mod planner;
mod template;

pub use cache::{CacheStats, TemplateCache};
pub use graph::{DependencyGraph, TemplateId};
pub use monitor::PerformanceMonitor;
pub use planner::{Binding, Change, Decision, Plan, Reason, RebuildPlanner, RenderMode};
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
