//! askama's own tests, rendered both ways: every struct of askama's `testing/tests/*.rs` with
//! askama's `#[derive(Template)]` is paired ([`pair`]) with Shipwright's derive, `Serialize` and
//! an inherent `render` that renders the page with askama's compiled code and with the dev
//! renderer (from a copy of the templates, each edited by a leading comment), records both and
//! returns askama's page, so that the test's own assertions run as askama wrote them. The tests
//! run in a crate generated outside the repository from askama's checkout, read at run time
//! (nothing of askama's is kept here).
//!
//! `cargo bench -p shipwright-tests --bench askama_own -- --askama-repo <askama checkout or git
//! dir> [--work <dir>]` prints, per test case (a test function rendering a type), how many
//! render byte-identically, how many the dev renderer refuses (by construct), how many differ,
//! and which types are not paired (why). A type whose pairing does not compile (a field that is
//! not `Serialize`, the derive's check) is left with askama's derive alone, named by the line of
//! the compile error; a test file that does not compile with askama's derive alone is left out.
//! Without `--askama-repo` it says so and exits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../tests/support/mod.rs"]
mod support;
use support::{cargo_in, cargo_output, target_dir, write_if_changed as write};

#[path = "askama_own/pair.rs"]
mod pair;
use pair::{Bound, HARNESS, Paired, pair};

/// At most this many builds to find the types whose pairing does not compile.
const ROUNDS: usize = 6;

/// The harness crate's library: `check` renders both ways and appends a line to `results.tsv`.
const LIB: &str = r#"//! Renders a page with askama's compiled code and with Shipwright's dev renderer.
use std::io::Write as _;

/// What the dev renderer needs of a page.
pub trait Paired: askama::Template + shipwright_runtime::Template + shipwright_runtime::__private::DevContext + serde::Serialize {}
impl<T: askama::Template + shipwright_runtime::Template + shipwright_runtime::__private::DevContext + serde::Serialize> Paired for T {}

/// askama's page of `page`, after recording whether the dev renderer's is the same.
pub fn check<T: Paired>(page: &T) -> askama::Result<String> {
    static ROOTS: std::sync::Once = std::sync::Once::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    ROOTS.call_once(|| shipwright_runtime::askama::set_dev_roots(vec![dir.join("edited")]));
    let name = <T as shipwright_runtime::Template>::NAME;
    let compiled = askama::Template::render(page);
    let verdict = match &compiled {
        Err(error) => format!("askama-error\t{error}"),
        Ok(compiled) => match shipwright_runtime::askama::render(page) {
            Err(error) => format!("dev-error\t{error}"),
            Ok(dev) => match shipwright_runtime::askama::dev_problems().into_iter().find(|p| p.template == name) {
                Some(problem) => format!("refused\t{}\t{:?}", problem.reason, problem.at),
                None if dev == *compiled => "identical".to_string(),
                None => format!("different\t{compiled:?} vs {dev:?}"),
            },
        },
    };
    let thread = std::thread::current().name().unwrap_or("?").to_string();
    let line = format!("{thread}\t{}\t{name}\t{verdict}", std::any::type_name::<T>()).replace('\n', " ");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("results.tsv")).unwrap();
    writeln!(file, "{line}").unwrap();
    compiled
}
"#;

