//! Records the templates for `#[derive(Template)]` and `embedded_templates!`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    shipwright_build::Builder::new().root("templates").build()?;
    Ok(())
}
