use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

/// A BuildCache of `files`, by the build script's own scanner, and the files' texts.
fn built(files: &[(&str, &str)]) -> BuildCache {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let roots = shipwright_build::scan::Roots::new(vec![(dir.path().into(), "templates".into())]);
    shipwright_build::scan::scan(&roots, None).unwrap().cache
}

const BASE: &str = "<html>{% block body %}{% endblock %}{% include 'partials/nav.html' %}</html>";
const NAV: &str = "<nav>{% for link in links %}{{ link }}{% endfor %}</nav>";
const HOME: &str = "{% extends 'base.html' %}{% block body %}<h1>{{ title }}</h1>{% endblock %}";
const ICONS: &str = "line one\n{% include 'icons/' ~ icon %}";

fn site() -> Vec<(&'static str, &'static str)> {
    vec![
        ("base.html", BASE),
        ("partials/nav.html", NAV),
        ("pages/home.html", HOME),
        ("icons.html", ICONS),
        ("lone.html", "alone"),
    ]
}

fn planner(mode: RenderMode) -> RebuildPlanner {
    let files = site();
    let mut planner = RebuildPlanner::new(built(&files), mode).bind(Binding::new(
        "pages/home.html",
        "Home",
        ["title", "links"],
    ));
    for (name, text) in files {
        planner = planner.source(name, text);
    }
    planner
}

fn said(plan: &Plan, name: &str) -> String {
    plan.validate();
    plan.decision(name).unwrap().to_string()
}

#[test]
fn literal_text_hot_reloads_everything_that_renders_it() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        NAV.replace("<nav>", "<nav class=top>"),
    )]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "hot reload: literal text changed in partials/nav.html"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "hot reload: renders partials/nav.html: literal text changed in partials/nav.html"
    );
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["base.html", "pages/home.html", "partials/nav.html"],
        "icons.html's dynamic include (`icons/*`) cannot name any of them"
    );
    assert!(!plan.needs_rebuild());
    assert!(plan.decision("lone.html").is_none());
}

#[test]
fn comments_only() {
    let mut p = planner(RenderMode::Compiled);
    let plan = p.apply([Change::edit("lone.html", "alone{# note #}")]);
    assert_eq!(
        said(&plan, "lone.html"),
        "hot reload: only comments or spacing inside tags changed in lone.html"
    );
}

#[test]
fn interface_change_compiled_rebuilds_and_names_the_expression() {
    let mut p = planner(RenderMode::Compiled);
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        format!("{NAV}\n{{{{ user.name }}}}"),
    )]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "rebuild: interface of partials/nav.html changed: new expression `user . name`"
    );
    let reason = plan
        .decision("partials/nav.html")
        .unwrap()
        .reason()
        .unwrap();
    assert_eq!(reason.location(), Some(("partials/nav.html", 2)));
    assert!(plan.decision("pages/home.html").unwrap().needs_rebuild());
    assert_eq!(plan.rebuild_reasons().count(), 3);
}

#[test]
fn interface_change_runtime_hot_reloads_when_the_struct_provides_the_variable() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "pages/home.html",
        HOME.replace("{{ title }}", "{{ title }} {{ links|length }}"),
    )]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "hot reload: interface of pages/home.html changed: new expression `links | length`"
    );
    assert!(!plan.needs_rebuild());
}

#[test]
fn new_variable_missing_from_the_struct_rebuilds_naming_it() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "pages/home.html",
        HOME.replace("{{ title }}", "{{ user.name }}"),
    )]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: new variable `user` is not a field of `Home` (fields: title, links)"
    );
    // Defined by the template itself: fine.
    let plan = p.apply([Change::edit(
        "pages/home.html",
        HOME.replace("{{ title }}", "{% set user = title %}{{ user }}"),
    )]);
    assert!(!plan.needs_rebuild(), "{plan:?}");
}

#[test]
fn a_deep_dependency_change_reaches_the_bound_page() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        "<nav>{{ cart.count }}</nav>",
    )]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "hot reload: interface of partials/nav.html changed: new expression `cart . count`"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: new variable `cart` is not a field of `Home` (fields: title, links); it is read in partials/nav.html, which pages/home.html renders"
    );
    assert_eq!(
        said(&plan, "base.html"),
        "hot reload: renders partials/nav.html: interface of partials/nav.html changed: new expression `cart . count`"
    );
    let reason = plan.decision("pages/home.html").unwrap().reason().unwrap();
    assert_eq!(
        reason.location(),
        Some(("partials/nav.html", 1)),
        "the overlay can point at the use"
    );
}

#[test]
fn new_and_removed_includes() {
    let mut p = planner(RenderMode::Compiled);
    let plan = p.apply([Change::edit(
        "lone.html",
        "alone{% include 'partials/nav.html' %}",
    )]);
    assert_eq!(
        said(&plan, "lone.html"),
        "rebuild: new include of partials/nav.html in lone.html"
    );
    let plan = p.apply([Change::edit(
        "base.html",
        "<html>{% block body %}{% endblock %}</html>",
    )]);
    assert_eq!(
        said(&plan, "base.html"),
        "rebuild: base.html no longer includes partials/nav.html"
    );
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "lone.html",
        "alone{% include 'partials/nav.html' %}",
    )]);
    assert_eq!(
        said(&plan, "lone.html"),
        "hot reload: new include of partials/nav.html in lone.html"
    );
}

#[test]
fn an_include_of_nothing_rebuilds() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit("lone.html", "{% include 'nowhere.html' %}")]);
    assert_eq!(
        said(&plan, "lone.html"),
        "rebuild: lone.html references nowhere.html, which is not a template"
    );
}

