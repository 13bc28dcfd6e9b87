// Compiled with SHIPWRIGHT_BUILD_CACHE naming a BuildCache of version 99.
use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
