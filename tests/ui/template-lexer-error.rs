use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "broken/unterminated.html")]
struct Broken {
    user: String,
}

fn main() {
    let _ = Broken::info();
}