#[test]
fn added_templates_hot_reload_in_runtime_with_a_note_and_rebuild_in_compiled() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit("new.html", "hello")]);
    assert_eq!(
        said(&plan, "new.html"),
        "hot reload: added: new.html is not in the BuildCache this binary was built with"
    );
    assert_eq!(
        plan.notes(),
        [Note::NotEmbedded {
            template: "new.html".into()
        }]
    );
    assert_eq!(
        plan.notes()[0].to_string(),
        "new.html is served from its file; the next build embeds it"
    );
    assert_eq!(plan.affected().collect::<Vec<_>>(), ["new.html"]);
    // Now included by the bound page, with a variable its struct provides: still a hot reload,
    // and the page takes the new template's decision.
    let plan = p.apply([Change::edit(
        "pages/home.html",
        HOME.replace("{{ title }}", "{{ title }}{% include 'new.html' %}"),
    )]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "hot reload: new include of new.html in pages/home.html"
    );
    assert!(!plan.needs_rebuild(), "{plan:?}");
    // The new template reads a variable the struct lacks: the page that includes it rebuilds.
    let plan = p.apply([Change::edit("new.html", "{{ cart }}")]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: new variable `cart` is not a field of `Home` (fields: title, links); it is read in new.html, which pages/home.html renders"
    );
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["new.html", "pages/home.html"],
        "what renders an added template now is affected"
    );

    let mut p = planner(RenderMode::Compiled);
    let plan = p.apply([Change::edit("new.html", "hello")]);
    assert_eq!(
        said(&plan, "new.html"),
        "rebuild: added: new.html is not in the BuildCache this binary was built with"
    );
}

#[test]
fn an_added_template_that_does_not_lex_or_references_nothing_rebuilds() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([
        Change::edit("bad.html", "{% if"),
        Change::edit("lost.html", "{% include 'nowhere.html' %}"),
    ]);
    assert!(said(&plan, "bad.html").starts_with("rebuild: bad.html:1: "));
    assert_eq!(
        said(&plan, "lost.html"),
        "rebuild: lost.html references nowhere.html, which is not a template"
    );
}

#[test]
fn a_reference_the_build_already_could_not_resolve_is_nothing_new() {
    let files = [
        ("page.html", "<h1>{{ title }}</h1>{% include 'part.html' %}"),
        ("part.html", "<p>part</p>{% include 'nowhere.html' %}"),
    ];
    let baseline = BuildCache::from_sources("templates", files);
    assert_eq!(baseline.missing[0].name, "nowhere.html");
    let mut p = RebuildPlanner::new(baseline, RenderMode::Runtime).bind(Binding::new(
        "page.html",
        "Page",
        ["title"],
    ));
    let plan = p.apply([Change::edit(
        "part.html",
        "<p>part, edited</p>{% include 'nowhere.html' %}",
    )]);
    assert_eq!(
        said(&plan, "part.html"),
        "hot reload: literal text changed in part.html"
    );
    assert_eq!(
        said(&plan, "page.html"),
        "hot reload: renders part.html: literal text changed in part.html"
    );
    // Another reference to nothing is new.
    let plan = p.apply([Change::edit(
        "part.html",
        "<p>part</p>{% include 'nowhere.html' %}\n{% include 'gone.html' %}",
    )]);
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: renders part.html: part.html references gone.html, which is not a template"
    );
    assert_eq!(
        plan.decision("part.html")
            .unwrap()
            .reason()
            .unwrap()
            .location(),
        Some(("part.html", 2))
    );
    // So is the old name in another template.
    let plan = p.apply([
        Change::edit("part.html", files[1].1),
        Change::edit(
            "page.html",
            "<h1>{{ title }}</h1>{% include 'part.html' %}{% include 'nowhere.html' %}",
        ),
    ]);
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: page.html references nowhere.html, which is not a template"
    );
}

#[test]
fn a_cycle_the_build_already_had_is_nothing_new() {
    const NAV_SUB: &str = "<ul>{% for c in node.children %}{% with node = c %}{% include 'nav-sub.html' %}{% endwith %}{% endfor %}</ul>";
    let baseline = BuildCache::from_sources(
        "templates",
        [
            ("page.html", "{% include 'nav-sub.html' %}"),
            ("nav-sub.html", NAV_SUB),
            ("other.html", "<p>other</p>"),
        ],
    );
    assert_eq!(baseline.cycles, [["nav-sub.html", "nav-sub.html"]]);
    let mut p = RebuildPlanner::new(baseline, RenderMode::Runtime).bind(Binding::new(
        "page.html",
        "Page",
        ["node"],
    ));
    let plan = p.apply([Change::edit(
        "nav-sub.html",
        NAV_SUB.replace("<ul>", "<ul class=nav>"),
    )]);
    assert_eq!(
        said(&plan, "nav-sub.html"),
        "hot reload: literal text changed in nav-sub.html"
    );
    assert!(!plan.needs_rebuild(), "{plan:?}");
    // A cycle through a template that was on none is new, also when it passes through one that
    // was.
    let plan = p.apply([
        Change::edit(
            "nav-sub.html",
            NAV_SUB.replace("<ul>", "<ul>{% include 'other.html' %}"),
        ),
        Change::edit("other.html", "{% include 'nav-sub.html' %}"),
    ]);
    assert_eq!(
        said(&plan, "other.html"),
        "rebuild: dependency cycle: other.html -> nav-sub.html -> other.html"
    );
    assert_eq!(
        said(&plan, "nav-sub.html"),
        "rebuild: dependency cycle: other.html -> nav-sub.html -> other.html"
    );
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: renders other.html: dependency cycle: other.html -> nav-sub.html -> other.html",
        "a cycle is about the first template on it"
    );
}

