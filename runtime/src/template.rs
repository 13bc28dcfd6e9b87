//! Templates bound at compile time: what `#[derive(Template)]`, `template!` and
//! `embedded_templates!` embed in the binary.
//!
//! ```ignore
//! // Cargo.toml: [dependencies] shipwright-runtime; [build-dependencies] shipwright-build
//! // build.rs:   shipwright_build::Builder::new().root("templates").build().unwrap();
//! use shipwright_runtime::{Embedded, Template, TemplateInfo, embedded_templates, template};
//!
//! #[derive(Template)]
//! #[template(path = "pages/home.html")]
//! struct Home {
//!     title: String,
//! }
//!
//! assert_eq!(Home::NAME, "pages/home.html");
//! assert_eq!(Home::FIELDS, ["title"]);
//! let home: &'static TemplateInfo = Home::info();
//! assert_eq!(home.record.vars[0].name, "title");
//! let nav: &'static TemplateInfo = template!("partials/nav.html");
//! let all: &'static Embedded = embedded_templates!();
//! assert!(all.iter().any(|t| t.name == "partials/nav.html"));
//! ```
//!
//! # Details
//!
//! - The record is the build's [`TemplateRecord`], the one definition the BuildCache file uses
//!   too: the macros embed it as the JSON the build script wrote and decode it once, on first
//!   use, so a new field of the record needs no change here.
//! - The macros read the BuildCache at expansion time, so a template that does not exist, sits
//!   in a dependency cycle, references a missing template, could not be lexed, or changed after
//!   the build script recorded it is a compile error pointing at the name.
//! - `#[derive(Template)]` also checks the variables: every variable the template reads,
//!   through everything it extends, includes and imports with context, must be provided by the
//!   struct, by a global, or by the templates themselves (a `set`, a loop variable around an
//!   include, a child's top-level `set` for its layout); optional reads (`x|default(…)`,
//!   `x is defined` and what it guards) never count. A missing one is a compile error at the
//!   name, with the file and line that read it, the struct's fields and the closest of them;
//!   several are reported together. The rule is
//!   [`shipwright_core::context::missing_reads`], the one the rebuild planner judges edits by.
//! - The struct provides its fields as serde names them, since the context is the struct
//!   serialized: `#[serde(rename = "...")]`, `#[serde(rename_all = "...")]` (every case),
//!   `#[serde(tag = "...")]` are followed, and a `#[serde(skip)]` / `#[serde(skip_serializing)]`
//!   field provides nothing. A struct whose names only another type knows is **not checked**:
//!   one with a `#[serde(flatten)]` field, `#[serde(transparent)]` or `#[serde(into = "...")]`,
//!   and a newtype struct (`struct Page(Context)`). A `skip_serializing_if` field counts as
//!   provided. [`Template::FIELDS`] stays the Rust field names.
//! - Globals: the BuildCache's declared ones, and per struct
//!   `#[shipwright(globals(app_name, "csrf-token"))]`, for names the app adds to every
//!   render (a minijinja environment's globals, say).
//! - Outside a dev build, rustc tracks the template (its `source` is an `include_str!`) and every
//!   template of its closure (an `include_bytes!` that is never used at run time), and the
//!   build script tracks the template roots, so editing any of them recompiles the binding.
//! - In a **dev build** (a debug build with this crate's `dev` feature; see
//!   [`shipwright_core::devbuild`]) neither cargo nor rustc knows the templates' contents, so
//!   that a template edit leaves `cargo build` a no-op: the derive makes rustc read no template
//!   file (a bound template's `source` is read from its file on first use) and checks the
//!   struct against the build script's record, which the script makes again whenever the
//!   crate's `src/` changes or the **rebuild stamp** is written. The dev watcher of a planner
//!   made [`RebuildPlanner::from_embedded`](crate::RebuildPlanner::from_embedded) writes the
//!   stamp ([`Embedded::rebuild_stamp`]) when its plan, at start-up or after an edit, says
//!   `Rebuild`, and a failed expansion writes it too: the next `cargo build` then reruns the
//!   build script and recompiles, and the derive checks the templates as they are. What the
//!   app serves comes from the files on disk (`render::Templates::new`,
//!   askama's dev renderer); what the binary embeds is the build's record, which the planner
//!   compares the files with.
//! - [`embedded_templates!`](crate::embedded_templates) embeds the crate's whole BuildCache
//!   (`include_bytes!` of the file in `OUT_DIR`) and every template's source (one
//!   `include_bytes!` of the registry the build script writes beside it,
//!   `$OUT_DIR/shipwright/sources.bin`: see [`shipwright_core::registry`]): deterministic,
//!   portable, complete even for templates no Rust type binds (`linkme` or `inventory` would
//!   drop the registrations of code nothing references), and cheap for rustc (two byte strings,
//!   however many templates, no Rust literal per field).

