//! The graph as Graphviz DOT and as a Mermaid flowchart: one node per template, a solid edge per
//! resolved reference, a dashed edge to a `?` node per dynamic reference, a red node per
//! missing name.

use std::fmt::Write as _;

use shipwright_core::format::BuildCache;
use shipwright_core::graph::resolve_name;

/// Every edge: `(from, to, kind)` with kind `dep`, `missing` or `dynamic`.
fn edges(cache: &BuildCache) -> Vec<(&str, String, &'static str)> {
    let mut out = Vec::new();
    for (name, record) in &cache.templates {
        for dep in &record.deps {
            match resolve_name(&dep.name) {
                Ok(target) if cache.templates.contains_key(&target) => {
                    out.push((name.as_str(), target, "dep"))
                }
                _ => out.push((name.as_str(), dep.name.clone(), "missing")),
            }
        }
        for dynamic in &record.dynamic {
            out.push((name.as_str(), format!("? {}", dynamic.expr), "dynamic"));
        }
    }
    out
}

pub(crate) fn dot(cache: &BuildCache) -> String {
    let mut out = String::from("digraph templates {\n  rankdir=LR;\n  node [shape=box];\n");
    for name in cache.templates.keys() {
        let _ = writeln!(out, "  {name:?};");
    }
    for (from, to, kind) in edges(cache) {
        let style = match kind {
            "missing" => {
                format!("  {to:?} [color=red, fontcolor=red];\n  {from:?} -> {to:?} [color=red];")
            }
            "dynamic" => format!(
                "  {to:?} [shape=note, style=dashed];\n  {from:?} -> {to:?} [style=dashed];"
            ),
            _ => format!("  {from:?} -> {to:?};"),
        };
        let _ = writeln!(out, "{style}");
    }
    out.push_str("}\n");
    out
}

pub(crate) fn mermaid(cache: &BuildCache) -> String {
    let mut ids = std::collections::BTreeMap::new();
    let mut out = String::from("flowchart LR\n");
    let node = |out: &mut String,
                label: &str,
                ids: &mut std::collections::BTreeMap<String, usize>|
     -> usize {
        let next = ids.len();
        *ids.entry(label.to_string()).or_insert_with(|| {
            let _ = writeln!(out, "  n{next}[\"{}\"]", label.replace('"', "#quot;"));
            next
        })
    };
    for name in cache.templates.keys() {
        node(&mut out, name, &mut ids);
    }
    let mut classes = String::new();
    for (from, to, kind) in edges(cache) {
        let a = node(&mut out, from, &mut ids);
        let b = node(&mut out, &to, &mut ids);
        let arrow = if kind == "dynamic" { "-.->" } else { "-->" };
        let _ = writeln!(out, "  n{a} {arrow} n{b}");
        if kind == "missing" {
            let _ = writeln!(classes, "  class n{b} missing");
        }
    }
    if !classes.is_empty() {
        out.push_str("  classDef missing stroke:#c00,color:#c00\n");
        out.push_str(&classes);
    }
    out
}

/// Levenshtein distance, for "closest names".
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
