use shipwright_runtime::Template;

#[derive(Template)]
#[template(pth = "pages/home.html")]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
