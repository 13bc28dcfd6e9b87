//! What a batch of changes means: a decision per template and the affected set.
//!
//! A plan is compact: a template that renders a changed one does not get a copy of the
//! reason. Every template that renders the same changed template shares one [`Decision`]
//! (`Reason::Dependency`), and the plan keeps, for each, only its graph id and which shared
//! decision it has. Names are the graph's own, shared. An edit to a base layout that 2,600
//! templates extend therefore costs a few words per template, not three strings.
//!
//! ```
//! # use shipwright_core::format::BuildCache;
//! # fn build(files: &[(&str, &str)]) -> BuildCache {
//! #     let dir = tempfile::tempdir().unwrap();
//! #     for (name, text) in files { std::fs::write(dir.path().join(name), text).unwrap(); }
//! #     let roots = shipwright_build::scan::Roots::new(vec![(dir.path().into(), "templates".into())]);
//! #     shipwright_build::scan::scan(&roots, None).unwrap().cache
//! # }
//! use shipwright_runtime::planner::{Change, RebuildPlanner, RenderMode};
//!
//! let baseline = build(&[
//!     ("base.html", "<main>{% block body %}{% endblock %}</main>"),
//!     ("a.html", "{% extends 'base.html' %}"),
//!     ("b.html", "{% extends 'base.html' %}"),
//! ]);
//! let mut planner = RebuildPlanner::new(baseline, RenderMode::Runtime);
//! let plan = planner.apply([Change::edit("base.html", "<main id=m>{% block body %}{% endblock %}</main>")]);
//! assert_eq!(plan.affected().collect::<Vec<_>>(), ["a.html", "b.html", "base.html"]);
//! assert_eq!(plan.decision("a.html").unwrap().to_string(), "hot reload: renders base.html: literal text changed in base.html");
//! // Both dependents hold the same decision.
//! assert!(std::ptr::eq(plan.decision("a.html").unwrap(), plan.decision("b.html").unwrap()));
//! assert_eq!(plan.decisions().len(), 3);
//! ```

use std::fmt;
use std::iter::Peekable;
use std::sync::Arc;

use super::{Decision, Note, Reason};
use crate::graph::TemplateId;

/// The planner's verdict on a batch of changes, against the build. Built by
/// [`RebuildPlanner::apply`](super::RebuildPlanner::apply).
#[derive(Clone)]
pub struct Plan {
    /// The build's template names, by graph id (the graph's own).
    pub(super) names: Arc<[Arc<str>]>,
    /// Decisions of their own, sorted by name: the templates the batch touched, those that
    /// differ from the build, and bound ones a new variable breaks. Names may be new to the
    /// build.
    pub(super) own: Vec<(String, Decision)>,
    /// One decision per changed template, shared by every template that renders it.
    pub(super) shared: Vec<Decision>,
    /// The templates that take a shared decision: (graph id, index in `shared`), sorted by id;
    /// none of them is in `own`.
    pub(super) inherited: Vec<(TemplateId, u32)>,
    /// The affected templates of the build, sorted by id (which is name order).
    pub(super) affected: Vec<TemplateId>,
    /// Affected names the build does not have, sorted.
    pub(super) affected_new: Vec<String>,
    /// What the plan says besides its decisions, sorted.
    pub(super) notes: Vec<Note>,
}

impl Plan {
    /// The decision for one template: every template that differs from the build, or renders
    /// one that does, has one; so has every template the batch touched (`Unchanged` when it
    /// went back to the build's version). `None` for the others.
    pub fn decision(&self, name: &str) -> Option<&Decision> {
        if let Ok(at) = self.own.binary_search_by(|(own, _)| own.as_str().cmp(name)) {
            return Some(&self.own[at].1);
        }
        let at = self
            .inherited
            .binary_search_by(|(id, _)| self.name(*id).cmp(name))
            .ok()?;
        Some(&self.shared[self.inherited[at].1 as usize])
    }

