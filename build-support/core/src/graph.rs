//! The dependency graph: names resolved, transitive closures, missing references, cycles.
//!
//! ```
//! use shipwright_core::format::{BuildCache, TemplateRecord};
//! use shipwright_core::graph::{link, resolve_name};
//!
//! let mut cache = BuildCache::new(vec!["templates".into()]);
//! cache.templates.insert("page.html".into(), TemplateRecord::including("page.html", &["./base.html", "nav.html"]));
//! cache.templates.insert("base.html".into(), TemplateRecord::including("base.html", &["page.html"]));
//! link(&mut cache, |_template, names| vec![1; names.len()]);
//! assert_eq!(cache.templates["base.html"].transitive, ["page.html"]);
//! assert_eq!(cache.missing[0].name, "nav.html");
//! assert_eq!(cache.cycles, [["base.html", "page.html", "base.html"]]);
//! assert_eq!(resolve_name("../x.html"), Err("escapes the template root"));
//! ```
//!
//! Names resolve against the roots, not against the referencing template (as Jinja2's loaders
//! do): `./a.html` and `a//b.html` are normalised, a `..` that would leave the root and an
//! absolute path are reported in [`BuildCache::missing`] and never read. Every walk here is
//! iterative, so a chain of any depth cannot overflow the stack, and a cycle cannot hang it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::format::{BuildCache, Missing, TemplateRecord};

/// The name a reference resolves to, or why it cannot resolve.
pub fn resolve_name(written: &str) -> Result<String, &'static str> {
    resolve(written).map(Cow::into_owned)
}

