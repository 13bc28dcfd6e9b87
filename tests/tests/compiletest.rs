//! The macros' compile errors, as trybuild UI tests (`ui/<failure>.rs` and its `.stderr`), in the
//! three environments a crate can give them: this crate's BuildCache, none, and one of another
//! format version. `TRYBUILD=overwrite` rewrites the `.stderr` files.
//!
//! trybuild compiles each case as a binary of a crate it generates under
//! `<target>/tests/trybuild/shipwright-tests/`, so the expansion sees that directory as
//! `CARGO_MANIFEST_DIR`: the driver copies `templates/` there, then changes `stale.html` in the
//! copy, as if it were edited after the build script ran.
//!
//! The `.stderr` files are rustc's output on the toolchain named in `build.rs`; elsewhere this
//! test is ignored.

use std::path::Path;

mod support;
use support::{copy_dir, target_dir};

/// Compiled with this crate's BuildCache.
const WITH_CACHE: &[&str] = &[
    "askama-not-serialize",
    "derive-on-enum",
    "duplicate-template-path",
    "missing-template-attribute",
    "missing-variable",
    "missing-variables",
    "serde-rename",
    "serde-rename-all",
    "serde-skip",
    "shipwright-attribute-on-field",
    "stale-template",
    "template-dependency-cycle",
    "template-lexer-error",
    "template-macro-not-a-string",
    "template-macro-unknown",
    "template-missing-dependency",
    "template-path-not-a-string",
    "unknown-shipwright-argument",
    "unknown-template",
    "unknown-template-argument",
];
/// Compiled with this crate's BuildCache, and run.
const PASS: &[&str] = &["askama-pass", "pass", "pass-variables"];
/// Compiled with no `SHIPWRIGHT_BUILD_CACHE`.
const WITHOUT_CACHE: &[&str] = &["no-build-cache"];
/// Compiled with a BuildCache of version 99.
const OTHER_VERSION: &[&str] = &["build-cache-version"];

fn case(name: &str) -> String {
    format!("ui/{name}.rs")
}

#[test]
#[cfg_attr(
    not(ui_toolchain),
    ignore = "the .stderr files are for the toolchain named in build.rs"
)]
fn ui() {
    every_case_runs_in_one_environment();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = target_dir().join("tests/trybuild/shipwright-tests");
    let _ = std::fs::remove_dir_all(project.join("templates"));
    copy_dir(&manifest_dir.join("templates"), &project.join("templates"));
    let stale = project.join("templates/stale.html");
    let mut bytes = std::fs::read(&stale).unwrap();
    bytes.extend_from_slice(b"<p>edited after the build script ran</p>\n");
    std::fs::write(&stale, bytes).unwrap();

    // SAFETY (for set_var/remove_var): this binary has this one test, so no other thread reads
    // the environment; trybuild's cargo inherits it, and that is the point.
    unsafe { std::env::set_var("SHIPWRIGHT_BUILD_CACHE", env!("SHIPWRIGHT_BUILD_CACHE")) };
    // The `.stderr` files are a build's whose script tracks the templates (this crate is a dev
    // build, whose failed expansions would also write the rebuild stamp of its `OUT_DIR`).
    unsafe { std::env::remove_var("SHIPWRIGHT_DEV_BUILD") };
    let cases = trybuild::TestCases::new();
    for name in PASS {
        cases.pass(case(name));
    }
    for name in WITH_CACHE {
        cases.compile_fail(case(name));
    }
    drop(cases);

    unsafe { std::env::remove_var("SHIPWRIGHT_BUILD_CACHE") };
    let cases = trybuild::TestCases::new();
    for name in WITHOUT_CACHE {
        cases.compile_fail(case(name));
    }
    drop(cases);

    let other = tempfile::tempdir().unwrap();
    let file = other.path().join("build-cache.json");
    std::fs::write(
        &file,
        br#"{"format": "shipwright-build-cache", "version": 99}"#,
    )
    .unwrap();
    unsafe { std::env::set_var("SHIPWRIGHT_BUILD_CACHE", &file) };
    let cases = trybuild::TestCases::new();
    for name in OTHER_VERSION {
        cases.compile_fail(case(name));
    }
    drop(cases);
}

/// A case added to `ui/` but to none of the lists above would never run.
fn every_case_runs_in_one_environment() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|file| file.strip_suffix(".rs").map(str::to_string))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = [WITH_CACHE, PASS, WITHOUT_CACHE, OTHER_VERSION]
        .concat()
        .into_iter()
        .map(str::to_string)
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}
