//! One template in, its record out: hashes, references and root variables.
//!
//! ```
//! use shipwright_core::analyze::analyze;
//!
//! let before = analyze("<h1>{{ title }}</h1>{% include 'nav.html' %}").unwrap();
//! let text_edit = analyze("<h2>{{ title }}</h2>{% include 'nav.html' %}").unwrap();
//! let code_edit = analyze("<h1>{{ title|upper }}</h1>{% include 'nav.html' %}").unwrap();
//! assert_eq!(before.interface_hash, text_edit.interface_hash);
//! assert_ne!(before.static_hash, text_edit.static_hash);
//! assert_ne!(before.interface_hash, code_edit.interface_hash);
//! assert_eq!(before.deps[0].name, "nav.html");
//! assert_eq!(before.vars[0].name, "title");
//! ```
//!
//! `static_hash` covers the literal text (raw blocks included) with the boundaries between
//! pieces, so moving text across a tag changes it. `interface_hash` covers the tokens of every
//! expression and tag, in order, with their whitespace control, and ignores how the tokens are
//! spaced: `{{x}}` and `{{ x }}` have the same interface. Comments are in neither.
//!
//! The content hash ([`content_hash`]) is blake3: it is the template's identity. The two
//! partial hashes only tell two versions of one template apart, so they use 128-bit xxh3, which
//! is several times faster than blake3 on the many small pieces a template splits into (the
//! scan benchmark measures this against reading and blake3-hashing the files).

use xxhash_rust::xxh3::xxh3_128;

use crate::format::{Dep, DynamicRef, Macro, TemplateError, TemplateRecord, Var, hex, template_id};
use crate::lex::refs::{Found, FoundTarget, Reference, references_at};
use crate::lex::vars::{Positions, analysed};
use crate::lex::{LexError, Lexed, Part, lex_into, reuse};

/// What the lexer learned about one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// xxh3-128 of the literal text, hex.
    pub static_hash: String,
    /// xxh3-128 of the dynamic parts, hex.
    pub interface_hash: String,
    /// Every reference, in source order.
    pub references: Vec<Reference>,
    /// The static names referenced, as written, deduplicated, in order of first appearance,
    /// with whether they get the context and the names defined where they do.
    pub deps: Vec<Dep>,
    /// The dynamic references.
    pub dynamic: Vec<DynamicRef>,
    /// The root variables the template reads and does not define, sorted by name.
    pub vars: Vec<Var>,
    /// The macros of its top level, sorted by name.
    pub macros: Vec<Macro>,
}

/// Lexes `src` and computes its [`Analysis`].
pub fn analyze(src: &str) -> Result<Analysis, LexError> {
    analyze_keeping(src, true)
}

/// [`analyze`], with [`Analysis::references`] left empty unless `keep_references` (a record
/// has no use for them: their names move into its deps instead of being copied).
fn analyze_keeping(src: &str, keep_references: bool) -> Result<Analysis, LexError> {
    thread_local! {
        // The working lists, kept empty between templates so that their memory is reused.
        static SCRATCH: std::cell::Cell<Scratch<'static>> = std::cell::Cell::new(Scratch::default());
    }
    let mut scratch = SCRATCH.take().recycle();
    let analysis = analyze_with(src, &mut scratch, keep_references);
    SCRATCH.set(scratch.recycle());
    analysis
}

/// The working lists of [`analyze_with`].
#[derive(Default)]
struct Scratch<'s> {
    lexed: Lexed<'s>,
    references: Vec<Found<'s>>,
    /// Per dependency, in order of first appearance: its first reference's position in
    /// `references`.
    first: Vec<usize>,
}

impl Scratch<'_> {
    /// Empties the lists and hands their memory over for another template (a huge template's
    /// is let go).
    fn recycle<'t>(self) -> Scratch<'t> {
        Scratch {
            lexed: self.lexed.recycle(),
            references: reuse(self.references),
            first: reuse(self.first),
        }
    }
}