#[test]
fn a_removed_template_nothing_references_any_more_hot_reloads() {
    let mut p = planner(RenderMode::Runtime);
    // The partial and its include, removed together.
    let plan = p.apply([
        Change::remove("partials/nav.html"),
        Change::edit(
            "base.html",
            BASE.replace("{% include 'partials/nav.html' %}", ""),
        ),
    ]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "hot reload: removed: partials/nav.html"
    );
    assert_eq!(
        said(&plan, "base.html"),
        "hot reload: base.html no longer includes partials/nav.html"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "hot reload: renders base.html: base.html no longer includes partials/nav.html",
        "a former dependent is not rebuilt"
    );
    assert!(!plan.needs_rebuild(), "{plan:?}");
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["base.html", "pages/home.html", "partials/nav.html"]
    );
    // The include put back: a reference to a template that is gone.
    let plan = p.apply([Change::edit("base.html", BASE)]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "rebuild: removed: partials/nav.html",
        "still referenced"
    );
    assert_eq!(
        said(&plan, "base.html"),
        "rebuild: base.html references partials/nav.html, which is not a template"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: renders base.html: base.html references partials/nav.html, which is not a template"
    );
    // Undone.
    let plan = p.apply([Change::edit("partials/nav.html", NAV)]);
    assert!(
        plan.decisions().all(|(_, d)| *d == Decision::Unchanged),
        "{plan:?}"
    );
}

#[test]
fn a_removed_template_still_referenced_or_bound_rebuilds() {
    let mut p = planner(RenderMode::Runtime);
    // base.html did not change and still includes it.
    let plan = p.apply([Change::remove("partials/nav.html")]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "rebuild: removed: partials/nav.html"
    );
    assert_eq!(
        said(&plan, "base.html"),
        "rebuild: base.html references partials/nav.html, which is not a template"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: renders base.html: base.html references partials/nav.html, which is not a template"
    );
    // A bound template that is gone.
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::remove("pages/home.html")]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: removed: pages/home.html"
    );
    // In Compiled mode every removal rebuilds.
    let mut p = planner(RenderMode::Compiled);
    let plan = p.apply([Change::remove("lone.html")]);
    assert_eq!(said(&plan, "lone.html"), "rebuild: removed: lone.html");
}

#[test]
fn where_two_changes_meet_the_more_severe_decides() {
    let mut p = planner(RenderMode::Runtime);
    // pages/home.html renders both base.html (now a rebuild) and partials/nav.html (a hot reload).
    let plan = p.apply([
        Change::edit("base.html", BASE.replace("<html>", "<html>{{ lang }}")),
        Change::edit("partials/nav.html", NAV.replace("<nav>", "<nav class=top>")),
    ]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: new variable `lang` is not a field of `Home` (fields: title, links); it is read \
         in base.html, which pages/home.html renders"
    );
    assert_eq!(
        said(&plan, "base.html"),
        "hot reload: interface of base.html changed: new expression `lang`",
        "its own, more severe than nav's"
    );
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "hot reload: literal text changed in partials/nav.html"
    );
    assert_eq!(plan.decisions().len(), 3);
    // The other way round: base.html's own change is a hot reload, but it renders nav.html, which
    // now needs a rebuild.
    let plan = p.apply([
        Change::edit("base.html", BASE.replace("<html>", "<html lang=en>")),
        Change::edit(
            "partials/nav.html",
            format!("{NAV}{{% include 'nope.html' %}}"),
        ),
    ]);
    assert_eq!(
        said(&plan, "base.html"),
        "rebuild: renders partials/nav.html: partials/nav.html references nope.html, which is not a template"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: renders partials/nav.html: partials/nav.html references nope.html, which is not a template"
    );
    let names: Vec<&str> = plan.rebuild_reasons().map(|(name, _)| name).collect();
    assert_eq!(names, ["base.html", "pages/home.html", "partials/nav.html"]);
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["base.html", "pages/home.html", "partials/nav.html"],
        "icons.html's dynamic include (`icons/*`) cannot name any of them"
    );
}

#[test]
fn cycles_are_named() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        "{% include 'base.html' %}",
    )]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "rebuild: dependency cycle: partials/nav.html -> base.html -> partials/nav.html"
    );
}

#[test]
fn an_interface_change_in_a_template_with_a_dynamic_reference_decides_by_the_normal_rules() {
    let files = [
        (
            "page.html",
            "<h1>{{ title }}</h1>{% include 'icons/' ~ icon ~ '.svg' %}",
        ),
        ("icons/star.svg", "<svg>{{ size }}</svg>"),
        ("other.html", "<p>{{ nothing }}</p>"),
    ];
    let bind = || Binding::new("page.html", "Page", ["title", "icon", "size"]);
    let mut p = RebuildPlanner::new(
        BuildCache::from_sources("templates", files),
        RenderMode::Runtime,
    )
    .bind(bind());
    let plan = p.apply([Change::edit(
        "page.html",
        files[0].1.replace("{{ title }}", "{{ title|upper }}"),
    )]);
    assert_eq!(
        said(&plan, "page.html"),
        "hot reload: interface of page.html changed: expressions or tags changed"
    );
    // A variable the struct lacks still rebuilds.
    let plan = p.apply([Change::edit(
        "page.html",
        files[0].1.replace("{{ title }}", "{{ user }}"),
    )]);
    assert!(said(&plan, "page.html").starts_with("rebuild: new variable `user`"));
    // In Compiled mode the reason stays the dynamic reference.
    let mut p = RebuildPlanner::new(
        BuildCache::from_sources("templates", files),
        RenderMode::Compiled,
    )
    .bind(bind());
    let plan = p.apply([Change::edit(
        "page.html",
        files[0].1.replace("{{ title }}", "{{ title|upper }}"),
    )]);
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: dynamic reference at line 1 of page.html (`'icons/' ~ icon ~ '.svg'`): conservative"
    );
}

