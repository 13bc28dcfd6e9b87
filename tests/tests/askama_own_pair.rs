//! The pairing of the `askama_own` bench, on a test file of our own: which types it pairs,
//! what it writes, and that every line stays where it was.

use std::collections::BTreeMap;

#[path = "../benches/askama_own/pair.rs"]
mod pair;
use pair::{Bound, pair};

const FILE: &str = r##"use askama::Template;

#[test]
fn greets() {
    #[derive(Template)]
    #[template(path = "greet.html")]
    struct Greet<'a> {
        name: &'a str,
    }
    assert_eq!(Greet { name: "x" }.render().unwrap(), "hi x");
}

mod inline {
    use askama::Template;

    /// A page whose template is in the code.
    #[derive(Template)]
    #[template(ext = "txt", source = r#"{{ a }}
line two {{ b }}"#)]
    pub struct Inline<T: std::fmt::Display> {
        a: T,
        b: u8,
    }

    #[derive(askama::Template)]
    #[template(ext = "html", in_doc = true)]
    /// ```askama
    /// {{ x }}
    /// ```
    struct InDoc {
        x: u8,
    }

    #[derive(Template)]
    #[template(path = "e.html")]
    enum Either {
        A,
    }

    #[derive(Template)]
    #[template(path = "unit.html")]
    struct Unit;

    #[derive(Debug)]
    struct NotATemplate;
}
"##;

fn paired(leave: &BTreeMap<usize, String>) -> pair::Paired {
    pair("my-tests", FILE, leave).unwrap()
}

#[test]
fn pairs_the_template_structs_and_keeps_every_line() {
    let paired = paired(&BTreeMap::new());
    let bound = |path: &str| -> Bound {
        paired
            .bound
            .iter()
            .find(|b| b.path == path)
            .unwrap_or_else(|| panic!("{path} in {:?}", paired.bound))
            .clone()
    };
    assert_eq!(paired.bound.len(), 5, "{:?}", paired.bound);
    assert_eq!(bound("my_tests::greets::Greet").lines, (5, 9));
    assert_eq!(bound("my_tests::greets::Greet").unpaired, None);
    assert_eq!(bound("my_tests::inline::Inline").lines, (16, 23));
    assert_eq!(bound("my_tests::inline::Unit").unpaired, None);
    assert_eq!(
        bound("my_tests::inline::InDoc").unpaired.as_deref(),
        Some("#[template(in_doc = true)]")
    );
    assert_eq!(
        bound("my_tests::inline::Either").unpaired.as_deref(),
        Some("an enum")
    );

    // The same lines, each where it was (a compile error's line names its struct).
    let old: Vec<&str> = FILE.lines().collect();
    let new: Vec<&str> = paired.text.lines().collect();
    assert_eq!(old.len(), new.len(), "{}", paired.text);
    for (n, (old, new)) in old.iter().zip(&new).enumerate() {
        let line = n + 1;
        let changed = [7, 9, 18, 19, 20, 23, 42].contains(&line);
        assert_eq!(old != new, changed, "line {line}: {new}");
    }
    assert_eq!(
        new[6],
        "    #[derive(::serde::Serialize, ::shipwright_runtime::Template)] struct Greet<'a> {"
    );
    assert!(
        new[8].starts_with("    } impl < 'a > Greet < 'a > {"),
        "{}",
        new[8]
    );
    assert!(new[8].contains(":: askama_own_harness :: check (self)"));
    assert!(new[19].starts_with(
        "    #[derive(::serde::Serialize, ::shipwright_runtime::Template)] pub struct"
    ));
    assert!(new[22].contains("impl < T : std :: fmt :: Display > Inline < T >"));
    assert!(new[41].ends_with("struct Unit; impl Unit { # [allow (dead_code)] fn render (& self) -> :: askama :: Result < :: std :: string :: String > where Self : :: askama_own_harness :: Paired , { :: askama_own_harness :: check (self) } }"), "{}", new[41]);

    // The source became a file, bound by its path; the two lines of the literal are two lines.
    assert_eq!(
        paired.sources,
        [(
            "__source/my-tests/Inline-16.txt".to_string(),
            "{{ a }}\nline two {{ b }}\n".to_string()
        )]
    );
    assert_eq!(
        new[17],
        "    #[template(ext = \"txt\", path = \"__source/my-tests/Inline-16.txt\""
    );
    assert_eq!(new[18], ")]");
    syn::parse_file(&paired.text).unwrap();
}

