//! Templates bound at compile time: what `#[derive(Template)]`, `template!` and
//! `embedded_templates!` embed in the binary.
//!
//! ```
//! use shipwright_runtime::{Template, TemplateInfo};
//!
//! // What `#[derive(Template)] #[template(path = "pages/home.html")]` generates for
//! // `struct Home { title: String }`, written out by hand:
//! struct Home {
//!     title: String,
//! }
//! static HOME: TemplateInfo = TemplateInfo {
//!     id: "5d0e6d8a1f0c2b7e",
//!     name: "pages/home.html",
//!     root: "templates",
//!     path: "templates/pages/home.html",
//!     hash: "af1349b9",
//!     static_hash: "0c2b7e5d",
//!     interface_hash: "1f0c2b7e",
//!     tree_hash: "d8a1f0c2",
//!     size: 44,
//!     deps: &["layout.html"],
//!     transitive: &["layout.html", "partials/nav.html"],
//!     vars: &["title"],
//!     dynamic: &[],
//!     source: "{% extends \"layout.html\" %}<h1>{{ title }}</h1>",
//! };
//! impl Template for Home {
//!     const INFO: &'static TemplateInfo = &HOME;
//!     const FIELDS: &'static [&'static str] = &["title"];
//! }
//!
//! assert_eq!(Home::INFO.name, "pages/home.html");
//! assert!(Home::INFO.vars.iter().all(|var| Home::FIELDS.contains(var)));
//! assert_eq!(shipwright_runtime::find_template(&[HOME], "pages/home.html"), Some(&HOME));
//! ```
//!
//! In an application the macros write that code, against the BuildCache the build script wrote:
//!
//! ```ignore
//! // Cargo.toml: [dependencies] shipwright-runtime; [build-dependencies] shipwright-build
//! // build.rs:   shipwright_build::Builder::new().root("templates").build().unwrap();
//! use shipwright_runtime::{Template, TemplateInfo, embedded_templates, template};
//!
//! #[derive(Template)]
//! #[template(path = "pages/home.html")]
//! struct Home {
//!     title: String,
//! }
//!
//! let nav: &'static TemplateInfo = template!("partials/nav.html");
//! let all: &'static [TemplateInfo] = embedded_templates!();
//! ```
//!
//! # Details
//!
//! - The macros read the BuildCache at expansion time, so a template that does not exist, sits
//!   in a dependency cycle, references a missing template, could not be lexed, or changed after
//!   the build script recorded it is a compile error pointing at the name.
//! - rustc tracks the template (its `source` is an `include_str!`) and every transitive
//!   dependency (an `include_bytes!` that is never used at run time), so editing any of them
//!   recompiles the binding and [`TemplateInfo::tree_hash`] changes.
//! - [`embedded_templates!`](crate::embedded_templates) lists every template of the crate's
//!   BuildCache, sorted by name, from the registry the build script generated into `OUT_DIR`:
//!   deterministic, portable, and complete even for templates no Rust type binds (`linkme` or
//!   `inventory` would drop the registrations of code nothing references). A type bound by the
//!   derive and the registry entry of the same template are equal values with the same `id`.

/// What the build script recorded of one template, as embedded in the binary.
///
/// The fields mirror the BuildCache's `TemplateRecord`; `root` and `path` replace the root
/// index, and `tree_hash` and `source` are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateInfo {
    /// Stable across content edits: derived from the name.
    pub id: &'static str,
    /// The path relative to its template root, `/`-separated.
    pub name: &'static str,
    /// The template root it was found in, relative to the crate's manifest directory.
    pub root: &'static str,
    /// `root/name`: the file relative to the crate's manifest directory.
    pub path: &'static str,
    /// blake3 of the file's bytes, hex.
    pub hash: &'static str,
    /// xxh3-128 of the literal text only, hex.
    pub static_hash: &'static str,
    /// xxh3-128 of the dynamic parts only (expressions and tags, in order), hex.
    pub interface_hash: &'static str,
    /// blake3 over the hashes of this template and of every template in `transitive`: it
    /// changes when any file this template renders with changes.
    pub tree_hash: &'static str,
    /// Size of the file in bytes.
    pub size: u64,
    /// The statically named templates it references, as written, in order of first appearance.
    pub deps: &'static [&'static str],
    /// Every template reachable through `deps`, resolved, sorted, without this one.
    pub transitive: &'static [&'static str],
    /// The root variables it reads and does not define itself, sorted.
    pub vars: &'static [&'static str],
    /// The references whose template name is an expression.
    pub dynamic: &'static [DynamicRef],
    /// The template's text.
    pub source: &'static str,
}

/// A reference whose template name is only known when the template renders
/// (`{% include "icons/" ~ name %}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DynamicRef {
    /// 1-based line of the tag.
    pub line: u32,
    /// The name expression as written.
    pub expr: &'static str,
}

/// A type bound to a template by `#[derive(Template)]`.
pub trait Template {
    /// The template's record.
    const INFO: &'static TemplateInfo;
    /// The names of the struct's fields: the context the Rust side provides when rendering.
    /// `0`, `1`, ... for a tuple struct.
    const FIELDS: &'static [&'static str];
}

/// The template named `name` in a list sorted by name, such as
/// [`embedded_templates!`](crate::embedded_templates)'s.
pub fn find_template<'a>(templates: &'a [TemplateInfo], name: &str) -> Option<&'a TemplateInfo> {
    templates
        .binary_search_by(|info| info.name.cmp(name))
        .ok()
        .map(|i| &templates[i])
}

/// Every template of the crate's BuildCache, sorted by name, as `&'static [TemplateInfo]`.
///
/// Includes `$OUT_DIR/shipwright/registry.rs`, which `shipwright_build::Builder` generates: the
/// crate needs the build script that the derive needs too.
#[macro_export]
macro_rules! embedded_templates {
    () => {{
        const TEMPLATES: &[$crate::TemplateInfo] = ::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/shipwright/registry.rs"
        ));
        TEMPLATES
    }};
}

/// Paths for the code the macros generate. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::{DynamicRef, Template, TemplateInfo};

    /// The record behind an impl whose expansion failed: the compile error is already
    /// reported, this only keeps follow-on errors away.
    pub static UNBOUND: TemplateInfo = TemplateInfo {
        id: "",
        name: "",
        root: "",
        path: "",
        hash: "",
        static_hash: "",
        interface_hash: "",
        tree_hash: "",
        size: 0,
        deps: &[],
        transitive: &[],
        vars: &[],
        dynamic: &[],
        source: "",
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &'static str) -> TemplateInfo {
        TemplateInfo {
            name,
            ..__private::UNBOUND
        }
    }

    #[test]
    fn finds_by_name_in_a_sorted_list() {
        let list = [info("a.html"), info("b/c.html"), info("d.html")];
        assert_eq!(
            find_template(&list, "b/c.html").map(|t| t.name),
            Some("b/c.html")
        );
        assert_eq!(find_template(&list, "c.html"), None);
        assert_eq!(find_template(&[], "a.html"), None);
    }

    #[test]
    fn the_registry_macro_names_the_file_the_build_script_writes() {
        let macro_source = include_str!("template.rs");
        let needle = format!("\"/{}\"", shipwright_core::registry::FILE_NAME);
        assert!(
            macro_source.contains(&needle),
            "embedded_templates! must include {needle}"
        );
    }
}