#[test]
fn an_edit_to_a_template_a_dynamic_reference_may_name_reaches_what_renders_it() {
    let files = [
        ("index.html", "{% extends 'master.html' %}{{ title }}"),
        ("master.html", "{% extends base_template %}"),
        (
            "base.html",
            "<html>{{ title }}{% block body %}{% endblock %}</html>",
        ),
        ("icons.html", "{% include 'icons/' ~ name %}"),
        ("icons/a.svg", "<svg/>"),
    ];
    let baseline = BuildCache::from_sources("templates", files);
    let mut p = RebuildPlanner::new(baseline, RenderMode::Runtime).bind(Binding::new(
        "index.html",
        "Index",
        ["title", "base_template"],
    ));
    // `extends base_template` may name any template: base.html's new variable reaches
    // index.html.
    let plan = p.apply([Change::edit(
        "base.html",
        "<html>{{ title }}{{ nonce }}{% block body %}{% endblock %}</html>",
    )]);
    assert_eq!(
        said(&plan, "index.html"),
        "rebuild: new variable `nonce` is not a field of `Index` (fields: title, base_template); it is read in base.html, which index.html renders"
    );
    assert_eq!(
        said(&plan, "master.html"),
        "hot reload: renders base.html: interface of base.html changed: expressions or tags changed"
    );
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["base.html", "index.html", "master.html"],
        "icons.html cannot name base.html"
    );
    // A literal edit of a pattern's match: what may include it is affected and takes the
    // decision; the template that may name anything too.
    let plan = p.apply([
        Change::edit("base.html", files[2].1),
        Change::edit("icons/a.svg", "<svg class=a/>"),
    ]);
    assert_eq!(
        said(&plan, "icons.html"),
        "hot reload: renders icons/a.svg: literal text changed in icons/a.svg"
    );
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        [
            "base.html",
            "icons.html",
            "icons/a.svg",
            "index.html",
            "master.html"
        ]
    );
    // An added template that a pattern matches: what may include it takes its decision.
    let plan = p.apply([Change::edit("icons/b.svg", "{% if")]);
    assert!(said(&plan, "icons.html").starts_with("rebuild: renders icons/b.svg: icons/b.svg:1:"));
    assert!(plan.affected().any(|n| n == "icons.html"));
}

#[test]
fn both_branches_of_a_conditional_reference_are_followed() {
    let files = [
        (
            "page.html",
            "{% include 'wide.html' if wide else 'narrow.html' %}",
        ),
        ("wide.html", "<div>{{ a }}</div>"),
        ("narrow.html", "<div>{{ a }}</div>"),
    ];
    let mut p = RebuildPlanner::new(
        BuildCache::from_sources("templates", files),
        RenderMode::Runtime,
    )
    .bind(Binding::new("page.html", "Page", ["wide", "a"]));
    let plan = p.apply([Change::edit("narrow.html", "<div>{{ a }}{{ b }}</div>")]);
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: new variable `b` is not a field of `Page` (fields: wide, a); it is read in narrow.html, which page.html renders"
    );
}

#[test]
fn declared_globals_are_never_missing() {
    let files = [("page.html", "<p>Hello</p>{{ title }}")];
    // (`gettext` and `_` are the i18n extension's names, never variables: a name of the app's.)
    let edit = || Change::edit("page.html", "<p>{{ csrf_token }}</p>{{ title }}");
    let bind = || Binding::new("page.html", "Page", ["title"]);
    let mut baseline = BuildCache::from_sources("templates", files);
    let mut p = RebuildPlanner::new(baseline.clone(), RenderMode::Runtime).bind(bind());
    assert!(
        p.apply([edit()]).needs_rebuild(),
        "undeclared, it is a variable"
    );
    let mut p = RebuildPlanner::new(baseline.clone(), RenderMode::Runtime)
        .bind(bind())
        .globals(["csrf_token", "app_name"]);
    assert_eq!(
        p.declared_globals().collect::<Vec<_>>(),
        ["app_name", "csrf_token"]
    );
    assert!(!p.apply([edit()]).needs_rebuild());
    baseline.globals = vec!["csrf_token".into()];
    let mut p = RebuildPlanner::new(baseline, RenderMode::Runtime).bind(bind());
    assert!(!p.apply([edit()]).needs_rebuild(), "the build's globals");
}

#[test]
fn bindings_from_a_build_cache_bind_every_entry_to_what_its_closure_reads() {
    let mut baseline = built(&site());
    baseline.globals = vec!["links".into()];
    let bindings = Binding::entries(&baseline);
    assert_eq!(
        bindings,
        [
            Binding::new("icons.html", "struct of icons.html", ["icon"]),
            Binding::new("lone.html", "struct of lone.html", Vec::<String>::new()),
            Binding::new("pages/home.html", "struct of pages/home.html", ["title"]),
        ],
        "base.html and partials/nav.html are referenced; `links` is a global"
    );
}

#[test]
fn a_cache_from_sources_is_what_the_build_script_writes() {
    let files = site();
    let mut scanned = built(&files);
    let from_sources = BuildCache::from_sources("templates", files.iter().copied());
    scanned.extensions = from_sources.extensions.clone();
    assert_eq!(from_sources, scanned);
}

#[test]
fn decisions_serialize_with_structured_reasons() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        "<nav>\n{{ cart.count }}</nav>",
    )]);
    let json = serde_json::to_value(plan.decision("pages/home.html").unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "decision": "rebuild",
            "reason": {
                "kind": "missing_variable",
                "template": "pages/home.html",
                "variable": "cart",
                "used_in": "partials/nav.html",
                "line": 2,
                "type_name": "Home",
                "fields": ["title", "links"],
            }
        })
    );
    let json = serde_json::to_value(plan.decision("base.html").unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "decision": "hot_reload",
            "reason": {
                "kind": "dependency",
                "template": "partials/nav.html",
                "cause": {
                    "kind": "interface",
                    "template": "partials/nav.html",
                    "line": 2,
                    "change": "new expression `cart . count`",
                },
            }
        })
    );
    assert_eq!(
        serde_json::to_value(Decision::Unchanged).unwrap(),
        serde_json::json!({"decision": "unchanged"})
    );
}

