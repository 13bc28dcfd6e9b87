//! Workspace integration tests: the types here are bound by `#[derive(Template)]` to
//! `templates/`, whose BuildCache this crate's build script writes; `tests/` checks what they
//! embed, `ui/` holds the compile-fail cases and `fixtures/` the app the end-to-end test builds.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use shipwright_runtime::{Embedded, Template, embedded_templates};

/// `pages/home.html`, which extends `layout.html`, which includes `partials/nav.html`.
#[derive(Template, serde::Serialize)]
#[template(path = "pages/home.html")]
pub struct Home<'a> {
    /// Rendered by the layout.
    pub title: &'a str,
    /// Rendered by the page.
    pub user: &'a str,
    /// Rendered by the navigation the layout includes.
    pub links: &'a [String],
}

/// `partials/nav.html`, a tuple struct: its field is named `0`.
#[derive(Template)]
#[template(path = "partials/nav.html")]
pub struct Nav(pub Vec<String>);

/// Every template of `templates/`, from the registry the build script generated.
pub fn registry() -> &'static Embedded {
    embedded_templates!()
}
