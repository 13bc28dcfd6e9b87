//! Rendering with minijinja over the template cache (cargo feature `minijinja`).
//!
//! ```
//! use shipwright_runtime::render::Templates;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::write(dir.path().join("base.html"), "<main>{% block body %}{% endblock %}</main>").unwrap();
//! # std::fs::write(dir.path().join("home.html"), "{% extends 'base.html' %}{% block body %}Hi {{ name }}{% endblock %}").unwrap();
//! // In an application: `Templates::new(shipwright_runtime::embedded_templates!())`.
//! let templates = Templates::from_roots(vec![dir.path().into()])?;
//! let html = templates.render_template("home.html", minijinja::context! { name => "Ada" })?;
//! assert_eq!(html, "<main>Hi Ada</main>");
//! # Ok(())
//! # }
//! ```
//!
//! [`Templates`] is a minijinja [`Environment`] whose loader takes each template's source from
//! the runtime's [`TemplateCache`]: in a release build the sources the build embedded
//! (`embedded_templates!()`), with the `dev` feature in a debug build the files under the
//! template roots, which the dev watcher keeps in step by dropping changed templates from
//! [`Templates::cache`].
//!
//! # Only what changed is compiled again
//!
//! minijinja resolves `extends`, `include` and `import` when a template renders, so a page that
//! includes a changed partial does not need to be compiled again: only the partial does. Each
//! compiled template stays in use while its source is unchanged: when the watcher drops a
//! template from the cache (it drops everything a change affects, so that cached renders go
//! too), the next lookup reads the source again and compiles it only if the text differs.
//! `minijinja-autoreload` instead clears every template on any change, so every template the
//! next renders use is compiled again. [`Templates::compilations`] counts the compilations.
//!
//! # A broken template keeps its last good version
//!
//! When an edit leaves a template that does not parse, the last version that did keeps being
//! served, and [`Templates::broken`] names the file, line and problem (for an overlay); the new
//! text is used as soon as it parses again. A template broken from its first load has no good
//! version: rendering it is an error with its file and line.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::{Environment, TemplateSource};
use serde::Serialize;
use shipwright_core::files::{FileError, Problem, TemplateFiles};
use shipwright_core::format::DEFAULT_EXTENSIONS;
use shipwright_core::graph::resolve_name;

use crate::cache::TemplateCache;
use crate::template::{Embedded, Template, find_template};

/// A minijinja environment over the template cache. Cheap to share behind an `Arc`.
pub struct Templates {
    env: Environment<'static>,
    shared: Arc<Shared>,
}

/// What the loader and the up-to-date checks share.
struct Shared {
    cache: Arc<TemplateCache<Arc<str>>>,
    source: Source,
    compilations: AtomicU64,
    /// The last text of each template that parsed.
    last_good: Mutex<HashMap<String, Arc<str>>>,
    /// Templates whose current text does not parse: the text and the problem.
    broken: Mutex<BTreeMap<String, (Arc<str>, Broken)>>,
}

/// Where sources come from when the cache does not hold them.
#[derive(Debug, Clone)]
enum Source {
    Embedded(&'static Embedded),
    /// The files under the roots, by the one rule of what a template file is (inside the
    /// root, a regular file, the build's extensions, a size limit).
    Roots(TemplateFiles),
}

/// A template whose current text does not parse, while its last good version is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    /// The template's name.
    pub template: String,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A render that failed, located in the innermost template minijinja names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(template.as_deref(), *line))]
pub struct RenderError {
    /// The template the error is in (an included one, not the page that includes it), when
    /// known.
    pub template: Option<String>,
    /// 1-based line in that template, when known.
    pub line: Option<usize>,
    /// What went wrong.
    pub message: String,
    /// The lines around `line` in that template, as `(line, text)`, for an overlay.
    pub excerpt: Vec<(u32, String)>,
}

fn location(template: Option<&str>, line: Option<usize>) -> String {
    match (template, line) {
        (Some(t), Some(l)) => format!("{t}:{l}: "),
        (Some(t), None) => format!("{t}: "),
        _ => String::new(),
    }
}

