use shipwright_runtime::{TemplateInfo, template};

fn main() {
    let _: &TemplateInfo = template!("no/such/template.html");
}