#[test]
fn a_file_that_does_not_lex_names_its_line() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit("lone.html", "one\ntwo {% if")]);
    assert_eq!(
        said(&plan, "lone.html"),
        "rebuild: lone.html:2: unterminated tag: `{%` has no closing `%}`"
    );
    assert_eq!(
        plan.decision("lone.html")
            .unwrap()
            .reason()
            .unwrap()
            .location(),
        Some(("lone.html", 2))
    );
}

#[test]
fn without_sources_the_interface_reason_is_general() {
    let mut p = RebuildPlanner::new(built(&site()), RenderMode::Compiled);
    let plan = p.apply([Change::edit("lone.html", "{{ x }}")]);
    assert_eq!(
        said(&plan, "lone.html"),
        "rebuild: interface of lone.html changed: expressions or tags changed"
    );
}

#[test]
fn paths_under_the_roots() {
    let dir = tempfile::tempdir().unwrap();
    let files = site();
    for (name, text) in &files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let roots = shipwright_build::scan::Roots::new(vec![(dir.path().into(), "templates".into())]);
    let baseline = shipwright_build::scan::scan(&roots, None).unwrap().cache;
    let mut p =
        RebuildPlanner::new(baseline, RenderMode::Runtime).root_dirs(vec![dir.path().into()]);
    assert_eq!(
        p.plan_roots().unwrap().decisions().len(),
        0,
        "nothing changed on disk"
    );
    std::fs::write(dir.path().join("lone.html"), "alone, edited").unwrap();
    std::fs::remove_file(dir.path().join("icons.html")).unwrap();
    std::fs::write(dir.path().join("notes.md"), "not a template").unwrap();
    let plan = p
        .plan_paths(&[
            dir.path().join("lone.html"),
            dir.path().join("icons.html"),
            dir.path().join("notes.md"),
            "/elsewhere/x.html".into(),
        ])
        .unwrap();
    assert_eq!(
        plan.decisions().map(|(name, _)| name).collect::<Vec<_>>(),
        ["icons.html", "lone.html"]
    );
    assert_eq!(
        said(&plan, "icons.html"),
        "hot reload: removed: icons.html",
        "nothing references it"
    );
    let mut fresh = RebuildPlanner::new(p.baseline().clone(), RenderMode::Runtime)
        .root_dirs(vec![dir.path().into()]);
    assert_eq!(fresh.plan_roots().unwrap(), plan);
}

/// A template of a generated site, as the property test below edits it.
#[derive(Debug, Clone)]
struct Spec {
    literal: u32,
    vars: Vec<&'static str>,
    includes: Vec<usize>,
    /// Dynamic includes: `Some(k)` names `t{k}…` by a pattern (`t1` ~ name matches t1.html and
    /// t1x.html), `None` any template.
    dynamic: Vec<Option<usize>>,
}

