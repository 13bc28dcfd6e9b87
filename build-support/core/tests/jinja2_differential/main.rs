//! Differential tests against Jinja2 itself.
//!
//! For every template, the static names that [`analyze`] finds and whether it sees a dynamic
//! reference must be exactly what `jinja2.meta.find_referenced_templates(env.parse(src))` says
//! (its `None` answers are the dynamic references). Three tests:
//!
//! - `generated_corpus_agrees_with_jinja2`: a seeded generator (`generator.rs`) writes a few
//!   thousand templates that cover every construct of the lexer (its `FEATURES`), nested, with
//!   whitespace control on every delimiter, raw blocks and comments; Jinja2 must parse them all.
//! - `real_world_templates_agree_with_jinja2`: every template file of the pip packages in
//!   `.ci/requirements.txt` that are installed (at least one must be); files Jinja2 cannot parse
//!   are counted and skipped.
//! - `lexer_never_panics_and_errors_point_into_the_file`: random bytes and random mixes of
//!   delimiters never panic the lexer, parts tile the source, and every error and reference has
//!   a line inside the file.
//!
//! Jinja2's side is `jinja2_refs.py` beside this file, run once per corpus. It needs python3
//! with jinja2: `pip install -r .ci/requirements.txt`. `SHIPWRIGHT_PYTHON` names another interpreter (a
//! virtualenv's, say); `SHIPWRIGHT_SKIP_JINJA2=1` turns a missing Jinja2 into a skip instead of a
//! failure.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde::Deserialize;
use shipwright_core::analyze::analyze;
use shipwright_core::lex::{self, Part, line_of};

mod generator;

use generator::{FEATURES, Generator};

// ---------------------------------------------------------------------------------------------
// Jinja2's side

/// What `jinja2_refs.py` says about one file.
#[derive(Debug, Deserialize)]
struct Answer {
    deps: BTreeSet<String>,
    dynamic: bool,
    error: Option<String>,
}

/// A Python interpreter that imports jinja2.
struct Jinja2 {
    python: String,
    version: String,
}

const SKIP_VAR: &str = "SHIPWRIGHT_SKIP_JINJA2";

fn skip_allowed() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| v == "1")
}

/// The interpreter with jinja2, or `None` (after saying so) when it is missing and
/// `SHIPWRIGHT_SKIP_JINJA2=1`; panics when it is missing otherwise.
fn jinja2() -> Option<Jinja2> {
    let python = std::env::var("SHIPWRIGHT_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args([
            "-c",
            "import jinja2, jinja2.meta; print(jinja2.__version__)",
        ])
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            return Some(Jinja2 { python, version });
        }
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            format!(
                "`{python}` cannot import jinja2: {}",
                stderr.trim().lines().last().unwrap_or("")
            )
        }
        Err(e) => format!("cannot run `{python}`: {e}"),
    };
    if skip_allowed() {
        eprintln!("skipped: {why} ({SKIP_VAR}=1)");
        return None;
    }
    panic!(
        "the differential test needs python3 with Jinja2: {why}\n\
         install it with `pip install jinja2` (or `pip install -r .ci/requirements.txt` for the \
         real-world template sets too), point SHIPWRIGHT_PYTHON at an interpreter that has it, \
         or set {SKIP_VAR}=1 to skip"
    );
}

