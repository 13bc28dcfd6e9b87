//! `shipwright-templates` end to end: outputs, exit codes, warnings.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipwright-templates"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "templates/base.html",
            "{% include 'nav.html' %}{% block body %}{% endblock %}",
        ),
        (
            "templates/nav.html",
            "{% from 'macros.html' import link %}{{ link('/') }}",
        ),
        (
            "templates/macros.html",
            "{% macro link(href) %}<a href='{{ href }}'></a>{% endmacro %}",
        ),
        (
            "templates/home.html",
            "{% extends 'base.html' %}\n{% include 'widgets/' ~ kind %}",
        ),
    ];
    for (name, text) in files {
        std::fs::create_dir_all(dir.path().join(name).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(dir.path().join("templates/raw.html"), b"ok \xff").unwrap();
    dir
}

#[test]
fn scan_prints_the_build_cache_with_relative_names() {
    let dir = site();
    let out = run(dir.path(), &["scan", "templates"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cache = shipwright_core::format::BuildCache::parse(&out.stdout, "stdout").unwrap();
    assert_eq!(cache.roots, ["templates"]);
    assert_eq!(
        cache.templates.keys().collect::<Vec<_>>(),
        ["base.html", "home.html", "macros.html", "nav.html"]
    );
    assert_eq!(cache.templates["home.html"].dynamic[0].line, 2);
    assert!(!stdout(&out).contains(dir.path().to_str().unwrap()));
    assert!(
        stderr(&out).contains("warning: templates/raw.html:1: not UTF-8 (byte 3); skipped"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn deps_and_rdeps_walk_the_graph() {
    let dir = site();
    let out = run(dir.path(), &["deps", "home.html"]);
    assert_eq!(stdout(&out), "base.html\nmacros.html\nnav.html\n");
    let out = run(dir.path(), &["deps", "--direct", "home.html", "templates"]);
    assert_eq!(stdout(&out), "base.html\n");
    let out = run(dir.path(), &["rdeps", "macros.html"]);
    assert_eq!(stdout(&out), "base.html\nhome.html\nnav.html\n");
    let out = run(dir.path(), &["rdeps", "home.html"]);
    assert_eq!((stdout(&out).as_str(), out.status.code()), ("", Some(0)));
}

#[test]
fn unknown_names_and_missing_roots_exit_2() {
    let dir = site();
    let out = run(dir.path(), &["deps", "hom.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no template named \"hom.html\"; closest: home.html"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["scan", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "shipwright-templates: template root nowhere does not exist or is not a directory\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn graph_as_dot_and_mermaid() {
    let dir = site();
    let dot = stdout(&run(dir.path(), &["graph"]));
    assert!(dot.starts_with("digraph templates {"));
    assert!(dot.contains("  \"home.html\" -> \"base.html\";\n"));
    assert!(
        dot.contains("  \"home.html\" -> \"? 'widgets/' ~ kind\" [style=dashed];\n"),
        "{dot}"
    );
    let mermaid = stdout(&run(dir.path(), &["graph", "--format", "mermaid"]));
    assert!(mermaid.starts_with("flowchart LR\n"));
    let id = |name: &str| {
        mermaid
            .lines()
            .find(|l| l.ends_with(&format!("[\"{name}\"]")))
            .unwrap()
            .trim()
            .split('[')
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        mermaid.contains(&format!("  {} --> {}\n", id("nav.html"), id("macros.html"))),
        "{mermaid}"
    );
    assert!(mermaid.contains(" -.-> "), "dynamic edge dashed");
}
