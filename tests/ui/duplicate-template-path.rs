use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/home.html", path = "pages/about.html")]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