/// `assert_matches!`, which askama's tests use, written here (the generated crate builds
/// offline).
const ASSERT_MATCHES: &str = r#"#[macro_export]
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(if $guard:expr)? $(=> $then:expr)? $(, $($message:tt)+)? $(,)?) => {
        match $value {
            $pattern $(if $guard)? => { $($then;)? }
            ref other => panic!("{:?} does not match {}", other, stringify!($pattern)),
        }
    };
}
"#;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
    };
    let Some(repo) = arg("--askama-repo") else {
        println!("askama_own: pass --askama-repo <askama checkout or git dir> to run it");
        return;
    };
    let work = arg("--work").unwrap_or_else(|| std::env::temp_dir().join("shipwright-askama-own"));
    let (testing, commit) = askama_testing(&repo, &work);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = work.join("crate");
    let stems = generate(&testing, workspace, &dir);
    println!("askama {commit}: {} test files", stems.len());

    let mut leave: BTreeMap<String, BTreeMap<usize, String>> = BTreeMap::new();
    let mut dropped: BTreeMap<String, String> = BTreeMap::new();
    let mut files: BTreeMap<String, Paired> = BTreeMap::new();
    for round in 1..=ROUNDS {
        files = write_tests(&testing, &dir, &stems, &leave, &mut dropped);
        let errors = build_errors(&dir);
        println!("build {round}: {} test files do not compile", errors.len());
        if errors.is_empty() {
            break;
        }
        for (stem, errors) in errors {
            let (types, macros) = files
                .get(&stem)
                .map_or((&[][..], &[][..]), |f| (&f.bound[..], &f.macros[..]));
            let paired: Vec<&Bound> = types.iter().filter(|b| b.unpaired.is_none()).collect();
            let left = leave.entry(stem.clone()).or_default();
            let mut attributed = false;
            for (line, message) in &errors {
                // The type whose lines hold the error, else the paired macro that does.
                let within = |(first, last): (usize, usize)| (first..=last).contains(line);
                let group = paired
                    .iter()
                    .find(|b| within(b.lines))
                    .map(|b| b.group)
                    .or_else(|| {
                        let m = macros.iter().find(|m| within(**m))?;
                        paired.iter().any(|b| b.group == m.0).then_some(m.0)
                    });
                if let Some(group) = group {
                    attributed = true;
                    left.entry(group)
                        .or_insert_with(|| format!("its pairing does not compile: {message}"));
                }
            }
            if attributed {
                continue;
            }
            let first = errors.first().map_or("", |e| e.1.as_str());
            if paired.is_empty() {
                dropped.insert(
                    stem,
                    format!("does not compile with askama's derive: {first}"),
                );
            } else {
                for b in paired {
                    left.insert(
                        b.group,
                        format!("the file does not compile with its types paired: {first}"),
                    );
                }
            }
        }
    }

    let _ = std::fs::remove_file(dir.join("results.tsv"));
    let test = cargo_output(
        &dir,
        &target_dir(),
        &["test", "--tests", "--no-fail-fast"],
        // One test at a time: the dev renderer's problems are per template, process-wide.
        &[("RUST_TEST_THREADS", Some("1".as_ref()))],
    );
    let results = std::fs::read_to_string(dir.join("results.tsv")).unwrap_or_default();
    if results.is_empty() {
        panic!("no results:\n{}", String::from_utf8_lossy(&test.stderr));
    }
    report(&files, &dropped, &results);
}

