//! Why the planner and the oracle disagree on one (edit, entry) pair, as a cause that groups
//! pairs: read from the plan's reason, the oracle's verdict, and the lexer's view of the
//! templates (the build's records and the edited texts). This explains a disagreement; it
//! decides nothing.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::data::Verdict;
use shipwright_core::analyze::{Analysis, analyze};
use shipwright_core::format::BuildCache;
use shipwright_core::graph::resolve_name;
use shipwright_runtime::planner::Reason;

/// The tree after the edit, as the lexer sees it.
pub(crate) struct Now<'a> {
    pub(crate) baseline: &'a BuildCache,
    pub(crate) analyses: BTreeMap<String, Option<Analysis>>,
    pub(crate) changed: BTreeSet<String>,
}

impl<'a> Now<'a> {
    pub(crate) fn new(
        baseline: &'a BuildCache,
        files: &BTreeMap<String, String>,
        changed: BTreeSet<String>,
    ) -> Self {
        let analyses = files
            .iter()
            .map(|(name, text)| (name.clone(), analyze(text).ok()))
            .collect();
        Now {
            baseline,
            analyses,
            changed,
        }
    }

    /// `entry` and what the lexer's static references reach from it now.
    fn closure(&self, entry: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::from([entry.to_string()]);
        let mut queue = VecDeque::from([entry.to_string()]);
        while let Some(at) = queue.pop_front() {
            let Some(Some(analysis)) = self.analyses.get(&at) else {
                continue;
            };
            for dep in analysis
                .deps
                .iter()
                .filter_map(|d| resolve_name(&d.name).ok())
            {
                if self.analyses.contains_key(&dep) && seen.insert(dep.clone()) {
                    queue.push_back(dep);
                }
            }
        }
        seen
    }

    /// The lexer's root variables of the build's closure of `entry`.
    fn built_vars(&self, entry: &str) -> BTreeSet<&'a str> {
        if !self.baseline.templates.contains_key(entry) {
            return BTreeSet::new();
        }
        std::iter::once(entry)
            .chain(shipwright_core::graph::closure(self.baseline, entry))
            .filter_map(|t| self.baseline.templates.get(t))
            .flat_map(|r| r.var_names())
            .collect()
    }
}

/// The reason behind a shared `Dependency` reason.
pub(crate) fn root(reason: &Reason) -> &Reason {
    match reason {
        Reason::Dependency { cause } => root(cause),
        other => other,
    }
}

/// Whether a rebuild both sides want has the oracle's reason: the same missing variable, or
/// the same kind of structural problem.
pub(crate) fn same_reason(reason: &Reason, verdict: &Verdict) -> bool {
    match (root(reason), verdict.cause.as_str()) {
        (Reason::MissingVariable { variable, .. }, "missing variable") => {
            verdict.missing.iter().any(|m| m.variable == *variable)
        }
        (Reason::Removed { template }, "bound template removed") => *template == verdict.entry,
        (Reason::Parse { .. }, "does not parse")
        | (Reason::MissingDependency { .. }, "unresolved reference")
        | (Reason::Cycle { .. }, "cycle") => true,
        _ => false,
    }
}

/// Why the planner rebuilt where the oracle does not (or for another reason than the
/// oracle's).
pub(crate) fn needless(reason: &Reason, verdict: &Verdict) -> String {
    match root(reason) {
        Reason::MissingVariable { variable, .. } => match verdict.excused.get(variable) {
            Some(kinds) => format!(
                "variable the oracle does not require: {}",
                kinds.join(" + ")
            ),
            None => "variable that Jinja2's AST never reads as a name".to_string(),
        },
        Reason::Added { .. } => "added template (Runtime promises a hot reload)".to_string(),
        Reason::Removed { .. } => {
            "removed template the planner takes as bound or still referenced".to_string()
        }
        Reason::Dynamic { .. } => {
            "interface change in a template with a dynamic reference (Compiled)".to_string()
        }
        Reason::MissingDependency { .. } => {
            "reference to no template where the oracle sees none new".to_string()
        }
        Reason::Cycle { .. } => "cycle where the oracle sees none new".to_string(),
        Reason::Parse { .. } => "lexer error on a template Jinja2 parses".to_string(),
        other => format!("other: {other}"),
    }
}

/// Why the planner did not rebuild where the oracle does.
pub(crate) fn missed(verdict: &Verdict, entry: &str, now: &Now<'_>) -> String {
    if verdict.cause != "missing variable" {
        return format!("planner does not see: {}", verdict.cause);
    }
    let Some(first) = verdict.missing.first() else {
        return "missing variable without details".to_string();
    };
    let (v, t) = (first.variable.as_str(), first.template.as_str());
    let build_why = if first.build.is_empty() {
        String::new()
    } else {
        format!(" (oracle, in the build: {})", first.build.join(" + "))
    };
    if now.built_vars(entry).contains(v) {
        return format!(
            "the lexer counts the variable as read by the build's closure, so the planner takes it as provided; the struct lacks it{build_why}"
        );
    }
    let reads = now
        .analyses
        .get(t)
        .and_then(Option::as_ref)
        .is_some_and(|a| a.vars.iter().any(|x| x == v));
    if !reads {
        return "the lexer does not count the variable as a root variable of the template that reads it".to_string();
    }
    if !now.closure(entry).contains(t) {
        return "read in a template the planner does not see the entry render (dynamic reference)"
            .to_string();
    }
    if !now.changed.contains(t) {
        return "read in an unchanged template newly pulled into the closure".to_string();
    }
    let before = now
        .baseline
        .templates
        .get(t)
        .is_some_and(|r| r.vars.iter().any(|x| x == v));
    if before {
        return "the changed template read the variable before the edit, outside this entry's closure"
            .to_string();
    }
    "unexplained".to_string()
}
