//! Differential tests against Jinja2 itself.
//!
//! For every template, the static names that [`analyze`] finds and whether it sees a dynamic
//! reference must be exactly what `jinja2.meta.find_referenced_templates(env.parse(src))` says
//! (its `None` answers are the dynamic references); and the root variables it records must be
//! what `jinja2.meta.find_undeclared_variables` says, but for the deliberate differences listed
//! in [`Deliberate`] (each a name Jinja2 counts as read from the context that the struct need
//! not provide: optional reads, names a block gets from the template's own top level or a
//! scoped block from the loop around it, names assigned in a branch and read only after the
//! assignment, the engine's own names). A name we report and Jinja2 does not, and a difference
//! of no documented class, fail the tests. Four tests:
//!
//! - `generated_corpus_agrees_with_jinja2`: a seeded generator (`generator.rs`) writes a few
//!   thousand templates that cover every construct of the lexer (its `FEATURES`), nested, with
//!   whitespace control on every delimiter, raw blocks and comments; Jinja2 must parse them all.
//!   References and variables are compared (variables where Jinja2 can compile the template).
//! - `real_world_templates_agree_with_jinja2`: every template file of the pip packages in
//!   `.ci/requirements.txt` that are installed (at least one must be); files Jinja2 cannot parse
//!   are counted and skipped.
//! - `real_world_variables_agree_with_jinja2_or_differ_on_purpose`: the variables of the same
//!   files, with the figures per package: files that agree, that agree but for deliberate
//!   differences, and the names in each class.
//! - `lexer_never_panics_and_errors_point_into_the_file`: random bytes and random mixes of
//!   delimiters never panic the lexer, parts tile the source, and every error and reference has
//!   a line inside the file.
//!
//! Jinja2's side is `jinja2_refs.py` beside this file, run once per corpus. It needs python3
//! with jinja2: `pip install -r .ci/requirements.txt`. `SHIPWRIGHT_PYTHON` names another interpreter (a
//! virtualenv's, say); `SHIPWRIGHT_SKIP_JINJA2=1` turns a missing Jinja2 into a skip instead of a
//! failure; `SHIPWRIGHT_SHOW_ALL=1` lists every unexplained variable difference, not the first
//! twenty.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde::Deserialize;
use shipwright_core::analyze::analyze;
use shipwright_core::lex::vars::{NotNeeded, Variables, is_engine_name, variables};
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
    /// `jinja2.meta.find_undeclared_variables`, when Jinja2 can compile the template.
    vars: Option<BTreeSet<String>>,
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
    let mut variables = VarTally::default();
    let mut unexplained = Vec::new();
    for (i, src) in corpus.iter().enumerate() {
        let theirs = &answers[&name(i)];
        if let Some(error) = &theirs.error {
            rejected.push(format!("--- {} ({error})\n{src}\n", name(i)));
            continue;
        }
        deps += theirs.deps.len();
        dynamic += usize::from(theirs.dynamic);
        found.extend(disagreement(&name(i), src, theirs));
        if let Some(vars) = &theirs.vars {
            let before = unexplained.len();
            variables.compare(&name(i), src, vars, &mut unexplained);
            if unexplained.len() > before {
                unexplained.push(format!("--- {}\n{src}\n", name(i)));
            }
        }
    }
    assert!(
        rejected.is_empty(),
        "generator bug: Jinja2 cannot parse {} generated templates; the first:\n{}",
        rejected.len(),
        rejected[..rejected.len().min(5)].join("\n")
    );
    assert_no_disagreements("generated corpus", corpus.len(), &found);
    println!("generated corpus variables: {}", variables.summary());
    assert_all_explained("generated corpus", &unexplained);
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

/// Jinja2's answers, by file.
type Answers = BTreeMap<String, Answer>;

/// The template files of the installed packages, each with its package, and Jinja2's answers
/// for them by path; `None` (after saying so) when no package is installed and skipping is
/// allowed.
fn real_world(jinja2: &Jinja2) -> Option<(Vec<(String, PathBuf)>, Answers)> {
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
        return None;
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
    let answers = jinja2.run(&["--files-from", "-"], &list);
    Some((files, answers))
}

