use shipwright_runtime::{Template, TemplateInfo, template};

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home<'a, T: std::fmt::Display> {
    title: &'a str,
    user: T,
}

#[derive(Template)]
#[template(path = "partials/nav.html")]
struct Nav;

const NAV: &TemplateInfo = template!("partials/nav.html");

fn main() {
    assert_eq!(<Home<'_, String>>::INFO.name, "pages/home.html");
    assert_eq!(<Home<'_, u8>>::FIELDS, ["title", "user"]);
    assert_eq!(Home::<u8>::INFO.transitive, ["layout.html", "partials/nav.html"]);
    assert_eq!(Home::<u8>::INFO.source, include_str!("../templates/pages/home.html"));
    assert_eq!(Nav::INFO, NAV);
    assert!(Nav::FIELDS.is_empty());
}