use std::sync::OnceLock;

use shipwright_core::format::BuildCache;
pub use shipwright_core::format::{Dep, DynamicRef, TemplateRecord, Var};

/// One template as the binary knows it: the build's record, where it came from, its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    /// The path relative to its template root, `/`-separated.
    pub name: String,
    /// The template root it was found in, relative to the crate's manifest directory.
    pub root: String,
    /// `root/name`: the file relative to the crate's manifest directory.
    pub path: String,
    /// What the build script recorded: hashes, dependencies, variables.
    pub record: TemplateRecord,
    /// The template's text, as it was when the crate was compiled; for a bound template in a dev
    /// build (where rustc reads no template), the file as it was at the first call of
    /// [`Template::info`] (empty if it could not be read then). The files on disk are what
    /// `render::Templates` serves in a dev build.
    pub source: &'static str,
}

impl TemplateInfo {
    fn new(root: &str, name: &str, record: TemplateRecord, source: &'static str) -> Self {
        let path = if root.is_empty() || root == "." {
            name.to_string()
        } else {
            format!("{root}/{name}")
        };
        TemplateInfo {
            name: name.to_string(),
            root: root.to_string(),
            path,
            record,
            source,
        }
    }
}

/// A type bound to a template by `#[derive(Template)]`.
///
/// The names cannot clash with askama's `Template` trait (`render`, `EXTENSION`, ...), which
/// the same struct may derive too.
pub trait Template {
    /// The template's name, relative to its root.
    const NAME: &'static str;
    /// The names of the struct's fields: the context the Rust side provides when rendering.
    /// `0`, `1`, ... for a tuple struct.
    const FIELDS: &'static [&'static str];
    /// The template's record, decoded on first use.
    fn info() -> &'static TemplateInfo;
    /// What the askama dev renderer cannot do for this type whatever the template's text, for
    /// [`Binding::of`](crate::Binding::of). Not public API.
    #[doc(hidden)]
    fn __dev_refusal() -> Option<String> {
        None
    }
}

/// The template named `name` in a list sorted by name, such as
/// [`embedded_templates!`](crate::embedded_templates)'s.
pub fn find_template<'a>(templates: &'a [TemplateInfo], name: &str) -> Option<&'a TemplateInfo> {
    templates
        .binary_search_by(|info| info.name.as_str().cmp(name))
        .ok()
        .map(|i| &templates[i])
}

/// Every template of the crate, as [`embedded_templates!`](crate::embedded_templates) embeds
/// them: the build's BuildCache and each template's source. It dereferences to the templates,
/// sorted by name.
#[derive(Debug)]
pub struct Embedded {
    build_cache: &'static [u8],
    sources: &'static [u8],
    manifest_dir: &'static str,
    out_dir: &'static str,
    decoded: OnceLock<(BuildCache, Vec<TemplateInfo>)>,
}

impl Embedded {
    #[doc(hidden)]
    pub const fn new(
        build_cache: &'static [u8],
        sources: &'static [u8],
        manifest_dir: &'static str,
        out_dir: &'static str,
    ) -> Self {
        Embedded {
            build_cache,
            sources,
            manifest_dir,
            out_dir,
            decoded: OnceLock::new(),
        }
    }

    /// The rebuild stamp of the build (`$OUT_DIR/shipwright/rebuild-stamp`): in a dev build,
    /// writing it makes the next `cargo build` rerun the build script and recompile the crate
    /// (see [`shipwright_core::devbuild`]). The dev watcher of a planner made
    /// [`from_embedded`](crate::RebuildPlanner::from_embedded) writes it when an edit needs a
    /// rebuild.
    pub fn rebuild_stamp(&self) -> std::path::PathBuf {
        std::path::Path::new(self.out_dir).join(shipwright_core::devbuild::STAMP_FILE)
    }

    /// The BuildCache the crate was built with.
    pub fn build_cache(&self) -> &BuildCache {
        &self.decoded().0
    }

    /// The template roots on disk, in search order: where the crate was built from (its
    /// manifest directory joined with each root of the BuildCache). What the dev mode reads.
    pub fn root_dirs(&self) -> Vec<std::path::PathBuf> {
        let base = std::path::Path::new(self.manifest_dir);
        self.build_cache()
            .roots
            .iter()
            .map(|root| base.join(root))
            .collect()
    }

    /// Every template, sorted by name.
    pub fn templates(&self) -> &[TemplateInfo] {
        &self.decoded().1
    }