#[test]
fn real_world_templates_agree_with_jinja2() {
    let Some(jinja2) = jinja2() else { return };
    let Some((files, answers)) = real_world(&jinja2) else {
        return;
    };

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
        tallies.keys()
    );
    assert_no_disagreements("real-world templates", compared, &found);
}

// ---------------------------------------------------------------------------------------------
// Variables

/// Why a name that `jinja2.meta.find_undeclared_variables` reports is not in our
/// [`TemplateRecord::vars`](shipwright_core::format::TemplateRecord): the deliberate
/// differences. Each is a name the struct bound to the template need not provide. There is no
/// deliberate difference the other way: a name we report and Jinja2 does not would be a false
/// compile error, and the tests fail on any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Deliberate {
    /// Every read of the name is optional: `x|default(…)`, `x is defined`, a read guarded by
    /// `x is defined` (in its `and` chain, its conditional expression, its `if` branch). A
    /// missing value renders the fallback, so it is no missing variable. Jinja2 reports any
    /// load. ([`NotNeeded::Optional`])
    Optional,
    /// Read in a `{% block %}`, after the template's own top level assigned it (before the
    /// block; anywhere, in a template that extends another, whose top level runs first). Jinja2
    /// compiles a block as a function of the context and so reports the name, but renders it
    /// from the context entry that the top-level assignment wrote (checked by rendering): the
    /// template provides it. ([`NotNeeded::OwnTopLevel`])
    OwnTopLevel,
    /// Read in a `{% block … scoped %}`, inside the loop or scope that defines it. Jinja2's
    /// meta reports it (a block's symbols have no parent), but a scoped block renders with the
    /// names around it (checked by rendering). ([`NotNeeded::AroundScopedBlock`])
    AroundScopedBlock,
    /// Assigned in some branch of an `if` and read only after that assignment, or after an
    /// `if` with an `else` whose every branch assigns it. Jinja2 loads such a name from the
    /// context when it enters the scope (the branch may not run), so it reports it, but no read
    /// ever sees that value (checked by rendering). ([`NotNeeded::BranchAssigned`])
    BranchAssigned,
    /// Read only in `{{ … }}` at a child template's top level after its `extends`: Jinja2's
    /// meta reports it, but the compiled template drops that output and never evaluates it
    /// (checked by rendering). ([`NotNeeded::NotRendered`])
    NotRendered,
    /// One of the engine's names ([`ENGINE_NAMES`](shipwright_core::lex::vars::ENGINE_NAMES)):
    /// `loop`, `caller`, `kwargs`, `varargs`, `super`, `self`, `debug`, which Jinja2 reports
    /// where it does not bind them itself (outside a loop, a macro, a block). No struct
    /// provides them.
    EngineName,
}

impl Deliberate {
    /// The class of a name Jinja2 reports and we do not, from our own analysis of the template;
    /// `None` for an undocumented difference.
    fn of(name: &str, ours: &Variables) -> Option<Deliberate> {
        if is_engine_name(name) {
            return Some(Deliberate::EngineName);
        }
        let (_, why) = ours.not_needed.iter().find(|(v, _)| v.name == name)?;
        Some(match why {
            NotNeeded::Optional => Deliberate::Optional,
            NotNeeded::OwnTopLevel => Deliberate::OwnTopLevel,
            NotNeeded::AroundScopedBlock => Deliberate::AroundScopedBlock,
            NotNeeded::BranchAssigned => Deliberate::BranchAssigned,
            NotNeeded::NotRendered => Deliberate::NotRendered,
            _ => return None,
        })
    }
}

/// Variables compared over a set of templates.
#[derive(Default)]
struct VarTally {
    files: usize,
    /// Exactly Jinja2's names.
    agreed: usize,
    /// Jinja2's names but for deliberate differences.
    agreed_on_purpose: usize,
    /// Names we report and Jinja2 does not (each would be a false compile error).
    ours_only: usize,
    /// Names Jinja2 reports and we do not, by class.
    theirs_only: BTreeMap<Deliberate, usize>,
}

