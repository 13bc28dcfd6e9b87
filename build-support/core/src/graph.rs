//! The dependency graph: names resolved, closures and dependents, missing references, cycles.
//!
//! ```
//! use shipwright_core::format::{BuildCache, TemplateRecord};
//! use shipwright_core::graph::{closure, dependents, link, resolve_name};
//!
//! let mut cache = BuildCache::new(vec!["templates".into()]);
//! cache.templates.insert("page.html".into(), TemplateRecord::including("page.html", &["./base.html", "nav.html"]));
//! cache.templates.insert("base.html".into(), TemplateRecord::including("base.html", &["page.html"]));
//! link(&mut cache);
//! assert_eq!(closure(&cache, "base.html"), ["page.html"]);
//! assert_eq!(dependents(&cache, "base.html"), ["page.html"]);
//! assert_eq!(cache.missing[0].name, "nav.html");
//! assert_eq!(cache.cycles, [["base.html", "page.html", "base.html"]]);
//! assert_eq!(resolve_name("../x.html"), Err("escapes the template root"));
//! ```
//!
//! [`closure_with_dynamic`] and [`dependents_with_dynamic`] also follow dynamic references
//! (`{% include 'icons/' ~ name %}`) to every template they may name ([`crate::dynamic`]).
//!
//! Names resolve against the roots, not against the referencing template (as Jinja2's loaders
//! do): `./a.html` and `a//b.html` are normalised, a `..` that would leave the root and an
//! absolute path are reported in [`BuildCache::missing`] and never read. Every walk here is
//! iterative, so a chain of any depth cannot overflow the stack, and a cycle cannot hang it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::format::{BuildCache, Dep, Missing, TemplateRecord};

/// The name a reference resolves to, or why it cannot resolve.
pub fn resolve_name(written: &str) -> Result<String, &'static str> {
    resolve(written).map(Cow::into_owned)
}

/// [`resolve_name`] without a copy of a name that is already plain (nearly all of them).
fn resolve(written: &str) -> Result<Cow<'_, str>, &'static str> {
    if is_plain(written) {
        return Ok(Cow::Borrowed(written));
    }
    if written.starts_with('/') || written.starts_with('\\') || written.get(1..3) == Some(":\\") {
        return Err("absolute path");
    }
    let mut parts: Vec<&str> = Vec::new();
    for piece in written.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("escapes the template root");
                }
            }
            _ => parts.push(piece),
        }
    }
    if parts.is_empty() {
        return Err("empty name");
    }
    Ok(Cow::Owned(parts.join("/")))
}

/// Whether `written` is already a resolved name: `/`-separated pieces, none of them empty, `.`
/// or `..`, and no `\\`. One pass over the bytes (this runs once per reference of every
/// template).
fn is_plain(written: &str) -> bool {
    let bytes = written.as_bytes();
    let bad = |piece: &[u8]| matches!(piece, b"" | b"." | b"..");
    let mut start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b'\\' => return false,
            b'/' if bad(&bytes[start..at]) => return false,
            b'/' => start = at + 1,
            _ => {}
        }
    }
    !bad(&bytes[start..])
}