    fn decoded(&self) -> &(BuildCache, Vec<TemplateInfo>) {
        self.decoded.get_or_init(|| {
            let cache = BuildCache::parse(self.build_cache, "embedded BuildCache")
                .unwrap_or_else(|e| embedded_mismatch(&e.to_string()));
            let sources = shipwright_core::registry::split(&cache, self.sources)
                .unwrap_or_else(|e| embedded_mismatch(&e.to_string()));
            let templates = cache
                .templates
                .iter()
                .zip(sources)
                .map(|((name, record), source)| {
                    TemplateInfo::new(&cache.roots[record.root], name, record.clone(), source)
                })
                .collect();
            (cache, templates)
        })
    }
}

impl std::ops::Deref for Embedded {
    type Target = [TemplateInfo];

    fn deref(&self) -> &[TemplateInfo] {
        self.templates()
    }
}

/// The build script and the macros of one shipwright version wrote what is embedded, so this
/// only happens when files in `OUT_DIR` were edited by hand between the build script and rustc.
#[cold]
fn embedded_mismatch(why: &str) -> ! {
    panic!(
        "shipwright: the embedded templates are inconsistent ({why}); run `cargo clean -p` on the crate and build again"
    )
}

/// Every template of the crate's BuildCache, sorted by name, as `&'static` [`Embedded`]
/// (which dereferences to `[TemplateInfo]`).
///
/// Embeds `$OUT_DIR/shipwright/build-cache.json` and the templates' sources,
/// `$OUT_DIR/shipwright/sources.bin`, both written by `shipwright_build::Builder`: the crate
/// needs the build script that the derive needs too. Each call site embeds and decodes its own
/// copy: call it once and keep the reference.
#[macro_export]
macro_rules! embedded_templates {
    () => {{
        static EMBEDDED: $crate::Embedded = $crate::Embedded::new(
            ::core::include_bytes!(::core::concat!(
                ::core::env!("OUT_DIR"),
                "/shipwright/build-cache.json"
            )),
            ::core::include_bytes!(::core::concat!(
                ::core::env!("OUT_DIR"),
                "/shipwright/sources.bin"
            )),
            ::core::env!("CARGO_MANIFEST_DIR"),
            ::core::env!("OUT_DIR"),
        );
        &EMBEDDED
    }};
}

/// Paths for the code the macros generate. Not public API.
#[doc(hidden)]
pub mod __private {
    use std::sync::OnceLock;

    pub use super::{Template, TemplateInfo};
    pub use crate::askama::DevContext;

    /// One bound template's record as the derive embeds it: decoded on first use.
    #[derive(Debug)]
    pub struct Bound {
        root: &'static str,
        name: &'static str,
        record: &'static str,
        source: Source,
        decoded: OnceLock<TemplateInfo>,
    }

    /// Where a bound template's text comes from.
    #[derive(Debug)]
    enum Source {
        /// Compiled in (`include_str!`).
        Embedded(&'static str),
        /// A dev build: rustc reads no template, the file under this manifest directory is read
        /// on first use.
        Disk(&'static str),
    }

    impl Bound {
        /// `record` is the JSON of the template's `TemplateRecord`; `source` its text, compiled
        /// in.
        pub const fn new(
            root: &'static str,
            name: &'static str,
            record: &'static str,
            source: &'static str,
        ) -> Self {
            Bound {
                root,
                name,
                record,
                source: Source::Embedded(source),
                decoded: OnceLock::new(),
            }
        }

        /// In a dev build: the text is the file under `manifest_dir`, read on first use.
        pub const fn from_disk(
            root: &'static str,
            name: &'static str,
            record: &'static str,
            manifest_dir: &'static str,
        ) -> Self {
            Bound {
                root,
                name,
                record,
                source: Source::Disk(manifest_dir),
                decoded: OnceLock::new(),
            }
        }

        /// The record, decoded once.
        pub fn info(&'static self) -> &'static TemplateInfo {
            self.decoded.get_or_init(|| {
                let record: TemplateRecord = serde_json::from_str(self.record)
                    .unwrap_or_else(|e| super::embedded_mismatch(&e.to_string()));
                let mut info = TemplateInfo::new(self.root, self.name, record, "");
                info.source = match self.source {
                    Source::Embedded(text) => text,
                    Source::Disk(manifest_dir) => read_leaked(manifest_dir, &info.path),
                };
                info
            })
        }
    }

    /// The file `path` under `manifest_dir`, by the one file rule, kept for the process; empty
    /// when it cannot be read (moved, not UTF-8).
    #[cold]
    fn read_leaked(manifest_dir: &str, path: &str) -> &'static str {
        let file = std::path::Path::new(manifest_dir).join(path);
        shipwright_core::files::read_file(&file, shipwright_core::files::DEFAULT_MAX_SIZE)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map_or("", |text| text.leak())
    }

    /// The record behind an impl whose expansion failed: the compile error is already
    /// reported, this only keeps follow-on errors away.
    pub fn unbound() -> &'static TemplateInfo {
        static UNBOUND: OnceLock<TemplateInfo> = OnceLock::new();
        UNBOUND.get_or_init(|| TemplateInfo::new("", "", TemplateRecord::including("", &[]), ""))
    }

