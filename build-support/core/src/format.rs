//! The BuildCache file: types, serde and the version check.
//!
//! ```
//! use shipwright_core::format::{BuildCache, FORMAT, VERSION};
//!
//! let json = format!(r#"{{"format":"{FORMAT}","version":{VERSION},"roots":["templates"],
//!     "extensions":["html"],"globals":[],"templates":{{}},"missing":[],"cycles":[],"errors":[]}}"#);
//! let cache = BuildCache::parse(json.as_bytes(), "build-cache.json").unwrap();
//! assert!(cache.templates.is_empty());
//!
//! let err = BuildCache::parse(br#"{"format":"shipwright-build-cache","version":99}"#, "old.json")
//!     .unwrap_err();
//! assert!(err.to_string().contains("version 99"));
//! ```
//!
//! The file is JSON. Every map is a `BTreeMap` and every list is sorted or in source order, so
//! the same template tree always gives the same bytes; it holds no absolute path and no time.
//! `format` and `version` come first so that a reader can reject a foreign file before it reads
//! the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The value of the `format` field.
pub const FORMAT: &str = "shipwright-build-cache";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 3;
/// The variable the build script hands to the crate's compilation (`cargo:rustc-env`): the
/// absolute path of the BuildCache file in `OUT_DIR`.
pub const ENV_VAR: &str = "SHIPWRIGHT_BUILD_CACHE";
/// The file extensions (without the dot) that are templates unless configured otherwise.
pub const DEFAULT_EXTENSIONS: [&str; 8] =
    ["html", "htm", "xml", "txt", "svg", "j2", "jinja", "jinja2"];
/// Where the file sits under `OUT_DIR`.
pub const FILE_NAME: &str = "shipwright/build-cache.json";

/// Where every build also keeps a copy of its BuildCache under cargo's target directory, one
/// per package, at a path that does not change from build to build (unlike `OUT_DIR`): the
/// baseline a tool plans against (`shipwright-templates plan --baseline target`).
///
/// ```
/// use std::path::Path;
/// let copy = shipwright_core::format::baseline_copy(Path::new("target"), "app");
/// assert_eq!(copy, Path::new("target/shipwright/app/build-cache.json"));
/// ```
pub fn baseline_copy(target_dir: &Path, package: &str) -> PathBuf {
    target_dir
        .join("shipwright")
        .join(package)
        .join("build-cache.json")
}

/// The whole BuildCache: every template of every root, the graph's problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildCache {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] for a file this crate accepts.
    pub version: u32,
    /// The template roots in search order, relative to the crate's manifest directory and
    /// `/`-separated. [`TemplateRecord::root`] indexes this list.
    pub roots: Vec<String>,
    /// The file extensions (without the dot) that made a file a template in this build, so that
    /// a reader (the dev watcher, the planner) counts the same files as templates.
    pub extensions: Vec<String>,
    /// Names every template may read without a struct providing them: the globals the app
    /// declared (`[package.metadata.shipwright] globals`), sorted.
    pub globals: Vec<String>,
    /// Every template by name: its path relative to its root, `/`-separated.
    pub templates: BTreeMap<String, TemplateRecord>,
    /// Static references that resolve to no template, or that try to leave the roots.
    pub missing: Vec<Missing>,
    /// Each `extends`/`include`/`import` cycle once, as a path that ends where it starts
    /// (`["a.html", "b.html", "a.html"]`), starting from its smallest name.
    pub cycles: Vec<Vec<String>>,
    /// Templates the lexer could not read to the end (an unterminated tag, say). Such a template
    /// is still listed in `templates` with its hashes, but its dependencies are unknown.
    pub errors: Vec<TemplateError>,
}

/// What the build script recorded of one template: the one definition of a template's record.
///
/// The BuildCache JSON (which `embedded_templates!()` embeds too), the scan's side file and the
/// record `#[derive(Template)]` embeds are all this type through serde: a new field is one edit
/// here. Its `size` also locates its source in the registry ([`crate::registry`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRecord {
    /// Stable across content edits: derived from the name only (see [`template_id`]).
    pub id: String,
    /// Index into [`BuildCache::roots`] of the root the file was found in.
    pub root: usize,
    /// blake3 of the file's bytes, hex.
    pub hash: String,
    /// xxh3-128 of the literal text only (raw blocks included, comments and tags left out), hex.
    pub static_hash: String,
    /// xxh3-128 of the dynamic parts only: the tokens of every `{{ }}` and `{% %}`, in order,
    /// hex.
    pub interface_hash: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// Every statically named template this one references (`extends`, `include`, `import`,
    /// `from … import`), as written, deduplicated, in order of first appearance. The closure is
    /// not stored: [`crate::graph::closure`] derives it.
    pub deps: Vec<Dep>,
    /// Every reference whose name is an expression.
    pub dynamic: Vec<DynamicRef>,
    /// The root variables the template reads from its context, sorted by name, each with the
    /// line of its first such read: scoped as Jinja2 scopes them (a name the template defines
    /// is not read after its definition, in its scope), optional reads (`x|default(…)`,
    /// `x is defined` and what it guards) left out. See [`crate::lex::vars`].
    pub vars: Vec<Var>,
    /// The macros the template's top level defines, sorted by name: which are called by its
    /// own code, and which of the others each calls. A read in a macro's body
    /// ([`Var::macros`]) happens only when the macro is called.
    pub macros: Vec<Macro>,
}