/// Resolves every template's `deps` and fills [`BuildCache::missing`] and
/// [`BuildCache::cycles`]. The closures are not stored: [`closure`] and [`dependents`] derive
/// them when they are needed (stored per template they grow with the square of a long chain).
///
/// References are resolved in parallel with the `parallel` feature.
pub fn link(cache: &mut BuildCache) {
    let (missing, cycles) = {
        let names: Vec<&str> = cache.templates.keys().map(String::as_str).collect();
        let records: Vec<&TemplateRecord> = cache.templates.values().collect();
        // The names' hasher: a keyed hash costs more than the lookup, and the names come from
        // the developer's own files.
        let index: crate::lex::vars::NameMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        // Each template's references resolved to numbers (templates are numbered in name
        // order); the ones that resolve to nothing are reported after.
        let resolved = crate::par::map(&records, |record| {
            let mut out: Vec<u32> = Vec::with_capacity(record.deps.len());
            let mut unresolved = Vec::new();
            for dep in &record.deps {
                match resolve(&dep.name).map(|name| index.get(&*name).copied()) {
                    Ok(Some(id)) => out.push(id),
                    Ok(None) => unresolved.push((dep, "not found")),
                    Err(reason) => unresolved.push((dep, reason)),
                }
            }
            // Two spellings of one name (`a.html`, `./a.html`) are one edge.
            out.sort_unstable();
            out.dedup();
            (out, unresolved)
        });
        let mut edges: Vec<Vec<u32>> = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for (name, (out, unresolved)) in names.iter().zip(resolved) {
            for (dep, reason) in unresolved {
                missing.push(missing_entry(name, dep, reason));
            }
            edges.push(out);
        }
        missing.sort();
        (missing, cycles(&names, &edges))
    };
    cache.missing = missing;
    cache.cycles = cycles;
}

#[cold]
fn missing_entry(template: &str, dep: &Dep, reason: &str) -> Missing {
    Missing {
        template: template.to_string(),
        line: dep.line,
        name: dep.name.clone(),
        reason: reason.to_string(),
    }
}

/// The templates `record` references that exist in `cache`, resolved (each once).
fn resolved_deps<'c>(
    cache: &'c BuildCache,
    record: &'c TemplateRecord,
) -> impl Iterator<Item = &'c str> + 'c {
    record.deps.iter().filter_map(|dep| {
        let name = resolve(&dep.name).ok()?;
        cache
            .templates
            .get_key_value(&*name)
            .map(|(name, _)| name.as_str())
    })
}

/// Every template reachable from `name` through `deps`, resolved, sorted, without `name`
/// itself: what it renders with. Empty if `name` is not in the cache.
pub fn closure<'c>(cache: &'c BuildCache, name: &str) -> Vec<&'c str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&'c str> = match cache.templates.get(name) {
        Some(record) => resolved_deps(cache, record).collect(),
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    while let Some(next) = stack.pop() {
        if next == name || !seen.insert(next) {
            continue;
        }
        out.push(next);
        stack.extend(resolved_deps(cache, &cache.templates[next]));
    }
    out.sort_unstable();
    out
}

/// Every template whose [`closure`] holds `name`: what renders it, sorted, without `name`.
pub fn dependents<'c>(cache: &'c BuildCache, name: &str) -> Vec<&'c str> {
    let mut users: HashMap<&str, Vec<&'c str>> = HashMap::new();
    for (user, record) in &cache.templates {
        for dep in resolved_deps(cache, record) {
            users.entry(dep).or_default().push(user);
        }
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&'c str> = users.get(name).cloned().unwrap_or_default();
    let mut out = Vec::new();
    while let Some(next) = stack.pop() {
        if next == name || !seen.insert(next) {
            continue;
        }
        out.push(next);
        stack.extend(users.get(next).into_iter().flatten());
    }
    out.sort_unstable();
    out
}

/// Every template the dynamic references of `name` may name, sorted, without `name` itself (see
/// [`crate::dynamic`] for the rules). Empty if it has none or is not in the cache.
///
/// ```
/// use shipwright_core::format::BuildCache;
/// use shipwright_core::graph::dynamic_targets;
///
/// let cache = BuildCache::from_sources("templates", [
///     ("page.html", "{% include 'icons/' ~ icon ~ '.svg' %}"),
///     ("icons/star.svg", "<svg/>"),
///     ("icons/moon.svg", "<svg/>"),
///     ("other.html", ""),
/// ]);
/// assert_eq!(dynamic_targets(&cache, "page.html"), ["icons/moon.svg", "icons/star.svg"]);
/// ```
pub fn dynamic_targets<'c>(cache: &'c BuildCache, name: &str) -> Vec<&'c str> {
    match cache.templates.get(name) {
        Some(record) => Reach::new(cache).dynamic(name, record),
        None => Vec::new(),
    }
}

