// home.html reads `user`, the layout it extends `title`, the nav the layout includes `links`:
// each is an error of its own.
use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home;

fn main() {
    let _ = Home::info();
}
