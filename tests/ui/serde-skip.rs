// A field serde skips is not in the context.
use serde::Serialize;
use shipwright_runtime::Template;

#[derive(Serialize, Template)]
#[template(path = "pages/home.html")]
struct Home {
    title: String,
    user: String,
    #[serde(skip)]
    links: Vec<String>,
}

fn main() {
    let _ = Home::info();
}