impl From<&minijinja::Error> for RenderError {
    #[cold]
    fn from(error: &minijinja::Error) -> Self {
        // minijinja chains the error of an included template as the source of the outer one:
        // the innermost error with a template name is where the problem is.
        let mut innermost = error;
        let mut next = std::error::Error::source(error);
        while let Some(cause) = next {
            if let Some(inner) = cause.downcast_ref::<minijinja::Error>()
                && inner.name().is_some()
            {
                innermost = inner;
            }
            next = cause.source();
        }
        let message = match innermost.detail() {
            Some(detail) => format!("{}: {detail}", innermost.kind()),
            None => innermost.kind().to_string(),
        };
        let excerpt = match (innermost.template_source(), innermost.line()) {
            (Some(source), Some(line)) => source
                .lines()
                .enumerate()
                .map(|(i, text)| (i + 1, text))
                .filter(|(n, _)| n.abs_diff(line) <= 2)
                .map(|(n, text)| (n as u32, text.chars().take(200).collect()))
                .collect(),
            _ => Vec::new(),
        };
        RenderError {
            template: innermost.name().map(str::to_string),
            line: innermost.line(),
            message,
            excerpt,
        }
    }
}

impl From<minijinja::Error> for RenderError {
    #[cold]
    fn from(error: minijinja::Error) -> Self {
        RenderError::from(&error)
    }
}

/// A failed render as an HTTP response: `500` with the message, and the error itself attached
/// (an `Arc<RenderError>` extension), from which the dev layer's overlay names the template
/// and line.
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for RenderError {
    fn into_response(self) -> axum::response::Response {
        let mut response = (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            self.to_string(),
        )
            .into_response();
        response.extensions_mut().insert(Arc::new(self));
        response
    }
}

impl Templates {
    /// The templates of `embedded`: with the `dev` feature in a debug build, read from the
    /// template roots on disk (where the crate was built), so that edits show; otherwise the
    /// sources embedded in the binary.
    ///
    /// # Errors
    ///
    /// In dev, when a root is not a directory (a debug binary run where its sources are not:
    /// use [`Templates::embedded`] there, or build without the `dev` feature).
    pub fn new(embedded: &'static Embedded) -> Result<Self, FileError> {
        if cfg!(all(feature = "dev", debug_assertions)) {
            Self::with_roots(embedded, embedded.root_dirs())
        } else {
            Ok(Self::embedded(embedded))
        }
    }

    /// The files under `roots` (searched in order) in place of the roots the crate was built
    /// from (a copy of them, a test's directory), read by the build's file rule (its
    /// extensions).
    ///
    /// # Errors
    ///
    /// When a root is not a directory ([`Problem::MissingRoot`], naming it).
    pub fn with_roots(embedded: &'static Embedded, roots: Vec<PathBuf>) -> Result<Self, FileError> {
        let files = TemplateFiles::of_build(embedded.build_cache(), roots);
        files.check_roots()?;
        Ok(Self::with_source(Source::Roots(files), Some(embedded)))
    }

    /// The sources embedded in the binary, always.
    pub fn embedded(embedded: &'static Embedded) -> Self {
        Self::with_source(Source::Embedded(embedded), Some(embedded))
    }

    /// The files under `roots` (searched in order, as the build script does), with no build
    /// record: for tests and tools.
    ///
    /// # Errors
    ///
    /// When a root is not a directory.
    pub fn from_roots(roots: Vec<PathBuf>) -> Result<Self, FileError> {
        let files = TemplateFiles::new(roots, DEFAULT_EXTENSIONS);
        files.check_roots()?;
        Ok(Self::with_source(Source::Roots(files), None))
    }

    fn with_source(source: Source, embedded: Option<&'static Embedded>) -> Self {
        let capacity = embedded.map_or(0, |e| e.len());
        let cache = TemplateCache::builder()
            .max_entries(capacity.max(1024) * 2)
            .build()
            .expect("a positive capacity");
        let shared = Arc::new(Shared {
            cache: Arc::new(cache),
            source,
            compilations: AtomicU64::new(0),
            last_good: Mutex::new(HashMap::new()),
            broken: Mutex::new(BTreeMap::new()),
        });
        let mut env = Environment::new();
        let loader = Arc::clone(&shared);
        env.set_loader(move |name| loader.load(name));
        Templates { env, shared }
    }