impl VarTally {
    /// Compares one template; a difference no [`Deliberate`] explains goes to `unexplained`.
    fn compare(
        &mut self,
        file: &str,
        src: &str,
        theirs: &BTreeSet<String>,
        unexplained: &mut Vec<String>,
    ) {
        self.files += 1;
        let lexed = match lex::lex(src) {
            Ok(lexed) => lexed,
            Err(e) => {
                unexplained.push(format!("{file}: we cannot lex it ({e}), Jinja2 can"));
                return;
            }
        };
        let ours = variables(src, &lexed);
        let names: BTreeSet<String> = ours.reads.iter().map(|v| v.name.clone()).collect();
        if names == *theirs {
            self.agreed += 1;
            return;
        }
        let mut explained = true;
        for name in names.difference(theirs) {
            self.ours_only += 1;
            explained = false;
            let line = ours
                .reads
                .iter()
                .find(|v| v.name == *name)
                .map_or(0, |v| v.line);
            unexplained.push(format!(
                "{file}:{line}: we report `{name}`, Jinja2 does not (a false compile error)"
            ));
        }
        for name in theirs.difference(&names) {
            match Deliberate::of(name, &ours) {
                Some(class) => *self.theirs_only.entry(class).or_default() += 1,
                None => {
                    explained = false;
                    unexplained.push(format!(
                        "{file}: Jinja2 reports `{name}`, we do not, for no documented reason"
                    ));
                }
            }
        }
        if explained {
            self.agreed_on_purpose += 1;
        }
    }

    fn merge(&mut self, other: &VarTally) {
        self.files += other.files;
        self.agreed += other.agreed;
        self.agreed_on_purpose += other.agreed_on_purpose;
        self.ours_only += other.ours_only;
        for (class, n) in &other.theirs_only {
            *self.theirs_only.entry(*class).or_default() += n;
        }
    }

    fn summary(&self) -> String {
        let classes: Vec<String> = self
            .theirs_only
            .iter()
            .map(|(class, n)| format!("{n} {class:?}"))
            .collect();
        format!(
            "{} compared, {} agree, {} more agree but for deliberate differences; {} names we \
             report that Jinja2 does not, {} names Jinja2 reports that we do not ({})",
            self.files,
            self.agreed,
            self.agreed_on_purpose,
            self.ours_only,
            self.theirs_only.values().sum::<usize>(),
            if classes.is_empty() {
                "none".to_string()
            } else {
                classes.join(", ")
            }
        )
    }
}

/// Panics with the first few unexplained differences when there are any.
fn assert_all_explained(what: &str, unexplained: &[String]) {
    if unexplained.is_empty() {
        return;
    }
    let limit = if std::env::var_os("SHIPWRIGHT_SHOW_ALL").is_some() {
        usize::MAX
    } else {
        20
    };
    let shown: Vec<&str> = unexplained.iter().take(limit).map(String::as_str).collect();
    panic!(
        "{what}: {} variable differences with Jinja2 that no documented class explains; the \
         first {}:\n{}\n\nfix the analysis, or, if the difference is right, document its \
         class in `Deliberate`",
        unexplained.len(),
        shown.len(),
        shown.join("\n")
    );
}

#[test]
fn real_world_variables_agree_with_jinja2_or_differ_on_purpose() {
    let Some(jinja2) = jinja2() else { return };
    let Some((files, answers)) = real_world(&jinja2) else {
        return;
    };
    let mut tallies: BTreeMap<&str, VarTally> = BTreeMap::new();
    let mut unexplained = Vec::new();
    for (package, path) in &files {
        let key = path.to_str().unwrap();
        let Some(vars) = answers[key].vars.as_ref() else {
            continue;
        };
        let src = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
        tallies
            .entry(package)
            .or_default()
            .compare(key, &src, vars, &mut unexplained);
    }
    let mut total = VarTally::default();
    for (package, tally) in &tallies {
        println!("{package} variables: {}", tally.summary());
        total.merge(tally);
    }
    println!(
        "real-world variables (Jinja2 {}): {}",
        jinja2.version,
        total.summary()
    );
    assert!(total.files > 0, "no real-world template compared");
    assert_all_explained("real-world templates", &unexplained);
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

/// Every error names a line of the file; parts tile the source; references have lines in it;
/// the analysis finds the references that a walk of every tag finds.
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
    let analysed = analyze(src);
    // The analysis takes the reference tags from the variables' first pass.
    if let Ok(lexed) = lex::lex(src) {
        let walked = lex::refs::references(src, &lexed);
        let found = analysed.as_ref().map(|a| &a.references);
        prop_assert_eq!(found, walked.as_ref(), "references of {:?}", src);
    }
    match analysed {
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