/// [`closure`] through dynamic references too: every template `name` may render, where a
/// dynamic reference reaches every template it may name ([`dynamic_targets`]). Sorted, without
/// `name`; empty if `name` is not in the cache.
pub fn closure_with_dynamic<'c>(cache: &'c BuildCache, name: &str) -> Vec<&'c str> {
    let Some((name, _)) = cache.templates.get_key_value(name) else {
        return Vec::new();
    };
    let reach = Reach::new(cache);
    let mut seen: HashSet<&str> = HashSet::from([name.as_str()]);
    let mut stack: Vec<&'c str> = vec![name.as_str()];
    let mut out = Vec::new();
    while let Some(at) = stack.pop() {
        for next in reach.out(at) {
            if seen.insert(next) {
                out.push(next);
                stack.push(next);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Every template whose [`closure_with_dynamic`] holds `name`: what may render it, sorted,
/// without `name`.
pub fn dependents_with_dynamic<'c>(cache: &'c BuildCache, name: &str) -> Vec<&'c str> {
    let reach = Reach::new(cache);
    let mut users: HashMap<&str, Vec<&'c str>> = HashMap::new();
    for user in cache.templates.keys() {
        for dep in reach.out(user) {
            users.entry(dep).or_default().push(user);
        }
    }
    let mut seen: HashSet<&str> = HashSet::from([name]);
    let mut stack: Vec<&'c str> = users.get(name).cloned().unwrap_or_default();
    let mut out = Vec::new();
    while let Some(next) = stack.pop() {
        if !seen.insert(next) {
            continue;
        }
        out.push(next);
        stack.extend(users.get(next).into_iter().flatten());
    }
    out.sort_unstable();
    out
}

/// The entry templates: those no other template references, statically or through a dynamic
/// reference that has literal text to match (a reference that may name any template, such as
/// `{% extends layout %}`, is left out here: it would leave no entry at all). Sorted. These are
/// the templates an app binds to its structs.
pub fn entries(cache: &BuildCache) -> Vec<&str> {
    let reach = Reach::new(cache);
    let mut referenced: HashSet<&str> = HashSet::new();
    for (name, record) in &cache.templates {
        referenced.extend(resolved_deps(cache, record).filter(|d| d != name));
        for dynamic in &record.dynamic {
            let targets = crate::dynamic::Targets::of(&dynamic.expr);
            if !targets.is_any() {
                referenced.extend(reach.select(&targets, name));
            }
        }
    }
    cache
        .templates
        .keys()
        .map(String::as_str)
        .filter(|n| !referenced.contains(n))
        .collect()
}

/// Every template on a cycle of static references (the members of every cycle in
/// [`BuildCache::cycles`], which names one path per group), sorted.
pub fn on_cycles(cache: &BuildCache) -> Vec<&str> {
    let names: Vec<&str> = cache.templates.keys().map(String::as_str).collect();
    let index: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    let edges: Vec<Vec<u32>> = cache
        .templates
        .values()
        .map(|record| {
            let mut out: Vec<u32> = resolved_deps(cache, record).map(|d| index[d]).collect();
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect();
    let component = strongly_connected(&edges);
    let mut size = vec![0usize; edges.len()];
    for &c in &component {
        size[c as usize] += 1;
    }
    names
        .iter()
        .enumerate()
        .filter(|&(i, _)| size[component[i] as usize] > 1 || edges[i].contains(&(i as u32)))
        .map(|(_, n)| *n)
        .collect()
}

/// The references of a cache's templates, static and dynamic, resolved against its names.
struct Reach<'c> {
    cache: &'c BuildCache,
}

impl<'c> Reach<'c> {
    fn new(cache: &'c BuildCache) -> Self {
        Reach { cache }
    }

    /// What `name` references: its static references that resolve, then its dynamic targets.
    fn out(&self, name: &str) -> Vec<&'c str> {
        let Some(record) = self.cache.templates.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<&'c str> = resolved_deps(self.cache, record).collect();
        out.extend(self.dynamic(name, record));
        out
    }

    /// The names `record`'s dynamic references may name, sorted, without `name`.
    fn dynamic(&self, name: &str, record: &TemplateRecord) -> Vec<&'c str> {
        let mut out = Vec::new();
        for dynamic in &record.dynamic {
            let targets = crate::dynamic::Targets::of(&dynamic.expr);
            out.extend(self.select(&targets, name));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn select(&self, targets: &crate::dynamic::Targets, name: &str) -> Vec<&'c str> {
        let mut out = targets.select_in(&self.cache.templates);
        out.retain(|n| *n != name);
        out
    }
}

/// One cycle per strongly connected component that has one, as a name path from the
/// component's smallest name back to itself, shortest first; sorted.
fn cycles(names: &[&str], edges: &[Vec<u32>]) -> Vec<Vec<String>> {
    let component = strongly_connected(edges);
    // Per component (numbered from 0, fewer than the nodes): its first node and its size.
    let mut size: Vec<(u32, usize)> = vec![(u32::MAX, 0); edges.len()];
    for (node, &c) in component.iter().enumerate() {
        // Names are sorted, so the first node seen is the smallest name.
        let (first, members) = &mut size[c as usize];
        if *members == 0 {
            *first = node as u32;
        }
        *members += 1;
    }
    let mut found = Vec::new();
    for (c, &(start, members)) in size.iter().enumerate() {
        let c = c as u32;
        if members == 0 {
            continue;
        }
        // A lone node is a cycle only through an edge to itself.
        if members == 1 && !edges[start as usize].contains(&start) {
            continue;
        }
        if let Some(path) = shortest_cycle(start, edges, |n| component[n as usize] == c) {
            found.push(
                path.into_iter()
                    .map(|n| names[n as usize].to_string())
                    .collect::<Vec<_>>(),
            );
        }
    }
    found.sort();
    found
}

/// Breadth-first from `start` back to `start` inside one component.
fn shortest_cycle(
    start: u32,
    edges: &[Vec<u32>],
    inside: impl Fn(u32) -> bool,
) -> Option<Vec<u32>> {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &edges[node as usize] {
            if next == start {
                let mut path = vec![start, node];
                let mut at = node;
                while at != start {
                    at = parent[&at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if inside(next) && !parent.contains_key(&next) {
                parent.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Tarjan's algorithm without recursion: the component id of every node.
fn strongly_connected(edges: &[Vec<u32>]) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let n = edges.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut call: Vec<(u32, usize)> = Vec::new();
    let (mut next_index, mut next_component) = (0u32, 0u32);
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        call.push((root, 0));
        while let Some(&mut (node, ref mut edge)) = call.last_mut() {
            let v = node as usize;
            if *edge == 0 && index[v] == UNSEEN {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[v] = true;
            }
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w as usize] == UNSEEN {
                    call.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v] = low[v].min(index[w as usize]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent as usize] = low[parent as usize].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = next_component;
                    if w == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::TemplateRecord;

    fn record(deps: &[&str]) -> TemplateRecord {
        TemplateRecord::including("t.html", deps)
    }

    proptest::proptest! {
        /// The one-pass check agrees with the plain reading of the rule on names made of
        /// pieces, dots, slashes and backslashes.
        #[test]
        fn is_plain_is_the_rule(written in "[a./\\\\]{0,8}") {
            let reference = !written.contains('\\')
                && written.split('/').all(|piece| !matches!(piece, "" | "." | ".."));
            proptest::prop_assert_eq!(is_plain(&written), reference);
        }
    }

    fn cache(edges: &[(&str, &[&str])]) -> BuildCache {
        let mut cache = BuildCache::new(vec!["t".into()]);
        for (name, deps) in edges {
            cache.templates.insert(name.to_string(), record(deps));
        }
        link(&mut cache);
        cache
    }

    #[test]
    fn names_normalise_and_escapes_are_refused() {
        assert_eq!(resolve_name("./a//b.html").unwrap(), "a/b.html");
        assert_eq!(resolve_name("a/../b.html").unwrap(), "b.html");
        assert_eq!(
            resolve_name("../../etc/passwd"),
            Err("escapes the template root")
        );
        assert_eq!(resolve_name("a/../../b"), Err("escapes the template root"));
        assert_eq!(resolve_name("/etc/passwd"), Err("absolute path"));
        assert_eq!(resolve_name("C:\\x"), Err("absolute path"));
        assert_eq!(resolve_name("./"), Err("empty name"));
    }

    #[test]
    fn transitive_closure_is_sorted_and_resolved() {
        let c = cache(&[
            ("a", &["./b", "c"]),
            ("b", &["d"]),
            ("c", &["d"]),
            ("d", &[]),
        ]);
        assert_eq!(closure(&c, "a"), ["b", "c", "d"]);
        assert_eq!(closure(&c, "d"), Vec::<&str>::new());
        assert_eq!(dependents(&c, "d"), ["a", "b", "c"]);
        assert_eq!(dependents(&c, "a"), Vec::<&str>::new());
        assert_eq!(closure(&c, "absent"), Vec::<&str>::new());
        assert!(c.missing.is_empty() && c.cycles.is_empty());
    }

    #[test]
    fn missing_and_escaping_references_are_reported_with_lines() {
        let c = cache(&[("a", &["nope", "../../etc/passwd", "/abs"])]);
        let got: Vec<(&str, &str, u32)> = c
            .missing
            .iter()
            .map(|m| (m.name.as_str(), m.reason.as_str(), m.line))
            .collect();
        assert_eq!(
            got,
            [
                ("../../etc/passwd", "escapes the template root", 1),
                ("/abs", "absolute path", 1),
                ("nope", "not found", 1)
            ]
        );
    }

    #[test]
    fn a_missing_reference_carries_the_line_of_its_first_tag() {
        let mut c = BuildCache::new(vec!["t".into()]);
        let src =
            "<p>\n{% include 'nope.html' %}\n\n{% extends 'gone.html' %}{% include 'nope.html' %}";
        c.templates
            .insert("a".into(), crate::analyze::record("a", 0, src).0);
        link(&mut c);
        let got: Vec<(&str, u32)> = c
            .missing
            .iter()
            .map(|m| (m.name.as_str(), m.line))
            .collect();
        assert_eq!(
            got,
            [("nope.html", 2), ("gone.html", 4)],
            "by template, then line"
        );
    }

    #[test]
    fn cycles_are_reported_once_from_their_smallest_name() {
        let c = cache(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a", "d"]),
            ("d", &[]),
            ("s", &["s"]),
        ]);
        assert_eq!(c.cycles, [vec!["a", "b", "c", "a"], vec!["s", "s"]]);
        assert_eq!(closure(&c, "b"), ["a", "c", "d"]);
        assert_eq!(closure(&c, "s"), Vec::<&str>::new());
    }

    #[test]
    fn a_cycle_of_a_thousand_and_a_deep_chain_neither_hang_nor_overflow() {
        let names: Vec<String> = (0..1000).map(|i| format!("t{i:04}")).collect();
        let deps: Vec<[&str; 1]> = (0..1000)
            .map(|i| [names[(i + 1) % 1000].as_str()])
            .collect();
        let edges: Vec<(&str, &[&str])> = (0..1000)
            .map(|i| (names[i].as_str(), &deps[i][..]))
            .collect();
        let c = cache(&edges);
        assert_eq!(c.cycles.len(), 1);
        assert_eq!(c.cycles[0].len(), 1001);
        assert_eq!(c.cycles[0].first(), c.cycles[0].last());
        assert_eq!(closure(&c, "t0500").len(), 999);

        let n = 2_000;
        let names: Vec<String> = (0..n).map(|i| format!("c{i:05}")).collect();
        let mut chain = BuildCache::new(vec!["t".into()]);
        for i in 0..n {
            let deps: Vec<&str> = if i + 1 < n {
                vec![names[i + 1].as_str()]
            } else {
                vec![]
            };
            chain.templates.insert(names[i].clone(), record(&deps));
        }
        link(&mut chain);
        assert!(chain.cycles.is_empty());
        assert_eq!(closure(&chain, "c00000").len(), n - 1);
        assert_eq!(closure(&chain, "c01998"), ["c01999"]);
        assert_eq!(dependents(&chain, "c00001"), ["c00000"]);
    }

    #[test]
    fn dynamic_references_reach_every_template_they_may_name() {
        let c = BuildCache::from_sources(
            "t",
            [
                ("page.html", "{% extends layout %}"),
                ("icons.html", "{% include 'icons/' ~ name ~ '.svg' %}"),
                ("icons/a.svg", "{{ a }}"),
                ("icons/b.svg", "{% include 'leaf.html' %}"),
                ("leaf.html", ""),
                ("pick.html", "{% include 'x.html' if c else 'y.html' %}"),
                ("x.html", ""),
                ("y.html", "{% include 'icons.html' %}"),
            ],
        );
        assert_eq!(
            dynamic_targets(&c, "icons.html"),
            ["icons/a.svg", "icons/b.svg"]
        );
        assert_eq!(
            closure_with_dynamic(&c, "icons.html"),
            ["icons/a.svg", "icons/b.svg", "leaf.html"]
        );
        assert_eq!(closure(&c, "icons.html"), Vec::<&str>::new(), "static only");
        assert_eq!(
            closure_with_dynamic(&c, "pick.html"),
            [
                "icons.html",
                "icons/a.svg",
                "icons/b.svg",
                "leaf.html",
                "x.html",
                "y.html"
            ]
        );
        assert_eq!(
            closure_with_dynamic(&c, "page.html").len(),
            7,
            "an unknown name: every other template"
        );
        assert_eq!(
            dependents_with_dynamic(&c, "leaf.html"),
            [
                "icons.html",
                "icons/b.svg",
                "page.html",
                "pick.html",
                "y.html"
            ]
        );
        assert_eq!(
            entries(&c),
            ["page.html", "pick.html"],
            "referenced by a pattern is not an entry; by `extends layout` it still is"
        );
        assert!(c.missing.is_empty(), "dynamic targets are never missing");
    }

    #[test]
    fn every_member_of_a_cycle_is_on_one() {
        let c = cache(&[
            ("a", &["b"]),
            ("b", &["c"]),
            ("c", &["a", "b", "d"]),
            ("d", &[]),
            ("s", &["s"]),
            ("t", &["s"]),
        ]);
        assert_eq!(c.cycles, [vec!["a", "b", "c", "a"], vec!["s", "s"]]);
        assert_eq!(on_cycles(&c), ["a", "b", "c", "s"]);
    }

    #[test]
    fn a_cache_from_sources_is_the_scan_of_the_same_files() {
        let c = BuildCache::from_sources(
            "templates",
            [
                ("a.html", "{% include 'b.html' %}"),
                ("b.html", "{% include 'a.html' %}"),
            ],
        );
        assert_eq!(c.cycles, [["a.html", "b.html", "a.html"]]);
        assert_eq!(
            c.templates["a.html"],
            crate::analyze::record("a.html", 0, "{% include 'b.html' %}").0
        );
    }

    #[test]
    fn components_of_a_million_deep_chain_without_recursion() {
        let n = 1_000_000u32;
        let mut edges: Vec<Vec<u32>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let component = strongly_connected(&edges);
        assert_eq!(
            component
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            n as usize
        );
        edges[(n - 1) as usize].push(0);
        let component = strongly_connected(&edges);
        assert!(component.iter().all(|&c| c == component[0]));
    }
}
