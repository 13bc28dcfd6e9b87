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

/// A name as a DOT quoted string. Rust's escaping of a string is one that DOT reads: `\"` for a
/// quote, `\\` for a backslash (which DOT shows as one), `\n` for a line break (a line break in
/// the label), and distinct names stay distinct nodes. A control character is written as
/// `\u{1b}`, which Graphviz shows without its backslash.
fn dot_id(name: &str) -> String {
    format!("{name:?}")
}

pub(crate) fn dot(cache: &BuildCache) -> String {
    let mut out = String::from("digraph templates {\n  rankdir=LR;\n  node [shape=box];\n");
    for name in cache.templates.keys() {
        let _ = writeln!(out, "  {};", dot_id(name));
    }
    for (from, to, kind) in edges(cache) {
        let (from, to) = (dot_id(from), dot_id(&to));
        let style = match kind {
            "missing" => {
                format!("  {to} [color=red, fontcolor=red];\n  {from} -> {to} [color=red];")
            }
            "dynamic" => {
                format!("  {to} [shape=note, style=dashed];\n  {from} -> {to} [style=dashed];")
            }
            _ => format!("  {from} -> {to};"),
        };
        let _ = writeln!(out, "{style}");
    }
    out.push_str("}\n");
    out
}

/// A name as the text of a quoted Mermaid label. Each character that could end the label or
/// its line (`"`, a line break or any control character), that Mermaid or the browser would
/// read as markup (`#` of its entity codes, `&`, `<`, `>`, a `` ` `` that makes a Markdown
/// label), or that lets Mermaid take the line for a style (`:`) is written as Mermaid's
/// decimal entity code, `#34;` for `"`, which it shows as the character. Brackets need nothing
/// inside the quotes.
fn mermaid_label(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() || matches!(c, '"' | '#' | '&' | '<' | '>' | '`' | ':') {
            let _ = write!(out, "#{};", u32::from(c));
        } else {
            out.push(c);
        }
    }
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
            let _ = writeln!(out, "  n{next}[\"{}\"]", mermaid_label(label));
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use shipwright_core::format::{Dep, DynamicRef, TemplateRecord};

    /// File names that break a drawing whose quoting is naive.
    const NAMES: [&str; 7] = [
        "a\nb.html",
        "say \"hi\".html",
        "br[ack]e(t){s}|;.html",
        "x#quot;.html",
        "<b>&amp;</b>.html",
        "`md`.html",
        "style:x#35;y\u{1b}\t.html",
    ];
    const MISSING: &str = "gone\n\"x\"\r.html";
    const DYNAMIC: &str = "'a\\n' ~ \"]\"";

    /// Each name includes the next; the last includes a missing name; the first also has a
    /// dynamic reference.
    fn cache() -> BuildCache {
        let mut cache = BuildCache::new(vec!["t".into()]);
        for (i, name) in NAMES.iter().enumerate() {
            let mut record = TemplateRecord::including(name, &[]);
            record.deps = vec![Dep {
                name: NAMES.get(i + 1).copied().unwrap_or(MISSING).to_string(),
                line: 1,
                context: true,
                scope: Vec::new(),
                calls: Some(Vec::new()),
            }];
            cache.templates.insert(name.to_string(), record);
        }
        let first = cache.templates.get_mut(NAMES[0]).unwrap();
        first.dynamic.push(DynamicRef {
            line: 1,
            expr: DYNAMIC.into(),
            context: true,
            scope: Vec::new(),
        });
        cache
    }

    fn every_node() -> BTreeSet<String> {
        NAMES
            .iter()
            .map(|n| n.to_string())
            .chain([MISSING.to_string(), format!("? {DYNAMIC}")])
            .collect()
    }

    /// Mermaid's decimal entity codes (`#34;`) back to their characters.
    fn mermaid_decode(label: &str) -> String {
        let mut out = String::new();
        let mut rest = label;
        while let Some(at) = rest.find('#') {
            out.push_str(&rest[..at]);
            let end = rest[at..].find(';').expect("an entity code ends with `;`") + at;
            let code: u32 = rest[at + 1..end].parse().expect("a decimal entity code");
            out.push(char::from_u32(code).unwrap());
            rest = &rest[end + 1..];
        }
        out + rest
    }

    #[test]
    fn mermaid_labels_stay_on_their_line_and_read_back_as_the_names() {
        let out = mermaid(&cache());
        let (mut labels, mut edges) = (BTreeSet::new(), 0);
        for line in out.lines().skip(1) {
            // One statement per line: a node, an edge, the style of missing names.
            let Some(node) = line.strip_prefix("  n") else {
                assert!(
                    line.starts_with("  classDef missing ") || line.starts_with("  class n"),
                    "{line:?}"
                );
                continue;
            };
            let digits = node.find(|c: char| !c.is_ascii_digit()).unwrap();
            assert!(digits > 0, "{line:?}");
            if let Some(label) = node[digits..]
                .strip_prefix("[\"")
                .and_then(|l| l.strip_suffix("\"]"))
            {
                // Nothing that ends the label or the line, or that Mermaid reads as markup.
                let special = |c: char| c.is_control() || "\"`<>&:".contains(c);
                assert!(!label.contains(special), "{line:?}");
                labels.insert(mermaid_decode(label));
            } else {
                let arrow = node[digits..]
                    .strip_prefix(" --> n")
                    .or_else(|| node[digits..].strip_prefix(" -.-> n"));
                assert!(
                    arrow
                        .is_some_and(|to| !to.is_empty() && to.chars().all(|c| c.is_ascii_digit())),
                    "{line:?}"
                );
                edges += 1;
            }
        }
        assert_eq!(labels, every_node());
        assert_eq!(edges, NAMES.len() + 1);
    }

    /// The DOT quoted strings of a line, unescaped (`\"`, `\\`, `\n` and Rust's other escapes),
    /// and what is left outside them.
    fn dot_strings(line: &str) -> (Vec<String>, String) {
        let (mut strings, mut outside) = (Vec::new(), String::new());
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                outside.push(c);
                continue;
            }
            outside.push('S');
            let mut s = String::new();
            loop {
                match chars.next().expect("the string is closed on its line") {
                    '"' => break,
                    '\\' => match chars.next().unwrap() {
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'u' => {
                            let hex: String =
                                chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                            s.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                        }
                        c => s.push(c),
                    },
                    c => {
                        assert!(!c.is_control(), "raw control character in {line:?}");
                        s.push(c);
                    }
                }
            }
            strings.push(s);
        }
        (strings, outside)
    }

    #[test]
    fn dot_ids_stay_on_their_line_and_read_back_as_the_names() {
        let out = dot(&cache());
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("digraph templates {"));
        let (mut nodes, mut edges) = (BTreeSet::new(), 0);
        for line in lines {
            let (strings, outside) = dot_strings(line);
            match outside.as_str() {
                "  rankdir=LR;" | "  node [shape=box];" | "}" => continue,
                "  S;" | "  S [color=red, fontcolor=red];" | "  S [shape=note, style=dashed];" => {}
                "  S -> S;" | "  S -> S [color=red];" | "  S -> S [style=dashed];" => edges += 1,
                _ => panic!("not a statement: {line:?}"),
            }
            nodes.extend(strings);
        }
        assert_eq!(nodes, every_node());
        assert_eq!(edges, NAMES.len() + 1);
    }
}
