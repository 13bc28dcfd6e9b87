//! The edit-replay benchmark: the rebuild planner's decisions on real template edit histories,
//! scored against an independent oracle built on Jinja2's own parser.
//!
//! `runtime/benches/replay/run.sh` fetches the histories (fetch.py: consecutive released versions
//! of Python packages that ship Jinja template sets), runs the oracle (oracle.py) and this
//! program; `cargo bench -p shipwright-runtime --bench replay` alone reuses the files under
//! `target/shipwright-replay/` (and re-runs the oracle if it is newer than its output).
//! `-- --smoke` (CI) uses the small replay (`fetch.py --smoke`, fetched if absent: two packages,
//! 3-4 versions, about 5 MB); `-- --replay FILE` any replay file. Every run also replays the
//! committed minimal repros (`benches/replay/repros.json`, our own templates, one per known
//! cause of disagreement), which need no network.
//!
//! For each edit: the tree of version k is written to a temporary directory and scanned (the
//! build's BuildCache); a `Runtime` planner binds every entry template of version k (one no
//! other template references) with `Binding::new(entry, "Entry", fields)`, where `fields` are
//! the root variables the ORACLE found the build's closure of the entry to read, so that both
//! sides bind the same struct, and with the globals the oracle gives the package's renderer
//! (`RebuildPlanner::globals`, as the app would declare them); the changed files of version k+1 are applied; and the plan's
//! decision for each entry is compared with the oracle's. A pair (edit, entry) counts when
//! either side finds the entry affected. Missed: the oracle needs a rebuild, the plan does not
//! (a hot reload that renders wrong). Needless: the plan rebuilds, the oracle does not.
//! Beside them, the naive strategies: always rebuild (askama: every affected pair rebuilds)
//! and never rebuild (minijinja-autoreload: every necessary rebuild is missed).

#[path = "replay/data.rs"]
mod data;
#[path = "replay/diagnose.rs"]
mod diagnose;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;
use shipwright_build::scan::{Roots, scan};
use shipwright_fixtures::merge_summary;
use shipwright_runtime::planner::{Binding, Change, Decision, RebuildPlanner, RenderMode};

use data::{Files, Replay, Unavailable, Verdict};
use diagnose::Now;

/// One (edit, entry) pair where either side found the entry affected.
struct Pair {
    set: String,
    edit: String,
    entry: String,
    oracle: String,
    oracle_reason: String,
    ours: &'static str,
    ours_reason: String,
    /// For a disagreement: missed or needless, and the cause.
    disagreement: Option<(&'static str, String)>,
}

#[derive(Default, Clone)]
struct Tally {
    edits: usize,
    pairs: usize,
    oracle_rebuild: usize,
    ours_rebuild: usize,
    missed: usize,
    needless: usize,
    /// Rebuilds both sides want, where the plan's reason is not the oracle's.
    other_reason: usize,
    apply_us: Vec<f64>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.edits += other.edits;
        self.pairs += other.pairs;
        self.oracle_rebuild += other.oracle_rebuild;
        self.ours_rebuild += other.ours_rebuild;
        self.missed += other.missed;
        self.needless += other.needless;
        self.other_reason += other.other_reason;
        self.apply_us.extend(&other.apply_us);
    }

    fn hot(&self) -> usize {
        self.pairs - self.oracle_rebuild
    }

    fn json(&self) -> serde_json::Value {
        let rate = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
        json!({
            "edits": self.edits,
            "pairs": self.pairs,
            "oracle_rebuild": self.oracle_rebuild,
            "oracle_hot_reload": self.hot(),
            "planner_rebuild": self.ours_rebuild,
            "missed": self.missed,
            "missed_rate": rate(self.missed, self.oracle_rebuild),
            "needless": self.needless,
            "needless_rate": rate(self.needless, self.hot()),
            "rebuild_for_another_reason": self.other_reason,
            "always_rebuild_needless": self.hot(),
            "always_rebuild_needless_rate": rate(self.hot(), self.hot()),
            "never_rebuild_missed": self.oracle_rebuild,
            "never_rebuild_missed_rate": rate(self.oracle_rebuild, self.oracle_rebuild),
            "apply_median_us": median(&self.apply_us),
        })
    }
}

fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let custom = args
        .iter()
        .position(|a| a == "--replay")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = workspace.join("target/shipwright-replay");
    let repros = Files {
        replay: Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/replay/repros.json"),
        oracle: dir.join("repros.oracle.json"),
    };
    let (main_files, fetch): (Files, Option<&[&str]>) = match (&custom, smoke) {
        (Some(path), _) => (Files::new(path.clone()), None),
        (None, true) => (
            Files::new(dir.join("replay-smoke.json")),
            Some(&["--smoke"]),
        ),
        (None, false) => (Files::new(dir.join("replay.json")), None),
    };
    std::fs::create_dir_all(&dir).unwrap();

    let mut runs: Vec<(&str, Files)> = Vec::new();
    match data::prepare(&main_files, fetch) {
        Ok(()) => runs.push(("package histories", main_files)),
        Err(Unavailable::NoPython(why)) => {
            println!("replay: SKIPPED, the oracle cannot run: {why}");
            return;
        }
        Err(Unavailable::Failed(why)) if smoke => {
            // Offline CI without a cached replay: the committed repros still run end to end.
            println!("replay: no package histories ({why}); replaying the minimal repros only");
        }
        Err(Unavailable::Failed(why)) => {
            eprintln!("replay: {why}");
            std::process::exit(1);
        }
    }
    match data::prepare(&repros, None) {
        Ok(()) => runs.push(("minimal repros", repros)),
        Err(Unavailable::NoPython(why)) => {
            println!("replay: SKIPPED, the oracle cannot run: {why}");
            return;
        }
        Err(Unavailable::Failed(why)) => {
            eprintln!("replay: {why}");
            std::process::exit(1);
        }
    }

    let mut report = serde_json::Map::new();
    for (label, files) in &runs {
        let (replay, oracle) = data::load(files).unwrap_or_else(|e| {
            eprintln!("replay: {e}");
            std::process::exit(1);
        });
        println!(
            "\n== {label}: {} (oracle: Jinja2 {})",
            files.replay.display(),
            oracle.jinja2
        );
        let (tallies, pairs) = replay_all(&replay, &oracle);
        report.insert(label.to_string(), print_report(&tallies, &pairs));
    }

    let out = dir.join(if smoke {
        "results-smoke.json"
    } else {
        "results.json"
    });
    let document = serde_json::Value::Object(report);
    std::fs::write(&out, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    let mut summary = document.clone();
    for run in summary.as_object_mut().unwrap().values_mut() {
        run.as_object_mut().unwrap().remove("pairs");
    }
    println!("\n{}", serde_json::to_string_pretty(&summary).unwrap());
    println!("(every pair: {})", out.display());

    if let Some(totals) = document
        .get("package histories")
        .and_then(|r| r.get("totals"))
    {
        let mut metrics = serde_json::Map::new();
        let mut units = serde_json::Map::new();
        for key in ["missed", "needless", "pairs", "oracle_rebuild"] {
            let name = format!("replay_{key}{}", if smoke { "_smoke" } else { "" });
            metrics.insert(name.clone(), json!({ "shipwright": totals[key] }));
            units.insert(name, json!("pairs"));
        }
        merge_summary(units, metrics);
    }
}

