//! Which variables a bound template reads from the struct: the one rule that the derive's
//! compile-time check and the rebuild planner share.
//!
//! ```
//! use shipwright_core::analyze::record;
//! use shipwright_core::context::missing_reads;
//! use shipwright_core::format::BuildCache;
//! use shipwright_core::graph::link;
//!
//! let mut cache = BuildCache::new(vec!["templates".into()]);
//! for (name, text) in [
//!     ("page.html", "{% extends 'layout.html' %}{% set title = 'Home' %}"),
//!     ("layout.html", "<title>{{ title }}</title>\n{% for link in links %}{% include 'link.html' %}{% endfor %}"),
//!     ("link.html", "<a href='{{ link.url }}'>{{ link.text }}</a>{{ lang }}"),
//! ] {
//!     cache.templates.insert(name.into(), record(name, 0, text).0);
//! }
//! link(&mut cache);
//! let missing = missing_reads(&cache, "page.html", ["links"], []);
//! assert_eq!(missing.len(), 1);
//! assert_eq!(missing[0].to_string(), "`lang` (read at link.html:1)");
//! ```
//!
//! # The rule
//!
//! A template renders with a context: the struct's fields (as serde names them), the declared
//! globals, and what the templates themselves define. [`missing_reads`] walks the bound
//! template's closure **as the cache holds it now** (a switched `extends`, a new include bring
//! their templates' reads with them) and reports every read of the context
//! ([`TemplateRecord::vars`](crate::format::TemplateRecord), which leaves optional reads out)
//! that nothing provides:
//!
//! - the bound template's own reads count;
//! - a referenced template's reads count only through references that pass the context
//!   ([`Dep::context`]): `extends` (the parent renders with the child's context), `include`
//!   unless `without context`, `import` / `from … import` only `with context`;
//! - a referenced template sees, on top of the context, the names defined where it is
//!   referenced ([`Dep::scope`]: the loop variable around an include, the child's top-level
//!   `set`s for its parent), and what the templates on the way to it defined there; reached
//!   along several paths, it sees only what every path gives it.
//!
//! Not followed: references whose name is an expression (the planner treats those
//! conservatively on its own) and names that resolve to no template (a missing dependency is
//! an error of its own).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use crate::format::{BuildCache, Dep};
use crate::graph::resolve_name;

/// A read of the context that nothing provides.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MissingRead {
    /// The variable.
    pub variable: String,
    /// The template that reads it (the bound one, or one it renders).
    pub template: String,
    /// 1-based line of its first read there.
    pub line: u32,
}

impl fmt::Display for MissingRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (read at {}:{})",
            self.variable, self.template, self.line
        )
    }
}

/// The reads of `template`'s closure in `cache` that neither `provided` (the struct's fields),
/// nor `globals`, nor [`BuildCache::globals`], nor the templates themselves provide (see the
/// module's documentation). In the order the templates are reached (the bound one first, then
/// breadth-first through its references in source order), each template's by line. Empty when
/// `template` is not in the cache.
pub fn missing_reads<'a>(
    cache: &BuildCache,
    template: &str,
    provided: impl IntoIterator<Item = &'a str>,
    globals: impl IntoIterator<Item = &'a str>,
) -> Vec<MissingRead> {
    reads(cache, template, provided, globals, Dynamic::NotFollowed)
}

/// [`missing_reads`], and through every dynamic reference that passes the context too, to every
/// template it may name ([`crate::dynamic::Targets`]), with the names defined at the tag
/// ([`DynamicRef::scope`](crate::format::DynamicRef::scope)): what may be read, for the planner, which must never call a change a hot reload that renders with a
/// variable nothing provides. (The derive's compile-time check does not follow them: a
/// reference whose name is only known at render time would make every template's reads the
/// struct's.)
pub fn missing_reads_through_dynamic<'a>(
    cache: &BuildCache,
    template: &str,
    provided: impl IntoIterator<Item = &'a str>,
    globals: impl IntoIterator<Item = &'a str>,
) -> Vec<MissingRead> {
    reads(cache, template, provided, globals, Dynamic::Followed)
}

