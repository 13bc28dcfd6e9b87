// Compiles: every variable is provided by a field, a global, the templates themselves (the
// loop variable reaches the included item), or is optional; the module imported without
// context reads nothing of the struct; a flattened struct is not checked.
use std::collections::BTreeMap;

use serde::Serialize;
use shipwright_runtime::Template;

#[derive(Serialize)]
struct Entry {
    name: String,
}

#[derive(Serialize, Template)]
#[template(path = "vars/list.html")]
#[shipwright(globals(app_name))]
struct List {
    items: Vec<Entry>,
}

#[derive(Serialize, Template)]
#[serde(rename_all = "camelCase")]
#[template(path = "vars/profile.html")]
struct Profile {
    user_name: String,
    #[serde(rename = "member_since")]
    since: u16,
}

#[derive(Template)]
#[template(path = "vars/item.html")]
#[shipwright(globals("item"))]
struct Item;

#[derive(Serialize, Template)]
#[template(path = "pages/home.html")]
struct Flat {
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

fn main() {
    assert_eq!(List::FIELDS, ["items"]);
    assert_eq!(Profile::FIELDS, ["user_name", "since"]);
    assert_eq!(Flat::info().name, "pages/home.html");
    assert!(Item::FIELDS.is_empty());
}