/// Replays every edit; per set a tally, and every pair.
fn replay_all(replay: &Replay, oracle: &data::Oracle) -> (Vec<(String, Tally)>, Vec<Pair>) {
    let mut tallies = Vec::new();
    let mut pairs = Vec::new();
    let mut verdicts = oracle.sets.iter();
    for set in &replay.sets {
        let label = format!("{}/{}", set.package, set.set);
        let judged = verdicts
            .next()
            .filter(|o| o.package == set.package && o.set == set.set)
            .unwrap_or_else(|| panic!("the oracle file does not match the replay at {label}"));
        let mut tally = Tally::default();
        let mut judged_edits = judged.edits.iter();
        for edit in set.edits.iter().filter(|e| !e.changes.is_empty()) {
            let verdict = judged_edits
                .next()
                .filter(|v| v.from == edit.from && v.to == edit.to)
                .unwrap_or_else(|| {
                    panic!(
                        "the oracle file does not match the replay at {label} {}",
                        edit.from
                    )
                });
            let tree = &set.trees[&edit.from].files;
            let name = format!("{} -> {}", edit.from, edit.to);
            replay_edit(
                &label,
                &name,
                &judged.globals,
                tree,
                &edit.changes,
                &verdict.entries,
                &mut tally,
                &mut pairs,
            );
        }
        tallies.push((label, tally));
    }
    (tallies, pairs)
}

#[allow(clippy::too_many_arguments)]
fn replay_edit(
    set: &str,
    edit: &str,
    globals: &[String],
    tree: &BTreeMap<String, String>,
    changes: &BTreeMap<String, Option<String>>,
    verdicts: &[Verdict],
    tally: &mut Tally,
    pairs: &mut Vec<Pair>,
) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in tree {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let roots = Roots::new(vec![(dir.path().into(), "templates".into())]);
    let baseline = scan(&roots, None).unwrap().cache;
    let unscanned: Vec<&String> = tree
        .keys()
        .filter(|n| !baseline.templates.contains_key(*n))
        .collect();
    assert!(
        unscanned.is_empty(),
        "{set} {edit}: the scan left out {unscanned:?}"
    );

    let mut planner =
        RebuildPlanner::new(baseline.clone(), RenderMode::Runtime).globals(globals.iter().cloned());
    for verdict in verdicts {
        planner = planner.bind(Binding::new(
            verdict.entry.clone(),
            "Entry",
            verdict.fields.iter().cloned(),
        ));
    }
    let batch: Vec<Change> = changes
        .iter()
        .map(|(name, text)| match text {
            Some(text) => Change::edit(name.clone(), text.clone()),
            None => Change::remove(name.clone()),
        })
        .collect();
    let start = Instant::now();
    let plan = planner.apply(batch);
    tally.apply_us.push(start.elapsed().as_secs_f64() * 1e6);
    tally.edits += 1;

    let mut now_files = tree.clone();
    for (name, text) in changes {
        match text {
            Some(text) => now_files.insert(name.clone(), text.clone()),
            None => now_files.remove(name),
        };
    }
    let now = Now::new(
        &baseline,
        &now_files,
        changes.keys().cloned().collect::<BTreeSet<_>>(),
    );

    for verdict in verdicts {
        let ours = plan
            .decision(&verdict.entry)
            .unwrap_or(&Decision::Unchanged);
        let ours_label = match ours {
            Decision::Unchanged => "unchanged",
            Decision::HotReload { .. } => "hot_reload",
            Decision::Rebuild { .. } => "rebuild",
        };
        if verdict.decision == "unchanged" && *ours == Decision::Unchanged {
            continue;
        }
        tally.pairs += 1;
        tally.oracle_rebuild += usize::from(verdict.needs_rebuild());
        tally.ours_rebuild += usize::from(ours.needs_rebuild());
        let disagreement = match (verdict.needs_rebuild(), ours) {
            (true, Decision::Rebuild { reason }) => {
                let same = diagnose::same_reason(reason, verdict);
                tally.other_reason += usize::from(!same);
                (!same).then(|| ("another reason", diagnose::needless(reason, verdict)))
            }
            (false, Decision::Unchanged) => None,
            (false, Decision::HotReload { .. }) => None,
            (true, _) => {
                tally.missed += 1;
                Some(("missed", diagnose::missed(verdict, &verdict.entry, &now)))
            }
            (false, Decision::Rebuild { reason }) => {
                tally.needless += 1;
                Some(("needless", diagnose::needless(reason, verdict)))
            }
        };
        pairs.push(Pair {
            set: set.to_string(),
            edit: edit.to_string(),
            entry: verdict.entry.clone(),
            oracle: verdict.decision.clone(),
            oracle_reason: verdict.reason.clone(),
            ours: ours_label,
            ours_reason: ours.reason().map(ToString::to_string).unwrap_or_default(),
            disagreement,
        });
    }
}

