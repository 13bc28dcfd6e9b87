//! The Shipwright runtime.
#![deny(missing_docs)]

pub use shipwright_build::format::{BuildCache, FormatError};
