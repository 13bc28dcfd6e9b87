//! The dev renderer: askama templates read from disk, rendered by minijinja as askama renders.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};
use shipwright_core::analyze::content_hash;
use shipwright_core::askama::{Refusal, Whitespace, to_jinja_with};
use shipwright_core::files::TemplateFiles;
use shipwright_core::format::DEFAULT_EXTENSIONS;
use shipwright_core::graph::resolve_name;

use super::{AskamaArgs, DevContext, DevSerialize};
use crate::Template;
use crate::render::read_file;

/// A type whose page the dev renderer left to askama's compiled render of the last build, and
/// why: the app shows the build's page until `cargo build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevProblem {
    /// The template bound to the type.
    pub template: String,
    /// The template whose text is the cause, with the line, where one is.
    pub at: Option<(String, u32)>,
    /// What the dev renderer cannot do.
    pub reason: String,
    /// Whether the template's files differ from the build: the page served does not show them
    /// until `cargo build`. The dev layer's overlay lists these.
    pub edited: bool,
    /// The page served: the last version of the files the dev renderer rendered (`true`), or
    /// askama's page of the last build (`false`).
    pub last_good: bool,
}

impl std::fmt::Display for DevProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some((file, line)) => write!(f, "{}: {} ({file}:{line})", self.template, self.reason),
            None => write!(f, "{}: {}", self.template, self.reason),
        }
    }
}

/// Per bound template, what stands between it and the dev renderer now; and the templates whose
/// dev render of the build differed from askama's (a field whose `Display` is not its serde
/// form): those stay with askama until the next build.
#[derive(Default)]
struct Problems {
    now: HashMap<&'static str, DevProblem>,
    differs: HashMap<&'static str, DevProblem>,
}

static PROBLEMS: Mutex<Option<Problems>> = Mutex::new(None);

/// Per bound template, the sources (translated, by name) of the last dev render of edited files
/// that succeeded: what is served while the files on disk do not render.
static LAST_GOOD: Mutex<Option<HashMap<&'static str, Arc<Sources>>>> = Mutex::new(None);

type Sources = HashMap<String, String>;

/// Told the problems whenever they change; dropped when it returns `false`.
type Hook = Box<dyn FnMut(&[DevProblem]) -> bool + Send>;

static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Calls `hook` with [`dev_problems`] now and after every change of them, until it returns
/// `false` (the dev layer's overlay: see `dev::live`).
#[cfg(any(feature = "axum", test))]
pub(crate) fn watch_problems(mut hook: impl FnMut(&[DevProblem]) -> bool + Send + 'static) {
    let mut hooks = HOOKS.lock().unwrap_or_else(PoisonError::into_inner);
    if hook(&dev_problems()) {
        hooks.push(Box::new(hook));
    }
}

/// Tells the hooks: the problems changed.
#[cold]
fn problems_changed() {
    let problems = dev_problems();
    HOOKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .retain_mut(|hook| hook(&problems));
}

/// Roots set with [`set_dev_roots`], read instead of the crate's.
static ROOTS: Mutex<Option<Vec<PathBuf>>> = Mutex::new(None);

/// The template roots the dev renderer reads, in search order, instead of the crate's
/// (`CARGO_MANIFEST_DIR` joined with the BuildCache's roots): for an app run where its sources
/// are not, or a test that edits a copy. Defaults to: the crate's.
pub fn set_dev_roots(roots: Vec<PathBuf>) {
    *ROOTS.lock().unwrap_or_else(PoisonError::into_inner) = Some(roots);
}

fn problems() -> MutexGuard<'static, Option<Problems>> {
    PROBLEMS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the dev renderer handed to askama's compiled render, by bound template, sorted: the
/// latest render of each type.
pub fn dev_problems() -> Vec<DevProblem> {
    let guard = problems();
    let Some(problems) = guard.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<DevProblem> = problems
        .now
        .values()
        .chain(problems.differs.values())
        .cloned()
        .collect();
    out.sort_by(|a, b| a.template.cmp(&b.template));
    out.dedup_by(|a, b| a.template == b.template);
    out
}