    /// The environment, to render in ways [`render`](Self::render) does not (a block alone, a
    /// captured state).
    pub fn environment(&self) -> &Environment<'static> {
        &self.env
    }

    /// The environment, to add filters, functions and globals before rendering.
    pub fn environment_mut(&mut self) -> &mut Environment<'static> {
        &mut self.env
    }

    /// The source cache: give it to the dev watcher (`WatcherBuilder::cache`) so that edits
    /// reach the renders.
    pub fn cache(&self) -> &Arc<TemplateCache<Arc<str>>> {
        &self.shared.cache
    }

    /// Renders the template `T` is bound to, with `value`'s fields (through serde) as the
    /// context.
    ///
    /// An associated function of `Templates` rather than a method of the bound type, so that it
    /// cannot clash with askama's `Template::render` on a type that derives both.
    pub fn render<T: Template + Serialize>(&self, value: &T) -> Result<String, RenderError> {
        self.render_template(T::NAME, value)
    }

    /// Renders the template `name` with `context`.
    pub fn render_template(
        &self,
        name: &str,
        context: impl Serialize,
    ) -> Result<String, RenderError> {
        let context = minijinja::Value::from(minijinja::value::Serde(context));
        Ok(self.env.get_template(name)?.render(context)?)
    }

    /// The check the dev watcher runs on each template a batch reads
    /// ([`WatcherBuilder::templates`](crate::dev::WatcherBuilder::templates)): whether the text
    /// parses, recorded as the loader records it ([`Templates::broken`]), so that a broken edit
    /// is reported (file, line, problem) when it is saved, not only at the next render.
    /// The second value says whether an older good version is served in its place.
    #[cfg(feature = "dev")]
    pub(crate) fn syntax_check(
        &self,
    ) -> impl Fn(&str, &str) -> Option<(Broken, bool)> + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move |name, text| {
            let text = Arc::from(text);
            let (served, broken) = shared.check(name, &text);
            broken.map(|b| (b, !Arc::ptr_eq(&served, &text)))
        }
    }

    /// How many times a template was compiled (loaded into minijinja) since this was made.
    pub fn compilations(&self) -> u64 {
        self.shared.compilations.load(Ordering::Relaxed)
    }

    /// The templates whose current text does not parse, by name; their last good version is
    /// being served.
    pub fn broken(&self) -> Vec<Broken> {
        lock(&self.shared.broken)
            .values()
            .map(|(_, b)| b.clone())
            .collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// minijinja's loader: the text to compile, and when it stops being current.
    fn load(self: &Arc<Self>, name: &str) -> Result<Option<TemplateSource>, minijinja::Error> {
        let name = resolve_name(name).map_err(|why| {
            minijinja::Error::new(
                minijinja::ErrorKind::TemplateNotFound,
                format!("{name}: {why}"),
            )
        })?;
        let text = match self
            .cache
            .try_get_or_insert_with(&name, || self.read(&name))
        {
            Ok(text) => text,
            Err(missing) => return missing.for_loader(),
        };
        // The embedded sources never change: nothing to fall back to, nothing to check twice
        // (minijinja parses what it is given).
        let serve = match self.source {
            Source::Embedded(_) => text,
            Source::Roots(_) => self.check(&name, &text).0,
        };
        self.compilations.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::clone(self);
        let served = Arc::clone(&serve);
        Ok(Some(TemplateSource::new(&*serve).with_uptodate_check(
            move || shared.is_current(&name, &served),
        )))
    }

    /// The text to serve for `text`, the current source of `name`: itself when it parses, else
    /// the last version that did (and `name` is recorded as broken, which is returned).
    fn check(&self, name: &str, text: &Arc<str>) -> (Arc<str>, Option<Broken>) {
        // Parsed before: the dev watcher checks each edit as it reads it, so the render that
        // follows its update compiles the text once, not twice.
        let good = lock(&self.last_good)
            .get(name)
            .filter(|good| ***good == **text)
            .cloned();
        if let Some(good) = good {
            lock(&self.broken).remove(name);
            return (good, None);
        }
        let mut scratch = Environment::new();
        scratch.set_debug(false);
        match scratch.template_from_named_str(name, text) {
            Ok(_) => {
                lock(&self.broken).remove(name);
                lock(&self.last_good).insert(name.to_string(), Arc::clone(text));
                (Arc::clone(text), None)
            }
            Err(e) => {
                let broken = Broken {
                    template: name.to_string(),
                    line: e.line(),
                    message: e.detail().unwrap_or("syntax error").to_string(),
                };
                lock(&self.broken).insert(name.to_string(), (Arc::clone(text), broken.clone()));
                let serve = lock(&self.last_good)
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| Arc::clone(text));
                (serve, Some(broken))
            }
        }
    }

    /// Whether `served` (what minijinja compiled for `name`) is still what should be served.
    fn is_current(&self, name: &str, served: &Arc<str>) -> bool {
        let text = match self.cache.peek(name) {
            Some(text) => text,
            // Dropped by the watcher (it drops everything an edit affects): read the source
            // again and keep it; compile again only if the text differs.
            None => match self.read(name) {
                Ok(text) => {
                    let same = *text == **served;
                    self.cache.insert(
                        name,
                        if same {
                            Arc::clone(served)
                        } else {
                            Arc::clone(&text)
                        },
                    );
                    if !same {
                        return self.still_broken(name, &text, served);
                    }
                    return true;
                }
                Err(_) => return false,
            },
        };
        Arc::ptr_eq(&text, served) || *text == **served || self.still_broken(name, &text, served)
    }

    /// `text` is the broken version already recorded and `served` its last good one: nothing
    /// new to compile.
    fn still_broken(&self, name: &str, text: &Arc<str>, served: &Arc<str>) -> bool {
        let broken = lock(&self.broken);
        let last_good = lock(&self.last_good);
        broken.get(name).is_some_and(|(b, _)| **b == **text)
            && last_good.get(name).is_some_and(|g| **g == **served)
    }

    fn read(&self, name: &str) -> Result<Arc<str>, Missing> {
        match &self.source {
            Source::Embedded(templates) => find_template(templates, name)
                .map(|t| Arc::from(t.source))
                .ok_or(Missing::NotFound),
            Source::Roots(files) => read_file(files, name).map(Arc::from),
        }
    }
}