/// [`resolve_name`] without a copy of a name that is already plain (nearly all of them).
fn resolve(written: &str) -> Result<Cow<'_, str>, &'static str> {
    let plain = |piece: &str| !matches!(piece, "" | "." | "..");
    if !written.contains('\\') && written.split('/').all(plain) {
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

/// Resolves every template's `deps`, fills `transitive`, `missing` and `cycles`.
/// `lines_of(template, names)` gives, for the missing-reference report, the line of each of a
/// template's references that do not resolve (`names` as written, in `deps` order; a line
/// of 0 when unknown). It is called once per template that has any, so that a caller who
/// reads the file again to find them reads it once (see [`crate::analyze::reference_lines`]).
///
/// Templates are numbered in name order, so a closure sorted by number is sorted by name. The
/// closures are found in parallel with the `scan` feature.
pub fn link(cache: &mut BuildCache, mut lines_of: impl FnMut(&str, &[&str]) -> Vec<u32>) {
    let (transitive, missing, cycles) = {
        let names: Vec<&str> = cache.templates.keys().map(String::as_str).collect();
        let records: Vec<(&str, &TemplateRecord)> = cache
            .templates
            .iter()
            .map(|(n, r)| (n.as_str(), r))
            .collect();
        // Each template's references resolved to numbers, in parallel; the ones that resolve to
        // nothing are reported after.
        let index: HashMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let resolved = crate::par::map(&records, |(_, record)| {
            let mut out = Vec::with_capacity(record.deps.len());
            // Two names as written can resolve to one template (`a.html`, `./a.html`).
            let mut seen = HashSet::with_capacity(record.deps.len());
            let mut unresolved = Vec::new();
            for dep in &record.deps {
                match resolve(dep).map(|name| index.get(&*name).copied()) {
                    Ok(Some(id)) => {
                        if seen.insert(id) {
                            out.push(id);
                        }
                    }
                    Ok(None) => unresolved.push((dep.as_str(), "not found")),
                    Err(reason) => unresolved.push((dep.as_str(), reason)),
                }
            }
            (out, unresolved)
        });
        let mut edges: Vec<Vec<u32>> = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for ((name, _), (out, unresolved)) in records.iter().zip(resolved) {
            if !unresolved.is_empty() {
                missing_entries(name, &unresolved, &mut lines_of, &mut missing);
            }
            edges.push(out);
        }
        missing.sort();
        let cycles = cycles(&names, &edges);
        let ids: Vec<u32> = (0..names.len() as u32).collect();
        let transitive = crate::par::map_with(
            &ids,
            || (vec![u32::MAX; names.len()], Vec::new()),
            |(seen, stack), &id| {
                let mut reached = reachable(id, &edges, seen, stack);
                reached.retain(|&r| r != id);
                reached.sort_unstable();
                reached
                    .into_iter()
                    .map(|r| names[r as usize].to_string())
                    .collect::<Vec<String>>()
            },
        );
        (transitive, missing, cycles)
    };
    cache.missing = missing;
    cache.cycles = cycles;
    for (record, transitive) in cache.templates.values_mut().zip(transitive) {
        record.transitive = transitive;
    }
}

/// The report of one template's references that do not resolve, their lines asked for in one
/// call.
#[cold]
fn missing_entries(
    template: &str,
    unresolved: &[(&str, &str)],
    lines_of: &mut impl FnMut(&str, &[&str]) -> Vec<u32>,
    out: &mut Vec<Missing>,
) {
    let names: Vec<&str> = unresolved.iter().map(|&(name, _)| name).collect();
    let lines = lines_of(template, &names);
    out.extend(
        unresolved
            .iter()
            .enumerate()
            .map(|(i, &(name, reason))| Missing {
                template: template.to_string(),
                line: lines.get(i).copied().unwrap_or(0),
                name: name.to_string(),
                reason: reason.to_string(),
            }),
    );
}

/// Every node reachable from `start` in one or more steps (`start` itself only on a cycle).
/// `seen` holds, per node, the last start that reached it, so it is never cleared.
fn reachable(start: u32, edges: &[Vec<u32>], seen: &mut [u32], stack: &mut Vec<u32>) -> Vec<u32> {
    let mut out = Vec::new();
    stack.clear();
    stack.extend(&edges[start as usize]);
    while let Some(node) = stack.pop() {
        if seen[node as usize] == start {
            continue;
        }
        seen[node as usize] = start;
        out.push(node);
        stack.extend(
            edges[node as usize]
                .iter()
                .filter(|&&n| seen[n as usize] != start),
        );
    }
    out
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

    fn cache(edges: &[(&str, &[&str])]) -> BuildCache {
        let mut cache = BuildCache::new(vec!["t".into()]);
        for (name, deps) in edges {
            cache.templates.insert(name.to_string(), record(deps));
        }
        link(&mut cache, |_, names| vec![7; names.len()]);
        cache
    }

    #[test]
    fn the_lines_of_a_templates_missing_references_are_asked_for_once() {
        // Finding a line can mean reading and lexing the file again: once per file, not once
        // per missing reference.
        let mut c = BuildCache::new(vec!["t".into()]);
        c.templates
            .insert("a".into(), record(&["x", "b", "y", "../z"]));
        c.templates.insert("b".into(), record(&["w"]));
        c.templates.insert("c".into(), record(&["b"]));
        let mut asked: Vec<(String, Vec<String>)> = Vec::new();
        link(&mut c, |template, names| {
            asked.push((
                template.into(),
                names.iter().map(|n| n.to_string()).collect(),
            ));
            names
                .iter()
                .map(|&name| match name {
                    "x" => 3,
                    "y" => 5,
                    "../z" => 8,
                    _ => 1,
                })
                .collect()
        });
        let asked: Vec<(&str, Vec<&str>)> = asked
            .iter()
            .map(|(t, names)| (t.as_str(), names.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(asked, [("a", vec!["x", "y", "../z"]), ("b", vec!["w"])]);
        let got: Vec<(&str, &str, u32)> = c
            .missing
            .iter()
            .map(|m| (m.template.as_str(), m.name.as_str(), m.line))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "x", 3),
                ("a", "y", 5),
                ("a", "../z", 8),
                ("b", "w", 1)
            ]
        );
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
        assert_eq!(c.templates["a"].transitive, ["b", "c", "d"]);
        assert_eq!(c.templates["d"].transitive, Vec::<String>::new());
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
                ("../../etc/passwd", "escapes the template root", 7),
                ("/abs", "absolute path", 7),
                ("nope", "not found", 7)
            ]
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
        assert_eq!(c.templates["b"].transitive, ["a", "c", "d"]);
        assert_eq!(c.templates["s"].transitive, Vec::<String>::new());
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
        assert_eq!(c.templates["t0500"].transitive.len(), 999);

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
        link(&mut chain, |_, names| vec![1; names.len()]);
        assert!(chain.cycles.is_empty());
        assert_eq!(chain.templates["c00000"].transitive.len(), n - 1);
        assert_eq!(chain.templates["c01998"].transitive, ["c01999"]);
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
        let mut seen = vec![u32::MAX; n as usize];
        assert_eq!(
            reachable(0, &edges, &mut seen, &mut Vec::new()).len(),
            n as usize
        );
    }
}