fn print_report(tallies: &[(String, Tally)], pairs: &[Pair]) -> serde_json::Value {
    let pct = |n: usize, of: usize| {
        if of == 0 {
            format!("{n}/{of}")
        } else {
            format!("{n}/{of} ({:.1}%)", 100.0 * n as f64 / of as f64)
        }
    };
    println!(
        "{:<38} {:>5} {:>5} {:>7} {:>7} {:>14} {:>18} {:>18} {:>18} {:>9}",
        "set",
        "edits",
        "pairs",
        "need rb",
        "our rb",
        "missed",
        "needless",
        "always rb: needl.",
        "never rb: missed",
        "apply p50"
    );
    let mut total = Tally::default();
    let mut rows: Vec<(String, Tally)> = tallies.to_vec();
    for (_, t) in tallies {
        total.add(t);
    }
    rows.push(("total".to_string(), total.clone()));
    for (label, t) in &rows {
        println!(
            "{:<38} {:>5} {:>5} {:>7} {:>7} {:>14} {:>18} {:>18} {:>18} {:>7.0}µs",
            label,
            t.edits,
            t.pairs,
            t.oracle_rebuild,
            t.ours_rebuild,
            pct(t.missed, t.oracle_rebuild),
            pct(t.needless, t.hot()),
            pct(t.hot(), t.hot()),
            pct(t.oracle_rebuild, t.oracle_rebuild),
            median(&t.apply_us)
        );
    }

    let mut causes: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (kind, what) in [
        ("missed", "the oracle needs a rebuild, the plan does not"),
        ("needless", "the plan rebuilds, the oracle does not"),
        (
            "another reason",
            "both rebuild, the plan for another reason than the oracle's",
        ),
    ] {
        let list: Vec<&Pair> = pairs
            .iter()
            .filter(|p| p.disagreement.as_ref().is_some_and(|(k, _)| *k == kind))
            .collect();
        println!("\n{kind} ({what}): {} pairs", list.len());
        for p in list {
            let (_, cause) = p.disagreement.as_ref().unwrap();
            *causes.entry(kind).or_default().entry(cause).or_default() += 1;
            println!("  {} {} {}", p.set, p.edit, p.entry);
            println!("    planner: {}: {}", p.ours, p.ours_reason);
            println!("    oracle:  {}: {}", p.oracle, p.oracle_reason);
            println!("    cause:   {cause}");
        }
    }
    println!("\ncauses:");
    for (kind, list) in &causes {
        for (cause, n) in list {
            println!("  {kind:<14} {n:>4}  {cause}");
        }
    }

    json!({
        "totals": total.json(),
        "sets": rows.iter().map(|(l, t)| (l.clone(), t.json())).collect::<serde_json::Map<_, _>>(),
        "causes": causes,
        "pairs": pairs.iter().filter(|p| p.disagreement.is_some()).map(|p| {
            let (kind, cause) = p.disagreement.as_ref().unwrap();
            json!({
                "kind": kind, "cause": cause, "set": p.set, "edit": p.edit, "entry": p.entry,
                "planner": p.ours, "planner_reason": p.ours_reason,
                "oracle": p.oracle, "oracle_reason": p.oracle_reason,
            })
        }).collect::<Vec<_>>(),
    })
}
