//! askama's derive and ours on a struct that is not `Serialize`: the dev renderer (the runtime's
//! `askama` and `dev` features, a debug build) renders it through serde, so the error names the
//! struct. A struct that only derives ours (`Plain`) is not asked for `Serialize`.
#[derive(askama::Template, shipwright_runtime::Template)]
#[template(path = "askama/page.html")]
struct Page {
    title: String,
    note: String,
    done: bool,
    price: f64,
    count: i64,
    items: Vec<String>,
}

#[derive(shipwright_runtime::Template)]
#[template(path = "askama/page.html")]
struct Plain {
    title: String,
    note: String,
    done: bool,
    price: f64,
    count: i64,
    items: Vec<String>,
}

fn main() {}
