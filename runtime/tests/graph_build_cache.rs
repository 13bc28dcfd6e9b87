//! The dependency graph of BuildCaches read from bytes, as the application gets them.

use shipwright_core::format::{BuildCache, TemplateRecord};
use shipwright_runtime::graph::DependencyGraph;

fn record(name: &str, deps: Vec<String>) -> TemplateRecord {
    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
    TemplateRecord::including(name, &deps)
}

/// Round-trips through the file format, as a loaded BuildCache would.
fn reload(build: &BuildCache) -> BuildCache {
    BuildCache::parse(&build.to_bytes(), "build-cache.json").unwrap()
}

#[test]
fn a_ten_thousand_template_chain_walks_without_recursion() {
    const N: usize = 10_000;
    let name = |i: usize| format!("chain/t{i:05}.html");
    let mut build = BuildCache::new(vec!["templates".into()]);
    for i in 0..N {
        let deps = if i + 1 < N {
            vec![name(i + 1)]
        } else {
            Vec::new()
        };
        build.templates.insert(name(i), record(&name(i), deps));
    }
    // One more edge closes the chain into a cycle of 10,000.
    build
        .templates
        .get_mut(&name(N - 1))
        .unwrap()
        .deps
        .push(shipwright_core::format::Dep {
            name: name(0),
            line: 1,
            context: true,
            scope: Vec::new(),
            calls: Some(Vec::new()),
        });
    let graph = DependencyGraph::from_build_cache(&reload(&build));
    assert_eq!(graph.len(), N);
    assert_eq!(graph.edge_count(), N);
    let middle = graph.id(&name(N / 2)).unwrap();
    let up = graph.dependents_transitive(middle);
    assert_eq!(up.len(), N - 1, "the whole cycle but the start");
    assert_eq!(graph.name(up[0]), name(N / 2 - 1), "nearest first");
    let down = graph.dependencies_transitive(middle);
    assert_eq!(down.len(), N - 1);
    assert_eq!(graph.name(down[0]), name(N / 2 + 1));
    let mut all = graph.affected(&[middle]);
    all.sort();
    assert_eq!(all, graph.ids().collect::<Vec<_>>());
}

#[test]
fn a_wide_fan_in_is_listed_once_per_template() {
    // 1,000 pages include the same 10 partials, which all extend one layout.
    let mut build = BuildCache::new(vec!["templates".into()]);
    build
        .templates
        .insert("layout.html".into(), record("layout.html", Vec::new()));
    for p in 0..10 {
        let partial = format!("partials/p{p}.html");
        build.templates.insert(
            partial.clone(),
            record(&partial, vec!["layout.html".into()]),
        );
    }
    for i in 0..1_000 {
        let page = format!("pages/{i}.html");
        let deps = (0..10).map(|p| format!("partials/p{p}.html")).collect();
        build.templates.insert(page.clone(), record(&page, deps));
    }
    let graph = DependencyGraph::from_build_cache(&reload(&build));
    let layout = graph.id("layout.html").unwrap();
    let affected = graph.dependents_transitive(layout);
    assert_eq!(affected.len(), 1_010);
    let mut unique = affected.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), affected.len());
    // Breadth first: the ten partials come before any page.
    assert!(
        affected[..10]
            .iter()
            .all(|&id| graph.name(id).starts_with("partials/"))
    );
    assert_eq!(
        graph
            .dependents(graph.id("partials/p3.html").unwrap())
            .len(),
        1_000
    );
}

#[test]
fn ids_are_the_same_for_the_same_build() {
    let mut build = BuildCache::new(vec!["templates".into()]);
    for name in ["z.html", "a.html", "m.html"] {
        build
            .templates
            .insert(name.into(), record(name, vec!["a.html".into()]));
    }
    let one = DependencyGraph::from_build_cache(&build);
    let two = DependencyGraph::from_build_cache(&reload(&build));
    for id in one.ids() {
        assert_eq!(one.name(id), two.name(id));
        assert_eq!(one.dependents_transitive(id), two.dependents_transitive(id));
    }
    let first = one.id("a.html").unwrap();
    assert_eq!(first.index(), 0);
    assert_eq!(first.to_string(), "#0");
}