#[test]
fn leaves_the_named_structs_alone() {
    let leave = BTreeMap::from([(5, "a field is not Serialize".to_string())]);
    let paired = paired(&leave);
    let greet = paired.bound.iter().find(|b| b.lines.0 == 5).unwrap();
    assert_eq!(greet.unpaired.as_deref(), Some("a field is not Serialize"));
    let lines: Vec<&str> = paired.text.lines().collect();
    assert_eq!(lines[6], "    struct Greet<'a> {");
    assert_eq!(lines[8], "    }");
    // The others are paired still.
    assert!(lines[19].contains("::shipwright_runtime::Template"));
}

#[test]
fn a_file_that_does_not_parse_is_an_error() {
    assert!(pair("bad", "fn (", &BTreeMap::new()).is_err());
}

const MACROS: &str = r##"macro_rules! page {
    ($src:literal, $out:expr) => {{
        #[derive(Template)]
        #[template(source = $src, ext = "txt")]
        pub(crate) struct Page;
        assert_eq!(Page.render().unwrap(), $out);
    }};
}

#[test]
fn pages() {
    page!("a {{- 1 }}", "a1");
    page!("two
lines", "two\nlines");
}
"##;

#[test]
fn pairs_the_type_a_macro_declares_once_per_call() {
    let paired = pair("my-macros", MACROS, &BTreeMap::new()).unwrap();
    assert_eq!(paired.macros, [(1, 8)]);
    let calls: Vec<(&str, (usize, usize), usize, bool)> = paired
        .bound
        .iter()
        .map(|b| (b.path.as_str(), b.lines, b.group, b.unpaired.is_none()))
        .collect();
    assert_eq!(
        calls,
        [
            ("my_macros::pages::Page", (12, 12), 1, true),
            ("my_macros::pages::Page", (13, 14), 1, true)
        ]
    );
    assert_eq!(
        paired.sources,
        [
            (
                "__source/my-macros/Page-12.txt".to_string(),
                "a {{- 1 }}\n".to_string()
            ),
            (
                "__source/my-macros/Page-13.txt".to_string(),
                "two\nlines\n".to_string()
            ),
        ]
    );
    let lines: Vec<&str> = paired.text.lines().collect();
    assert_eq!(lines.len(), MACROS.lines().count());
    assert_eq!(lines[3], "        #[template(path = $src, ext = \"txt\")]");
    assert!(
        lines[4].starts_with(
            "        #[derive(::serde::Serialize, ::shipwright_runtime::Template)] pub(crate) struct \
             Page; \
             impl Page {"
        ),
        "{}",
        lines[4]
    );
    assert_eq!(
        lines[11],
        "    page!(\"__source/my-macros/Page-12.txt\", \"a1\");"
    );
    assert_eq!(lines[12], "    page!(\"__source/my-macros/Page-13.txt\"");
    assert_eq!(lines[13], ", \"two\\nlines\");");
    syn::parse_file(&paired.text).unwrap();

    // Left alone: the macro and its calls as written.
    let leave = BTreeMap::from([(1, "a field is not Serialize".to_string())]);
    let paired = pair("my-macros", MACROS, &leave).unwrap();
    assert_eq!(paired.text, MACROS);
    assert!(paired.sources.is_empty());
    assert!(paired.bound.iter().all(|b| b.unpaired.is_some()));
}
