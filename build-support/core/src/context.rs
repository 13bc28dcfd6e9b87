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
//! - a read in the body of a macro of a template's top level ([`Var::macros`]) counts only
//!   when the macro runs: when the template's own code calls it
//!   ([`Macro::called`]), a template that imports it calls it ([`Dep::calls`]; any, through a
//!   dynamic reference), or a macro that runs calls it ([`Macro::calls`]). Jinja2 does not
//!   evaluate the body of a macro nothing calls, so a struct without what it reads renders.
//!
//!
//! [`Var::macros`]: crate::format::Var::macros
//! [`Macro::called`]: crate::format::Macro::called
//! [`Macro::calls`]: crate::format::Macro::calls
//!
//! Not followed: references whose name is an expression (the planner treats those
//! conservatively on its own) and names that resolve to no template (a missing dependency is
//! an error of its own).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

use crate::format::{BuildCache, Dep, TemplateRecord, Var};
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

    // Per way a template is reached: what it sees defined (sorted). A way is the template
    // and the macros of it that the reference calls (`None`: any; `Some([])` for the bound
    // template, `extends` and `include`): one template imported in two places, calling
    // different macros with different names defined, is two ways.
    let none: &[String] = &[];
    let start = (bound.as_str(), Some(none));
    let mut scopes: HashMap<Way<'_>, Vec<&str>> = HashMap::from([(start, Vec::new())]);
    // Templates in the order of first reach, with their ways.
    let mut order: Vec<&str> = vec![bound.as_str()];
    let mut ways: HashMap<&str, Vec<Way<'_>>> = HashMap::from([(bound.as_str(), vec![start])]);
    let mut queue: VecDeque<Way<'_>> = VecDeque::from([start]);
    // Scopes only shrink, so every way is queued again at most once per name it loses.
    while let Some(way) = queue.pop_front() {
        let at = way.0;
        let record = &cache.templates[at];
        let seen = scopes[&way].clone();
        let statics = record.deps.iter().filter(|d| d.context).filter_map(|dep| {
            Some((
                target(cache, dep)?,
                dep.scope.as_slice(),
                dep.calls.as_deref(),
            ))
        });
        // A dynamic reference may be an import that calls any macro.
        let dynamics: Vec<Reference<'_>> = match dynamic {
            Dynamic::Followed => record
                .dynamic
                .iter()
                .filter(|d| d.context)
                .flat_map(|d| {
                    crate::dynamic::Targets::of(&d.expr)
                        .select_in(&cache.templates)
                        .into_iter()
                        .filter(move |&t| t != at)
                        .map(move |t| (t, d.scope.as_slice(), None))
                })
                .collect(),
            Dynamic::NotFollowed => Vec::new(),
        };
        for (next, scope, calls) in statics.chain(dynamics) {
            let given = union(&seen, scope);
            let next = (next, calls);
            match scopes.get_mut(&next) {
                None => {
                    scopes.insert(next, given);
                    match ways.get_mut(next.0) {
                        Some(list) => list.push(next),
                        None => {
                            order.push(next.0);
                            ways.insert(next.0, vec![next]);
                        }
                    }
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
        let record = &cache.templates[name];
        let mut found: HashSet<&str> = HashSet::new();
        for way in &ways[name] {
            let scope = &scopes[way];
            let called = called_macros(record, way.1);
            let runs = |var: &Var| {
                var.macros.is_empty() || var.macros.iter().any(|m| called.contains(m.as_str()))
            };
            found.extend(
                record
                    .vars
                    .iter()
                    .filter(|var| runs(var) && !available(&var.name))
                    .filter(|var| scope.binary_search(&var.name.as_str()).is_err())
                    .map(|var| var.name.as_str()),
            );
        }
        let mut reads: Vec<MissingRead> = record
            .vars
            .iter()
            .filter(|var| found.contains(var.name.as_str()))
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

/// A reference followed: the template it names, the names defined at it, the macros of the
/// template it calls (`None`: any).
type Reference<'c> = (&'c str, &'c [String], Option<&'c [String]>);

/// A way a template is reached: its name, and the macros of it that the reference calls
/// (`None`: any).
type Way<'c> = (&'c str, Option<&'c [String]>);

/// The macros of `record`'s top level that run: those the reference calls (`None`: any), those
/// its own code calls, and those these call in turn.
fn called_macros<'c>(
    record: &'c TemplateRecord,
    from_outside: Option<&[String]>,
) -> HashSet<&'c str> {
    let mut called: HashSet<&str> = HashSet::new();
    let mut queue: Vec<&str> = record
        .macros
        .iter()
        .filter(|m| m.called || from_outside.is_none_or(|names| names.contains(&m.name)))
        .map(|m| m.name.as_str())
        .collect();
    while let Some(name) = queue.pop() {
        if !called.insert(name) {
            continue;
        }
        if let Ok(i) = record
            .macros
            .binary_search_by(|m| m.name.as_str().cmp(name))
        {
            queue.extend(record.macros[i].calls.iter().map(String::as_str));
        }
    }
    called
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
    fn a_macro_reads_only_when_it_is_called() {
        // flask-admin's lib.html: the importer calls one macro, another reads a name the
        // struct lacks.
        let lib = "{% macro a() %}<b>{{ title }}</b>{{ b2() }}{% endmacro %}\n\
                   {% macro b() %}{{ extra }}{% endmacro %}\n\
                   {% macro b2() %}{{ deep }}{% endmacro %}";
        let c = cache(&[
            (
                "page.html",
                "{% import 'lib.html' as lib with context %}{{ lib.a() }}",
            ),
            ("lib.html", lib),
        ]);
        // `a` runs, and `b2` through it; `b` does not.
        assert_eq!(
            missing(&c, "page.html", &["title"]),
            [read("deep", "lib.html", 3)]
        );
        // `from … import` calls what it names; a module used as a value may call anything.
        for (page, extra) in [
            ("{% from 'lib.html' import b with context %}{{ b() }}", true),
            (
                "{% from 'lib.html' import a with context %}{{ a() }}",
                false,
            ),
            (
                "{% import 'lib.html' as lib with context %}{{ f(lib) }}",
                true,
            ),
        ] {
            let c = cache(&[("page.html", page), ("lib.html", lib)]);
            let names: Vec<String> = missing(&c, "page.html", &["title", "deep", "f"])
                .into_iter()
                .map(|(v, _, _)| v)
                .collect();
            assert_eq!(names.contains(&"extra".to_string()), extra, "{page}");
        }
        // Its own template calls it (here from a block, and through a call block).
        let c = cache(&[(
            "page.html",
            "{% macro m() %}{{ a }}{% endmacro %}{% macro n() %}{{ b }}{{ caller() }}{% endmacro %}\
             {% macro unused() %}{{ c }}{% endmacro %}\
             {% block body %}{{ m() }}{% call n() %}x{% endcall %}{% endblock %}",
        )]);
        let names: Vec<String> = missing(&c, "page.html", &[])
            .into_iter()
            .map(|(v, _, _)| v)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_module_imported_before_the_parent_sets_a_name_reads_it_when_called() {
        // mkdocs-material's blog-post.html: the child imports a module with context at its top
        // level, before the parent sets `features`; the module's macro reads it from the
        // struct once the child calls it.
        let base = "{% set features = config.features %}{% include 'nav.html' %}\
                    {% block container %}{% endblock %}";
        let nav_item = "{% macro render(n) %}{% if 'tabs' in features %}{{ n.title }}{% endif %}{% endmacro %}";
        let page = |body: &str| {
            format!(
                "{{% extends 'base.html' %}}{{% import 'nav-item.html' as item with context %}}\
                 {{% block container %}}{body}{{% endblock %}}"
            )
        };
        let files = |body: &str| {
            cache(&[
                ("page.html", page(body)),
                ("base.html", base.to_string()),
                (
                    "nav.html",
                    "{% import 'nav-item.html' as item with context %}{{ item.render(nav) }}"
                        .to_string(),
                ),
                ("nav-item.html", nav_item.to_string()),
            ])
        };
        assert_eq!(
            missing(&files("<p></p>"), "page.html", &["config", "nav"]),
            []
        );
        assert_eq!(
            missing(
                &files("{{ item.render(page) }}"),
                "page.html",
                &["config", "nav", "page"]
            ),
            [read("features", "nav-item.html", 1)]
        );
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
