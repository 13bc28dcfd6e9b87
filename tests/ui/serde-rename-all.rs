// `userName` is what the template reads and what serde calls `user_name`; `member_since`
// becomes `memberSince`, which the template does not read.
use serde::Serialize;
use shipwright_runtime::Template;

#[derive(Serialize, Template)]
#[serde(rename_all = "camelCase")]
#[template(path = "vars/profile.html")]
struct Profile {
    user_name: String,
    member_since: u16,
}

fn main() {
    let _ = Profile::info();
}
