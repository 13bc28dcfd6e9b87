//! TO BE REPLACED by the runtime's minijinja environment over the template cache (feature
//! `minijinja` of `shipwright-runtime`, in progress): this app's stand-in until it lands.
//!
//! With `dev`, every render reads the templates from the template root as they are on disk
//! (a new environment per render: no cache to invalidate, fine for a small app); without, it
//! renders the sources embedded at build time.

use serde::Serialize;

/// Renders the template `name` with `ctx`.
pub fn render(name: &str, ctx: impl Serialize) -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.set_loader(load);
    env.get_template(name)?
        .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
}

#[cfg(feature = "dev")]
fn load(name: &str) -> Result<Option<String>, minijinja::Error> {
    let safe = !name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..");
    if !safe {
        return Ok(None);
    }
    match std::fs::read_to_string(crate::templates_dir().join(name)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("cannot read template {name}: {e}"),
        )),
    }
}

#[cfg(not(feature = "dev"))]
fn load(name: &str) -> Result<Option<String>, minijinja::Error> {
    let embedded = shipwright_runtime::embedded_templates!();
    Ok(shipwright_runtime::find_template(embedded, name).map(|t| t.source.to_string()))
}
