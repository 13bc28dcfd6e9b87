// Compiled with SHIPWRIGHT_BUILD_CACHE unset: a crate without the build script.
use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
