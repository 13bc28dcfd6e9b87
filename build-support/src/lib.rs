//! Scans an app's templates from `build.rs`, hashes each with blake3, extracts the
//! dependency graph and writes the BuildCache file.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     shipwright_build::Builder::new().root("templates").build()?;
//!     Ok(())
//! }
//! ```
//!
//! The stages, one module each, in data-flow order: [`scan`] finds and reads the files,
//! [`lex`] splits each into text, expressions and tags and finds its references and variables,
//! [`analyze`] turns that into hashes, [`graph`] resolves names into the dependency graph,
//! [`write`](mod@write) puts the [`format::BuildCache`] on disk, and [`Builder`] runs them from `build.rs`.
//!
//! # Cargo Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `scan` | yes | the file walker, the stat index, the writer and [`Builder`] (rayon) |
//! | `cli` | yes | the `shipwright-templates` command-line tool (clap) |
//!
//! With `default-features = false` the crate is the BuildCache format, the lexer and the graph
//! only: what the macros and the runtime need, without the build-side dependencies.
#![deny(missing_docs)]

pub mod analyze;
#[cfg(feature = "scan")]
mod builder;
pub mod format;
pub mod graph;
pub mod lex;
mod par;
pub mod registry;
#[cfg(feature = "scan")]
pub mod scan;
#[cfg(feature = "scan")]
pub mod write;

#[cfg(feature = "scan")]
pub use builder::{Builder, Built, Error};
