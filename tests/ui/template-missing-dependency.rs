use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "missing/page.html")]
struct Page;

fn main() {
    let _ = Page::info();
}