/// A macro of a template's top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Macro {
    /// Its name.
    pub name: String,
    /// The template's code outside its top-level macros names it (a call, `{% call %}`, or
    /// the macro passed as a value).
    pub called: bool,
    /// The template's other top-level macros that its body names, sorted.
    pub calls: Vec<String>,
}

/// A statically named reference to another template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dep {
    /// The name as written.
    pub name: String,
    /// 1-based line of the first tag that names it.
    pub line: u32,
    /// Whether the referenced template renders with this template's context (and so reads
    /// from the struct bound to it): `extends` always, `include` unless `without context`,
    /// `import` and `from … import` only `with context` (Jinja2's rules). True if any tag that
    /// names it passes the context.
    pub context: bool,
    /// The names this template defines for sure where it passes its context to the referenced
    /// one, which the referenced template therefore sees: the loop variables around an
    /// `include`, the `with` names, the macro arguments, what the template assigned before (for
    /// `extends`: everything its top level assigns, which runs before the parent renders).
    /// Sorted. When several tags pass the context, only the names all of them define.
    pub scope: Vec<String>,
    /// The referenced template's top-level macros that this template may call through the
    /// reference: `m` of each `alias.m` after `import … as alias`, the names of
    /// `from … import`, sorted; `None` when it may call any (the module is used otherwise than
    /// by `alias.m`). Empty for `extends` and `include`.
    pub calls: Option<Vec<String>>,
}

/// A root variable a template reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Var {
    /// The variable's name.
    pub name: String,
    /// 1-based line of its first read (outside the top level's macros, if it is read there).
    pub line: u32,
    /// Empty when the template reads it outside the macros of its top level; otherwise the
    /// macros whose bodies read it (sorted): a read that happens only when one is called.
    pub macros: Vec<String>,
}

/// A dependency or a variable equals its name, so that tests and callers can compare a list
/// with names: `record.deps == ["base.html"]`.
macro_rules! eq_by_name {
    ($($type:ty),*) => {$(
        impl PartialEq<&str> for $type {
            fn eq(&self, name: &&str) -> bool {
                self.name == *name
            }
        }
        impl PartialEq<str> for $type {
            fn eq(&self, name: &str) -> bool {
                self.name == name
            }
        }
    )*};
}
eq_by_name!(Dep, Var);

impl TemplateRecord {
    /// The record the build script writes for a template whose text is one
    /// `{% include '…' %}` per name in `deps`, found in root 0: a graph for tests and benchmarks
    /// without writing files.
    ///
    /// ```
    /// let record = shipwright_core::format::TemplateRecord::including("page.html", &["base.html"]);
    /// assert_eq!(record.dep_names().collect::<Vec<_>>(), ["base.html"]);
    /// ```
    pub fn including(name: &str, deps: &[&str]) -> TemplateRecord {
        let src: String = deps
            .iter()
            .map(|d| format!("{{% include {d:?} %}}"))
            .collect();
        crate::analyze::record(name, 0, &src).0
    }

    /// The names of [`deps`](Self::deps), as written.
    pub fn dep_names(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        self.deps.iter().map(|dep| dep.name.as_str())
    }

    /// The names of [`vars`](Self::vars).
    pub fn var_names(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        self.vars.iter().map(|var| var.name.as_str())
    }
}

/// A reference whose template name is only known when the template renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicRef {
    /// 1-based line of the tag.
    pub line: u32,
    /// The name expression as written (`"icons/" ~ name`).
    pub expr: String,
    /// Whether the template it names renders with this template's context, as for
    /// [`Dep::context`].
    pub context: bool,
    /// The names defined for sure at the tag, which the template it names sees (sorted), as for
    /// [`Dep::scope`].
    pub scope: Vec<String>,
}