impl Spec {
    fn text(&self) -> String {
        let mut text = format!("<p>text {}</p>", self.literal);
        for var in &self.vars {
            text += &format!("{{{{ {var} }}}}");
        }
        for to in &self.includes {
            text += &format!("{{% include 't{to}.html' %}}");
        }
        for dynamic in &self.dynamic {
            text += &match dynamic {
                Some(k) => format!("{{% include 't{k}' ~ name ~ '.html' %}}"),
                None => "{% include name %}".to_string(),
            };
        }
        text
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Literal,
    Var(&'static str),
    Include(usize),
    Dynamic(Option<usize>),
    Remove,
    Revert,
}

const VARS: [&str; 4] = ["a", "b", "c", "d"];

fn spec(n: usize) -> impl Strategy<Value = Spec> {
    (
        0u32..3,
        proptest::sample::subsequence(VARS.to_vec(), 0..3),
        proptest::collection::vec(0..n, 0..3),
        proptest::collection::vec(proptest::option::weighted(0.8, 0..n), 0..2),
    )
        .prop_map(|(literal, vars, includes, dynamic)| Spec {
            literal,
            vars,
            includes,
            dynamic,
        })
}

fn edit(n: usize) -> impl Strategy<Value = Edit> {
    prop_oneof![
        Just(Edit::Literal),
        proptest::sample::select(VARS.to_vec()).prop_map(Edit::Var),
        (0..n).prop_map(Edit::Include),
        proptest::option::weighted(0.8, 0..n).prop_map(Edit::Dynamic),
        Just(Edit::Remove),
        Just(Edit::Revert),
    ]
}

/// The plan of `touched`, the simple way: a map of every decision, each template's own
/// decision winning ties over one it takes from what it renders, the first changed template in
/// name order winning ties between those; what renders a template now found by asking every
/// template's closure; the affected names in a set, with what rendered them in the build from
/// shipwright-core's own walk.
fn reference(p: &RebuildPlanner, touched: &[String]) -> (Vec<(String, Decision)>, Vec<String>) {
    let now: Vec<String> = p.names_now().map(str::to_string).collect();
    let closures: BTreeMap<&str, Vec<String>> =
        now.iter().map(|t| (t.as_str(), p.closure_now(t))).collect();
    // What renders `x` now; for a removed `x`, what renders the unchanged templates that
    // referenced it in the build.
    let renders_now = |x: &str| -> BTreeSet<String> {
        let removed = matches!(p.current.get(x), Some(Current::Removed));
        let starts: Vec<String> = if removed {
            p.baseline
                .templates
                .iter()
                .filter(|(u, _)| !p.current.contains_key(*u))
                .filter(|(u, r)| {
                    r.deps
                        .iter()
                        .any(|d| resolve_name(&d.name).is_ok_and(|n| n == x))
                        || shipwright_core::graph::dynamic_targets(&p.baseline, u).contains(&x)
                })
                .map(|(u, _)| u.clone())
                .collect()
        } else {
            vec![x.to_string()]
        };
        let mut out: BTreeSet<String> = starts.iter().filter(|s| *s != x).cloned().collect();
        for start in &starts {
            for (t, closure) in &closures {
                if *t != start && *t != x && closure.contains(start) {
                    out.insert(t.to_string());
                }
            }
        }
        out
    };
    let mut own: BTreeMap<String, Decision> = touched
        .iter()
        .map(|n| (n.clone(), Decision::Unchanged))
        .collect();
    let mut inherited: BTreeMap<String, Decision> = BTreeMap::new();
    let mut sources: Vec<(String, Decision)> = p
        .current
        .iter()
        .map(|(name, current)| (name.clone(), p.own_decision(name, current)))
        .collect();
    sources.extend(
        p.broken_by_removal()
            .into_iter()
            .map(|(n, d)| (n.to_string(), d)),
    );
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, decision) in sources {
        let removed = matches!(p.current.get(&name), Some(Current::Removed));
        if let Some(cause) = decision.reason()
            && !removed
        {
            let reason = Reason::Dependency {
                cause: Arc::new(cause.clone()),
            };
            let shared = if decision.needs_rebuild() {
                Decision::Rebuild { reason }
            } else {
                Decision::HotReload { reason }
            };
            for dependent in renders_now(&name) {
                if inherited
                    .get(&dependent)
                    .is_none_or(|d| d.severity() < shared.severity())
                {
                    inherited.insert(dependent, shared.clone());
                }
            }
        }
        if own
            .get(&name)
            .is_none_or(|d| d.severity() < decision.severity())
        {
            own.insert(name.clone(), decision);
        }
    }
    for (name, decision) in inherited {
        if own
            .get(&name)
            .is_none_or(|d| d.severity() < decision.severity())
        {
            own.insert(name, decision);
        }
    }
    if p.mode == RenderMode::Runtime {
        for name in own.keys().cloned().collect::<Vec<_>>() {
            if let Some(reason) = p.missing_variable(&name) {
                own.insert(name, Decision::Rebuild { reason });
            }
        }
    }
    let mut affected: BTreeSet<String> = touched.iter().cloned().collect();
    for name in touched {
        affected.extend(renders_now(name));
        affected.extend(
            shipwright_core::graph::dependents_with_dynamic(&p.baseline, name)
                .into_iter()
                .map(str::to_string),
        );
    }
    (own.into_iter().collect(), affected.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The compact plan holds what the simple way decides, batch after batch.
    #[test]
    fn plans_match_the_simple_reference(
        (specs, bound, batches, compiled) in (3usize..8).prop_flat_map(|n| (
            proptest::collection::vec(spec(n), n),
            proptest::collection::vec(proptest::bool::ANY, n),
            proptest::collection::vec(proptest::collection::vec((0..=n, edit(n)), 1..4), 1..6),
            proptest::bool::ANY,
        ))
    ) {
        let files: Vec<(String, String)> = specs.iter().enumerate().map(|(i, s)| (format!("t{i}.html"), s.text())).collect();
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let mode = if compiled { RenderMode::Compiled } else { RenderMode::Runtime };
        let mut p = RebuildPlanner::new(built(&refs), mode);
        for (i, &bind) in bound.iter().enumerate() {
            if bind {
                p = p.bind(Binding::new(format!("t{i}.html"), format!("T{i}"), ["a", "b"]));
            }
        }
        let mut now = specs.clone();
        for batch in batches {
            let mut changes = Vec::new();
            for (at, edit) in batch {
                let name = format!("t{at}.html");
                if at == specs.len() {
                    changes.push(match edit {
                        Edit::Remove | Edit::Revert => Change::remove(name),
                        _ => Change::edit(name, "<p>new</p>{{ d }}{% include 't0.html' %}"),
                    });
                    continue;
                }
                match edit {
                    Edit::Literal => now[at].literal += 1,
                    Edit::Var(var) => now[at].vars.push(var),
                    Edit::Include(to) => now[at].includes.push(to),
                    Edit::Dynamic(to) => now[at].dynamic.push(to),
                    Edit::Remove => {
                        changes.push(Change::remove(name));
                        continue;
                    }
                    Edit::Revert => now[at] = specs[at].clone(),
                }
                changes.push(Change::edit(name, now[at].text()));
            }
            let touched: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
            let plan = p.apply(changes);
            plan.validate();
            let (decisions, affected) = reference(&p, &touched);
            let got: Vec<(String, Decision)> = plan.decisions().map(|(n, d)| (n.to_string(), d.clone())).collect();
            prop_assert_eq!(&got, &decisions);
            prop_assert_eq!(plan.affected().collect::<Vec<_>>(), affected.iter().map(String::as_str).collect::<Vec<_>>());
            for (name, decision) in &decisions {
                prop_assert_eq!(plan.decision(name), Some(decision));
            }
            prop_assert_eq!(plan.needs_rebuild(), decisions.iter().any(|(_, d)| d.needs_rebuild()));
        }
    }
}

#[test]
fn a_large_site_matches_the_reference_past_one_bitmap_word() {
    // 150 pages on one layout, two templates with a dynamic include that may name it, ids far
    // beyond 64.
    let mut files: Vec<(String, String)> = vec![(
        "base.html".into(),
        "<main>{% block b %}{% endblock %}</main>".into(),
    )];
    files.extend((0..150).map(|i| {
        (
            format!("p{i:03}.html"),
            "{% extends 'base.html' %}".to_string(),
        )
    }));
    files.extend(["dyn1.html", "zdyn.html"].map(|n| {
        (
            n.to_string(),
            "{% include 'ba' ~ y ~ '.html' %}".to_string(),
        )
    }));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let mut p = RebuildPlanner::new(built(&refs), RenderMode::Runtime);
    let touched = vec!["base.html".to_string(), "p149.html".to_string()];
    let plan = p.apply([
        Change::edit("base.html", "<main id=m>{% block b %}{% endblock %}</main>"),
        Change::edit("p149.html", "{% extends 'base.html' %}{# note #}"),
    ]);
    plan.validate();
    let (decisions, affected) = reference(&p, &touched);
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        affected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(plan.affected().len(), 153, "base, 150 pages, 2 dynamic");
    assert_eq!(
        plan.decisions()
            .map(|(n, d)| (n.to_string(), d.clone()))
            .collect::<Vec<_>>(),
        decisions
    );
    assert_eq!(
        plan.decisions().len(),
        153,
        "the dynamic ones take base.html's decision"
    );
    assert_eq!(
        said(&plan, "p149.html"),
        "hot reload: only comments or spacing inside tags changed in p149.html",
        "equal severity: its own reason wins"
    );
    assert_eq!(
        said(&plan, "p148.html"),
        "hot reload: renders base.html: literal text changed in base.html"
    );
}

/// `plan_roots` and `plan_paths` count the files the build counted (its extensions), and walk
/// the roots by the one file rule: a FIFO named like a template is not opened (it blocked
/// `plan_roots` for ever), a link loop is not followed.
#[cfg(unix)]
#[test]
fn plan_roots_and_plan_paths_follow_the_file_rule() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("page.tera"), "<p>{{ x }}</p>").unwrap();
    std::fs::write(root.join("notes.html"), "not a template here").unwrap();
    let mut roots = shipwright_build::scan::Roots::new(vec![(root.clone(), "templates".into())]);
    roots.extensions = vec!["TERA".into()];
    let baseline = shipwright_build::scan::scan(&roots, None).unwrap().cache;
    assert_eq!(baseline.templates.keys().collect::<Vec<_>>(), ["page.tera"]);
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("fifo.tera"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(".", root.join("again")).unwrap();
    std::os::unix::fs::symlink(".", root.join("more")).unwrap();
    let (send, receive) = std::sync::mpsc::channel();
    let planned = root.clone();
    std::thread::spawn(move || {
        let mut p = RebuildPlanner::new(baseline, RenderMode::Runtime).root_dirs(vec![planned]);
        let at_start = p.plan_roots().map(|plan| plan.decisions().count());
        std::fs::write(dir.path().join("page.tera"), "<p>{{ x }}!</p>").unwrap();
        let after = p
            .plan_paths(&[
                dir.path().join("page.tera"),
                dir.path().join("notes.html"),
                dir.path().join("fifo.tera"),
                dir.path().join("again/page.tera"),
            ])
            .map(|plan| {
                plan.decisions()
                    .map(|(name, d)| format!("{name}: {d}"))
                    .collect::<Vec<_>>()
            });
        let _ = send.send((at_start.unwrap(), after.unwrap()));
    });
    let (at_start, after) = receive
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("plan_roots and plan_paths answer within 30 s");
    assert_eq!(at_start, 0, "nothing differs from the build");
    assert_eq!(
        after,
        ["page.tera: hot reload: literal text changed in page.tera"]
    );
}

#[test]
fn a_switched_extends_to_an_unchanged_layout_that_reads_a_new_variable_rebuilds() {
    // Only the page changes; the layout it now extends is unchanged, and reads `sidebar`.
    let files = [
        (
            "layout.html",
            "<title>{{ title }}</title>{% block body %}{% endblock %}",
        ),
        (
            "wide.html",
            "<title>{{ title }}</title>\n<aside>{{ sidebar }}</aside>{% block body %}{% endblock %}",
        ),
        (
            "page.html",
            "{% extends 'layout.html' %}{% block body %}{{ text }}{% endblock %}",
        ),
    ];
    let mut p = RebuildPlanner::new(built(&files), RenderMode::Runtime).bind(Binding::new(
        "page.html",
        "Page",
        ["title", "text"],
    ));
    let plan = p.apply([Change::edit(
        "page.html",
        "{% extends 'wide.html' %}{% block body %}{{ text }}{% endblock %}",
    )]);
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: new variable `sidebar` is not a field of `Page` (fields: title, text); it is \
         read in wide.html, which page.html renders"
    );
    let reason = plan.decision("page.html").unwrap().reason().unwrap();
    assert_eq!(reason.location(), Some(("wide.html", 2)));
}

