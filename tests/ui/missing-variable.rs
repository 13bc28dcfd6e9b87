// layout.html reads `title`; the struct has `titel`.
use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home {
    titel: String,
    user: String,
    links: Vec<String>,
}

fn main() {
    let _ = Home::info();
}