/// A static reference that names no template, or names one outside the roots.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Missing {
    /// The template holding the reference.
    pub template: String,
    /// 1-based line of the tag.
    pub line: u32,
    /// The name as written.
    pub name: String,
    /// Why it does not resolve: `not found`, `escapes the template root`, `absolute path`.
    pub reason: String,
}

/// A template the lexer stopped in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TemplateError {
    /// The template's name.
    pub template: String,
    /// 1-based line where the problem starts.
    pub line: u32,
    /// What is wrong, e.g. `unterminated {% ... %} tag`.
    pub message: String,
}

/// The stable id of a template: the first 16 hex digits of blake3 over its name.
///
/// ```
/// assert_eq!(shipwright_core::format::template_id("pages/home.html").len(), 16);
/// ```
pub fn template_id(name: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"shipwright-template-id\0");
    hasher.update(name.as_bytes());
    // The first 16 hex digits: only the first 8 bytes are turned into text.
    hex(&hasher.finalize().as_bytes()[..8])
}

/// `bytes` as lowercase hex, two digits a byte, in one allocation.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]);
    }
    String::from_utf8(text).expect("hex digits are ASCII")
}

/// Why a BuildCache file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file could not be read at all.
    #[error("{}: cannot read the BuildCache: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes are not a BuildCache (torn, truncated, edited by hand).
    #[error("{}:{line}:{column}: not a valid BuildCache (torn or edited?): {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first error.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json saw.
        message: String,
    },
    /// The file is JSON but names another format.
    #[error("{}: not a BuildCache: {}", path.display(), match found {
        Some(found) => format!("format is {found:?}, expected {FORMAT:?}"),
        None => format!("no \"format\": {FORMAT:?} field"),
    })]
    WrongFormat {
        /// The file.
        path: PathBuf,
        /// The `format` it names, if any.
        found: Option<String>,
    },
    /// The file is a BuildCache of a version this crate does not read.
    #[error(
        "{}: BuildCache version {found} is not supported: this shipwright reads version \
         {VERSION} only; rebuild with a matching shipwright-build",
        path.display()
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it holds.
        found: u64,
    },
}

/// The two fields checked before anything else is read.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u64>,
}

impl BuildCache {
    /// An empty cache over the given roots.
    pub fn new(roots: Vec<String>) -> Self {
        BuildCache {
            format: FORMAT.to_string(),
            version: VERSION,
            roots,
            extensions: DEFAULT_EXTENSIONS.iter().map(|e| e.to_string()).collect(),
            globals: Vec::new(),
            templates: BTreeMap::new(),
            missing: Vec::new(),
            cycles: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Reads and checks a BuildCache file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FormatError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| FormatError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes, path)
    }

