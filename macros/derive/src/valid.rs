//! Stage 3: the template name checked against the BuildCache and against the files on disk.
//! Every error points at the name's string literal.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use shipwright_core::analyze::content_hash;
use shipwright_core::files::Problem;
use shipwright_core::format::{BuildCache, ENV_VAR, FormatError, TemplateRecord, VERSION};
use shipwright_core::graph::closure;
use syn::{Error, LitStr, Result};

use crate::cache::{self, CacheError, Env};

/// A template that can be bound: its record, and the files the expansion depends on.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    /// The name, as looked up.
    pub(crate) name: String,
    /// What the build script recorded.
    pub(crate) record: TemplateRecord,
    /// The root the template was found in, relative to the manifest directory.
    pub(crate) root: String,
    /// `root/name`, relative to the manifest directory.
    pub(crate) path: String,
    /// The files of the templates it renders with (its closure, sorted), that no earlier
    /// expansion in this process made rustc track.
    pub(crate) track: Vec<String>,
    /// The template and its closure, each with the content hash the build recorded: what the
    /// askama dev renderer compares the files on disk with.
    pub(crate) hashes: Vec<(String, String)>,
    /// The BuildCache's roots, relative to the manifest directory, in search order.
    pub(crate) roots: Vec<String>,
    /// A dev build: rustc reads no template file (`track` is empty, the source is read at run
    /// time).
    pub(crate) dev_build: bool,
}

/// Looks `name` up in the crate's BuildCache and checks that the template can be bound: it is
/// known, its graph is whole, and the files still hold the bytes the BuildCache describes.
pub(crate) fn bind(name: &LitStr, env: &Env) -> Result<Bound> {
    let (cache, manifest_dir) = cache::load(env).map_err(|err| cache_error(name, &err))?;
    bind_in(name, &cache, manifest_dir, env)
}

fn bind_in(lit: &LitStr, cache: &BuildCache, manifest_dir: &Path, env: &Env) -> Result<Bound> {
    let name = lit.value();
    let Some(record) = cache.templates.get(&name) else {
        return Err(Error::new(lit.span(), unknown(&name, cache)));
    };
    let closure = closure(cache, &name);
    graph_problems(lit, &name, &closure, cache)?;

    let path = relative(cache, &name);
    // A dev build reads no template file, and checks against the build script's record: the
    // script records the templates again whenever the crate's `src/` changes or the rebuild
    // stamp is written, and the dev watcher judges a template edited since against the
    // binary's record at start-up (a dependency of the crate that changed recompiles it with
    // no rerun of the script: a stale-file error there would stop a build that the app
    // handles correctly).
    let dev_build = env.is_dev_build();
    let track = if dev_build {
        Vec::new()
    } else {
        check_bytes(lit, manifest_dir, &path, record, true)?;
        let mut dep_paths = Vec::with_capacity(closure.len());
        for &dep in &closure {
            let dep_record = &cache.templates[dep];
            let dep_path = relative(cache, dep);
            check_bytes(lit, manifest_dir, &dep_path, dep_record, false)?;
            dep_paths.push(dep_path);
        }
        // The template's own file is tracked by the `include_str!` of its source.
        cache::first_tracking(env, &path);
        dep_paths
            .into_iter()
            .filter(|file| cache::first_tracking(env, file))
            .collect()
    };
    let hashes = std::iter::once(name.as_str())
        .chain(closure.iter().copied())
        .map(|t| (t.to_string(), cache.templates[t].hash.clone()))
        .collect();
    Ok(Bound {
        track,
        dev_build,
        hashes,
        roots: cache.roots.clone(),
        root: cache.roots[record.root].clone(),
        record: record.clone(),
        path,
        name,
    })
}

fn relative(cache: &BuildCache, name: &str) -> String {
    cache
        .relative_path(name)
        .expect("names in the cache have a root (checked on load)")
}