    /// Every decision, sorted by template name.
    pub fn decisions(&self) -> impl ExactSizeIterator<Item = (&str, &Decision)> + '_ {
        let own = self
            .own
            .iter()
            .map(|(name, decision)| (name.as_str(), decision));
        let inherited = self
            .inherited
            .iter()
            .map(|&(id, at)| (self.name(id), &self.shared[at as usize]));
        Merged::new(own, inherited)
    }

    /// The templates whose cached renders this batch made stale, sorted: the changed ones and
    /// every template that renders them, now or in the build, also through a dynamic reference
    /// that may name them.
    pub fn affected(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        let known = self.affected.iter().map(|&id| (self.name(id), ()));
        let new = self.affected_new.iter().map(|name| (name.as_str(), ()));
        Merged::new(known, new).map(|(name, ())| name)
    }

    /// What the plan says besides its decisions: the templates the binary does not embed yet.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// Does any template need `cargo build`?
    pub fn needs_rebuild(&self) -> bool {
        self.own.iter().any(|(_, d)| d.needs_rebuild())
            || self
                .inherited
                .iter()
                .any(|&(_, at)| self.shared[at as usize].needs_rebuild())
    }

    /// The reasons for a rebuild, one per template, sorted by template.
    pub fn rebuild_reasons(&self) -> impl Iterator<Item = (&str, &Reason)> {
        self.decisions().filter_map(|(name, d)| match d {
            Decision::Rebuild { reason } => Some((name, reason)),
            _ => None,
        })
    }

    fn name(&self, id: TemplateId) -> &str {
        &self.names[id.index()]
    }

    /// Checks the plan's invariants; panics with the first broken one.
    #[cfg(test)]
    pub(crate) fn validate(&self) {
        assert!(
            self.own.windows(2).all(|w| w[0].0 < w[1].0),
            "own decisions sorted and unique"
        );
        assert!(
            self.inherited.windows(2).all(|w| w[0].0 < w[1].0),
            "inherited decisions sorted and unique"
        );
        assert!(
            self.inherited
                .iter()
                .all(|&(_, at)| (at as usize) < self.shared.len()),
            "shared index in range"
        );
        assert!(
            self.inherited.iter().all(|&(id, _)| self
                .own
                .binary_search_by(|(n, _)| n.as_str().cmp(self.name(id)))
                .is_err()),
            "a template with a decision of its own also inherits one"
        );
        assert!(
            self.shared
                .iter()
                .all(|d| matches!(d.reason(), Some(Reason::Dependency { .. }))),
            "shared decisions are dependencies"
        );
        assert!(
            self.affected.windows(2).all(|w| w[0] < w[1]),
            "affected sorted and unique"
        );
        assert!(
            self.affected_new.windows(2).all(|w| w[0] < w[1]),
            "new affected names sorted and unique"
        );
        assert!(
            self.affected_new
                .iter()
                .all(|n| self.names.binary_search_by(|k| (**k).cmp(n)).is_err()),
            "a new name is in the build"
        );
    }
}

impl Default for Plan {
    /// Nothing changed.
    fn default() -> Self {
        Plan {
            names: Arc::from([]),
            own: Vec::new(),
            shared: Vec::new(),
            inherited: Vec::new(),
            affected: Vec::new(),
            affected_new: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Two plans are equal when they decide the same for the same templates and affect the same.
impl PartialEq for Plan {
    fn eq(&self, other: &Self) -> bool {
        self.decisions().eq(other.decisions()) && self.affected().eq(other.affected())
    }
}

impl Eq for Plan {}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Decisions<'a>(&'a Plan);
        impl fmt::Debug for Decisions<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.decisions()).finish()
            }
        }
        struct Affected<'a>(&'a Plan);
        impl fmt::Debug for Affected<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.affected()).finish()
            }
        }
        f.debug_struct("Plan")
            .field("decisions", &Decisions(self))
            .field("affected", &Affected(self))
            .finish()
    }
}

/// Two sequences sorted by name, merged; a name is in at most one of them.
#[derive(Clone)]
struct Merged<'a, T, A: Iterator<Item = (&'a str, T)>, B: Iterator<Item = (&'a str, T)>> {
    a: Peekable<A>,
    b: Peekable<B>,
    left: usize,
}

impl<'a, T, A, B> Merged<'a, T, A, B>
where
    A: ExactSizeIterator<Item = (&'a str, T)>,
    B: ExactSizeIterator<Item = (&'a str, T)>,
{
    fn new(a: A, b: B) -> Self {
        let left = a.len() + b.len();
        Merged {
            a: a.peekable(),
            b: b.peekable(),
            left,
        }
    }
}

impl<'a, T, A, B> Iterator for Merged<'a, T, A, B>
where
    A: Iterator<Item = (&'a str, T)>,
    B: Iterator<Item = (&'a str, T)>,
{
    type Item = (&'a str, T);

    fn next(&mut self) -> Option<Self::Item> {
        let from_a = match (self.a.peek(), self.b.peek()) {
            (Some((x, _)), Some((y, _))) => x <= y,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let next = if from_a { self.a.next() } else { self.b.next() };
        self.left -= usize::from(next.is_some());
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, T, A, B> ExactSizeIterator for Merged<'a, T, A, B>
where
    A: Iterator<Item = (&'a str, T)>,
    B: Iterator<Item = (&'a str, T)>,
{
}
