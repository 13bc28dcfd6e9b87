//! The rebuild planner under any edits, from a script of templates and changes:
//!
//! ```text
//! === home.html            a template of the build (its text follows, up to the next header)
//! +++ nav.html             an edit: the file's new text follows
//! --- home.html            the file is removed
//! ### home.html Home a b   a binding: the template, the type, its fields
//! ```
//!
//! A first line `!compiled` plans in `RenderMode::Compiled` instead of `Runtime`. The build is
//! made in memory, as the scan makes it: `analyze::record` per template, then `graph::link`.
//!
//! Invariants: nothing panics; a plan's decisions and affected templates are sorted and unique,
//! every template the batch touched has a decision, `decision` agrees with `decisions`, and
//! `needs_rebuild` with the decisions; undoing every change in one batch (each file back to the
//! build's text, or removed if the build had none) leaves every decision `Unchanged`.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use shipwright_core::analyze::record;
use shipwright_core::format::BuildCache;
use shipwright_core::graph::link;
use shipwright_runtime::planner::{Binding, Change, Decision, Plan, RebuildPlanner, RenderMode};

const MAX_ITEMS: usize = 24;

#[derive(Default)]
struct Script {
    compiled: bool,
    files: BTreeMap<String, String>,
    changes: Vec<Change>,
    bindings: Vec<Binding>,
}

enum Open {
    None,
    File(String),
    Edit(String),
}

fn parse(text: &str) -> Script {
    let mut script = Script::default();
    let mut lines = text.split('\n').peekable();
    if lines.next_if_eq(&"!compiled").is_some() {
        script.compiled = true;
    }
    let (mut open, mut body) = (Open::None, Vec::new());
    let close = |open: Open, body: &mut Vec<&str>, script: &mut Script| {
        let text = body.join("\n");
        body.clear();
        match open {
            Open::File(name) if script.files.len() < MAX_ITEMS => {
                script.files.insert(name, text);
            }
            Open::Edit(name) if script.changes.len() < MAX_ITEMS => {
                script.changes.push(Change::edit(name, text))
            }
            _ => {}
        }
    };
    for line in lines {
        let header = ["=== ", "+++ ", "--- ", "### "]
            .into_iter()
            .find_map(|mark| Some((mark, line.strip_prefix(mark)?)));
        let Some((mark, rest)) = header else {
            body.push(line);
            continue;
        };
        close(
            std::mem::replace(&mut open, Open::None),
            &mut body,
            &mut script,
        );
        let name = rest.to_string();
        match mark {
            "=== " => open = Open::File(name),
            "+++ " => open = Open::Edit(name),
            "--- " if script.changes.len() < MAX_ITEMS => script.changes.push(Change::remove(name)),
            "### " if script.bindings.len() < MAX_ITEMS => {
                let mut words = rest.split_whitespace();
                if let (Some(template), Some(type_name)) = (words.next(), words.next()) {
                    script
                        .bindings
                        .push(Binding::new(template, type_name, words));
                }
            }
            _ => {}
        }
    }
    close(open, &mut body, &mut script);
    script
}

/// The BuildCache the scan would write for these templates, in memory.
fn build(files: &BTreeMap<String, String>) -> BuildCache {
    let mut cache = BuildCache::new(vec!["templates".into()]);
    for (name, text) in files {
        let (record, error) = record(name, 0, text);
        cache.templates.insert(name.clone(), record);
        cache.errors.extend(error);
    }
    link(&mut cache);
    cache
}

fn check(plan: &Plan, touched: &[&str]) {
    let decisions: Vec<(&str, &Decision)> = plan.decisions().collect();
    assert!(
        decisions.windows(2).all(|w| w[0].0 < w[1].0),
        "decisions sorted and unique"
    );
    for (name, decision) in &decisions {
        assert_eq!(plan.decision(name), Some(*decision), "{name:?}");
    }
    for name in touched {
        assert!(
            plan.decision(name).is_some(),
            "touched {name:?} has a decision"
        );
    }
    let affected: Vec<&str> = plan.affected().collect();
    assert!(
        affected.windows(2).all(|w| w[0] < w[1]),
        "affected sorted and unique"
    );
    assert_eq!(
        plan.needs_rebuild(),
        decisions.iter().any(|(_, d)| d.needs_rebuild())
    );
    for (name, reason) in plan.rebuild_reasons() {
        assert!(!reason.to_string().is_empty(), "{name:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let script = parse(&text);
    let mode = if script.compiled {
        RenderMode::Compiled
    } else {
        RenderMode::Runtime
    };
    let mut planner = RebuildPlanner::new(build(&script.files), mode);
    for (name, text) in &script.files {
        planner = planner.source(name.clone(), text.clone());
    }
    for binding in script.bindings {
        planner = planner.bind(binding);
    }
    let mut touched: Vec<&str> = script.changes.iter().map(|c| c.name.as_str()).collect();
    let plan = planner.apply(script.changes.iter().cloned());
    check(&plan, &touched);
    for (_, decision) in plan.decisions() {
        let _ = decision.to_string();
    }

    touched.sort_unstable();
    touched.dedup();
    let undo = touched.iter().map(|&name| match script.files.get(name) {
        Some(text) => Change::edit(name, text.as_str()),
        None => Change::remove(name),
    });
    let plan = planner.apply(undo);
    check(&plan, &touched);
    let changed: Vec<(&str, &Decision)> = plan
        .decisions()
        .filter(|(_, d)| **d != Decision::Unchanged)
        .collect();
    assert!(changed.is_empty(), "undone, yet {changed:?}");
    assert!(!plan.needs_rebuild());
});