/// Whether [`reads`] follows dynamic references.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dynamic {
    NotFollowed,
    Followed,
}

fn reads<'a>(
    cache: &BuildCache,
    template: &str,
    provided: impl IntoIterator<Item = &'a str>,
    globals: impl IntoIterator<Item = &'a str>,
    dynamic: Dynamic,
) -> Vec<MissingRead> {
    let Some((bound, _)) = cache.templates.get_key_value(template) else {
        return Vec::new();
    };
    let given: HashSet<&str> = provided.into_iter().chain(globals).collect();
    let declared: HashSet<&str> = cache.globals.iter().map(String::as_str).collect();
    let available = |name: &str| given.contains(name) || declared.contains(name);

    // Per template reached: what it sees defined (sorted), and the order of first reach.
    let mut scopes: HashMap<&str, Vec<&str>> = HashMap::from([(bound.as_str(), Vec::new())]);
    let mut order: Vec<&str> = vec![bound.as_str()];
    let mut queue: VecDeque<&str> = VecDeque::from([bound.as_str()]);
    // Scopes only shrink, so every template is queued again at most once per name it loses.
    while let Some(at) = queue.pop_front() {
        let record = &cache.templates[at];
        let seen = scopes[at].clone();
        let statics = record
            .deps
            .iter()
            .filter(|d| d.context)
            .filter_map(|dep| Some((target(cache, dep)?, dep.scope.as_slice())));
        let dynamics: Vec<(&str, &[String])> = match dynamic {
            Dynamic::Followed => record
                .dynamic
                .iter()
                .filter(|d| d.context)
                .flat_map(|d| {
                    crate::dynamic::Targets::of(&d.expr)
                        .select_in(&cache.templates)
                        .into_iter()
                        .filter(move |&t| t != at)
                        .map(move |t| (t, d.scope.as_slice()))
                })
                .collect(),
            Dynamic::NotFollowed => Vec::new(),
        };
        for (next, scope) in statics.chain(dynamics) {
            let given = union(&seen, scope);
            match scopes.get_mut(next) {
                None => {
                    scopes.insert(next, given);
                    order.push(next);
                    queue.push_back(next);
                }
                Some(scope) => {
                    let kept = intersection(scope, &given);
                    if kept.len() < scope.len() {
                        *scope = kept;
                        queue.push_back(next);
                    }
                }
            }
        }
    }

    let mut missing = Vec::new();
    for name in order {
        let scope = &scopes[name];
        let mut reads: Vec<MissingRead> = cache.templates[name]
            .vars
            .iter()
            .filter(|var| !available(&var.name) && scope.binary_search(&var.name.as_str()).is_err())
            .map(|var| MissingRead {
                variable: var.name.clone(),
                template: name.to_string(),
                line: var.line,
            })
            .collect();
        reads.sort_by(|a, b| (a.line, &a.variable).cmp(&(b.line, &b.variable)));
        missing.extend(reads);
    }
    missing
}

/// The template a dependency names, as the cache spells it, if there is one.
fn target<'c>(cache: &'c BuildCache, dep: &Dep) -> Option<&'c str> {
    let name = resolve_name(&dep.name).ok()?;
    cache
        .templates
        .get_key_value(&name)
        .map(|(name, _)| name.as_str())
}

