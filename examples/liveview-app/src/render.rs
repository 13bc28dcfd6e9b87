//! Each page rendered whole and part by part through the runtime's [`Templates`] (which keeps
//! the compiled templates in step with the watcher), and the difference between two renders as
//! the smallest set of parts to swap.

use std::collections::HashMap;

use shipwright_runtime::render::Templates;

use crate::pages::{Page, Part};

/// Renders pages.
pub struct Renderer {
    templates: Templates,
}

/// One page, rendered whole and by part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The document.
    pub html: String,
    /// Each part's content, by id.
    pub parts: HashMap<&'static str, String>,
}

/// What to send to bring a browser from one render to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch {
    /// Nothing differs.
    None,
    /// These parts, each with its new content (no part inside another).
    Parts(Vec<(&'static str, String)>),
    /// Something outside every part differs: the whole document.
    Page(String),
}

impl Renderer {
    /// A renderer over `templates`.
    pub fn new(templates: Templates) -> Self {
        Renderer { templates }
    }

    /// The templates (for the watcher).
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Renders `page` with `context`, whole and every part.
    pub fn render(
        &self,
        page: Page,
        context: minijinja::Value,
    ) -> Result<Rendered, minijinja::Error> {
        let template = self.templates.environment().get_template(page.template())?;
        let mut captured = template.render_captured(context)?;
        let mut parts = HashMap::new();
        captured.with_state_mut(|state| -> Result<(), minijinja::Error> {
            let mut stack: Vec<&Part> = page.parts().iter().collect();
            while let Some(part) = stack.pop() {
                parts.insert(part.id, state.render_block(part.id)?);
                stack.extend(part.children);
            }
            Ok(())
        })?;
        Ok(Rendered {
            html: captured.into_output(),
            parts,
        })
    }
}

/// The smallest patch from `old` to `new` over `page`'s parts: a part goes whole when its own
/// content (without the parts inside it) changed, else its changed children go; the document
/// goes whole when something outside every part changed.
pub fn diff(page: Page, old: &Rendered, new: &Rendered) -> Patch {
    if old == new {
        return Patch::None;
    }
    if own(&old.html, page.parts(), old) != own(&new.html, page.parts(), new) {
        return Patch::Page(new.html.clone());
    }
    let mut out = Vec::new();
    let mut stack: Vec<&Part> = page.parts().iter().collect();
    while let Some(part) = stack.pop() {
        let (before, after) = (&old.parts[part.id], &new.parts[part.id]);
        if before == after {
            continue;
        }
        if own(before, part.children, old) != own(after, part.children, new) {
            out.push((part.id, after.clone()));
        } else {
            stack.extend(part.children);
        }
    }
    out.sort_unstable_by_key(|(id, _)| *id);
    Patch::Parts(out)
}

/// `html` with the content of each of `children` cut out (the first place it occurs, in
/// order): what is left is what no child renders.
fn own(html: &str, children: &[Part], rendered: &Rendered) -> String {
    let mut rest = html;
    let mut out = String::with_capacity(html.len());
    for child in children {
        let content = &rendered.parts[child.id];
        if content.is_empty() {
            continue;
        }
        // Not found as such: the child's content stays in, so a change in it counts as a
        // change of this part (the larger swap, never a missed one).
        if let Some(at) = rest.find(content.as_str()) {
            out.push_str(&rest[..at]);
            out.push('\u{0}');
            rest = &rest[at + content.len()..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(title: &str, counter: &str, extra: &str) -> Rendered {
        let content = format!("<h1>Live</h1><div>{counter}</div>{extra}");
        let html = format!(
            "<title>{title}</title><header>nav</header><main>{content}</main><div>foot</div>"
        );
        let parts = HashMap::from([
            ("title", title.to_string()),
            ("nav", "nav".into()),
            ("content", content),
            ("counter", counter.into()),
            ("footer", "foot".into()),
        ]);
        Rendered { html, parts }
    }

    #[test]
    fn the_same_render_is_no_patch() {
        let a = rendered("T", "Count: 1", "");
        assert_eq!(diff(Page::Counter, &a, &a.clone()), Patch::None);
    }

    #[test]
    fn a_change_inside_a_nested_part_sends_that_part_only() {
        let (a, b) = (rendered("T", "Count: 1", ""), rendered("T", "Count: 2", ""));
        assert_eq!(
            diff(Page::Counter, &a, &b),
            Patch::Parts(vec![("counter", "Count: 2".into())])
        );
    }

    #[test]
    fn a_change_around_a_nested_part_sends_the_outer_part() {
        let (a, b) = (
            rendered("T", "Count: 1", ""),
            rendered("U", "Count: 1", "<p>new</p>"),
        );
        let Patch::Parts(parts) = diff(Page::Counter, &a, &b) else {
            panic!()
        };
        assert_eq!(
            parts.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            ["content", "title"]
        );
    }

    #[test]
    fn a_change_outside_every_part_sends_the_page() {
        let a = rendered("T", "Count: 1", "");
        let mut b = a.clone();
        b.html = b.html.replace("<header>", "<p>banner</p><header>");
        assert_eq!(diff(Page::Counter, &a, &b), Patch::Page(b.html.clone()));
    }
}