/// What one dev render came to.
enum Outcome {
    /// The files differ from the build: this is the page.
    Page(String),
    /// The files are the build's: askama's page, to compare with this one.
    Calibrate(String),
    /// The files do not render, for this reason: the page of their last version that did.
    Kept(String, DevProblem),
    /// askama's page, for this reason.
    Refused(DevProblem),
}

pub(super) fn render<T>(page: &T) -> ::askama::Result<String>
where
    T: ::askama::Template + Template + DevContext + DevSerialize,
{
    let outcome = dev_render(page);
    let (rendered, now) = match outcome {
        Outcome::Page(page) => (Ok(page), None),
        Outcome::Calibrate(dev) => {
            let compiled = ::askama::Template::render(page)?;
            if compiled != dev {
                let problem = differs(T::NAME, &compiled, &dev);
                let mut guard = problems();
                let problems = guard.get_or_insert_with(Problems::default);
                problems.differs.insert(T::NAME, problem);
            }
            (Ok(compiled), None)
        }
        Outcome::Kept(page, problem) => (Ok(page), Some(problem)),
        Outcome::Refused(problem) => (::askama::Template::render(page), Some(problem)),
    };
    let changed = {
        let mut guard = problems();
        let problems = guard.get_or_insert_with(Problems::default);
        match now {
            Some(problem) => problems.now.insert(T::NAME, problem.clone()) != Some(problem),
            None => problems.now.remove(T::NAME).is_some(),
        }
    };
    if changed {
        problems_changed();
    }
    rendered
}

