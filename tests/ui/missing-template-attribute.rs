use shipwright_runtime::Template;

#[derive(Template)]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
