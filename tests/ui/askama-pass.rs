//! askama's derive and ours on one struct, one `#[template(...)]` with askama's keys.
use shipwright_runtime::Template as _;

#[derive(askama::Template, shipwright_runtime::Template, serde::Serialize)]
#[template(path = "askama/page.html", escape = "html", ext = "html", print = "none")]
#[template(whitespace = "preserve")]
struct Page {
    title: String,
    note: String,
    done: bool,
    price: f64,
    count: i64,
    items: Vec<String>,
}

fn main() {
    let page = Page {
        title: "<T>".into(),
        note: String::new(),
        done: false,
        price: 0.5,
        count: 1,
        items: vec!["a".into()],
    };
    assert_eq!(Page::NAME, "askama/page.html");
    let html = shipwright_runtime::askama::render(&page).unwrap();
    assert_eq!(html, askama::Template::render(&page).unwrap());
    assert!(html.starts_with("<h1>&#60;T&#62;</h1>"), "{html}");
}
