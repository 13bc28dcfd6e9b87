use shipwright_runtime::{Template, TemplateInfo, template};

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home<'a, T: std::fmt::Display> {
    title: &'a str,
    user: T,
    links: Vec<String>,
}

#[derive(Template)]
#[template(path = "partials/nav.html")]
struct Nav {
    links: Vec<String>,
}

fn main() {
    let nav: &TemplateInfo = template!("partials/nav.html");
    assert_eq!(<Home<'_, String>>::NAME, "pages/home.html");
    assert_eq!(<Home<'_, u8>>::FIELDS, ["title", "user", "links"]);
    assert_eq!(Home::<u8>::info().record.deps, ["layout.html"]);
    assert_eq!(Home::<u8>::info().source, include_str!("../templates/pages/home.html"));
    assert_eq!(Nav::info(), nav);
    assert_eq!(Nav::FIELDS, ["links"]);
}
