use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const PAGES: usize = 40;
const PARTIALS: usize = 8;

/// A base layout, `PARTIALS` partials and `PAGES` pages, each extending the base and including
/// two partials.
fn site(root: &Path) -> Vec<String> {
    write(
        root,
        "base.html",
        "<html><body>{% block body %}{% endblock %}</body></html>",
    );
    for p in 0..PARTIALS {
        write(
            root,
            &format!("partials/p{p}.html"),
            &format!("<aside>{p} {{{{ name }}}}</aside>"),
        );
    }
    (0..PAGES)
        .map(|i| {
            let name = format!("pages/page{i}.html");
            write(
                root,
                &name,
                &format!(
                    "{{% extends 'base.html' %}}{{% block body %}}<h1>{i}</h1>\
                     {{% include 'partials/p{}.html' %}}{{% include 'partials/p{}.html' %}}{{% endblock %}}",
                    i % PARTIALS,
                    (i + 1) % PARTIALS
                ),
            );
            name
        })
        .collect()
}

/// What the dev watcher does after an edit of `partial`: drop it and everything that renders it.
fn drop_affected(templates: &Templates, pages: &[String], partial: usize) {
    templates
        .cache()
        .remove(&format!("partials/p{partial}.html"));
    for (i, page) in pages.iter().enumerate() {
        if i % PARTIALS == partial || (i + 1) % PARTIALS == partial {
            templates.cache().remove(page);
        }
    }
}

fn render_all(templates: &Templates, pages: &[String]) -> Vec<String> {
    pages
        .iter()
        .map(|page| {
            templates
                .render_template(page, minijinja::context! { name => "Ada" })
                .unwrap()
        })
        .collect()
}

#[test]
fn after_a_partial_edit_only_the_partial_is_compiled_again() {
    let dir = tempfile::tempdir().unwrap();
    let pages = site(dir.path());
    let templates = Templates::from_roots(vec![dir.path().into()]).unwrap();
    let first = render_all(&templates, &pages);
    assert_eq!(templates.compilations(), (1 + PARTIALS + PAGES) as u64);
    assert!(first[0].contains("<aside>0 Ada</aside>"), "{}", first[0]);

    write(
        dir.path(),
        "partials/p0.html",
        "<aside>zero {{ name }}</aside>",
    );
    drop_affected(&templates, &pages, 0);
    let second = render_all(&templates, &pages);
    assert_eq!(
        templates.compilations(),
        (1 + PARTIALS + PAGES + 1) as u64,
        "only partials/p0.html is compiled again"
    );
    assert!(
        second[0].contains("<aside>zero Ada</aside>"),
        "{}",
        second[0]
    );
    assert_eq!(second[3], first[3], "a page without p0 renders as before");

    // The same renders in minijinja-autoreload's way: every change clears every template.
    let loads = Arc::new(AtomicU64::new(0));
    let mut clear_all = Environment::new();
    let (root, counter) = (dir.path().to_path_buf(), Arc::clone(&loads));
    clear_all.set_loader(move |name| {
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(std::fs::read_to_string(root.join(name)).ok())
    });
    let render = |env: &Environment<'_>| {
        for page in &pages {
            env.get_template(page)
                .unwrap()
                .render(minijinja::context! { name => "Ada" })
                .unwrap();
        }
    };
    render(&clear_all);
    let cold = loads.load(Ordering::Relaxed);
    clear_all.clear_templates();
    render(&clear_all);
    let after_edit = loads.load(Ordering::Relaxed) - cold;
    assert_eq!(
        after_edit,
        (1 + PARTIALS + PAGES) as u64,
        "clear-all compiles everything again"
    );
}

#[test]
fn a_broken_edit_keeps_the_last_good_version_until_it_parses_again() {
    let dir = tempfile::tempdir().unwrap();
    let pages = site(dir.path());
    let templates = Templates::from_roots(vec![dir.path().into()]).unwrap();
    let good = render_all(&templates, &pages);

    write(
        dir.path(),
        "partials/p1.html",
        "<aside>\n{% if name %}oops</aside>",
    );
    drop_affected(&templates, &pages, 1);
    assert_eq!(
        render_all(&templates, &pages),
        good,
        "the last good p1 is served"
    );
    let broken = templates.broken();
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0].template, "partials/p1.html");
    assert_eq!(broken[0].line, Some(2), "{broken:?}");
    let compiled = templates.compilations();
    render_all(&templates, &pages);
    assert_eq!(
        templates.compilations(),
        compiled,
        "a broken text is not compiled on every render"
    );

    write(dir.path(), "partials/p1.html", "<aside>one again</aside>");
    drop_affected(&templates, &pages, 1);
    let fixed = render_all(&templates, &pages);
    assert!(
        fixed[1].contains("<aside>one again</aside>"),
        "{}",
        fixed[1]
    );
    assert!(templates.broken().is_empty());
}

#[test]
fn a_render_error_names_the_innermost_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "page.html",
        "<p>\n{% include 'inner.html' %}</p>",
    );
    write(dir.path(), "inner.html", "ok\n\n{{ 1 / 0 }}");
    let templates = Templates::from_roots(vec![dir.path().into()]).unwrap();
    let err = templates.render_template("page.html", ()).unwrap_err();
    assert_eq!(err.template.as_deref(), Some("inner.html"), "{err}");
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().starts_with("inner.html:3: "), "{err}");

    let missing = templates.render_template("nope.html", ()).unwrap_err();
    assert!(missing.message.contains("not found"), "{missing}");
    let escape = templates.render_template("../etc/passwd", ()).unwrap_err();
    assert!(
        escape.message.contains("escapes the template root"),
        "{escape}"
    );
}

#[test]
fn roots_are_searched_in_order() {
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(first.path(), "a.html", "first");
    write(second.path(), "a.html", "second");
    write(second.path(), "b.html", "only second");
    let templates = Templates::from_roots(vec![first.path().into(), second.path().into()]).unwrap();
    assert_eq!(templates.render_template("a.html", ()).unwrap(), "first");
    assert_eq!(
        templates.render_template("b.html", ()).unwrap(),
        "only second"
    );
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_root_is_not_read() {
    let (root, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(outside.path(), "secret.html", "secret");
    write(root.path(), "page.html", "{% include 'leak.html' %}");
    std::os::unix::fs::symlink(
        outside.path().join("secret.html"),
        root.path().join("leak.html"),
    )
    .unwrap();
    let templates = Templates::from_roots(vec![root.path().into()]).unwrap();
    let err = templates.render_template("page.html", ()).unwrap_err();
    assert!(
        err.message.contains("leads out of the template root"),
        "{err}"
    );
    assert!(!err.to_string().contains("secret\""), "{err}");
}

#[test]
fn a_root_that_is_not_a_directory_is_an_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("templats");
    let Err(error) = Templates::from_roots(vec![dir.path().into(), missing.clone()]) else {
        panic!("a missing root was accepted")
    };
    assert_eq!(error.path, missing);
    assert_eq!(
        error.to_string(),
        format!(
            "{}: template root does not exist or is not a directory",
            missing.display()
        )
    );
}

#[test]
fn ignore_missing_passes_over_a_name_that_is_no_template() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "page.html",
        "a{% include 'widgets/' ~ widget ~ '.html' ignore missing %}{% include 'x.exe' ignore missing %}b",
    );
    let templates = Templates::from_roots(vec![dir.path().into()]).unwrap();
    assert_eq!(templates.render_template("page.html", ()).unwrap(), "ab");
    let err = templates.render_template("x.exe", ()).unwrap_err();
    assert!(err.message.contains("not a template"), "{err}");
}
