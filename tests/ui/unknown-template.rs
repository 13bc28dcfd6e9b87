use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/hom.html")]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