/// Both sorted lists in one, sorted, without repeats.
fn union<'a>(a: &[&'a str], b: &'a [String]) -> Vec<&'a str> {
    let mut out: Vec<&str> = a
        .iter()
        .copied()
        .chain(b.iter().map(String::as_str))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The names of sorted `a` that sorted `b` holds too.
fn intersection<'a>(a: &[&'a str], b: &[&str]) -> Vec<&'a str> {
    a.iter()
        .copied()
        .filter(|name| b.binary_search(name).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::record;
    use crate::graph::link;

    fn cache(files: &[(&str, impl AsRef<str>)]) -> BuildCache {
        let mut cache = BuildCache::new(vec!["templates".into()]);
        for (name, text) in files {
            cache
                .templates
                .insert(name.to_string(), record(name, 0, text.as_ref()).0);
        }
        link(&mut cache);
        cache
    }

    /// `(variable, template, line)` of each missing read.
    fn missing(cache: &BuildCache, template: &str, fields: &[&str]) -> Vec<(String, String, u32)> {
        missing_reads(cache, template, fields.iter().copied(), [])
            .into_iter()
            .map(|m| (m.variable, m.template, m.line))
            .collect()
    }

    fn read(variable: &str, template: &str, line: u32) -> (String, String, u32) {
        (variable.to_string(), template.to_string(), line)
    }

    #[test]
    fn an_include_inside_a_loop_gets_the_loop_variable() {
        let c = cache(&[
            (
                "page.html",
                "<ul>\n{% for item in items %}{% include 'row.html' %}{% endfor %}</ul>",
            ),
            ("row.html", "<li>{{ item.name }}</li>\n{{ extra }}"),
        ]);
        assert_eq!(
            missing(&c, "page.html", &["items"]),
            [read("extra", "row.html", 2)]
        );
        // Bound on its own, the row reads `item` from its struct.
        assert_eq!(
            missing(&c, "row.html", &[]),
            [read("item", "row.html", 1), read("extra", "row.html", 2)]
        );
    }

    #[test]
    fn a_dynamic_reference_is_followed_with_its_scope_and_its_context() {
        let through = |c: &BuildCache, fields: &[&str]| -> Vec<(String, String, u32)> {
            missing_reads_through_dynamic(c, "page.html", fields.iter().copied(), [])
                .into_iter()
                .map(|m| (m.variable, m.template, m.line))
                .collect()
        };
        let c = cache(&[
            (
                "page.html",
                "{% for item in items %}{% include 'rows/' ~ kind ~ '.html' %}{% endfor %}",
            ),
            ("rows/a.html", "<li>{{ item.name }}</li>"),
            ("rows/b.html", "<li>{{ item.id }}</li>\n{{ extra }}"),
            ("other.html", "{{ unrelated }}"),
        ]);
        // The loop variable is defined at the tag; `extra` is not; `other.html` is no target.
        assert_eq!(
            through(&c, &["items", "kind"]),
            [read("extra", "rows/b.html", 2)]
        );
        // The compile-time rule does not follow dynamic references.
        assert!(missing(&c, "page.html", &["items", "kind"]).is_empty());
        // A dynamic import without context passes nothing.
        let c = cache(&[
            (
                "page.html",
                "{% import 'forms/' ~ kind ~ '.html' as f %}{{ f.x() }}",
            ),
            (
                "forms/a.html",
                "{% macro x() %}{{ secret }}{% endmacro %}{{ top }}",
            ),
        ]);
        assert!(
            through(&c, &["kind"]).is_empty(),
            "{:?}",
            through(&c, &["kind"])
        );
    }

    #[test]
    fn an_import_without_context_does_not_count() {
        let files = |tag: &str| {
            cache(&[
                ("page.html", format!("{tag}{{{{ forms.field() }}}}")),
                (
                    "forms.html",
                    "{% macro field() %}{{ csrf }}{% endmacro %}{{ theme }}".to_string(),
                ),
            ])
        };
        for tag in [
            "{% import 'forms.html' as forms %}",
            "{% import 'forms.html' as forms without context %}",
            "{% from 'forms.html' import field as forms %}",
        ] {
            assert_eq!(missing(&files(tag), "page.html", &[]), [], "{tag}");
        }
        // With the context, the module's reads are the struct's.
        let c = files("{% import 'forms.html' as forms with context %}");
        assert_eq!(
            missing(&c, "page.html", &[]),
            [
                read("csrf", "forms.html", 1),
                read("theme", "forms.html", 1)
            ]
        );
        // An include without context neither.
        let c = cache(&[
            ("page.html", "{% include 'nav.html' without context %}"),
            ("nav.html", "{{ user }}"),
        ]);
        assert_eq!(missing(&c, "page.html", &[]), []);
    }

    #[test]
    fn a_switched_extends_brings_the_new_layouts_reads() {
        let layouts = [
            (
                "layout.html",
                "<title>{{ title }}</title>{% block body %}{% endblock %}",
            ),
            (
                "wide.html",
                "<title>{{ title }}</title>\n<aside>{{ sidebar }}</aside>{% block body %}{% endblock %}",
            ),
        ];
        let page = |parent: &str| {
            format!("{{% extends '{parent}' %}}{{% block body %}}{{{{ text }}}}{{% endblock %}}")
        };
        let mut files = layouts.to_vec();
        let before = page("layout.html");
        files.push(("page.html", &before));
        assert_eq!(missing(&cache(&files), "page.html", &["title", "text"]), []);
        // The page now extends the other layout, which it did not render before.
        let after = page("wide.html");
        files.pop();
        files.push(("page.html", &after));
        assert_eq!(
            missing(&cache(&files), "page.html", &["title", "text"]),
            [read("sidebar", "wide.html", 2)]
        );
    }

    #[test]
    fn optional_reads_and_what_templates_define_are_not_missing() {
        let c = cache(&[
            (
                "page.html",
                "{% extends 'base.html' %}{% set title = 'Home' %}{% block body %}{{ body }}{% endblock %}",
            ),
            (
                "base.html",
                "<title>{{ title }}{{ subtitle|default('') }}</title>\
                 {% if user is defined %}{{ user.name }}{% endif %}{% block body %}{% endblock %}",
            ),
        ]);
        assert_eq!(missing(&c, "page.html", &["body"]), []);
        // Bound to the layout itself, `title` is the struct's.
        assert_eq!(
            missing(&c, "base.html", &[]),
            [read("title", "base.html", 1)]
        );
    }

    #[test]
    fn globals_provide_too() {
        let mut c = cache(&[("page.html", "{{ app_name }}{{ version }}{{ user }}")]);
        c.globals = vec!["version".into()];
        let found = missing_reads(&c, "page.html", ["user"], ["app_name"]);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(missing(&c, "page.html", &[]).len(), 2);
    }

    #[test]
    fn a_template_reached_two_ways_sees_what_both_give_it() {
        let c = cache(&[
            (
                "page.html",
                "{% for item in items %}{% include 'row.html' %}{% endfor %}{% include 'side.html' %}",
            ),
            ("side.html", "{% include 'row.html' %}"),
            ("row.html", "{{ item }}"),
        ]);
        assert_eq!(
            missing(&c, "page.html", &["items"]),
            [read("item", "row.html", 1)]
        );
        // Scope carries along the way: the include in `side.html` is inside the page's loop.
        let c = cache(&[
            (
                "page.html",
                "{% for item in items %}{% include 'side.html' %}{% endfor %}",
            ),
            ("side.html", "{% set n = 1 %}{% include 'row.html' %}"),
            ("row.html", "{{ item }}{{ n }}"),
        ]);
        assert_eq!(missing(&c, "page.html", &["items"]), []);
    }

    #[test]
    fn cycles_and_unknown_templates_end() {
        let c = cache(&[
            (
                "a.html",
                "{{ x }}{% include 'b.html' %}{% include 'gone.html' %}",
            ),
            ("b.html", "{{ y }}{% include 'a.html' %}"),
        ]);
        assert_eq!(
            missing(&c, "a.html", &[]),
            [read("x", "a.html", 1), read("y", "b.html", 1)]
        );
        assert_eq!(missing(&c, "nope.html", &[]), []);
    }
}
