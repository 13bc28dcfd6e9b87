//! What the Shipwright build script, macros and runtime share: the BuildCache format, the
//! template lexer, the analysis that turns a template into its record, and the dependency graph.
//!
//! ```
//! use shipwright_core::analyze::record;
//!
//! let src = "{% extends 'base.html' %}{% block body %}{{ title }}{% endblock %}";
//! let (home, error) = record("home.html", 0, src);
//! assert!(error.is_none());
//! assert_eq!(home.deps, ["base.html"]);
//! assert_eq!(home.vars, ["title"]);
//! ```
//!
//! The stages, one module each, in data-flow order: [`lex`] splits a template into text,
//! expressions and tags and finds its references and variables, [`analyze`] turns that into a
//! [`format::TemplateRecord`] with its hashes, [`graph`] resolves names into the dependency graph,
//! [`context`] says which variables a bound template's closure reads that its struct does not
//! provide (the derive's check and the planner's rule), [`dynamic`] works out what a dynamic
//! reference may name, [`registry`] lays every template's source out in the one file that
//! `embedded_templates!()` embeds, and [`format`](mod@format) reads and writes the BuildCache
//! file. Beside them, [`files`] says which files under the roots are templates and reads them:
//! the one rule of the scan, the planner, the dev watcher and the loaders.
//!
//! Why a crate of its own: the build script (`shipwright-build`), the derive
//! (`shipwright-derive`) and the runtime (`shipwright-runtime`) must read templates with the very
//! same lexer, agree on one record and count the same files as templates; none of them should
//! pull in another's dependencies (the scanner's thread pool, the runtime's cache, the tool's
//! argument parser).
//!
//! # Cargo Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `parallel` | no | linking and the [`files`] walk's directory reads over every core (rayon) |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod analyze;
pub mod askama;
pub mod context;
pub mod devbuild;
pub mod dynamic;
pub mod files;
pub mod format;
pub mod graph;
pub mod lex;
mod par;
pub mod registry;
pub mod write;