    use super::TemplateRecord;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str) -> TemplateInfo {
        TemplateInfo::new("templates", name, TemplateRecord::including(name, &[]), "")
    }

    #[test]
    fn finds_by_name_in_a_sorted_list() {
        let list = [info("a.html"), info("b/c.html"), info("d.html")];
        assert_eq!(
            find_template(&list, "b/c.html").map(|t| t.path.as_str()),
            Some("templates/b/c.html")
        );
        assert_eq!(find_template(&list, "c.html"), None);
        assert_eq!(find_template(&[], "a.html"), None);
    }

    #[test]
    fn embedded_decodes_the_build_cache_and_pairs_the_sources() {
        let mut cache = BuildCache::new(vec!["templates".into(), ".".into()]);
        let mut top = TemplateRecord::including("top.html", &[]);
        top.root = 1;
        top.size = 3;
        let mut a = TemplateRecord::including("a.html", &["top.html"]);
        a.size = 1;
        cache.templates.insert("a.html".into(), a);
        cache.templates.insert("top.html".into(), top);
        let bytes: &'static [u8] = Box::leak(cache.to_bytes().into_boxed_slice());
        let sources = shipwright_core::registry::encode([&b"A"[..], b"TOP"]).leak();
        let embedded: &'static Embedded =
            Box::leak(Box::new(Embedded::new(bytes, sources, "/app", "/out")));
        let got: Vec<(&str, &str, &str)> = embedded
            .iter()
            .map(|t| (t.name.as_str(), t.path.as_str(), t.source))
            .collect();
        assert_eq!(
            got,
            [
                ("a.html", "templates/a.html", "A"),
                ("top.html", "top.html", "TOP")
            ]
        );
        assert_eq!(embedded.build_cache(), &cache);
        assert_eq!(embedded[0].record.deps[0].name, "top.html");
        let roots = embedded.root_dirs();
        assert_eq!(
            roots,
            [
                std::path::Path::new("/app/templates"),
                std::path::Path::new("/app/.")
            ]
        );
    }

    #[test]
    #[should_panic(expected = "hold 0 bytes, the sources file 1")]
    fn embedded_refuses_sources_that_do_not_match() {
        let cache = BuildCache::new(vec![]);
        let bytes: &'static [u8] = Box::leak(cache.to_bytes().into_boxed_slice());
        let sources = shipwright_core::registry::encode([&b"x"[..]]).leak();
        let embedded: &'static Embedded =
            Box::leak(Box::new(Embedded::new(bytes, sources, "/app", "/out")));
        let _ = embedded.templates();
    }

    #[test]
    fn a_bound_record_decodes_once() {
        let record =
            serde_json::to_string(&TemplateRecord::including("p.html", &["b.html"])).unwrap();
        let record: &'static str = Box::leak(record.into_boxed_str());
        let bound: &'static __private::Bound = Box::leak(Box::new(__private::Bound::new(
            "templates",
            "p.html",
            record,
            "text",
        )));
        let info = bound.info();
        assert!(std::ptr::eq(info, bound.info()));
        assert_eq!(
            (info.path.as_str(), info.source),
            ("templates/p.html", "text")
        );
        assert_eq!(info.record.deps[0].name, "b.html");
    }

    #[test]
    fn a_dev_build_reads_a_bound_source_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/p.html"), "on disk").unwrap();
        let manifest_dir: &'static str = dir.path().to_str().unwrap().to_string().leak();
        let record = serde_json::to_string(&TemplateRecord::including("p.html", &[])).unwrap();
        let record: &'static str = Box::leak(record.into_boxed_str());
        let bound: &'static __private::Bound = Box::leak(Box::new(__private::Bound::from_disk(
            "templates",
            "p.html",
            record,
            manifest_dir,
        )));
        assert_eq!(bound.info().source, "on disk");
        let gone: &'static __private::Bound = Box::leak(Box::new(__private::Bound::from_disk(
            "templates",
            "gone.html",
            record,
            manifest_dir,
        )));
        assert_eq!(gone.info().source, "", "a file that cannot be read");
    }

    #[test]
    fn the_registry_macro_names_the_files_the_build_script_writes() {
        let macro_source = include_str!("template.rs");
        for file in [
            shipwright_core::registry::FILE_NAME,
            shipwright_core::format::FILE_NAME,
        ] {
            let needle = format!("\"/{file}\"");
            assert!(
                macro_source.contains(&needle),
                "embedded_templates! must include {needle}"
            );
        }
    }
}