/// Like [`analyze_keeping`], reusing `scratch`'s allocations across calls.
fn analyze_with<'s>(
    src: &'s str,
    scratch: &mut Scratch<'s>,
    keep_references: bool,
) -> Result<Analysis, LexError> {
    let Scratch {
        lexed,
        references,
        first,
    } = scratch;
    lex_into(src, lexed)?;
    let (static_hash, interface_hash) = hashes(lexed);
    // Pass 1 of the variables finds the reference tags; the references are read from them.
    let (mut variables, scopes) = analysed(src, lexed, false);
    references_at(
        src,
        lexed,
        scopes.reference_tags().iter().copied(),
        references,
    )?;
    let scope_at = |offset: usize| scopes.of(offset);
    let imports = &mut variables.imports;
    let owned = |scope: &[&str]| -> Vec<String> { scope.iter().map(|n| n.to_string()).collect() };
    let mut deps: Vec<Dep> = Vec::with_capacity(references.len());
    // First appearance wins (a list search alone made a template of thousands of includes
    // quadratic).
    let mut seen = Positions::default();
    let mut dynamic = Vec::new();
    for (position, reference) in references.iter().enumerate() {
        match &reference.target {
            FoundTarget::Static(name) => {
                crate::lex::work::step();
                let at = seen.of(name, first.len(), |i| {
                    static_name(&references[first[i]])
                        .expect("a dependency's first reference names it")
                });
                if at == first.len() {
                    first.push(position);
                    deps.push(Dep {
                        name: String::new(),
                        line: reference.line,
                        context: false,
                        scope: Vec::new(),
                        calls: Some(Vec::new()),
                    });
                }
                let dep = &mut deps[at];
                if let Ok(i) = imports.binary_search_by_key(&reference.offset, |i| i.offset) {
                    // The last reference of its tag (a tag can name a list) takes the list.
                    let last = references
                        .get(position + 1)
                        .is_none_or(|next| next.offset != reference.offset);
                    add_calls(&mut dep.calls, &mut imports[i].calls, last);
                }
                if reference.context {
                    let scope = scope_at(reference.offset);
                    // The first tag that passes the context gives its scope; later ones keep
                    // what they have in common.
                    if dep.context {
                        intersect(&mut dep.scope, scope);
                    } else {
                        dep.context = true;
                        dep.scope = owned(scope);
                    }
                }
            }
            FoundTarget::Dynamic(expr) => dynamic.push(DynamicRef {
                line: reference.line,
                expr: expr.to_string(),
                context: reference.context,
                scope: if reference.context {
                    owned(scope_at(reference.offset))
                } else {
                    Vec::new()
                },
            }),
        }
    }
    drop(seen);
    let (vars, macros) = (
        std::mem::take(&mut variables.reads),
        std::mem::take(&mut variables.macros),
    );
    scopes.recycle(&mut variables);
    let kept = if keep_references {
        references.iter().map(Found::to_reference).collect()
    } else {
        Vec::new()
    };
    for (dep, &position) in deps.iter_mut().zip(first.iter()) {
        let FoundTarget::Static(name) = &mut references[position].target else {
            unreachable!("a dependency's first reference names it")
        };
        dep.name = std::mem::take(name).into_owned();
    }
    Ok(Analysis {
        static_hash,
        interface_hash,
        deps,
        dynamic,
        vars,
        macros,
        references: kept,
    })
}

/// The name of a static reference, none for a dynamic one.
fn static_name<'a>(reference: &'a Found<'_>) -> Option<&'a str> {
    match &reference.target {
        FoundTarget::Static(name) => Some(name),
        FoundTarget::Dynamic(_) => None,
    }
}

/// `calls` joins what a dependency may call already: any absorbs every list. With `take`,
/// `calls` is not needed again, and moves into an empty list instead of being copied.
fn add_calls(into: &mut Option<Vec<String>>, calls: &mut Option<Vec<String>>, take: bool) {
    match (into.as_mut(), calls) {
        (Some(list), Some(more)) if take && list.is_empty() => *list = std::mem::take(more),
        (Some(list), Some(more)) => {
            list.extend(more.iter().cloned());
            list.sort_unstable();
            list.dedup();
        }
        (Some(_), None) => *into = None,
        (None, _) => {}
    }
}