/// The text of template `name` under `files`, by the file rule (inside a root, a regular file,
/// a template extension, the size limit): what a loader that reads the roots gives minijinja.
pub(crate) fn read_file(files: &TemplateFiles, name: &str) -> Result<String, Missing> {
    match files.read(name) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            Missing::Unreadable(format!(
                "template {name} is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ))
        }),
        Err(e) if e.is_not_found() => Err(Missing::NotFound),
        Err(e) if matches!(e.problem, Problem::NotATemplate(_) | Problem::Name(_)) => {
            Err(Missing::NotATemplate(e.to_string()))
        }
        Err(e) => Err(Missing::Unreadable(e.to_string())),
    }
}

/// Why a source could not be had.
pub(crate) enum Missing {
    NotFound,
    /// A name the file rule does not take for a template (its extension, its form).
    NotATemplate(String),
    Unreadable(String),
}

impl Missing {
    /// What a minijinja loader answers: none for a template no root holds, a not-found error
    /// with why for a name that is no template (so that `ignore missing` passes over it), an
    /// error for a file that cannot be read.
    pub(crate) fn for_loader<T>(self) -> Result<Option<T>, minijinja::Error> {
        match self {
            Missing::NotFound => Ok(None),
            Missing::NotATemplate(message) => Err(minijinja::Error::new(
                minijinja::ErrorKind::TemplateNotFound,
                message,
            )),
            Missing::Unreadable(message) => Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                message,
            )),
        }
    }
}

#[cfg(test)]
mod tests;
