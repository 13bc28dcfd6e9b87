//! Scans an app's templates from `build.rs`, hashes each with blake3, extracts the
//! dependency graph and writes the BuildCache file.
#![deny(missing_docs)]

pub mod analyze;
pub mod format;
pub mod lex;