/// The dev render of the build's files differs from askama's page: the type stays with askama
/// until the next build (recorded once; the page served is askama's, which is the build's).
#[cold]
fn differs(template: &str, compiled: &str, dev: &str) -> DevProblem {
    let line = compiled
        .lines()
        .zip(dev.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(compiled.lines().count().min(dev.lines().count()));
    DevProblem {
        template: template.to_string(),
        at: None,
        reason: format!(
            "the dev renderer's page of the build differs from askama's at output line {} (a \
             value whose `Display` is not its serde form?); askama renders it until the next \
             build",
            line + 1
        ),
        edited: false,
        last_good: false,
    }
}

/// What the loader saw: whether every file is the build's, the first refusal, and the sources
/// it gave (translated).
#[derive(Default)]
struct Loaded {
    changed: bool,
    refusal: Option<(String, Refusal)>,
    sources: Sources,
}

fn last_good() -> MutexGuard<'static, Option<HashMap<&'static str, Arc<Sources>>>> {
    LAST_GOOD.lock().unwrap_or_else(PoisonError::into_inner)
}

fn dev_render<T: Template + DevContext + DevSerialize>(page: &T) -> Outcome {
    let set = ROOTS.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let roots: Vec<PathBuf> = set.unwrap_or_else(|| {
        T::ROOTS
            .iter()
            .map(|root| PathBuf::from(T::MANIFEST_DIR).join(root))
            .collect()
    });
    let files = files(roots, T::HASHES);
    // `seen_edited`: a file the loader read differs from the build already (no file is read
    // again to know it).
    let refused = |at: Option<(String, u32)>, reason: String, seen_edited: bool| {
        Outcome::Refused(DevProblem {
            template: T::NAME.to_string(),
            at,
            reason,
            edited: seen_edited || edited(&files, T::HASHES),
            last_good: false,
        })
    };
    if let Some(why) = T::refusal() {
        return refused(None, why, false);
    }
    if let Some(problem) = problems()
        .as_ref()
        .and_then(|p| p.differs.get(T::NAME).cloned())
    {
        return refused(problem.at, problem.reason, false);
    }
    let loaded = Arc::new(Mutex::new(Loaded::default()));
    let rendered = render_with::<T>(
        page,
        from_files(files.clone(), T::HASHES, T::ASKAMA.whitespace(), &loaded),
    );
    let loaded = std::mem::take(&mut *loaded.lock().unwrap_or_else(PoisonError::into_inner));
    let outcome = if let Some((file, refusal)) = &loaded.refusal {
        refused(
            Some((file.clone(), refusal.line)),
            format!("the dev renderer cannot render {}", refusal.construct),
            loaded.changed,
        )
    } else {
        match rendered {
            Ok(page) if loaded.changed => {
                let sources = Arc::new(loaded.sources);
                last_good()
                    .get_or_insert_with(HashMap::new)
                    .insert(T::NAME, sources);
                return Outcome::Page(page);
            }
            Ok(page) => {
                // The build's files: askama's page is the truth, nothing older to keep.
                if let Some(kept) = last_good().as_mut() {
                    kept.remove(T::NAME);
                }
                return Outcome::Calibrate(page);
            }
            Err(error) => {
                let at = error
                    .name()
                    .map(str::to_string)
                    .zip(error.line().map(|l| l as u32));
                let mut reason = format!("the dev render failed: {}", error.kind());
                if let Some(detail) = error.detail() {
                    let _ = write!(reason, ": {detail}");
                }
                refused(at, reason, loaded.changed)
            }
        }
    };
    keep_last_good::<T>(page, outcome)
}

/// A refusal of edited files: the page of their last version that rendered, where there is
/// one (the overlay says why the edit does not show), else askama's page of the build.
#[cold]
fn keep_last_good<T: Template + DevContext + DevSerialize>(page: &T, outcome: Outcome) -> Outcome {
    let Outcome::Refused(mut problem) = outcome else {
        return outcome;
    };
    let kept = problem
        .edited
        .then(|| last_good().as_ref()?.get(T::NAME).cloned())
        .flatten();
    let Some(sources) = kept else {
        return Outcome::Refused(problem);
    };
    let loader = move |name: &str| {
        Ok(resolve_name(name)
            .ok()
            .and_then(|name| sources.get(&*name).cloned()))
    };
    match render_with::<T>(page, loader) {
        Ok(html) => {
            problem.last_good = true;
            Outcome::Kept(html, problem)
        }
        Err(_) => Outcome::Refused(problem),
    }
}

/// `page` rendered by an environment over `loader`, as askama renders it.
fn render_with<T: Template + DevContext + DevSerialize>(
    page: &T,
    loader: impl Fn(&str) -> Result<Option<String>, Error> + Send + Sync + 'static,
) -> Result<String, Error> {
    let env = environment(T::ASKAMA, T::NAME, loader);
    let template = env.get_template(T::NAME)?;
    let context = Value::from(minijinja::value::Serde(page));
    match T::ASKAMA.block {
        Some(block) => template
            .render_captured(context)?
            .with_state_mut(|state| state.render_block(block)),
        None => template.render(context),
    }
}

/// The loader over the files: each template read by the one file rule and translated, noting
/// in `loaded` whether it differs from the build, the first refusal, and the sources given.
fn from_files(
    files: TemplateFiles,
    hashes: &'static [(&'static str, &'static str)],
    whitespace: Whitespace,
    loaded: &Arc<Mutex<Loaded>>,
) -> impl Fn(&str) -> Result<Option<String>, Error> + Send + Sync + 'static {
    let loaded = Arc::clone(loaded);
    move |name| {
        let Ok(name) = resolve_name(name) else {
            return Ok(None);
        };
        let text = match read_file(&files, &name) {
            Ok(text) => text,
            Err(missing) => return missing.for_loader(),
        };
        let mut loaded = loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let built = hashes.iter().find(|(n, _)| *n == name).map(|(_, h)| *h);
        if built != Some(content_hash(text.as_bytes()).as_str()) {
            loaded.changed = true;
        }
        // askama drops one trailing `\n` of a file (minijinja's own rule, off here, drops a
        // `\r` before it too).
        let text = text.strip_suffix('\n').unwrap_or(&text);
        match to_jinja_with(text, whitespace) {
            Ok(jinja) => {
                loaded.sources.insert(name.to_string(), jinja.clone());
                Ok(Some(jinja))
            }
            Err(refusal) => {
                loaded.refusal.get_or_insert((name.to_string(), refusal));
                Err(Error::new(ErrorKind::InvalidOperation, "refused"))
            }
        }
    }
}

