//! Rendering askama templates, with edits shown at once in dev.
//!
//! ```ignore
//! #[derive(askama::Template, shipwright_runtime::Template, serde::Serialize)]
//! #[template(path = "hello.html", escape = "html")] // read by both derives
//! struct Hello { name: String }
//!
//! let page = Hello { name: "<world>".into() };
//! let html: String = shipwright_runtime::askama::render(&page)?;
//! ```
//!
//! [`render`] is askama's `Template::render` in a release build. In a debug build with the
//! runtime's `askama` and `dev` features on, a template whose files differ from the build is
//! rendered from disk through minijinja configured as askama renders (askama's escaping, its
//! formatting of numbers and booleans, the keys of `#[template(...)]` that change the page), so
//! that an edit shows without `cargo build`. Whatever the dev renderer cannot render as askama
//! does ([`shipwright_core::askama::to_jinja`]'s refusals, a key it does not emulate, a render
//! error) is served as the last version of the files it rendered since the build, else as
//! askama's compiled render of the last build, and recorded
//! ([`dev_problems`]; with the dev layer, feature `axum`, the overlay lists each one whose files
//! were edited under "cargo build needed", and the runner's marker asks for the build); the
//! rebuild planner in [`RenderMode::Compiled`] with
//! [`RebuildPlanner::dev_renderer`] says `Rebuild` for those templates, naming the construct.
//!
//! A struct is rendered from disk through `serde`: with the dev renderer compiled in (features
//! `askama` and `dev`, a debug build), a struct that derives both askama's `Template` and ours
//! must be `Serialize`. The compile error points at the struct and says so; a struct that only
//! derives ours is not asked for it.
//!
//! [`RenderMode::Compiled`]: crate::RenderMode::Compiled
//! [`RebuildPlanner::dev_renderer`]: crate::RebuildPlanner::dev_renderer

#[cfg(all(feature = "askama", feature = "dev", debug_assertions))]
pub(crate) mod dev;

#[cfg(all(feature = "askama", feature = "axum", debug_assertions))]
pub(crate) use dev::watch_problems;
#[cfg(all(feature = "askama", feature = "dev", debug_assertions))]
pub use dev::{DevProblem, dev_problems, set_dev_roots};

use shipwright_core::askama::Whitespace;

/// The keys of askama's `#[template(...)]` that change the page, as the struct wrote them
/// (`#[derive(shipwright_runtime::Template)]` reads them from the attribute askama reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AskamaArgs {
    /// `escape = "html"` / `"none"`. Defaults to: by the extension.
    pub escape: Option<&'static str>,
    /// `ext = "html"`. Defaults to: the template name's extension.
    pub ext: Option<&'static str>,
    /// `syntax = "name"`, a syntax of `askama.toml`. Defaults to: `{{ }}`, `{% %}`, `{# #}`.
    pub syntax: Option<&'static str>,
    /// `whitespace = "suppress"` / `"minimize"` / `"preserve"`. Defaults to: preserve.
    pub whitespace: Option<&'static str>,
    /// `block = "name"`: only that block. Defaults to: the whole template.
    pub block: Option<&'static str>,
    /// `config = "file.toml"`. Defaults to: `askama.toml`.
    pub config: Option<&'static str>,
}

impl AskamaArgs {
    /// No key set.
    pub const NONE: AskamaArgs = AskamaArgs {
        escape: None,
        ext: None,
        syntax: None,
        whitespace: None,
        block: None,
        config: None,
    };

    /// Does the page escape HTML, by askama's default configuration: `escape` if given, else
    /// the extension (`ext`, else the name's), HTML for `html`, `htm`, `xml`, `svg`, `j2`,
    /// `jinja`, `jinja2`, `askama`, `rinja`, none for any other.
    pub fn escapes_html(&self, name: &str) -> bool {
        match self.escape {
            Some(escape) => escape == "html",
            None => {
                let ext = self
                    .ext
                    .unwrap_or_else(|| name.rsplit_once('.').map_or("", |(_, ext)| ext));
                matches!(
                    ext,
                    "html" | "htm" | "xml" | "svg" | "j2" | "jinja" | "jinja2" | "askama" | "rinja"
                )
            }
        }
    }

    /// `whitespace`: the control of every tag side without a sign. Defaults to: preserve.
    pub fn whitespace(&self) -> Whitespace {
        self.whitespace
            .and_then(Whitespace::from_key)
            .unwrap_or_default()
    }

    /// The first key the dev renderer does not emulate, as a reason names it.
    pub fn unsupported(&self) -> Option<String> {
        if let Some(syntax) = self.syntax {
            return Some(format!("#[template(syntax = \"{syntax}\")]"));
        }
        if let Some(ws) = self
            .whitespace
            .filter(|ws| Whitespace::from_key(ws).is_none())
        {
            return Some(format!("#[template(whitespace = \"{ws}\")]"));
        }
        if let Some(config) = self.config {
            return Some(format!("#[template(config = \"{config}\")]"));
        }
        None
    }
}