/// Lexer errors, cycles and missing references anywhere in the template's closure, all at once.
fn graph_problems(lit: &LitStr, name: &str, closure: &[&str], cache: &BuildCache) -> Result<()> {
    let closure: BTreeSet<&str> = std::iter::once(name)
        .chain(closure.iter().copied())
        .collect();
    let via = |template: &str| {
        if template == name {
            String::new()
        } else {
            format!(" (reached from \"{name}\")")
        }
    };
    let mut errors: Vec<Error> = Vec::new();
    for error in cache
        .errors
        .iter()
        .filter(|e| closure.contains(e.template.as_str()))
    {
        errors.push(Error::new(
            lit.span(),
            format!(
                "template \"{name}\" cannot be bound: {}:{}: {}{}",
                relative(cache, &error.template),
                error.line,
                error.message,
                via(&error.template)
            ),
        ));
    }
    for cycle in &cache.cycles {
        if cycle.iter().any(|member| closure.contains(member.as_str())) {
            let how = if cycle.iter().any(|member| member == name) {
                "is in"
            } else {
                "depends on"
            };
            errors.push(Error::new(
                lit.span(),
                format!(
                    "template \"{name}\" {how} a dependency cycle: {}",
                    cycle.join(" -> ")
                ),
            ));
        }
    }
    for missing in cache
        .missing
        .iter()
        .filter(|m| closure.contains(m.template.as_str()))
    {
        errors.push(Error::new(
            lit.span(),
            format!(
                "template \"{name}\" has a missing dependency: {}:{} references \"{}\" ({}){}",
                relative(cache, &missing.template),
                missing.line,
                missing.name,
                missing.reason,
                via(&missing.template)
            ),
        ));
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

/// A stale BuildCache is never read as good: the bytes on disk must hash to the record's hash.
fn check_bytes(
    lit: &LitStr,
    manifest_dir: &Path,
    file: &str,
    record: &TemplateRecord,
    own: bool,
) -> Result<()> {
    // By the file rule: never blocks on a FIFO swapped in, and reads no more than the recorded
    // size (a larger file is stale).
    let read = shipwright_core::files::read_file(&manifest_dir.join(file), record.size);
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(err) if matches!(err.problem, Problem::TooLarge { .. }) => {
            return Err(Error::new(lit.span(), stale(&lit.value(), file, own)));
        }
        Err(err) => {
            return Err(Error::new(
                lit.span(),
                format!("cannot read template file {file}: {}", err.problem),
            ));
        }
    };
    if content_hash(&bytes) != record.hash {
        return Err(Error::new(lit.span(), stale(&lit.value(), file, own)));
    }
    if own && let Err(err) = std::str::from_utf8(&bytes) {
        return Err(Error::new(
            lit.span(),
            format!(
                "template file {file} is not UTF-8 (byte {})",
                err.valid_up_to()
            ),
        ));
    }
    Ok(())
}

#[cold]
fn stale(name: &str, file: &str, own: bool) -> String {
    let what = if own {
        String::new()
    } else {
        format!(", which template \"{name}\" depends on,")
    };
    format!(
        "{file}{what} changed after the build script recorded it: the BuildCache is stale; build \
         again so that the build script runs (it reruns when a template changes)"
    )
}

#[cold]
fn unknown(name: &str, cache: &BuildCache) -> String {
    let mut message = format!("no template named \"{name}\" in the BuildCache");
    // A name written with its root in front: `templates/pages/home.html`.
    for root in &cache.roots {
        if let Some(rest) = name
            .strip_prefix(root.as_str())
            .and_then(|r| r.strip_prefix('/'))
            && cache.templates.contains_key(rest)
        {
            let _ = write!(
                message,
                "; names are relative to the template root \"{root}\": write \"{rest}\""
            );
            return message;
        }
    }
    let closest = closest(name, cache.templates.keys().map(String::as_str));
    if closest.is_empty() {
        let roots: Vec<String> = cache.roots.iter().map(|r| format!("\"{r}\"")).collect();
        let _ = write!(
            message,
            " ({} templates under {})",
            cache.templates.len(),
            if roots.is_empty() {
                "no root".to_string()
            } else {
                roots.join(", ")
            }
        );
    } else {
        let closest: Vec<String> = closest.iter().map(|c| format!("\"{c}\"")).collect();
        let _ = write!(message, "; the closest: {}", closest.join(", "));
    }
    message
}

/// Up to three names within an edit distance of a quarter of the longer name (at least 2),
/// nearest first.
pub(crate) fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = known
        .filter_map(|candidate| {
            let distance = strsim::levenshtein(name, candidate);
            let limit = (name.len().max(candidate.len()) / 4).max(2);
            (distance <= limit).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, candidate)| candidate)
        .collect()
}

