//! What `#[derive(Template)]`, `template!` and `embedded_templates!` embed, checked against the
//! BuildCache this crate's build script wrote and against the files.

use shipwright_core::analyze::content_hash;
use shipwright_core::context::missing_reads;
use shipwright_core::format::{BuildCache, ENV_VAR};
use shipwright_core::graph::closure;
use shipwright_runtime::{Template, TemplateInfo, find_template, template};
use shipwright_tests::{Home, Nav, registry};

fn cache() -> BuildCache {
    BuildCache::load(env!("SHIPWRIGHT_BUILD_CACHE")).unwrap()
}

/// `info` against the record and the file: the record is the build's, whole.
fn assert_matches_cache(info: &TemplateInfo, cache: &BuildCache) {
    let record = &cache.templates[&info.name];
    assert_eq!(&info.record, record);
    assert_eq!(info.root, cache.roots[record.root]);
    assert_eq!(info.path, cache.relative_path(&info.name).unwrap());
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&info.path);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(info.source.as_bytes(), bytes, "{}", file.display());
    assert_eq!(content_hash(&bytes), info.record.hash);
}

#[test]
fn derive_embeds_the_record() {
    assert_eq!(ENV_VAR, "SHIPWRIGHT_BUILD_CACHE");
    let cache = cache();
    assert_matches_cache(Home::info(), &cache);
    assert_eq!(Home::NAME, "pages/home.html");
    assert_eq!(Home::info().name, Home::NAME);
    assert_eq!(Home::info().record.deps, ["layout.html"]);
    assert_eq!(
        closure(&cache, Home::NAME),
        ["layout.html", "partials/nav.html"]
    );
    assert_eq!(Home::FIELDS, ["title", "user", "links"]);
    assert!(std::ptr::eq(Home::info(), Home::info()), "decoded once");
    assert_matches_cache(Nav::info(), &cache);
    assert_eq!(Nav::FIELDS, ["0"]);
}

#[test]
fn template_macro_gives_the_same_record() {
    let home: &'static TemplateInfo = template!("pages/home.html");
    assert_eq!(home, Home::info());
    let about: &TemplateInfo = template!("pages/about.html");
    assert_matches_cache(about, &cache());
}

#[test]
fn registry_lists_every_template_once_in_order() {
    let cache = cache();
    let registry = registry();
    let names: Vec<&str> = registry.iter().map(|info| info.name.as_str()).collect();
    let expected: Vec<&str> = cache.templates.keys().map(String::as_str).collect();
    assert_eq!(names, expected);
    assert!(
        names.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted, no duplicates"
    );
    for info in registry.iter() {
        assert_matches_cache(info, &cache);
    }
    assert_eq!(registry.build_cache(), &cache);
    assert_eq!(
        find_template(registry, "pages/home.html"),
        Some(Home::info())
    );
    assert_eq!(
        find_template(registry, "partials/nav.html"),
        Some(Nav::info())
    );
}

#[test]
fn the_struct_provides_what_the_closure_reads() {
    // home.html reads `user`; `title` and `links` come from what it extends and includes, and
    // the derive checked all three against the struct's fields.
    assert_eq!(Home::info().record.vars, ["user"]);
    let layout = find_template(registry(), "layout.html").unwrap();
    assert!(
        layout.record.var_names().any(|v| v == "title"),
        "{:?}",
        layout.record.vars
    );
    let cache = cache();
    let missing = missing_reads(&cache, Home::NAME, Home::FIELDS.iter().copied(), []);
    assert!(missing.is_empty(), "{missing:?}");
    let without_links = missing_reads(&cache, Home::NAME, ["title", "user"], []);
    assert_eq!(without_links.len(), 1);
    assert_eq!(
        without_links[0].to_string(),
        "`links` (read at partials/nav.html:1)"
    );
}

#[test]
fn a_bound_struct_renders_with_one_call_from_the_embedded_sources() {
    let templates = shipwright_runtime::render::Templates::embedded(registry());
    let html = templates
        .render(&Home {
            title: "Welcome",
            user: "<Ada>",
            links: &["/a".to_string()], // minijinja's HTML escaping writes `/` as `&#x2f;`
        })
        .unwrap();
    assert!(html.contains("<title>Welcome</title>"), "{html}");
    assert!(
        html.contains("<h1>Hello, &lt;Ada&gt;</h1>"),
        "escaped: {html}"
    );
    assert!(
        html.contains(r#"<nav><a href="&#x2f;a">&#x2f;a</a></nav>"#),
        "{html}"
    );
    assert_eq!(templates.compilations(), 3, "home, layout, nav");
}
