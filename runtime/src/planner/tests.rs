use super::*;
use proptest::prelude::*;

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
    let mut p = planner(RenderMode::Compiled);
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
        [
            "base.html",
            "icons.html",
            "pages/home.html",
            "partials/nav.html"
        ]
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
fn added_and_removed_templates_are_conservative() {
    let mut p = planner(RenderMode::Runtime);
    let plan = p.apply([Change::edit("new.html", "hello")]);
    assert_eq!(
        said(&plan, "new.html"),
        "rebuild: added: new.html is not in the BuildCache this binary was built with"
    );
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["icons.html", "new.html"],
        "a new name merged in order"
    );
    let plan = p.apply([Change::remove("partials/nav.html")]);
    assert_eq!(
        said(&plan, "partials/nav.html"),
        "rebuild: removed: partials/nav.html"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: renders partials/nav.html: removed: partials/nav.html"
    );
    assert!(
        plan.decision("new.html").unwrap().needs_rebuild(),
        "earlier divergence still reported"
    );
    // Both undone.
    let plan = p.apply([
        Change::remove("new.html"),
        Change::edit("partials/nav.html", NAV),
    ]);
    assert!(
        plan.decisions().all(|(_, d)| *d == Decision::Unchanged),
        "{plan:?}"
    );
}

#[test]
fn where_two_changes_meet_the_more_severe_decides() {
    let mut p = planner(RenderMode::Compiled);
    // pages/home.html renders both base.html (now a rebuild) and partials/nav.html (a hot reload).
    let plan = p.apply([
        Change::edit("base.html", BASE.replace("<html>", "<html>{{ lang }}")),
        Change::edit("partials/nav.html", NAV.replace("<nav>", "<nav class=top>")),
    ]);
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: renders base.html: interface of base.html changed: new expression `lang`"
    );
    assert_eq!(
        said(&plan, "base.html"),
        "rebuild: interface of base.html changed: new expression `lang`",
        "its own, more severe"
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
        Change::edit("partials/nav.html", format!("{NAV}{{{{ user }}}}")),
    ]);
    assert_eq!(
        said(&plan, "base.html"),
        "rebuild: renders partials/nav.html: interface of partials/nav.html changed: new expression `user`"
    );
    assert_eq!(
        said(&plan, "pages/home.html"),
        "rebuild: renders partials/nav.html: interface of partials/nav.html changed: new expression `user`"
    );
    let names: Vec<&str> = plan.rebuild_reasons().map(|(name, _)| name).collect();
    assert_eq!(names, ["base.html", "pages/home.html", "partials/nav.html"]);
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        [
            "base.html",
            "icons.html",
            "pages/home.html",
            "partials/nav.html"
        ]
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
fn dynamic_references_are_conservative() {
    let mut p = planner(RenderMode::Runtime);
    // Any change makes the renders of the template with a dynamic include stale.
    let plan = p.apply([Change::edit("lone.html", "alone!")]);
    assert_eq!(
        plan.affected().collect::<Vec<_>>(),
        ["icons.html", "lone.html"]
    );
    assert!(
        plan.decision("icons.html").is_none(),
        "it did not change itself"
    );
    // An interface change in it needs a rebuild.
    let plan = p.apply([Change::edit(
        "icons.html",
        ICONS.replace("icon %}", "icon ~ '.svg' %}"),
    )]);
    assert_eq!(
        said(&plan, "icons.html"),
        "rebuild: dynamic reference at line 2 of icons.html (`'icons/' ~ icon ~ '.svg'`): conservative"
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
    assert_eq!(said(&plan, "icons.html"), "rebuild: removed: icons.html");
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
    dynamic: bool,
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
        if self.dynamic {
            text += "{% include 'x/' ~ name %}";
        }
        text
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Literal,
    Var(&'static str),
    Include(usize),
    Remove,
    Revert,
}

const VARS: [&str; 4] = ["a", "b", "c", "d"];

fn spec(n: usize) -> impl Strategy<Value = Spec> {
    (
        0u32..3,
        proptest::sample::subsequence(VARS.to_vec(), 0..3),
        proptest::collection::vec(0..n, 0..3),
        proptest::bool::weighted(0.2),
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
        Just(Edit::Remove),
        Just(Edit::Revert),
    ]
}

/// The plan of `touched`, the simple way: a map of every decision, each template's own
/// decision winning ties over one it takes from what it renders, the first changed template in
/// name order winning ties between those; the affected names in a set.
fn reference(p: &RebuildPlanner, touched: &[String]) -> (Vec<(String, Decision)>, Vec<String>) {
    let mut own: BTreeMap<String, Decision> = touched
        .iter()
        .map(|n| (n.clone(), Decision::Unchanged))
        .collect();
    let mut inherited: BTreeMap<String, Decision> = BTreeMap::new();
    for (name, current) in &p.current {
        let decision = p.own_decision(name, current);
        if let Some(cause) = decision.reason() {
            let reason = Reason::Dependency {
                cause: Arc::new(cause.clone()),
            };
            let shared = if decision.needs_rebuild() {
                Decision::Rebuild { reason }
            } else {
                Decision::HotReload { reason }
            };
            for id in p.dependents(name) {
                let dependent = p.graph.name(id).to_string();
                if inherited
                    .get(&dependent)
                    .is_none_or(|d| d.severity() < shared.severity())
                {
                    inherited.insert(dependent, shared.clone());
                }
            }
        }
        if own
            .get(name)
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
    let mut affected: std::collections::BTreeSet<String> = touched.iter().cloned().collect();
    if !touched.is_empty() {
        for (name, current) in &p.current {
            if matches!(current, Current::Present { analysis: Ok(new), .. } if !new.dynamic.is_empty())
            {
                affected.insert(name.clone());
            }
        }
        affected.extend(
            p.with_dynamic
                .iter()
                .map(|&id| p.graph.name(id).to_string()),
        );
    }
    for name in touched {
        affected.extend(
            p.dependents(name)
                .into_iter()
                .map(|id| p.graph.name(id).to_string()),
        );
    }
    (own.into_iter().collect(), affected.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

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
                        _ => Change::edit(name, "<p>new</p>{{ d }}"),
                    });
                    continue;
                }
                match edit {
                    Edit::Literal => now[at].literal += 1,
                    Edit::Var(var) => now[at].vars.push(var),
                    Edit::Include(to) => now[at].includes.push(to),
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
    // 150 pages on one layout, two templates with a dynamic include, ids far beyond 64.
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
    files.extend(
        ["dyn1.html", "zdyn.html"].map(|n| (n.to_string(), "{% include 'x/' ~ y %}".to_string())),
    );
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
    assert_eq!(plan.decisions().len(), 151);
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