#[cold]
pub(crate) fn cache_error(lit: &LitStr, err: &CacheError) -> Error {
    let message = match err {
        CacheError::NotExported => {
            let version = format!(
                "{}.{}",
                env!("CARGO_PKG_VERSION_MAJOR"),
                env!("CARGO_PKG_VERSION_MINOR")
            );
            format!(
                "no BuildCache for this crate: {ENV_VAR} is not set, so the crate has no build \
                 script or its build script does not run shipwright-build\n\
                 add to Cargo.toml:\n    [build-dependencies]\n    shipwright-build = \"{version}\"\n\
                 and to build.rs:\n    fn main() {{\n        shipwright_build::Builder::new().root(\"templates\").build().unwrap();\n    }}"
            )
        }
        CacheError::NoManifestDir => {
            "CARGO_MANIFEST_DIR is not set: shipwright templates are bound when cargo builds the \
             crate"
                .to_string()
        }
        CacheError::Format(format) => match &**format {
            FormatError::Version { found, .. } => format!(
                "this crate's BuildCache is version {found}, but this shipwright-macros reads \
                 version {VERSION} only: give shipwright-build (build-dependency) and \
                 shipwright-runtime the same version, then build again"
            ),
            other => other.to_string(),
        },
    };
    Error::new(lit.span(), message)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use shipwright_core::format::{Missing, TemplateError, template_id};

    /// A manifest directory with `templates/`, and a BuildCache over it whose hashes are right.
    pub(crate) struct Fixture {
        pub(crate) dir: tempfile::TempDir,
        pub(crate) cache: BuildCache,
    }

    impl Fixture {
        pub(crate) fn new(files: &[(&str, &str, &[&str])]) -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let mut cache = BuildCache::new(vec!["templates".into()]);
            for (name, text, deps) in files {
                let file = dir.path().join("templates").join(name);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, text).unwrap();
                let mut record = TemplateRecord::including(name, deps);
                record.hash = content_hash(text.as_bytes());
                record.size = text.len() as u64;
                cache.templates.insert(name.to_string(), record);
            }
            Fixture { dir, cache }
        }

        /// Like [`Fixture::new`], with each record the build script's own analysis of the text
        /// (its variables, its references with their context and scope), linked.
        pub(crate) fn analysed(files: &[(&str, &str)]) -> Fixture {
            let mut fixture = Fixture::new(
                &files
                    .iter()
                    .map(|(n, t)| (*n, *t, &[][..]))
                    .collect::<Vec<_>>(),
            );
            for (name, text) in files {
                let record = shipwright_core::analyze::record(name, 0, text).0;
                fixture.cache.templates.insert(name.to_string(), record);
            }
            shipwright_core::graph::link(&mut fixture.cache);
            fixture
        }

        /// Writes the BuildCache and returns the environment a derive would see.
        pub(crate) fn env(&self) -> Env {
            let file = self.dir.path().join("out").join("build-cache.json");
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, self.cache.to_bytes()).unwrap();
            std::fs::rename(&tmp, &file).unwrap();
            Env::new(self.dir.path(), Some(file))
        }
    }

    pub(crate) fn site() -> Fixture {
        Fixture::new(&[
            (
                "pages/home.html",
                "{% extends \"layout.html\" %}",
                &["layout.html", "nav.html"],
            ),
            ("layout.html", "{% include \"nav.html\" %}", &["nav.html"]),
            ("nav.html", "<nav></nav>", &[]),
            ("pages/about.html", "about", &[]),
        ])
    }

    fn lit(name: &str) -> LitStr {
        LitStr::new(name, proc_macro2::Span::call_site())
    }

    fn bind_err(fixture: &Fixture, name: &str) -> String {
        let err = bind(&lit(name), &fixture.env()).unwrap_err();
        err.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn binds_a_known_template() {
        let fixture = site();
        let bound = bind(&lit("pages/home.html"), &fixture.env()).unwrap();
        assert_eq!(bound.path, "templates/pages/home.html");
        assert_eq!(bound.track, ["templates/layout.html", "templates/nav.html"]);
        let again = bind(&lit("layout.html"), &fixture.env()).unwrap();
        assert!(
            again.track.is_empty(),
            "nav.html is tracked already: {:?}",
            again.track
        );
        assert_eq!(bound.record.id, template_id("pages/home.html"));
        assert_eq!(bound.root, "templates");
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let fixture = site();
        let err = bind_err(&fixture, "pages/hom.html");
        assert!(
            err.contains("no template named \"pages/hom.html\""),
            "{err}"
        );
        assert!(err.contains("the closest: \"pages/home.html\""), "{err}");
        let err = bind_err(&fixture, "templates/pages/home.html");
        assert!(
            err.contains("relative to the template root \"templates\""),
            "{err}"
        );
        let err = bind_err(&fixture, "completely/else.txt");
        assert!(err.contains("(4 templates under \"templates\")"), "{err}");
    }

    #[test]
    fn closest_orders_by_distance() {
        let known = [
            "pages/home.html",
            "pages/homes.html",
            "page/home.html",
            "nav.html",
        ];
        assert_eq!(
            closest("pages/hom.html", known.into_iter()),
            ["pages/home.html", "page/home.html", "pages/homes.html"]
        );
        assert!(closest("x", known.into_iter()).is_empty());
    }

    #[test]
    fn graph_problems_name_files_and_lines() {
        let mut fixture = site();
        fixture.cache.errors.push(TemplateError {
            template: "nav.html".into(),
            line: 3,
            message: "unterminated {% ... %} tag".into(),
        });
        fixture.cache.missing.push(Missing {
            template: "layout.html".into(),
            line: 7,
            name: "footer.html".into(),
            reason: "not found".into(),
        });
        fixture
            .cache
            .cycles
            .push(vec!["a.html".into(), "nav.html".into(), "a.html".into()]);
        let err = bind_err(&fixture, "pages/home.html");
        assert!(err.contains("templates/nav.html:3: unterminated {% ... %} tag (reached from \"pages/home.html\")"), "{err}");
        assert!(
            err.contains("depends on a dependency cycle: a.html -> nav.html -> a.html"),
            "{err}"
        );
        assert!(
            err.contains("templates/layout.html:7 references \"footer.html\" (not found)"),
            "{err}"
        );
        let err = bind_err(&fixture, "nav.html");
        assert!(err.contains("is in a dependency cycle"), "{err}");
        assert!(bind(&lit("pages/about.html"), &fixture.env()).is_ok());
    }

    #[test]
    fn stale_files_are_errors() {
        let fixture = site();
        let env = fixture.env();
        std::fs::write(
            fixture.dir.path().join("templates/nav.html"),
            "<nav>changed</nav>",
        )
        .unwrap();
        let err = bind_err(&fixture, "pages/home.html");
        assert!(err.contains("templates/nav.html, which template \"pages/home.html\" depends on, changed after the build script recorded it"), "{err}");
        let err = bind(&lit("nav.html"), &env).unwrap_err().to_string();
        assert!(err.starts_with("templates/nav.html changed after"), "{err}");
        std::fs::remove_file(fixture.dir.path().join("templates/nav.html")).unwrap();
        let err = bind(&lit("nav.html"), &env).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read template file templates/nav.html"),
            "{err}"
        );
    }

    #[test]
    fn a_dev_build_reads_no_template_file() {
        let fixture = site();
        let env = fixture.env().dev_build(true);
        std::fs::write(
            fixture.dir.path().join("templates/nav.html"),
            "<nav>edited, hot-reloaded by the running app</nav>",
        )
        .unwrap();
        let bound = bind(&lit("pages/home.html"), &env).unwrap();
        assert!(bound.dev_build && bound.track.is_empty());
        assert_eq!(bound.record, fixture.cache.templates["pages/home.html"]);
        std::fs::remove_file(fixture.dir.path().join("templates/nav.html")).unwrap();
        assert!(
            bind(&lit("nav.html"), &env).is_ok(),
            "the build's record is what is checked"
        );
    }

    #[test]
    fn cache_problems_say_what_to_do() {
        let fixture = site();
        let err = bind(&lit("nav.html"), &Env::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("SHIPWRIGHT_BUILD_CACHE is not set"), "{err}");
        assert!(
            err.contains("[build-dependencies]\n    shipwright-build = \"0.1\""),
            "{err}"
        );
        assert!(err.contains("shipwright_build::Builder::new()"), "{err}");

        let env = fixture.env();
        let file = env.cache_file().unwrap();
        std::fs::write(file, br#"{"format":"shipwright-build-cache","version":7}"#).unwrap();
        let err = bind(&lit("nav.html"), &env).unwrap_err().to_string();
        assert!(err.starts_with("this crate's BuildCache is version 7, but this shipwright-macros reads version 3 only"), "{err}");
    }
}
