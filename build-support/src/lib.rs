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
//! [`scan`] finds and reads the files under the template roots and analyses each with
//! [`shipwright_core`] (the lexer, the hashes, the graph), [`Builder`] runs it from `build.rs`
//! and writes the [`format::BuildCache`] and the template registry into `OUT_DIR`, atomically.
//!
//! # Cargo Features
//!
//! None: everything here is for `build.rs`. The format, the lexer and the graph, which the
//! macros and the runtime need too, live in `shipwright-core` (re-exported as [`format`](mod@format)).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
pub mod config;
pub mod scan;
mod write;

pub use builder::{Builder, Built, Error};
pub use shipwright_core::format;