#[test]
fn optional_reads_and_names_the_templates_define_hot_reload() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        "<nav>{% for link in links %}{{ link }}{% endfor %}{{ user|default('guest') }}\
         {% if cart is defined %}{{ cart.count }}{% endif %}{% set label = 'Menu' %}{{ label }}</nav>",
    )]);
    assert!(!plan.needs_rebuild(), "{plan:?}");
    // A read before the template defines it is a read of the context: rebuild.
    let plan = p.apply([Change::edit(
        "partials/nav.html",
        "<nav>{{ label }}{% set label = 'Menu' %}{% for link in links %}{{ link }}{% endfor %}</nav>",
    )]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: new variable `label` is not a field of `Home` (fields: title, links); it is \
         read in partials/nav.html, which pages/home.html renders"
    );
}

/// askama's templates (`RenderMode::Compiled`): without a dev renderer a text edit needs a
/// rebuild, saying what would show it; with one, an edit hot-reloads unless the template, or one
/// it renders, holds a construct the dev renderer refuses, named with its line.
#[test]
fn compiled_mode_hot_reloads_only_what_the_dev_renderer_shows() {
    let files = [
        (
            "page.html",
            "<h1>{{ title }}</h1>{% include \"item.html\" %}",
        ),
        ("item.html", "<li>{{ title }}</li>"),
        ("other.html", "{{ n }}"),
    ];
    let build = built(&files);
    let fresh =
        |dev: bool| {
            let mut p = RebuildPlanner::new(build.clone(), RenderMode::Compiled)
                .bind(Binding::new("page.html", "Page", ["title"]));
            for (name, text) in files {
                p = p.source(name, text);
            }
            if dev { p.dev_renderer() } else { p }
        };
    let literal = Change::edit("item.html", "<li class=x>{{ title }}</li>");
    let plan = fresh(false).apply([literal.clone()]);
    assert!(
        said(&plan, "page.html").starts_with(
            "rebuild: renders item.html: item.html changed, and askama compiled it into the \
             binary: `cargo build`, or render it with the askama dev renderer"
        ),
        "{}",
        said(&plan, "page.html")
    );
    let mut p = fresh(true);
    let plan = p.apply([literal]);
    assert_eq!(
        said(&plan, "page.html"),
        "hot reload: renders item.html: literal text changed in item.html"
    );
    // A method call in the included template: rebuild, the construct and the line named.
    let plan = p.apply([Change::edit("item.html", "<li>\n{{ title.len() }}</li>")]);
    assert_eq!(
        said(&plan, "page.html"),
        "rebuild: renders item.html: the askama dev renderer cannot render a method call \
         `len()` at line 2 of item.html as askama does: `cargo build` (the app shows askama's \
         page of the last build)"
    );
    // An unchanged template with a refused construct, newly rendered by a literal edit's page:
    // its closure decides.
    let mut p = fresh(true).source("item.html", "<li>{{ title.len() }}</li>");
    let plan = p.apply([Change::edit(
        "page.html",
        "<h1 class=x>{{ title }}</h1>{% include \"item.html\" %}",
    )]);
    assert_eq!(
        plan.decision("page.html").unwrap().reason().unwrap().kind(),
        "refused"
    );
    // Undone: unchanged.
    let plan = p.apply([Change::edit("page.html", files[0].1)]);
    assert!(plan.decisions().all(|(_, d)| *d == Decision::Unchanged));
}