/// Renders `page` as askama renders it: askama's compiled render in a release build; in a dev
/// build (features `askama` and `dev`, `debug_assertions`), the files on disk when they differ
/// from the build and the dev renderer renders them as askama does (see the module's
/// documentation).
///
/// With the dev renderer compiled in, `T` must be `Serialize` too (the error says so).
#[cfg(all(feature = "askama", feature = "dev", debug_assertions))]
pub fn render<T>(page: &T) -> ::askama::Result<String>
where
    T: ::askama::Template + crate::Template + DevContext + DevSerialize,
{
    dev::render(page)
}

/// Renders `page` as askama renders it: askama's compiled render (this build has no dev
/// renderer: it is a release build, or the `dev` feature is off).
#[cfg(all(feature = "askama", not(all(feature = "dev", debug_assertions))))]
#[inline(always)]
pub fn render<T>(page: &T) -> ::askama::Result<String>
where
    T: ::askama::Template + crate::Template + DevContext,
{
    ::askama::Template::render(page)
}

/// What the derive implements for the dev renderer. Not public API.
#[doc(hidden)]
pub trait DevContext {
    /// The struct's askama keys.
    const ASKAMA: AskamaArgs = AskamaArgs::NONE;
    /// The crate's manifest directory, where the roots are.
    const MANIFEST_DIR: &'static str = "";
    /// The BuildCache's roots, relative to [`Self::MANIFEST_DIR`].
    const ROOTS: &'static [&'static str] = &[];
    /// The template and its closure, with the content hashes of the build.
    const HASHES: &'static [(&'static str, &'static str)] = &[];
    /// The fields whose serde form cannot tell `Some(None)` from `None` (`Option<Option<_>>`,
    /// `Option<()>`): the dev renderer leaves the type to askama.
    const LOSSY: &'static [&'static str] = &[];

    /// What the dev renderer cannot do for the type, whatever its template's text: a key it does
    /// not emulate, a field whose serde form loses what askama reads.
    #[cold]
    fn refusal() -> Option<String> {
        if let Some(key) = Self::ASKAMA.unsupported() {
            return Some(format!("the dev renderer does not emulate {key}"));
        }
        Self::LOSSY.first().map(|field| {
            format!(
                "the dev renderer cannot tell `Some(None)` from `None` in the field `{field}` \
                 (serde writes both alike)"
            )
        })
    }
}

/// `Serialize`, required by [`render`] when the dev renderer is compiled in.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the askama dev renderer renders `{Self}` from disk through serde: derive \
               `serde::Serialize` for it, or turn the `dev` feature of shipwright-runtime off",
    label = "`{Self}` is not `Serialize`"
)]
pub trait DevSerialize: serde::Serialize {}
impl<T: serde::Serialize + ?Sized> DevSerialize for T {}

/// The check the derive emits for a non-generic struct: with the dev renderer compiled in (the
/// runtime's `askama` and `dev` features, a debug build), a struct that implements askama's
/// `Template` must be `Serialize`; the error is spanned at the struct's name. Not public API.
#[cfg(all(feature = "askama", feature = "dev"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __askama_dev_check {
    ($ty:ident) => {
        #[cfg(debug_assertions)]
        const _: fn() = || {
            #[allow(unused_imports)]
            use $crate::askama::probe::{AskamaKind as _, OtherKind as _};
            (&&$crate::askama::probe::Probe::<$ty>::new())
                .kind()
                .check::<$ty>();
        };
    };
}

/// Without the dev renderer there is nothing to check. Not public API.
#[cfg(not(all(feature = "askama", feature = "dev")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __askama_dev_check {
    ($ty:ident) => {};
}

/// Which kind of struct the derive bound, told apart by method resolution on a concrete type:
/// `(&&Probe::<T>::new()).kind()` finds `AskamaKind` (by reference, tried first) only when
/// `T` implements askama's `Template`, and `OtherKind` otherwise. Not public API.
#[cfg(all(feature = "askama", feature = "dev"))]
#[doc(hidden)]
pub mod probe {
    use std::marker::PhantomData;

    use super::DevSerialize;

    /// The type under test.
    pub struct Probe<T>(PhantomData<T>);

    impl<T> Probe<T> {
        /// A probe of `T`.
        pub const fn new() -> Self {
            Probe(PhantomData)
        }
    }

    impl<T> Default for Probe<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// An askama struct: the dev renderer renders it, through serde.
    pub struct Askama;

    impl Askama {
        /// Requires `T: Serialize`, with the dev renderer's message.
        pub fn check<T: DevSerialize>(self) {}
    }

    /// Any other struct: nothing required.
    pub struct Other;

    impl Other {
        /// Requires nothing.
        pub fn check<T>(self) {}
    }

    /// Found for a `T` that implements askama's `Template`.
    pub trait AskamaKind {
        /// [`Askama`].
        fn kind(&self) -> Askama {
            Askama
        }
    }

    impl<T: ::askama::Template> AskamaKind for &Probe<T> {}

    /// Found for any other `T`.
    pub trait OtherKind {
        /// [`Other`].
        fn kind(&self) -> Other {
            Other
        }
    }

    impl<T> OtherKind for Probe<T> {}
}
