use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "vars/item.html")]
struct Item {
    #[shipwright(globals(item))]
    item: String,
}

fn main() {
    let _ = Item::info();
}