    /// Checks `format` and `version`, then parses the rest. `path` only names the source in
    /// errors.
    pub fn parse(bytes: &[u8], path: impl AsRef<Path>) -> Result<Self, FormatError> {
        let path = path.as_ref();
        // serde_json counts a position at the very start of a line (an empty file, a cut after
        // a newline) as column 0: it is that line's first column.
        let malformed = |e: serde_json::Error| FormatError::Malformed {
            path: path.to_path_buf(),
            line: e.line().max(1),
            column: e.column().max(1),
            message: e.to_string(),
        };
        let header: Header = serde_json::from_slice(bytes).map_err(malformed)?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(FormatError::WrongFormat {
                path: path.to_path_buf(),
                found: header.format,
            });
        }
        match header.version {
            Some(v) if v == u64::from(VERSION) => {}
            found => {
                return Err(FormatError::Version {
                    path: path.to_path_buf(),
                    found: found.unwrap_or(0),
                });
            }
        }
        let cache: BuildCache = serde_json::from_slice(bytes).map_err(malformed)?;
        cache
            .check_roots()
            .map_err(|message| FormatError::Malformed {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message,
            })?;
        Ok(cache)
    }

    /// The deterministic bytes of this cache: compact JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).expect("a BuildCache always serializes");
        out.push(b'\n');
        out
    }

    /// The same JSON, indented for people (the `shipwright-templates scan` output).
    pub fn to_pretty(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).expect("a BuildCache always serializes");
        out.push('\n');
        out
    }

    /// The file of a template relative to the manifest directory: `root/name`.
    pub fn relative_path(&self, name: &str) -> Option<String> {
        let record = self.templates.get(name)?;
        let root = self.roots.get(record.root)?;
        Some(if root.is_empty() || root == "." {
            name.to_string()
        } else {
            format!("{root}/{name}")
        })
    }

    fn check_roots(&self) -> Result<(), String> {
        for (name, record) in &self.templates {
            if record.root >= self.roots.len() {
                return Err(format!(
                    "template {name:?} names root {} but there are {} roots",
                    record.root,
                    self.roots.len()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BuildCache {
        let mut cache = BuildCache::new(vec!["templates".into()]);
        cache.templates.insert(
            "a.html".into(),
            TemplateRecord {
                id: template_id("a.html"),
                root: 0,
                hash: "00".into(),
                static_hash: "11".into(),
                interface_hash: "22".into(),
                size: 3,
                deps: vec![Dep {
                    name: "b.html".into(),
                    line: 1,
                    context: true,
                    scope: vec!["item".into()],
                    calls: Some(vec!["field".into()]),
                }],
                dynamic: vec![DynamicRef {
                    line: 2,
                    expr: "name".into(),
                    context: true,
                    scope: Vec::new(),
                }],
                vars: vec![Var {
                    name: "name".into(),
                    line: 3,
                    macros: vec!["m".into()],
                }],
                macros: vec![Macro {
                    name: "m".into(),
                    called: false,
                    calls: Vec::new(),
                }],
            },
        );
        cache
    }

    #[test]
    fn round_trips() {
        let cache = sample();
        let bytes = cache.to_bytes();
        assert_eq!(BuildCache::parse(&bytes, "x").unwrap(), cache);
        assert!(bytes.starts_with(b"{\"format\":\"shipwright-build-cache\",\"version\":3,"));
        assert_eq!(
            BuildCache::parse(cache.to_pretty().as_bytes(), "x").unwrap(),
            cache
        );
    }

    #[test]
    fn rejects_torn_file_with_position() {
        let bytes = sample().to_bytes();
        for cut in [1, bytes.len() / 2, bytes.len() - 2] {
            let err = BuildCache::parse(&bytes[..cut], "cache.json").unwrap_err();
            assert!(matches!(err, FormatError::Malformed { .. }), "{err}");
            assert!(err.to_string().starts_with("cache.json:"), "{err}");
        }
    }

    #[test]
    fn an_empty_or_cut_file_names_a_position_counted_from_1() {
        // Found by the `build_cache` fuzz target: serde_json says column 0 at the start of a
        // line (an empty file, a cut right after a newline).
        let pretty = sample().to_pretty();
        let cut = &pretty.as_bytes()[..pretty.find('\n').unwrap() + 1];
        for (bytes, at) in [
            (&b""[..], "e.json:1:1:"),
            (b"\n\n", "e.json:3:1:"),
            (cut, "e.json:2:1:"),
        ] {
            let err = BuildCache::parse(bytes, "e.json").unwrap_err();
            let FormatError::Malformed { line, column, .. } = err else {
                panic!("{err}");
            };
            assert!(line >= 1 && column >= 1, "{err}");
            assert!(err.to_string().starts_with(at), "{err}");
        }
    }

    #[test]
    fn rejects_other_format_and_version() {
        let err = BuildCache::parse(br#"{"format":"askama","version":1}"#, "f").unwrap_err();
        assert!(matches!(
            err,
            FormatError::WrongFormat { found: Some(_), .. }
        ));
        let err = BuildCache::parse(br#"{"version":1}"#, "f").unwrap_err();
        assert!(err.to_string().contains("no \"format\""), "{err}");
        let err = BuildCache::parse(
            br#"{"format":"shipwright-build-cache","version":4,"future":true}"#,
            "f",
        )
        .unwrap_err();
        assert!(matches!(err, FormatError::Version { found: 4, .. }));
        assert!(err.to_string().contains("reads version 3 only"), "{err}");
    }

    #[test]
    fn rejects_root_out_of_range() {
        let mut cache = sample();
        cache.templates.get_mut("a.html").unwrap().root = 3;
        let err = BuildCache::parse(&cache.to_bytes(), "f").unwrap_err();
        assert!(err.to_string().contains("names root 3"), "{err}");
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(template_id("a.html"), template_id("a.html"));
        assert_ne!(template_id("a.html"), template_id("b.html"));
        // The id is the start of the keyed blake3 digest's hex (the format's definition).
        for name in ["a.html", "pages/ünï.html", ""] {
            let digest = blake3::Hasher::new()
                .update(b"shipwright-template-id\0")
                .update(name.as_bytes())
                .finalize();
            assert_eq!(template_id(name), digest.to_hex()[..16]);
        }
        assert_eq!(hex(&[0x00, 0x9f, 0xff]), "009fff");
    }

    #[test]
    fn relative_path_joins_root() {
        let cache = sample();
        assert_eq!(cache.relative_path("a.html").unwrap(), "templates/a.html");
        assert_eq!(cache.relative_path("zzz"), None);
    }
}
