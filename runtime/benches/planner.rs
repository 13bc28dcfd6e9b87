//! The rebuild planner on one template change in a generated site of 10,000 templates: the time
//! from the new text to the affected set and every decision (the changed file is lexed inside
//! the measured call). Each case alternates an edit and its undo, so the planner's state stays
//! small, as in a real edit session.
//!
//! `cargo bench -p shipwright-runtime --bench planner` (`-- --smoke` for a quick run). Merges its
//! figures into `target/shipwright-bench/summary.json`.

use std::time::Instant;

use shipwright_build::scan::{Roots, scan};
use shipwright_fixtures::{generate_site, merge_summary};
use shipwright_runtime::planner::{Binding, Change, RebuildPlanner, RenderMode};

struct Case {
    label: &'static str,
    metric: &'static str,
    template: String,
    edit: fn(&str) -> String,
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (pages, runs) = if smoke {
        (500, 200)
    } else {
        (10_000 - 264, 5_000)
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    generate_site(&root, pages);
    let cache = scan(&Roots::new(vec![(root.clone(), "templates".into())]), None)
        .unwrap()
        .cache;
    let mut planner = RebuildPlanner::new(cache.clone(), RenderMode::Runtime);
    for name in cache.templates.keys().filter(|n| n.starts_with("pages/")) {
        planner = planner.bind(Binding::new(
            name.clone(),
            "Page",
            ["site", "items", "user", "item", "widget"],
        ));
    }
    println!(
        "site: {} templates, {} bound",
        cache.templates.len(),
        cache
            .templates
            .keys()
            .filter(|n| n.starts_with("pages/"))
            .count()
    );

    let page = cache
        .templates
        .keys()
        .find(|n| n.starts_with("pages/"))
        .unwrap()
        .clone();
    let cases = [
        Case {
            label: "page, literal text",
            metric: "planner_page_literal",
            template: page.clone(),
            edit: |t| t.replacen("Lorem", "Ipsum", 1),
        },
        Case {
            label: "page, new variable (rebuild)",
            metric: "planner_page_new_variable",
            template: page,
            edit: |t| t.replacen("Lorem", "{{ cart }}", 1),
        },
        Case {
            label: "partial, literal text",
            metric: "planner_partial_literal",
            template: "partials/p007.html".into(),
            edit: |t| t.replacen("Lorem", "Ipsum", 1),
        },
        Case {
            label: "base layout, literal text",
            metric: "planner_base_literal",
            template: "bases/base1.html".into(),
            edit: |t| t.replacen("Lorem", "Ipsum", 1),
        },
    ];
    let mut metrics = serde_json::Map::new();
    for case in &cases {
        let original = std::fs::read_to_string(root.join(&case.template)).unwrap();
        let edited = (case.edit)(&original);
        assert_ne!(edited, original);
        let mut samples = Vec::with_capacity(runs);
        // Reading the whole plan afterwards (every decision's sentence is not built, but every
        // decision and every affected name is visited), for what the compact plan defers.
        let mut reads = Vec::with_capacity(runs / 2);
        let mut affected = 0;
        let mut rebuild = false;
        for i in 0..runs {
            let text = if i % 2 == 0 {
                edited.clone()
            } else {
                original.clone()
            };
            let start = Instant::now();
            let plan = planner.apply([Change::edit(case.template.clone(), text)]);
            samples.push(start.elapsed().as_secs_f64() * 1e6);
            if i % 2 == 0 {
                let start = Instant::now();
                let hot = plan.decisions().filter(|(_, d)| !d.needs_rebuild()).count();
                let bytes: usize = plan.affected().map(str::len).sum();
                reads.push(start.elapsed().as_secs_f64() * 1e6);
                assert!(hot <= plan.decisions().len() && bytes > 0);
                affected = plan.affected().len();
                rebuild = plan.needs_rebuild();
            }
        }
        samples.sort_by(f64::total_cmp);
        reads.sort_by(f64::total_cmp);
        let (p50, p99, read) = (
            samples[runs / 2],
            samples[runs * 99 / 100],
            reads[reads.len() / 2],
        );
        println!(
            "{:<30} p50 {p50:>9.1} µs  p99 {p99:>9.1} µs  affected {affected:>5}  rebuild {rebuild:<5}  reading it all p50 {read:>6.1} µs",
            case.label
        );
        metrics.insert(
            format!("{}_p50", case.metric),
            serde_json::json!({ "shipwright": p50 }),
        );
        metrics.insert(
            format!("{}_read_p50", case.metric),
            serde_json::json!({ "shipwright": read }),
        );
        metrics.insert(
            format!("{}_affected", case.metric),
            serde_json::json!({ "shipwright": affected }),
        );
    }
    println!("target: one change in 10,000 templates <= 50 µs");
    let units = metrics
        .keys()
        .map(|k| {
            (
                k.clone(),
                serde_json::json!(if k.ends_with("_p50") {
                    "µs"
                } else {
                    "templates"
                }),
            )
        })
        .collect();
    merge_summary(units, metrics);
}
