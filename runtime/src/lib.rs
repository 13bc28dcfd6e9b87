//! The Shipwright runtime.
#![deny(missing_docs)]

mod template;

pub use shipwright_build::format::{BuildCache, FormatError};
#[doc(hidden)]
pub use template::__private;
pub use template::{DynamicRef, Template, TemplateInfo, find_template};
/// `#[derive(Template)]`: binds a struct to a template; see [`Template`].
pub use shipwright_macros::Template;
/// `template!("pages/home.html")`: the template's [`TemplateInfo`], as `&'static`.
pub use shipwright_macros::template;