impl Jinja2 {
    /// Runs the helper with `args` (and `stdin`), returns its JSON answer.
    fn run<T: serde::de::DeserializeOwned>(&self, args: &[&str], stdin: &str) -> T {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jinja2_differential/jinja2_refs.py");
        let mut child = Command::new(&self.python)
            .arg(&script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        // Written from a thread so that a large list cannot deadlock against a full stdout pipe.
        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.to_string();
        let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{} printed something that is not its JSON: {e}",
                script.display()
            )
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Our side and the comparison

/// Our answer in Jinja2's terms: the set of static names and whether any reference is dynamic.
fn ours(src: &str) -> Result<(BTreeSet<String>, bool), String> {
    let analysis = analyze(src).map_err(|e| e.to_string())?;
    Ok((
        analysis.deps.into_iter().map(|dep| dep.name).collect(),
        !analysis.dynamic.is_empty(),
    ))
}

/// `None` when we agree with `theirs`, else a report of both answers with the source.
fn disagreement(name: &str, src: &str, theirs: &Answer) -> Option<String> {
    let mine = ours(src);
    if mine
        .as_ref()
        .is_ok_and(|(deps, dynamic)| *deps == theirs.deps && *dynamic == theirs.dynamic)
    {
        return None;
    }
    let mine = match mine {
        Ok((deps, dynamic)) => format!("deps {deps:?}, dynamic {dynamic}"),
        Err(e) => format!("error: {e}"),
    };
    Some(format!(
        "--- {name}\n{src}\n--- ours:   {mine}\n--- Jinja2: deps {:?}, dynamic {}\n",
        theirs.deps, theirs.dynamic
    ))
}

/// Panics with the first few disagreements when there are any.
fn assert_no_disagreements(what: &str, compared: usize, found: &[String]) {
    if found.is_empty() {
        return;
    }
    let shown: Vec<&str> = found.iter().take(15).map(String::as_str).collect();
    panic!(
        "{what}: we disagree with Jinja2 on {} of {compared} templates; the first {}:\n\n{}",
        found.len(),
        shown.len(),
        shown.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// The generated corpus

const CORPUS_SIZE: usize = 4000;
const SEED: u64 = 0x5eed_f5b1_ba1d_5eed;

/// The corpus seed: [`SEED`], or `SHIPWRIGHT_CORPUS_SEED` to explore another corpus.
fn corpus_seed() -> u64 {
    std::env::var("SHIPWRIGHT_CORPUS_SEED").map_or(SEED, |v| {
        v.parse().expect("SHIPWRIGHT_CORPUS_SEED is a u64")
    })
}

#[test]
fn generated_corpus_agrees_with_jinja2() {
    let Some(jinja2) = jinja2() else { return };
    let seed = corpus_seed();
    let mut generator = Generator::new(seed);
    let corpus: Vec<String> = (0..CORPUS_SIZE).map(|_| generator.template()).collect();
    let rare: Vec<_> = FEATURES
        .iter()
        .filter(|f| generator.seen.get(*f).copied().unwrap_or(0) < 10)
        .collect();
    assert!(
        rare.is_empty(),
        "the generator covers these constructs fewer than 10 times: {rare:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let name = |i: usize| format!("t{i:05}.html");
    for (i, src) in corpus.iter().enumerate() {
        std::fs::write(dir.path().join(name(i)), src).unwrap();
    }
    let answers: BTreeMap<String, Answer> = jinja2.run(&[dir.path().to_str().unwrap()], "");
    assert_eq!(
        answers.len(),
        corpus.len(),
        "Jinja2 answered for a different set of files"
    );

    let mut rejected = Vec::new();
    let mut found = Vec::new();
    let (mut deps, mut dynamic) = (0, 0);
    for (i, src) in corpus.iter().enumerate() {
        let theirs = &answers[&name(i)];
        if let Some(error) = &theirs.error {
            rejected.push(format!("--- {} ({error})\n{src}\n", name(i)));
            continue;
        }
        deps += theirs.deps.len();
        dynamic += usize::from(theirs.dynamic);
        found.extend(disagreement(&name(i), src, theirs));
    }
    assert!(
        rejected.is_empty(),
        "generator bug: Jinja2 cannot parse {} generated templates; the first:\n{}",
        rejected.len(),
        rejected[..rejected.len().min(5)].join("\n")
    );
    assert_no_disagreements("generated corpus", corpus.len(), &found);
    // The corpus must be about references, not only text.
    assert!(
        deps > CORPUS_SIZE && dynamic > CORPUS_SIZE / 4,
        "{deps} static names, {dynamic} dynamic templates"
    );
    println!(
        "generated corpus (seed {seed}): {} templates, {} bytes, {deps} static names and {dynamic} templates with a \
         dynamic reference, Jinja2 {}: all agree",
        corpus.len(),
        corpus.iter().map(String::len).sum::<usize>(),
        jinja2.version
    );
}

// ---------------------------------------------------------------------------------------------
// Real-world template sets

/// Importable modules whose packages ship Jinja templates (pinned in .ci/requirements.txt).
const PACKAGES: &[&str] = &[
    "sphinx",
    "alabaster",
    "pydata_sphinx_theme",
    "mkdocs",
    "material",
    "nbconvert",
    "flask_admin",
    "ansible",
];

/// Which files of a package are templates: the extensions these packages use for them, and
/// Sphinx's `*_t` (`conf.py_t`, `searchtools.js_t`).
fn is_template(path: &Path) -> bool {
    const EXTENSIONS: &[&str] = &["html", "htm", "xml", "txt", "j2", "jinja", "jinja2", "tpl"];
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    EXTENSIONS.contains(&ext) || name.ends_with("_t")
}

fn templates_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() && entry.file_name() != "__pycache__" {
            templates_under(&path, out);
        } else if kind.is_file() && is_template(&path) {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Tally {
    files: usize,
    agreed: usize,
    skipped: usize,
    /// Static names Jinja2 found in the compared files.
    deps: usize,
    /// Compared files with a dynamic reference.
    dynamic: usize,
}

#[test]
fn real_world_templates_agree_with_jinja2() {
    let Some(jinja2) = jinja2() else { return };
    let located: BTreeMap<String, Vec<PathBuf>> =
        jinja2.run(&[&["--locate"], PACKAGES].concat(), "");
    if located.is_empty() {
        let message = format!(
            "none of the packages with real-world templates ({PACKAGES:?}) is installed for `{}`: \
             pip install -r .ci/requirements.txt",
            jinja2.python
        );
        assert!(skip_allowed(), "{message}, or set {SKIP_VAR}=1 to skip");
        eprintln!("skipped: {message}");
        return;
    }

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (package, dirs) in &located {
        let mut found = Vec::new();
        for dir in dirs {
            templates_under(dir, &mut found);
        }
        files.extend(found.into_iter().map(|path| (package.clone(), path)));
    }
    let list: String = files
        .iter()
        .map(|(_, path)| format!("{}\n", path.to_str().unwrap()))
        .collect();
    let answers: BTreeMap<String, Answer> = jinja2.run(&["--files-from", "-"], &list);

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for (package, path) in &files {
        let key = path.to_str().unwrap();
        let theirs = answers
            .get(key)
            .unwrap_or_else(|| panic!("Jinja2 gave no answer for {key}"));
        let tally = tallies.entry(package).or_default();
        tally.files += 1;
        if let Some(error) = &theirs.error {
            tally.skipped += 1;
            skipped.push(format!("{key}: {error}"));
            continue;
        }
        tally.deps += theirs.deps.len();
        tally.dynamic += usize::from(theirs.dynamic);
        let src = String::from_utf8(std::fs::read(path).unwrap())
            .unwrap_or_else(|_| panic!("Jinja2 read {key} as UTF-8, we cannot"));
        match disagreement(key, &src, theirs) {
            Some(report) => found.push(report),
            None => tally.agreed += 1,
        }
    }
    for (package, t) in &tallies {
        println!(
            "{package}: {} files, {} compared, {} agreed, {} skipped (Jinja2 cannot parse them); \
             {} static names, {} files with a dynamic reference",
            t.files,
            t.files - t.skipped,
            t.agreed,
            t.skipped,
            t.deps,
            t.dynamic
        );
    }
    for line in &skipped {
        println!("  skipped {line}");
    }
    let total = |f: fn(&Tally) -> usize| tallies.values().map(f).sum::<usize>();
    let compared = total(|t| t.files - t.skipped);
    println!(
        "real-world templates: {compared} compared, {} agreed, {} skipped, from {} packages; {} static \
         names, {} files with a dynamic reference (Jinja2 {})",
        total(|t| t.agreed),
        total(|t| t.skipped),
        tallies.len(),
        total(|t| t.deps),
        total(|t| t.dynamic),
        jinja2.version
    );
    assert!(
        compared > 0,
        "the installed packages {:?} hold no template that Jinja2 parses",
        located.keys()
    );
    assert_no_disagreements("real-world templates", compared, &found);
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// Whole constructs, so that mixes also hold long runs of valid parts.
const FRAGMENTS: &[&str] = &[
    "{{ x }}",
    "{%- include 'a.html' -%}",
    "{# c #}",
    "{% raw %}",
    "{% endraw %}",
    "{% if x %}",
    "{% endif %}",
    "text ",
    "{% from 'f.html' import m %}",
    "{% import x ~ 'y' as y %}",
    "{{ {'a': [1, (2)]} }}",
    "{% extends ['a', b] %}",
    "{%+ include \"q\\\"\" ignore missing +%}",
    "{{- '}}' -}}",
    "\n",
];

/// Pieces of templates, most of them delimiters, to be mixed at random.
const SOUP: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{",
    "}",
    "-",
    "+",
    "'",
    "\"",
    "\\",
    " ",
    "\n",
    "\r\n",
    "(",
    ")",
    "[",
    "]",
    ",",
    "raw",
    "endraw",
    "include",
    "extends",
    "import",
    "from",
    "as",
    "ignore missing",
    "with context",
    "'a.html'",
    "x",
    "~",
    "|",
    ".",
    "1.5",
    "é",
    "☃",
    "\u{a0}",
    "\0",
];

/// Every error names a line of the file; parts tile the source; references have lines in it.
fn check_robust(src: &str) -> Result<(), TestCaseError> {
    let lines = src.matches('\n').count() as u32 + 1;
    match lex::lex(src) {
        Ok(lexed) => {
            let mut at = 0;
            for part in &lexed.parts {
                let (start, end) = match part {
                    Part::Text { text, start } => (*start, start + text.len()),
                    Part::Comment(d) | Part::Expr(d) | Part::Tag(d) => (d.start, d.end),
                };
                prop_assert_eq!(start, at, "parts leave a gap or overlap in {:?}", src);
                prop_assert!(end > start && end <= src.len());
                at = end;
            }
            prop_assert_eq!(at, src.len(), "parts do not reach the end of {:?}", src);
        }
        Err(e) => {
            prop_assert!(
                e.offset <= src.len(),
                "error offset {} past the end of {:?}",
                e.offset,
                src
            );
            prop_assert_eq!(e.line, line_of(src, e.offset));
            prop_assert!(
                (1..=lines).contains(&e.line),
                "error line {} outside {:?}",
                e.line,
                src
            );
        }
    }
    match analyze(src) {
        Ok(analysis) => {
            for reference in &analysis.references {
                prop_assert!(
                    (1..=lines).contains(&reference.line),
                    "reference line outside {:?}",
                    src
                );
            }
            for dynamic in &analysis.dynamic {
                prop_assert!(
                    (1..=lines).contains(&dynamic.line),
                    "dynamic line outside {:?}",
                    src
                );
            }
        }
        Err(e) => {
            prop_assert!(e.offset <= src.len());
            prop_assert!(
                (1..=lines).contains(&e.line),
                "error line {} outside {:?}",
                e.line,
                src
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(SEED),
        ..ProptestConfig::default()
    })]

    #[test]
    fn lexer_never_panics_and_errors_point_into_the_file(
        pieces in prop::collection::vec(
            prop_oneof![prop::sample::select(FRAGMENTS), prop::sample::select(SOUP)],
            0..48,
        ),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        bytes_at in any::<prop::sample::Index>(),
    ) {
        // Delimiter soup with a run of random bytes (lossily made UTF-8) somewhere inside.
        let mut src = pieces.concat();
        let mut at = bytes_at.index(src.len() + 1);
        while !src.is_char_boundary(at) {
            at -= 1;
        }
        src.insert_str(at, &String::from_utf8_lossy(&bytes));
        check_robust(&src)?;
        check_robust(&String::from_utf8_lossy(&bytes))?;
    }
}