/// Keeps the names of `kept` that `other` has too (both sorted): one merge pass.
fn intersect(kept: &mut Vec<String>, other: &[&str]) {
    let mut j = 0;
    kept.retain(|name| {
        while j < other.len() && other[j] < name.as_str() {
            crate::lex::work::step();
            j += 1;
        }
        j < other.len() && other[j] == name
    });
}

/// The BuildCache record of a template's text, and the lexer's error if it stopped. A text that does not lex gets its
/// content hash as both partial hashes, so any edit to it changes them all.
///
/// ```
/// let (record, error) = shipwright_core::analyze::record("a.html", 0, "{% include 'b.html' %}");
/// assert_eq!(record.dep_names().collect::<Vec<_>>(), ["b.html"]);
/// assert_eq!(error, None);
/// let (record, error) = shipwright_core::analyze::record("bad.html", 0, "\n{% if");
/// assert_eq!((record.interface_hash.len(), error.unwrap().line), (64, 2));
/// ```
pub fn record(name: &str, root: usize, src: &str) -> (TemplateRecord, Option<TemplateError>) {
    record_of(name, root, src, analyze_keeping(src, false))
}

/// [`record`] from an analysis of `src` already made (the planner analyses a changed file once
/// and needs both).
pub fn record_of(
    name: &str,
    root: usize,
    src: &str,
    analysis: Result<Analysis, LexError>,
) -> (TemplateRecord, Option<TemplateError>) {
    let hash = content_hash(src.as_bytes());
    let (id, size) = (template_id(name), src.len() as u64);
    let (static_hash, interface_hash, deps, dynamic, vars, macros, error) = match analysis {
        Ok(a) => (
            a.static_hash,
            a.interface_hash,
            a.deps,
            a.dynamic,
            a.vars,
            a.macros,
            None,
        ),
        // It does not lex: both partial hashes are the content hash, so any edit to it is an
        // interface change.
        Err(e) => {
            let error = TemplateError {
                template: name.to_string(),
                line: e.line,
                message: e.message,
            };
            (
                hash.clone(),
                hash.clone(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Some(error),
            )
        }
    };
    let record = TemplateRecord {
        id,
        root,
        hash,
        static_hash,
        interface_hash,
        size,
        deps,
        dynamic,
        vars,
        macros,
    };
    (record, error)
}

impl crate::format::BuildCache {
    /// The BuildCache of templates held in memory, `(name, text)` pairs in one root labelled
    /// `root`: what the build script writes for the same files, without any file (for tests,
    /// tools, and checks of generated templates). A later pair of the same name replaces an
    /// earlier one.
    ///
    /// ```
    /// use shipwright_core::format::BuildCache;
    ///
    /// let cache = BuildCache::from_sources("templates", [
    ///     ("home.html", "{% extends 'base.html' %}{{ title }}"),
    ///     ("base.html", "<main>{% block body %}{% endblock %}</main>{% include 'gone.html' %}"),
    ///     ("bad.html", "{% if"),
    /// ]);
    /// assert_eq!(cache.roots, ["templates"]);
    /// assert_eq!(cache.templates["home.html"].deps, ["base.html"]);
    /// assert_eq!(cache.missing[0].name, "gone.html");
    /// assert_eq!(cache.errors[0].template, "bad.html");
    /// ```
    pub fn from_sources<I, N, T>(root: impl Into<String>, sources: I) -> Self
    where
        I: IntoIterator<Item = (N, T)>,
        N: AsRef<str>,
        T: AsRef<str>,
    {
        let mut cache = Self::new(vec![root.into()]);
        let mut errors = std::collections::BTreeMap::new();
        for (name, text) in sources {
            let name = name.as_ref();
            let (record, error) = record(name, 0, text.as_ref());
            cache.templates.insert(name.to_string(), record);
            match error {
                Some(error) => errors.insert(name.to_string(), error),
                None => errors.remove(name),
            };
        }
        cache.errors = errors.into_values().collect();
        crate::graph::link(&mut cache);
        cache
    }
}

/// blake3 of the file's bytes, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The two partial hashes. The pieces of each are laid end to end in one buffer and hashed in
/// one call: the same digest as feeding them one by one to a streaming xxh3, at a fraction of
/// the cost for the many small pieces of a template.
fn hashes(lexed: &Lexed<'_>) -> (String, String) {
    thread_local! {
        static PIECES: std::cell::RefCell<(Vec<u8>, Vec<u8>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    PIECES.with_borrow_mut(|(literal, interface)| {
        literal.clear();
        interface.clear();
        for part in &lexed.parts {
            match part {
                Part::Text { text, .. } => {
                    literal.extend_from_slice(&(text.len() as u64).to_le_bytes());
                    literal.extend_from_slice(text.as_bytes());
                }
                Part::Comment(_) => {}
                Part::Expr(d) | Part::Tag(d) => {
                    let open: &[u8] = if matches!(part, Part::Expr(_)) {
                        b"{{"
                    } else {
                        b"{%"
                    };
                    interface.extend_from_slice(open);
                    interface.extend_from_slice(&[d.open_trim, d.close_trim]);
                    for token in lexed.tokens(d) {
                        interface.extend_from_slice(&(token.text.len() as u32).to_le_bytes());
                        interface.extend_from_slice(token.text.as_bytes());
                    }
                }
            }
        }
        let hashes = (
            hex(&xxh3_128(literal).to_be_bytes()),
            hex(&xxh3_128(interface).to_be_bytes()),
        );
        // A huge template's buffers are not kept for the next one.
        if literal.capacity() + interface.capacity() > 1 << 20 {
            *literal = Vec::new();
            *interface = Vec::new();
        }
        hashes
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::work;

    #[test]
    fn deps_say_whether_they_get_the_context_and_what_is_defined_there() {
        let src = "{% extends 'base.html' %}{% set title = 'x' %}\n\
                   {% import 'forms.html' as forms %}{% from 'm.html' import a with context %}\n\
                   {% block body %}{% for item in items %}{% include 'row.html' %}{% endfor %}\n\
                   {% for item, n in pairs %}{% include 'row.html' %}{% endfor %}\n\
                   {% include 'plain.html' without context %}{% endblock %}";
        let analysis = analyze(src).unwrap();
        let deps: Vec<(&str, u32, bool, Vec<&str>)> = analysis
            .deps
            .iter()
            .map(|d| {
                let scope = d.scope.iter().map(String::as_str).collect();
                (d.name.as_str(), d.line, d.context, scope)
            })
            .collect();
        assert_eq!(
            deps,
            [
                // The parent renders after the whole top level: it sees `title` and the imports.
                ("base.html", 1, true, vec!["a", "forms", "title"]),
                ("forms.html", 2, false, vec![]),
                ("m.html", 2, true, vec!["forms", "title"]),
                // Two includes: only what both see.
                ("row.html", 3, true, vec!["a", "forms", "item", "title"]),
                ("plain.html", 5, false, vec![]),
            ]
        );
    }

    /// The steps of analysing `n` includes of distinct templates, each written twice.
    fn work_of_includes(n: usize) -> u64 {
        let src: String = (0..2 * n)
            .map(|i| format!("{{% include \"t{}.html\" %}}\n", i % n))
            .collect();
        work::take();
        let analysis = analyze(&src).unwrap();
        let steps = work::take();
        assert_eq!(analysis.deps.len(), n);
        assert_eq!(analysis.deps[..3], ["t0.html", "t1.html", "t2.html"]);
        steps
    }

    #[test]
    fn deduplicating_many_names_takes_linear_work() {
        // Each name was compared with every name before it: 4x the work for twice the names.
        let (n, double) = (work_of_includes(2_000), work_of_includes(4_000));
        assert!(
            double <= 2 * n + 64,
            "{double} steps against {n}: not linear"
        );
        // A few looks per tag: the references, and the variable analysis, which walks each tag
        // once as an expression, once as an event of its frame and once for its scope.
        assert!(n <= 8 * 4_000, "{n} steps for 4,000 references");
    }
}
