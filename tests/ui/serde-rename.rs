// The template sees the struct as serde serializes it: `user` is renamed away.
use serde::Serialize;
use shipwright_runtime::Template;

#[derive(Serialize, Template)]
#[template(path = "pages/home.html")]
struct Home {
    title: String,
    #[serde(rename = "name")]
    user: String,
    links: Vec<String>,
}

fn main() {
    let _ = Home::info();
}
