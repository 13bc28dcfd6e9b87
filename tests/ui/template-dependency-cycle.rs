use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "cycle/a.html")]
struct A;

fn main() {
    let _ = A::info();
}