/// A type the askama dev renderer refuses whatever the text (a `whitespace` key it does not
/// emulate): an edit of its template's closure is a rebuild naming the type, in the dev
/// renderer's mode only; an edit elsewhere is not.
#[test]
fn a_type_the_dev_renderer_refuses_needs_a_rebuild_for_any_edit_of_its_closure() {
    let files = [
        (
            "page.html",
            "<h1>{{ title }}</h1>{% include \"item.html\" %}",
        ),
        ("item.html", "<li>{{ title }}</li>"),
        ("other.html", "{{ n }}"),
    ];
    let refused = Binding {
        dev_refusal: Some(
            "the dev renderer does not emulate #[template(whitespace = \"suppress\")]".into(),
        ),
        ..Binding::new("page.html", "Page", ["title"])
    };
    let planner = |mode| {
        let mut p = RebuildPlanner::new(built(&files), mode).bind(refused.clone());
        for (name, text) in files {
            p = p.source(name, text);
        }
        p
    };
    let mut p = planner(RenderMode::Compiled).dev_renderer();
    let plan = p.apply([Change::edit("item.html", "<li class=x>{{ title }}</li>")]);
    let reason = plan.decision("page.html").unwrap().reason().unwrap();
    assert_eq!(reason.kind(), "refused_type");
    assert_eq!(
        reason.to_string(),
        "the dev renderer does not emulate #[template(whitespace = \"suppress\")], so the askama \
         dev renderer does not render Page (page.html): `cargo build` (the app shows askama's \
         page of the last build)"
    );
    let plan = p.apply([
        Change::edit("item.html", files[1].1),
        Change::edit("other.html", "{{ n }}!"),
    ]);
    assert!(!plan.needs_rebuild(), "{}", said(&plan, "other.html"));
    // In the runtime mode the type's refusal means nothing.
    let plan = planner(RenderMode::Runtime)
        .apply([Change::edit("item.html", "<li class=x>{{ title }}</li>")]);
    assert!(!plan.needs_rebuild(), "{}", said(&plan, "page.html"));
}

#[test]
fn a_variable_the_build_lacked_is_new_where_another_template_reads_it() {
    // The build's page reads `features` in a block, after the layout's top level set it: the
    // struct need not provide it, and does not. A partial that newly reads it where nothing
    // sets it is a new read (mkdocs-material's blog-post.html and nav-item.html).
    let files = [
        (
            "page.html",
            "{% extends 'base.html' %}{% import 'item.html' as item with context %}\
             {% block body %}{% if 'toc' in features %}toc{% endif %}{% endblock %}",
        ),
        (
            "base.html",
            "{% set features = config.features %}{% block body %}{% endblock %}",
        ),
        ("item.html", "{% macro render(n) %}{{ n }}{% endmacro %}"),
    ];
    let mut p = RebuildPlanner::new(
        BuildCache::from_sources("templates", files),
        RenderMode::Runtime,
    )
    .bind(Binding::new("page.html", "Page", ["config"]));
    // The same read, edited around: nothing new.
    let plan = p.apply([Change::edit(
        "page.html",
        files[0].1.replace("toc{%", "<b>toc</b>{{ 1 }}{%"),
    )]);
    assert!(!plan.needs_rebuild(), "{}", said(&plan, "page.html"));
    let plan = p.apply([Change::edit(
        "item.html",
        "{% macro render(n) %}{% if 'tabs' in features %}{{ n }}{% endif %}{% endmacro %}",
    )]);
    assert!(
        !plan.needs_rebuild(),
        "not called yet: {}",
        said(&plan, "page.html")
    );
    let plan = p.apply([Change::edit(
        "page.html",
        files[0].1.replace("toc{%", "{{ item.render(1) }}{%"),
    )]);
    assert!(
        said(&plan, "page.html").starts_with("rebuild: new variable `features`"),
        "{}",
        said(&plan, "page.html")
    );
}