/// The files under `roots` by the one file rule, with the extensions of the templates the build
/// recorded (the build's rule took them) besides the default ones.
fn files(roots: Vec<PathBuf>, hashes: &[(&str, &str)]) -> TemplateFiles {
    let extensions: BTreeSet<&str> = DEFAULT_EXTENSIONS
        .iter()
        .copied()
        .chain(
            hashes
                .iter()
                .filter_map(|(n, _)| n.rsplit_once('.').map(|(_, e)| e)),
        )
        .collect();
    TemplateFiles::new(roots, extensions)
}

/// Whether a file of the build's closure differs from the build (or is gone).
#[cold]
fn edited(files: &TemplateFiles, hashes: &[(&str, &str)]) -> bool {
    hashes.iter().any(|(name, hash)| {
        read_file(files, name).map_or(true, |text| content_hash(text.as_bytes()) != *hash)
    })
}

/// A minijinja environment that renders askama's grammar (as [`to_jinja_with`] translates it) to
/// askama's bytes, its templates from `loader`.
fn environment(
    args: AskamaArgs,
    name: &str,
    loader: impl Fn(&str) -> Result<Option<String>, Error> + Send + Sync + 'static,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // The file's trailing newline is the loader's to drop, by askama's rule.
    env.set_syntax(
        SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters"),
    );
    let html = args.escapes_html(name);
    env.set_auto_escape_callback(move |_| {
        if html {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        let text = display(value)?;
        if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
            let mut escaped = String::with_capacity(text.len());
            escape_html(&mut escaped, &text);
            out.write_str(&escaped)?;
        } else {
            out.write_str(&text)?;
        }
        Ok(())
    });
    let escape = |value: &Value| -> Result<Value, Error> {
        if value.is_safe() {
            return Ok(value.clone());
        }
        let mut escaped = String::new();
        escape_html(&mut escaped, &display(value)?);
        Ok(Value::from_safe_string(escaped))
    };
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("capitalize", capitalize);
    env.set_loader(loader);
    env
}

/// A value as askama's `Display` writes it: Rust's formatting of numbers (`3` for `3.0`) and
/// booleans. A value askama would print through a type's own `Display` (a map, a list, none) is
/// an error: the page goes to askama.
fn display(value: &Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::String => Ok(value.as_str().unwrap_or_default().to_string()),
        ValueKind::Bool => Ok(value.is_true().to_string()),
        ValueKind::Number if value.is_integer() => Ok(value.to_string()),
        ValueKind::Number => {
            let float = f64::try_from(value.clone())?;
            Ok(float.to_string())
        }
        kind => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("askama prints a {kind} through its type's Display, not its serde form"),
        )),
    }
}

/// askama's `capitalize`: the value's text with its first character upper-cased (`ß` to `SS`,
/// where minijinja's writes `S`) and the rest lower-cased. A safe value is an error (the page
/// goes to askama), as what askama escapes after it was not checked.
fn capitalize(value: &Value) -> Result<String, Error> {
    if value.is_safe() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "`capitalize` of a safe value",
        ));
    }
    let text = display(value)?;
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return Ok(String::new());
    };
    let mut out: String = first.to_uppercase().collect();
    out.push_str(&chars.as_str().to_lowercase());
    Ok(out)
}

/// askama's HTML escaper: `"&'<>` as decimal character references.
pub(super) fn escape_html(out: &mut String, text: &str) {
    let mut last = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "&#34;",
            b'&' => "&#38;",
            b'\'' => "&#39;",
            b'<' => "&#60;",
            b'>' => "&#62;",
            _ => continue,
        };
        out.push_str(&text[last..at]);
        out.push_str(escaped);
        last = at + 1;
    }
    out.push_str(&text[last..]);
}

