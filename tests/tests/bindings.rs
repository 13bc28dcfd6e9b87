//! What `#[derive(Template)]`, `template!` and `embedded_templates!` embed, checked against the
//! BuildCache this crate's build script wrote and against the files.

use shipwright_core::analyze::content_hash;
use shipwright_core::format::{BuildCache, ENV_VAR};
use shipwright_core::registry::tree_hash;
use shipwright_runtime::{Template, TemplateInfo, find_template, template};
use shipwright_tests::{Home, Nav, registry};

fn cache() -> BuildCache {
    BuildCache::load(env!("SHIPWRIGHT_BUILD_CACHE")).unwrap()
}

/// Every field of `info` against the record and the file.
fn assert_matches_cache(info: &TemplateInfo, cache: &BuildCache) {
    let record = &cache.templates[info.name];
    assert_eq!(info.id, record.id);
    assert_eq!(info.root, cache.roots[record.root]);
    assert_eq!(info.path, cache.relative_path(info.name).unwrap());
    assert_eq!(info.hash, record.hash);
    assert_eq!(info.static_hash, record.static_hash);
    assert_eq!(info.interface_hash, record.interface_hash);
    assert_eq!(info.tree_hash, tree_hash(cache, info.name).unwrap());
    assert_eq!(info.size, record.size);
    assert_eq!(info.deps, record.deps);
    assert_eq!(info.transitive, record.transitive);
    assert_eq!(info.vars, record.vars);
    assert_eq!(info.dynamic.len(), record.dynamic.len());
    for (embedded, recorded) in info.dynamic.iter().zip(&record.dynamic) {
        assert_eq!(
            (embedded.line, embedded.expr),
            (recorded.line, recorded.expr.as_str())
        );
    }
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(info.path);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(info.source.as_bytes(), bytes, "{}", file.display());
    assert_eq!(content_hash(&bytes), info.hash);
}

#[test]
fn derive_embeds_the_record() {
    assert_eq!(ENV_VAR, "SHIPWRIGHT_BUILD_CACHE");
    let cache = cache();
    assert_matches_cache(Home::INFO, &cache);
    assert_eq!(Home::INFO.name, "pages/home.html");
    assert_eq!(Home::INFO.deps, ["layout.html"]);
    assert_eq!(Home::INFO.transitive, ["layout.html", "partials/nav.html"]);
    assert_eq!(Home::FIELDS, ["title", "user"]);
    assert_matches_cache(Nav::INFO, &cache);
    assert_eq!(Nav::FIELDS, ["0"]);
}

#[test]
fn template_macro_gives_the_same_record() {
    let home: &'static TemplateInfo = template!("pages/home.html");
    assert_eq!(home, Home::INFO);
    const ABOUT: &TemplateInfo = template!("pages/about.html");
    assert_matches_cache(ABOUT, &cache());
}

#[test]
fn registry_lists_every_template_once_in_order() {
    let cache = cache();
    let registry = registry();
    let names: Vec<&str> = registry.iter().map(|info| info.name).collect();
    let expected: Vec<&str> = cache.templates.keys().map(String::as_str).collect();
    assert_eq!(names, expected);
    assert!(
        names.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted, no duplicates"
    );
    for info in registry {
        assert_matches_cache(info, &cache);
    }
    assert_eq!(find_template(registry, "pages/home.html"), Some(Home::INFO));
    assert_eq!(
        find_template(registry, "partials/nav.html"),
        Some(Nav::INFO)
    );
}

#[test]
fn vars_the_struct_does_not_provide_are_the_layouts() {
    // home.html reads `user`; `title` and `links` come from what it extends and includes.
    assert_eq!(Home::INFO.vars, ["user"]);
    let layout = find_template(registry(), "layout.html").unwrap();
    assert!(layout.vars.contains(&"title"), "{:?}", layout.vars);
    assert!(Home::INFO.vars.iter().all(|var| Home::FIELDS.contains(var)));
}
