use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/home.html")]
enum Page {
    Home,
}

fn main() {
    let _ = Page::info();
}