/// askama's `testing/` directory: in the checkout, or extracted from the git dir's `HEAD` into
/// `work`; and the commit.
fn askama_testing(repo: &Path, work: &Path) -> (PathBuf, String) {
    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        if repo.join("testing").is_dir() {
            command.arg("-C").arg(repo);
        } else {
            command.arg("--git-dir").arg(repo);
        }
        command.args(args).output().unwrap()
    };
    let commit = String::from_utf8_lossy(&git(&["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_string();
    if repo.join("testing").is_dir() {
        return (repo.join("testing"), commit);
    }
    let out = work.join("askama");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let archive = git(&["archive", "--format=tar", "HEAD", "testing"]);
    assert!(
        archive.status.success(),
        "{} is neither a checkout nor a git dir of askama: {}",
        repo.display(),
        String::from_utf8_lossy(&archive.stderr)
    );
    let tar = std::process::Stdio::piped();
    let mut untar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(&out)
        .stdin(tar)
        .spawn()
        .unwrap();
    std::io::Write::write_all(untar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
    drop(untar.stdin.take());
    assert!(untar.wait().unwrap().success());
    (out.join("testing"), commit)
}

/// Writes the harness crate but its tests; returns the test files' stems.
fn generate(testing: &Path, workspace: &Path, dir: &Path) -> Vec<String> {
    let ws = workspace.display();
    write(
        dir,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\
             autotests = false\n\n\
             [dependencies]\naskama = {{ version = \"0.16.1\", features = [\"serde_json\"] }}\n\
             serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\
             shipwright-runtime = {{ path = \"{ws}/runtime\", features = [\"askama\", \"dev\"] }}\n\
             assert_matches = {{ path = \"assert_matches\" }}\n\n\
             [build-dependencies]\nshipwright-build = {{ path = \"{ws}/build-support\" }}\n\n\
             [features]\ndefault = [\"serde_json\"]\nserde_json = []\n\n\
             [lints.rust]\nunexpected_cfgs = \"allow\"\n\n[workspace]\n",
            HARNESS.replace('_', "-")
        ),
    );
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    write(dir, "src/lib.rs", LIB);
    write(
        dir,
        "assert_matches/Cargo.toml",
        "[package]\nname = \"assert_matches\"\nversion = \"1.5.0\"\nedition = \"2024\"\n",
    );
    write(dir, "assert_matches/src/lib.rs", ASSERT_MATCHES);
    // askama's configurations (`config = "..."`), next to the manifest as in askama's crate.
    for entry in std::fs::read_dir(testing).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() && name.ends_with(".toml") && name != "Cargo.toml" {
            write(dir, &name, &std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut stems: Vec<String> = std::fs::read_dir(testing.join("tests"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name()?.to_str()?.to_string();
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    stems.sort();
    // The tests' own modules and data (`mod auxiliary;`, ...).
    for entry in std::fs::read_dir(testing.join("tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            copy_text(
                &path,
                &dir.join("tests").join(path.file_name().unwrap()),
                "",
            );
        }
    }
    stems
}

/// Copies the text files of a tree, each prefixed with `prefix`, leaving a file that holds it
/// already.
fn copy_text(from: &Path, to: &Path, prefix: &str) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_text(&entry.path(), &target, prefix);
        } else if let Ok(text) = std::fs::read_to_string(entry.path()) {
            write(
                to,
                &entry.file_name().to_string_lossy(),
                &format!("{prefix}{text}"),
            );
        }
    }
}

/// Pairs and writes every test file that still compiles, the templates (askama's, and the
/// `source` ones) and their edited copy, the manifest's `[[test]]`s and the build script.
/// Returns the types with askama's derive, by file.
fn write_tests(
    testing: &Path,
    dir: &Path,
    stems: &[String],
    leave: &BTreeMap<String, BTreeMap<usize, String>>,
    dropped: &mut BTreeMap<String, String>,
) -> BTreeMap<String, Paired> {
    let templates = dir.join("templates");
    copy_text(&testing.join("templates"), &templates, "");
    let mut files = BTreeMap::new();
    let mut manifest = String::new();
    for stem in stems {
        if dropped.contains_key(stem) {
            continue;
        }
        let text = std::fs::read_to_string(testing.join(format!("tests/{stem}.rs"))).unwrap();
        let paired = match pair(stem, &text, leave.get(stem).unwrap_or(&BTreeMap::new())) {
            Ok(paired) => paired,
            Err(error) => {
                dropped.insert(stem.clone(), format!("does not parse: {error}"));
                continue;
            }
        };
        for (path, text) in &paired.sources {
            write(&templates, path, text);
        }
        write(dir, &format!("tests/{stem}.rs"), &paired.text);
        let _ = writeln!(
            manifest,
            "\n[[test]]\nname = \"{stem}\"\npath = \"tests/{stem}.rs\""
        );
        files.insert(stem.clone(), paired);
    }
    copy_text(&templates, &dir.join("edited"), "{#+ edited +#}");
    let mut extensions = BTreeSet::new();
    collect_extensions(&templates, &mut extensions);
    let list: Vec<String> = extensions.iter().map(|e| format!("{e:?}")).collect();
    write(
        dir,
        "build.rs",
        &format!(
            "fn main() {{\n    shipwright_build::Builder::new().root(\"templates\").extensions([{}]).build().unwrap();\n}}\n",
            list.join(", ")
        ),
    );
    let head = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let head = head.split("\n[[test]]").next().unwrap();
    write(dir, "Cargo.toml", &format!("{head}{manifest}"));
    files
}

fn collect_extensions(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_extensions(&path, out);
        } else if let Some(ext) = path.extension() {
            out.insert(ext.to_string_lossy().into_owned());
        }
    }
}

/// Builds the tests, going on past failures; the errors of each failing test file, as (line in
/// the file, message).
fn build_errors(dir: &Path) -> BTreeMap<String, Vec<(usize, String)>> {
    let output = cargo_output(
        dir,
        &target_dir(),
        &["build", "--tests", "--keep-going", "--message-format=json"],
        &[],
    );
    let mut errors: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-message" || message["message"]["level"] != "error" {
            continue;
        }
        let target = &message["target"];
        let stem = target["name"].as_str().unwrap_or_default().to_string();
        let kinds = target["kind"].as_array().cloned().unwrap_or_default();
        assert!(
            kinds.iter().any(|k| k == "test"),
            "the harness itself does not compile: {}",
            message["message"]["rendered"]
        );
        let text = message["message"]["message"].as_str().unwrap_or_default();
        let file = format!("tests/{stem}.rs");
        let line = message["message"]["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["is_primary"] == true && s["file_name"] == file.as_str())
            .and_then(|s| s["line_start"].as_u64())
            .unwrap_or(0) as usize;
        errors
            .entry(stem)
            .or_default()
            .push((line, text.to_string()));
    }
    if errors.is_empty() && !output.status.success() {
        // Not a test file's error (the build script, the harness): cargo's own message.
        cargo_in(dir, &target_dir(), &["build", "--tests"], &[]);
    }
    errors
}

/// The figures: per test case, and the types not paired by reason.
fn report(files: &BTreeMap<String, Paired>, dropped: &BTreeMap<String, String>, results: &str) {
    // A case: a test function rendering a type with a template.
    let mut cases: BTreeMap<(String, String, String), (u8, String)> = BTreeMap::new();
    let mut rendered = BTreeSet::new();
    for line in results.lines() {
        let fields: Vec<&str> = line.splitn(5, '\t').collect();
        let [thread, type_name, template, verdict, ..] = fields[..] else {
            continue;
        };
        let detail = fields.get(4).copied().unwrap_or_default();
        let path = type_name.split('<').next().unwrap_or(type_name).to_string();
        rendered.insert(path.clone());
        let (rank, text) = match verdict {
            "identical" => (0, String::new()),
            "askama-error" => (1, String::new()),
            "refused" => (2, construct(detail)),
            _ => (3, format!("{template}: {verdict} {detail}")),
        };
        let case = cases
            .entry((thread.to_string(), path, template.to_string()))
            .or_insert((0, String::new()));
        if rank > case.0 {
            *case = (rank, text);
        }
    }
    let mut refused: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut identical, mut errors, mut different) = (0, 0, Vec::new());
    for ((thread, path, _), (rank, text)) in &cases {
        match rank {
            0 => identical += 1,
            1 => errors += 1,
            2 => *refused.entry(text).or_default() += 1,
            _ => different.push(format!("{thread} {path}: {text}")),
        }
    }
    let types: Vec<&Bound> = files.values().flat_map(|f| &f.bound).collect();
    let mut unpaired: BTreeMap<String, usize> = BTreeMap::new();
    let mut unread: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &types {
        if let Some(reason) = &b.unpaired {
            *unpaired.entry(category(reason)).or_default() += 1;
            if let Some(name) = reason
                .split("reads `")
                .nth(1)
                .and_then(|r| r.split('`').next())
            {
                *unread.entry(name).or_default() += 1;
            }
        } else if !rendered.contains(&b.path) {
            *unpaired
                .entry("paired, but its test does not call `render()`".to_string())
                .or_default() += 1;
        }
    }
    let paired = types.iter().filter(|b| b.unpaired.is_none()).count();
    println!(
        "\n{} types with askama's derive in {} test files ({} left out), {paired} paired",
        types.len(),
        files.len(),
        dropped.len()
    );
    println!("\n| test cases | byte-identical | refused | different | askama's render errs |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| {} | {identical} | {} | {} | {errors} |",
        cases.len(),
        refused.values().sum::<usize>(),
        different.len()
    );
    println!("\nrefused, by the construct the dev renderer names:");
    for (construct, n) in &refused {
        println!("- {n}: {construct}");
    }
    println!("\ntypes not paired (or paired but not rendered through `render()`):");
    for (reason, n) in &unpaired {
        println!("- {n}: {reason}");
    }
    let unread: Vec<String> = unread
        .iter()
        .map(|(name, n)| format!("`{name}` {n}"))
        .collect();
    println!(
        "  (names Shipwright's derive does not find: {})",
        unread.join(", ")
    );
    println!("\ntest files left out:");
    for (stem, reason) in dropped {
        println!("- {stem}: {reason}");
    }
    for d in &different {
        println!("DIFFERENT {d}");
    }
}

/// The construct of a refusal's reason (without the file and line).
fn construct(detail: &str) -> String {
    let reason = detail.split('\t').next().unwrap_or(detail);
    reason
        .trim_start_matches("the dev renderer cannot render ")
        .trim_start_matches("the dev renderer does not emulate ")
        .split(" at line")
        .next()
        .unwrap_or(reason)
        .to_string()
}

/// Why a type is not paired, by kind.
fn category(reason: &str) -> String {
    let kinds = [
        (
            "does not provide it",
            "Shipwright's derive: the template reads a name the struct does not provide",
        ),
        (
            "serde::Serialize` is not satisfied",
            "a field's type is not `Serialize`",
        ),
        (
            "has a missing dependency",
            "Shipwright's derive: a reference that does not resolve",
        ),
        (
            "cannot be bound",
            "Shipwright's derive: the template does not lex",
        ),
    ];
    match kinds.iter().find(|(text, _)| reason.contains(text)) {
        Some((_, kind)) => kind.to_string(),
        None => reason.chars().take(140).collect(),
    }
}
