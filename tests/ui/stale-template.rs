// The driver changes `stale.html` after the build script recorded it.
use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "stale.html")]
struct Stale;

fn main() {
    let _ = Stale::info();
}
