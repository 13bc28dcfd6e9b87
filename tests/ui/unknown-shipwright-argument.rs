use shipwright_runtime::Template;

#[derive(Template)]
#[template(path = "vars/item.html")]
#[shipwright(global(item))]
struct Item {
    item: String,
}

fn main() {
    let _ = Item::info();
}
