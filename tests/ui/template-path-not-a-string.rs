use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = 42)]
struct Home {
    user: String,
}

fn main() {
    let _ = Home::info();
}
