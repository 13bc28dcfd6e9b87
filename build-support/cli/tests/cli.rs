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

/// A crate directory after a build: `templates/` and the copy of its BuildCache the build keeps
/// under `target/shipwright/app/`.
fn built_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "templates/pages/home.html",
            "{% extends 'base.html' %}{% block body %}<h1>{{ title }}</h1>{% endblock %}",
        ),
        (
            "templates/base.html",
            "<html>{% block body %}{% endblock %}{% include 'nav.html' %}</html>",
        ),
        (
            "templates/nav.html",
            "<nav>{% for link in links %}{{ link }}{% endfor %}</nav>",
        ),
    ];
    for (name, text) in files {
        std::fs::create_dir_all(dir.path().join(name).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let target = dir.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("CACHEDIR.TAG"), "").unwrap();
    shipwright_build::Builder::new()
        .manifest_dir(dir.path())
        .out_dir(target.join("debug/build/app-0123/out"))
        .package("app")
        .cargo_directives(false)
        .build()
        .unwrap();
    assert!(target.join("shipwright/app/build-cache.json").is_file());
    dir
}

fn plan_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(output), stderr(output)))
}

#[test]
fn plan_with_nothing_changed_exits_0_with_no_decision() {
    let dir = built_site();
    let out = run(dir.path(), &["plan", "--baseline", "target"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = plan_json(&out);
    assert_eq!(json["format"], "shipwright-plan");
    assert_eq!(json["version"], 1);
    assert_eq!(json["mode"], "runtime");
    assert_eq!(json["needs_rebuild"], false);
    assert_eq!(json["templates"], serde_json::json!([]));
    assert_eq!(json["notes"], serde_json::json!([]));
    assert!(
        json["baseline"]
            .as_str()
            .unwrap()
            .ends_with("target/shipwright/app/build-cache.json"),
        "{json}"
    );
}

#[test]
fn plan_over_a_missing_root_exits_2_naming_it() {
    let dir = built_site();
    let out = run(dir.path(), &["plan", "--baseline", "target", "nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nowhere: template root does not exist or is not a directory"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn plan_of_a_hot_reload_exits_0_and_names_every_affected_template() {
    let dir = built_site();
    std::fs::write(
        dir.path().join("templates/nav.html"),
        "<nav class=top>{% for link in links %}{{ link }}{% endfor %}</nav>",
    )
    .unwrap();
    std::fs::write(dir.path().join("templates/badge.html"), "<b>new</b>").unwrap();
    let out = run(dir.path(), &["plan", "--baseline", "target", "templates"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = plan_json(&out);
    assert_eq!(
        json["templates"],
        serde_json::json!([
            {
                "template": "badge.html",
                "decision": "hot_reload",
                "reason": {"kind": "added", "template": "badge.html"},
                "message": "hot reload: added: badge.html is not in the BuildCache this binary was built with",
                "affected": true,
            },
            {
                "template": "base.html",
                "decision": "hot_reload",
                "reason": {
                    "kind": "dependency",
                    "template": "nav.html",
                    "cause": {"kind": "literal_text", "template": "nav.html"},
                },
                "message": "hot reload: renders nav.html: literal text changed in nav.html",
                "affected": true,
            },
            {
                "template": "nav.html",
                "decision": "hot_reload",
                "reason": {"kind": "literal_text", "template": "nav.html"},
                "message": "hot reload: literal text changed in nav.html",
                "affected": true,
            },
            {
                "template": "pages/home.html",
                "decision": "hot_reload",
                "reason": {
                    "kind": "dependency",
                    "template": "nav.html",
                    "cause": {"kind": "literal_text", "template": "nav.html"},
                },
                "message": "hot reload: renders nav.html: literal text changed in nav.html",
                "affected": true,
            },
        ])
    );
    assert_eq!(
        json["notes"],
        serde_json::json!([{"kind": "not_embedded", "template": "badge.html"}])
    );
}

#[test]
fn plan_of_a_rebuild_exits_1_with_a_structured_reason() {
    let dir = built_site();
    std::fs::write(
        dir.path().join("templates/nav.html"),
        "<nav>{% for link in links %}{{ link }}{% endfor %}\n{{ user.name }}</nav>",
    )
    .unwrap();
    // Bound from the baseline: pages/home.html, the only entry, reads title and links.
    let out = run(dir.path(), &["plan", "--baseline", "target"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json = plan_json(&out);
    assert_eq!(json["needs_rebuild"], true);
    let home = json["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["template"] == "pages/home.html")
        .unwrap();
    assert_eq!(home["decision"], "rebuild");
    assert_eq!(
        home["reason"],
        serde_json::json!({
            "kind": "missing_variable",
            "template": "pages/home.html",
            "variable": "user",
            "used_in": "nav.html",
            "line": 2,
            "type_name": "struct of pages/home.html",
            "fields": ["links", "title"],
        })
    );
    // Bound by hand with the field: a hot reload. The OUT_DIR works as a baseline too.
    let out = run(
        dir.path(),
        &[
            "plan",
            "--baseline",
            "target/debug/build/app-0123/out",
            "--bind",
            "pages/home.html=title, links,user",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Compiled: an interface change rebuilds whatever the struct has.
    let out = run(
        dir.path(),
        &[
            "plan",
            "--baseline",
            "target/shipwright/app/build-cache.json",
            "--mode",
            "compiled",
            "--bind",
            "pages/home.html=title,links,user",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(plan_json(&out)["mode"], "compiled");
}

#[test]
fn plan_errors_exit_2() {
    let dir = built_site();
    let out = run(dir.path(), &["plan", "--baseline", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no BuildCache at nowhere"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    std::fs::write(dir.path().join("torn.json"), "{\"format\":").unwrap();
    let out = run(dir.path(), &["plan", "--baseline", "torn.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a valid BuildCache"),
        "{}",
        stderr(&out)
    );

    let out = run(
        dir.path(),
        &["plan", "--baseline", "target", "--bind", "home.html"],
    );
    assert_eq!(out.status.code(), Some(2), "a --bind without `=`");
    let out = run(
        dir.path(),
        &["plan", "--baseline", "target", "--bind", "gone.html=a"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--bind gone.html: no such template"),
        "{}",
        stderr(&out)
    );

    let out = run(dir.path(), &["plan", "--baseline", "target", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the baseline has 1 template roots (templates), 2 given"));
    let out = run(dir.path(), &["plan", "--baseline", "target", "missing"]);
    assert_eq!(out.status.code(), Some(2));

    // Two packages' copies: the package must be named.
    let second = dir.path().join("target/shipwright/other");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::copy(
        dir.path().join("target/shipwright/app/build-cache.json"),
        second.join("build-cache.json"),
    )
    .unwrap();
    let out = run(dir.path(), &["plan", "--baseline", "target"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("several packages (app, other)"),
        "{}",
        stderr(&out)
    );
    let out = run(
        dir.path(),
        &["plan", "--baseline", "target/shipwright/other"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
