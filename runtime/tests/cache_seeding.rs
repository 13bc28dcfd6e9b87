//! Seeding the cache from a BuildCache file: the graph drives `invalidate`, and a bad file is
//! an error naming it.

use std::path::PathBuf;
use std::sync::Arc;

use shipwright_core::format::{BuildCache, FormatError, TemplateRecord};
use shipwright_runtime::cache::TemplateCache;

fn record(name: &str, deps: &[&str]) -> TemplateRecord {
    TemplateRecord::including(name, deps)
}

fn site() -> BuildCache {
    let mut build = BuildCache::new(vec!["templates".into()]);
    for (name, deps) in [
        ("layouts/base.html", &[][..]),
        ("partials/nav.html", &[][..]),
        ("partials/footer.html", &["partials/nav.html"][..]),
        (
            "pages/home.html",
            &["layouts/base.html", "partials/nav.html"][..],
        ),
        (
            "pages/about.html",
            &["layouts/base.html", "partials/footer.html"][..],
        ),
        ("pages/plain.html", &[][..]),
    ] {
        build.templates.insert(name.into(), record(name, deps));
    }
    build
}

/// A file in a fresh directory under the system's temporary directory.
fn temp_file(test: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "shipwright-cache-seeding-{}-{test}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("build-cache.json");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn invalidation_follows_the_graph_of_the_file() {
    let path = temp_file("graph", &site().to_bytes());
    let cache: TemplateCache<Arc<str>> = TemplateCache::from_build_cache_file(&path).unwrap();
    let names: Vec<String> = site().templates.keys().cloned().collect();
    assert_eq!(
        cache.warm(
            names
                .iter()
                .map(|n| (n.as_str(), Arc::from(format!("compiled {n}"))))
        ),
        6
    );

    // nav.html is used by footer.html, and through it by about.html, and by home.html.
    assert_eq!(cache.invalidate("partials/nav.html"), 4);
    let left: Vec<&String> = names.iter().filter(|n| cache.contains(n)).collect();
    assert_eq!(left, ["layouts/base.html", "pages/plain.html"]);
    assert_eq!(cache.stats().evictions.invalidation, 4);

    // Only what is cached is counted; a name outside the graph drops just itself.
    assert_eq!(cache.invalidate("partials/nav.html"), 0);
    cache.insert("adhoc.html", Arc::from("x"));
    assert_eq!(cache.invalidate("adhoc.html"), 1);
    assert_eq!(
        cache.invalidate_many(["layouts/base.html", "pages/plain.html", "nowhere.html"]),
        2
    );
    assert!(cache.is_empty());
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn a_new_graph_replaces_the_old_one() {
    let cache: TemplateCache<u8> = TemplateCache::new();
    assert!(cache.graph().is_none());
    cache.warm([("partials/nav.html", 1), ("pages/home.html", 2)]);
    assert_eq!(
        cache.invalidate("partials/nav.html"),
        1,
        "no graph: only the name itself"
    );
    cache.set_graph(Some(Arc::new((&site()).into())));
    cache.insert("partials/nav.html", 1);
    assert_eq!(cache.invalidate("partials/nav.html"), 2);
    assert_eq!(cache.graph().unwrap().len(), 6);
}

#[test]
fn a_torn_or_foreign_file_is_rejected_with_its_name() {
    let bytes = site().to_bytes();
    let torn = temp_file("torn", &bytes[..bytes.len() / 2]);
    let err = TemplateCache::<u8>::from_build_cache_file(&torn).unwrap_err();
    assert!(matches!(err, FormatError::Malformed { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!("{}:", torn.display())),
        "{err}"
    );

    let other = temp_file(
        "version",
        br#"{"format":"shipwright-build-cache","version":7}"#,
    );
    let err = TemplateCache::<u8>::from_build_cache_file(&other).unwrap_err();
    assert!(
        err.to_string().contains("version 7 is not supported"),
        "{err}"
    );

    let missing = torn.with_file_name("absent.json");
    let err = TemplateCache::<u8>::from_build_cache_file(&missing).unwrap_err();
    assert!(
        err.to_string()
            .contains("absent.json: cannot read the BuildCache"),
        "{err}"
    );
    for path in [torn, other] {
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}

#[test]
fn the_cache_holds_every_template_of_a_large_build() {
    let mut build = BuildCache::new(vec!["templates".into()]);
    for i in 0..12_000 {
        let name = format!("t{i}.html");
        build.templates.insert(name.clone(), record(&name, &[]));
    }
    let cache = TemplateCache::<u32>::from_build_cache(&build);
    assert_eq!(
        cache.warm((0..12_000u32).map(|i| (format!("t{i}.html"), i))),
        12_000
    );
    assert_eq!(cache.len(), 12_000);
    assert_eq!(cache.stats().evictions.total(), 0);
}