/// Held by the tests that use the process-wide problems and hooks (this module's, the dev
/// layer's overlay test), so that one does not hear the other's.
#[cfg(test)]
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::TemplateInfo;

    /// A page askama compiled from `<p>{{ name }}</p>`, bound to `page.html`.
    #[derive(::askama::Template, serde::Serialize)]
    #[template(source = "<p>{{ name }}</p>", ext = "html")]
    struct Page {
        name: String,
    }

    impl Template for Page {
        const NAME: &'static str = "page.html";
        const FIELDS: &'static [&'static str] = &["name"];
        fn info() -> &'static TemplateInfo {
            crate::__private::unbound()
        }
    }

    impl DevContext for Page {
        // The build's hash of `<p>{{ name }}</p>` (blake3, as the BuildCache writes it).
        const HASHES: &'static [(&'static str, &'static str)] = &[(
            "page.html",
            "0be7d0d7b046f1649be965d1b771df5080290f5111c9c39c067516d6f3d1a9fe",
        )];
    }

    /// A page with a field whose serde form loses `Some(None)`.
    #[derive(::askama::Template, serde::Serialize)]
    #[template(
        source = "{% if let Some(inner) = flag %}some{% else %}none{% endif %}",
        ext = "html"
    )]
    struct Lossy {
        flag: Option<Option<bool>>,
    }

    impl Template for Lossy {
        const NAME: &'static str = "lossy.html";
        const FIELDS: &'static [&'static str] = &["flag"];
        fn info() -> &'static TemplateInfo {
            crate::__private::unbound()
        }
    }

    impl DevContext for Lossy {
        const LOSSY: &'static [&'static str] = &["flag"];
    }

    /// serde writes `Some(None)` as `None`: the dev renderer leaves such a type to askama,
    /// whose page is right, and says why.
    #[test]
    fn a_field_whose_serde_form_loses_some_stays_with_askama() {
        let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lossy.html"),
            "{% if let Some(inner) = flag %}SOME{% else %}NONE{% endif %}",
        )
        .unwrap();
        set_dev_roots(vec![dir.path().to_path_buf()]);
        let page = Lossy { flag: Some(None) };
        assert_eq!(render(&page).unwrap(), "some");
        let problem = dev_problems()
            .into_iter()
            .find(|p| p.template == "lossy.html")
            .expect("a problem for lossy.html");
        assert!(problem.reason.contains("`Some(None)`"), "{problem}");
        assert!(problem.reason.contains("`flag`"), "{problem}");
    }

    /// The hook hears each change of the problems, with whether the file was edited; an
    /// unchanged outcome calls it no more.
    #[test]
    fn hooks_hear_the_fallbacks_as_they_change() {
        let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        // From no problems: the other tests' types stay in the process-wide list.
        *problems() = None;
        let built = "<p>{{ name }}</p>";
        assert_eq!(
            content_hash(built.as_bytes()),
            Page::HASHES[0].1,
            "the test's build hash"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page.html");
        std::fs::write(&file, built).unwrap();
        set_dev_roots(vec![dir.path().to_path_buf()]);
        let heard = Arc::new(Mutex::new(Vec::<Vec<DevProblem>>::new()));
        let into = Arc::clone(&heard);
        watch_problems(move |problems| {
            into.lock().unwrap().push(problems.to_vec());
            true
        });
        let page = Page { name: "<a>".into() };
        assert_eq!(render(&page).unwrap(), "<p>&#60;a&#62;</p>");

        // A method call: refused, askama's page of the build, the problem edited.
        std::fs::write(&file, "<p>\n{{ name.len() }}</p>").unwrap();
        assert_eq!(render(&page).unwrap(), "<p>&#60;a&#62;</p>");
        assert_eq!(render(&page).unwrap(), "<p>&#60;a&#62;</p>");
        // Undone: the build's text again, nothing to say.
        std::fs::write(&file, built).unwrap();
        assert_eq!(render(&page).unwrap(), "<p>&#60;a&#62;</p>");

        let heard = heard.lock().unwrap();
        assert_eq!(heard.len(), 3, "{heard:?}");
        assert_eq!(heard[0], []);
        assert_eq!(heard[1].len(), 1);
        assert!(heard[1][0].edited);
        assert_eq!(heard[1][0].at, Some(("page.html".to_string(), 2)));
        assert_eq!(heard[2], []);
    }
}
