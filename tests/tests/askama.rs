//! One struct, two derives (askama's and ours, one `#[template(...)]`), rendered through
//! `shipwright_runtime::askama::render`: askama's bytes from the build, edits from a copy of the
//! templates on disk through the dev renderer, and askama's compiled page for what the dev
//! renderer refuses or fails on (or the last edit it rendered).

use shipwright_runtime::askama::{dev_problems, render, set_dev_roots};

mod support;
use support::copy_dir;

#[derive(askama::Template, shipwright_runtime::Template, serde::Serialize)]
#[template(path = "askama/page.html", escape = "html", print = "none")]
struct Page {
    title: &'static str,
    note: String,
    done: bool,
    price: f64,
    count: i64,
    items: Vec<&'static str>,
    badge: Option<&'static str>,
}

fn page() -> Page {
    Page {
        title: "Caf\u{e9} <b>&</b>",
        note: "\"quoted\" 'single' a/b".into(),
        done: true,
        price: 3.0,
        count: -2,
        items: vec!["<one>", "two & three"],
        badge: Some("<new>"),
    }
}

#[test]
fn edits_render_as_askama_would_and_refusals_keep_the_last_good_version() {
    let copy = tempfile::tempdir().unwrap();
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&manifest.join("templates"), copy.path());
    set_dev_roots(vec![copy.path().to_path_buf()]);
    let built = askama::Template::render(&page()).unwrap();
    assert!(built.contains("&#60;b&#62;&#38;&#60;/b&#62;"), "{built}");
    assert!(
        built.contains("&#34;quoted&#34; &#39;single&#39; a/b true 3 -2"),
        "{built}"
    );

    // The files are the build's: askama's page (and the dev renderer agreed with it).
    assert_eq!(render(&page()).unwrap(), built);
    assert_eq!(dev_problems(), []);

    // A literal edit in the included template shows, escaped and formatted as askama does.
    let item = copy.path().join("askama/item.html");
    let built_item = std::fs::read_to_string(&item).unwrap();
    std::fs::write(&item, "<li class=x>{{ loop.index }}: {{ item }}</li>\n").unwrap();
    assert_eq!(
        render(&page()).unwrap(),
        built.replace("<li>", "<li class=x>")
    );
    assert_eq!(dev_problems(), []);

    // How askama reads an `Option` and matches literals: `if let`, `match` with string and
    // integer arms, rendered from disk.
    std::fs::write(
        &item,
        "<li>{% if let Some(b) = badge %}{{ b }} {% endif %}{% match item %}{% when \"<one>\" %}\
         first{% else %}{{ item }}{% endmatch %}{% match count %}{% when -2 %}!{% when _ %}?\
         {% endmatch %}</li>",
    )
    .unwrap();
    let now = render(&page()).unwrap();
    assert!(
        now.contains("<li>&#60;new&#62; first!</li><li>&#60;new&#62; two &#38; three!</li>"),
        "{now}"
    );
    assert_eq!(dev_problems(), []);

    // A method call: the dev renderer refuses it, the page stays the last version that
    // rendered, the problem names the construct, the file and the line.
    let last_good = now;
    std::fs::write(&item, "<li>\n{{ item.len() }}</li>\n").unwrap();
    assert_eq!(render(&page()).unwrap(), last_good);
    let problems = dev_problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].edited && problems[0].last_good,
        "the page served is the last version that rendered: {problems:?}"
    );
    assert_eq!(
        problems[0].to_string(),
        "askama/page.html: the dev renderer cannot render a method call `len()` \
         (askama/item.html:2)"
    );

    // A render error (a variable the struct lacks): the last version that rendered, and the
    // error.
    std::fs::write(&item, "<li>{{ missing }}</li>\n").unwrap();
    assert_eq!(render(&page()).unwrap(), last_good);
    let problems = dev_problems();
    assert!(
        problems[0].reason.contains("the dev render failed") && problems[0].edited,
        "{problems:?}"
    );

    // Fixed: the dev renderer again.
    std::fs::write(&item, "<li>{{ item }}!</li>\n").unwrap();
    let now = render(&page()).unwrap();
    assert!(
        now.contains("<li>&#60;one&#62;!</li><li>two &#38; three!</li>"),
        "{now}"
    );
    assert_eq!(dev_problems(), []);

    // Back to the build's text, then a refusal: nothing edited rendered since the build's text,
    // so the page is askama's of the build.
    std::fs::write(&item, &built_item).unwrap();
    assert_eq!(render(&page()).unwrap(), built);
    std::fs::write(&item, "<li>{{ item.len() }}</li>").unwrap();
    assert_eq!(render(&page()).unwrap(), built);
    assert!(!dev_problems()[0].last_good);
}

/// `Page` with a field whose serde form loses `Some(None)`.
#[derive(askama::Template, shipwright_runtime::Template, serde::Serialize)]
#[template(path = "askama/page.html", escape = "html", print = "none")]
struct Lossy {
    title: &'static str,
    note: String,
    done: bool,
    price: f64,
    count: i64,
    items: Vec<&'static str>,
    badge: Option<&'static str>,
    extra: Option<Option<u8>>,
}

/// The planner's binding carries what the dev renderer refuses about the type itself.
#[test]
fn bindings_carry_the_dev_renderers_refusal_of_the_type() {
    use shipwright_runtime::Binding;
    assert_eq!(Binding::of::<Page>().dev_refusal, None);
    let refusal = Binding::of::<Lossy>().dev_refusal.expect("a refusal");
    assert!(
        refusal.contains("`Some(None)` from `None` in the field `extra`"),
        "{refusal}"
    );
}
