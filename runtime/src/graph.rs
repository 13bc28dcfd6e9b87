//! The dependency graph of a [`BuildCache`], with dense integer ids.
//!
//! ```
//! use shipwright_core::format::{BuildCache, TemplateRecord};
//! use shipwright_runtime::graph::DependencyGraph;
//!
//! # fn record(name: &str, deps: &[&str]) -> TemplateRecord { TemplateRecord::including(name, deps) }
//! let mut build = BuildCache::new(vec!["templates".into()]);
//! for (name, deps) in [
//!     ("base.html", &[][..]),
//!     ("nav.html", &[][..]),
//!     ("page.html", &["base.html", "nav.html"][..]),
//!     ("home.html", &["page.html", "gone.html"][..]),
//! ] {
//!     build.templates.insert(name.into(), record(name, deps));
//! }
//! let graph = DependencyGraph::from_build_cache(&build);
//! let nav = graph.id("nav.html").unwrap();
//! let names: Vec<&str> =
//!     graph.dependents_transitive(nav).into_iter().map(|id| graph.name(id)).collect();
//! assert_eq!(names, ["page.html", "home.html"]);
//! // `gone.html` is not a template: the edge is kept aside as unresolved.
//! assert_eq!(graph.unresolved().next(), Some((graph.id("home.html").unwrap(), "gone.html")));
//! ```
//!
//! Ids follow the sorted order of the names, so the same BuildCache always gives the same ids.
//! Both directions are stored as compressed sparse rows (one offsets array, one targets array),
//! and every traversal is a breadth-first walk with a visited bitmap: no recursion, so a long
//! chain cannot overflow the stack, and a cycle is walked once.
//!
//! A dependency name is *resolved* by the build script's own rule
//! ([`shipwright_core::graph::resolve_name`]: relative to the roots, `./` and `a//b`
//! normalised, nothing outside the root) and must then be a key of
//! [`BuildCache::templates`]. Other names are listed by [`DependencyGraph::unresolved`].

use std::fmt;
use std::sync::Arc;

use shipwright_core::format::BuildCache;

/// The dense id of a template in one [`DependencyGraph`]: `0..graph.len()`, in name order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateId(u32);

impl TemplateId {
    /// The id with the given index. Only meaningful for `index < graph.len()`.
    #[inline]
    pub(crate) const fn new(index: u32) -> Self {
        TemplateId(index)
    }

    /// The id as an index into per-template arrays.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for TemplateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The templates of a BuildCache and their resolved references, both ways.
#[derive(Clone)]
pub struct DependencyGraph {
    /// Id -> name, sorted.
    names: Arc<[Arc<str>]>,
    /// Name -> id.
    ids: hashbrown::HashMap<Arc<str>, TemplateId, ahash::RandomState>,
    /// `dependencies(id)` is `deps[deps_at[id]..deps_at[id + 1]]`, in the order written.
    deps_at: Box<[u32]>,
    deps: Box<[TemplateId]>,
    /// `dependents(id)` is `users[users_at[id]..users_at[id + 1]]`, sorted by id.
    users_at: Box<[u32]>,
    users: Box<[TemplateId]>,
    /// References that name no template: (the template holding it, the name as written).
    unresolved: Box<[(TemplateId, Box<str>)]>,
}

impl DependencyGraph {
    /// Builds the graph of every template in `build`.
    ///
    /// # Panics
    ///
    /// If `build` holds `u32::MAX` templates or more, or as many edges.
    pub fn from_build_cache(build: &BuildCache) -> Self {
        Self::with_edges(build, false)
    }

    /// Like [`from_build_cache`](Self::from_build_cache), with an edge from every template with
    /// a dynamic reference to every template it may name
    /// ([`shipwright_core::graph::dynamic_targets`]), after its static ones.
    pub(crate) fn with_dynamic_targets(build: &BuildCache) -> Self {
        Self::with_edges(build, true)
    }

    fn with_edges(build: &BuildCache, dynamic: bool) -> Self {
        let count = build.templates.len();
        assert!(
            count < u32::MAX as usize,
            "too many templates for u32 ids: {count}"
        );
        let names: Arc<[Arc<str>]> = build
            .templates
            .keys()
            .map(|name| Arc::from(name.as_str()))
            .collect();
        let mut ids =
            hashbrown::HashMap::with_capacity_and_hasher(count, ahash::RandomState::new());
        for (index, name) in names.iter().enumerate() {
            ids.insert(Arc::clone(name), TemplateId(index as u32));
        }

        let mut deps_at = Vec::with_capacity(count + 1);
        let mut deps: Vec<TemplateId> = Vec::new();
        let mut unresolved = Vec::new();
        deps_at.push(0);
        for (index, record) in build.templates.values().enumerate() {
            let from = TemplateId(index as u32);
            let start = deps.len();
            for written in &record.deps {
                let resolved = shipwright_core::graph::resolve_name(&written.name).ok();
                match resolved.as_deref().and_then(|name| ids.get(name)) {
                    Some(&to) if !deps[start..].contains(&to) => deps.push(to),
                    Some(_) => {}
                    None => unresolved.push((from, written.name.as_str().into())),
                }
            }
            if dynamic && !record.dynamic.is_empty() {
                let name = &names[index];
                let written: std::collections::HashSet<TemplateId> =
                    deps[start..].iter().copied().collect();
                for target in shipwright_core::graph::dynamic_targets(build, name) {
                    let to = ids[target];
                    if !written.contains(&to) {
                        deps.push(to);
                    }
                }
            }
            deps_at.push(u32::try_from(deps.len()).expect("too many edges for u32 offsets"));
        }

        // The reverse rows by counting sort over the sources in id order, so each row of
        // dependents comes out sorted.
        let mut users_at = vec![0u32; count + 1];
        for to in &deps {
            users_at[to.index() + 1] += 1;
        }
        for i in 0..count {
            users_at[i + 1] += users_at[i];
        }
        let mut fill = users_at.clone();
        let mut users = vec![TemplateId(0); deps.len()];
        for from in 0..count {
            for to in &deps[deps_at[from] as usize..deps_at[from + 1] as usize] {
                let slot = &mut fill[to.index()];
                users[*slot as usize] = TemplateId(from as u32);
                *slot += 1;
            }
        }

        DependencyGraph {
            names,
            ids,
            deps_at: deps_at.into(),
            deps: deps.into(),
            users_at: users_at.into(),
            users: users.into(),
            unresolved: unresolved.into(),
        }
    }

    /// The number of templates.
    #[inline]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the graph has no template.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The number of resolved edges (a template referencing another one).
    pub fn edge_count(&self) -> usize {
        self.deps.len()
    }

    /// The id of the template with this name, if there is one.
    #[inline]
    pub fn id(&self, name: &str) -> Option<TemplateId> {
        self.ids.get(name).copied()
    }

    /// The name of a template.
    ///
    /// # Panics
    ///
    /// If `id` is not an id of this graph.
    #[inline]
    pub fn name(&self, id: TemplateId) -> &str {
        &self.names[id.index()]
    }

    /// The name of a template as a shared string (the graph keeps one copy of each name).
    ///
    /// # Panics
    ///
    /// If `id` is not an id of this graph.
    pub fn shared_name(&self, id: TemplateId) -> &Arc<str> {
        &self.names[id.index()]
    }

    /// Every name, indexed by id (sorted), shared: a plan or a report can keep them without a
    /// copy.
    pub(crate) fn names(&self) -> &Arc<[Arc<str>]> {
        &self.names
    }

    /// Every id, in name order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = TemplateId> + '_ {
        (0..self.names.len() as u32).map(TemplateId)
    }

    /// The templates `id` references directly, in the order first written, each once.
    ///
    /// # Panics
    ///
    /// If `id` is not an id of this graph.
    #[inline]
    pub fn dependencies(&self, id: TemplateId) -> &[TemplateId] {
        row(&self.deps_at, &self.deps, id)
    }

    /// The templates that reference `id` directly, sorted by id.
    ///
    /// # Panics
    ///
    /// If `id` is not an id of this graph.
    #[inline]
    pub fn dependents(&self, id: TemplateId) -> &[TemplateId] {
        row(&self.users_at, &self.users, id)
    }

    /// Every template `id` reaches through its references, nearest first (breadth-first, each
    /// row in its own order), without `id` itself even when it sits on a cycle.
    ///
    /// # Panics
    ///
    /// If `id` is not an id of this graph.
    pub fn dependencies_transitive(&self, id: TemplateId) -> Vec<TemplateId> {
        let mut out = self.walk(&[id], &self.deps_at, &self.deps);
        out.remove(0);
        out
    }

    /// Every template that reaches `id` through its references — everything a change to `id`
    /// can affect — nearest first, without `id` itself even when it sits on a cycle.
    ///
    /// # Panics
    ///
    /// If `id` is not an id of this graph.
    pub fn dependents_transitive(&self, id: TemplateId) -> Vec<TemplateId> {
        let mut out = self.walk(&[id], &self.users_at, &self.users);
        out.remove(0);
        out
    }

    /// The given templates followed by every template that depends on any of them, each once:
    /// the set a change to all of `changed` can affect. The given ids come first in their order
    /// (repeats dropped), then the dependents nearest first.
    ///
    /// # Panics
    ///
    /// If an id is not an id of this graph.
    pub fn affected(&self, changed: &[TemplateId]) -> Vec<TemplateId> {
        self.walk(changed, &self.users_at, &self.users)
    }

    /// References that name no template, as (the template holding it, the name as written), in
    /// id order.
    pub fn unresolved(&self) -> impl Iterator<Item = (TemplateId, &str)> + '_ {
        self.unresolved.iter().map(|(id, name)| (*id, &**name))
    }

    /// Breadth-first walk from `starts` over one direction; returns the starts (deduplicated)
    /// and then every node reached, each once.
    fn walk(&self, starts: &[TemplateId], at: &[u32], targets: &[TemplateId]) -> Vec<TemplateId> {
        let mut seen = vec![0u64; self.names.len().div_ceil(64)];
        let mut mark = |id: TemplateId| {
            let (word, bit) = (id.index() / 64, 1u64 << (id.index() % 64));
            let fresh = seen[word] & bit == 0;
            seen[word] |= bit;
            fresh
        };
        let mut order = Vec::with_capacity(starts.len());
        for &id in starts {
            assert!(
                id.index() < self.names.len(),
                "{id} is not an id of this graph"
            );
            if mark(id) {
                order.push(id);
            }
        }
        // `order` doubles as the queue: everything before `next` has been expanded.
        let mut next = 0;
        while next < order.len() {
            let id = order[next];
            next += 1;
            for &to in row(at, targets, id) {
                if mark(to) {
                    order.push(to);
                }
            }
        }
        order
    }

    /// Checks every internal invariant; panics with a description of the first broken one.
    #[cfg(any(test, fuzzing))]
    pub fn validate(&self) {
        let count = self.names.len();
        assert!(
            self.names.windows(2).all(|w| w[0] < w[1]),
            "names are not sorted and unique"
        );
        assert_eq!(self.ids.len(), count, "name map size");
        for (index, name) in self.names.iter().enumerate() {
            assert_eq!(
                self.ids.get(&**name),
                Some(&TemplateId(index as u32)),
                "id of {name}"
            );
        }
        for (at, targets, what) in [
            (&self.deps_at, &self.deps, "dependencies"),
            (&self.users_at, &self.users, "dependents"),
        ] {
            assert_eq!(at.len(), count + 1, "{what}: offsets length");
            assert_eq!(at[0], 0, "{what}: first offset");
            assert_eq!(at[count] as usize, targets.len(), "{what}: last offset");
            assert!(
                at.windows(2).all(|w| w[0] <= w[1]),
                "{what}: offsets decrease"
            );
            assert!(
                targets.iter().all(|t| t.index() < count),
                "{what}: target out of range"
            );
        }
        assert_eq!(
            self.deps.len(),
            self.users.len(),
            "edge counts of both directions"
        );
        for from in self.ids() {
            let deps = self.dependencies(from);
            for (i, to) in deps.iter().enumerate() {
                assert!(!deps[..i].contains(to), "{from} lists {to} twice");
                assert!(
                    self.dependents(*to).contains(&from),
                    "{from} -> {to} missing in reverse"
                );
            }
        }
        for to in self.ids() {
            let users = self.dependents(to);
            assert!(
                users.windows(2).all(|w| w[0] < w[1]),
                "dependents of {to} not sorted"
            );
            for from in users {
                assert!(
                    self.dependencies(*from).contains(&to),
                    "{from} <- {to} missing forward"
                );
            }
        }
        for (from, name) in self.unresolved() {
            assert!(from.index() < count, "unresolved edge from {from}");
            assert!(self.id(name).is_none(), "unresolved {name} is a template");
        }
    }
}

#[inline]
fn row<'a>(at: &[u32], targets: &'a [TemplateId], id: TemplateId) -> &'a [TemplateId] {
    &targets[at[id.index()] as usize..at[id.index() + 1] as usize]
}

impl From<&BuildCache> for DependencyGraph {
    fn from(build: &BuildCache) -> Self {
        DependencyGraph::from_build_cache(build)
    }
}

impl fmt::Debug for DependencyGraph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DependencyGraph")
            .field("templates", &self.names.len())
            .field("edges", &self.deps.len())
            .field("unresolved", &self.unresolved.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipwright_core::format::TemplateRecord;

    fn build(templates: &[(&str, &[&str])]) -> BuildCache {
        let mut build = BuildCache::new(vec!["templates".into()]);
        for (name, deps) in templates {
            build
                .templates
                .insert((*name).into(), TemplateRecord::including(name, deps));
        }
        build
    }

    fn names(graph: &DependencyGraph, ids: &[TemplateId]) -> Vec<String> {
        ids.iter().map(|id| graph.name(*id).to_string()).collect()
    }

    #[test]
    fn ids_follow_name_order_and_edges_resolve_like_the_build_script() {
        let graph = DependencyGraph::from_build_cache(&build(&[
            (
                "c.html",
                &["a.html", "./a.html", "a.html", "zz.html", "../a.html"],
            ),
            ("a.html", &[]),
            ("b.html", &["c.html"]),
        ]));
        graph.validate();
        assert_eq!(graph.len(), 3);
        assert_eq!(
            names(&graph, &graph.ids().collect::<Vec<_>>()),
            ["a.html", "b.html", "c.html"]
        );
        let (a, c) = (graph.id("a.html").unwrap(), graph.id("c.html").unwrap());
        assert_eq!(graph.dependencies(c), [a]);
        assert_eq!(graph.dependents(a), [c]);
        assert_eq!(graph.edge_count(), 2);
        let unresolved: Vec<_> = graph.unresolved().collect();
        assert_eq!(unresolved, [(c, "zz.html"), (c, "../a.html")]);
        assert_eq!(graph.id("zz.html"), None);
    }

    #[test]
    fn transitive_walks_are_breadth_first_and_exclude_the_start() {
        // base <- layout <- page1, page2 ; nav <- page1 ; page2 <- home
        let graph = DependencyGraph::from_build_cache(&build(&[
            ("base.html", &[]),
            ("layout.html", &["base.html"]),
            ("nav.html", &[]),
            ("page1.html", &["layout.html", "nav.html"]),
            ("page2.html", &["layout.html"]),
            ("home.html", &["page2.html"]),
        ]));
        graph.validate();
        let base = graph.id("base.html").unwrap();
        assert_eq!(
            names(&graph, &graph.dependents_transitive(base)),
            ["layout.html", "page1.html", "page2.html", "home.html"]
        );
        let home = graph.id("home.html").unwrap();
        assert_eq!(
            names(&graph, &graph.dependencies_transitive(home)),
            ["page2.html", "layout.html", "base.html"]
        );
        assert!(graph.dependents_transitive(home).is_empty());
        let nav = graph.id("nav.html").unwrap();
        assert_eq!(
            names(&graph, &graph.affected(&[nav, base, nav])),
            [
                "nav.html",
                "base.html",
                "page1.html",
                "layout.html",
                "page2.html",
                "home.html"
            ]
        );
    }

    #[test]
    fn cycles_are_walked_once() {
        let graph = DependencyGraph::from_build_cache(&build(&[
            ("a.html", &["b.html"]),
            ("b.html", &["c.html"]),
            ("c.html", &["a.html"]),
            ("self.html", &["self.html"]),
            ("user.html", &["b.html"]),
        ]));
        graph.validate();
        let a = graph.id("a.html").unwrap();
        assert_eq!(
            names(&graph, &graph.dependents_transitive(a)),
            ["c.html", "b.html", "user.html"]
        );
        assert_eq!(
            names(&graph, &graph.dependencies_transitive(a)),
            ["b.html", "c.html"]
        );
        let own = graph.id("self.html").unwrap();
        assert_eq!(graph.dependencies(own), [own]);
        assert!(graph.dependents_transitive(own).is_empty());
        assert_eq!(graph.affected(&[own]), [own]);
    }

    #[test]
    fn agrees_with_the_build_closures() {
        let cache = build(&[
            ("a.html", &["b.html", "c.html"]),
            ("b.html", &["d.html"]),
            ("c.html", &["d.html", "a.html"]),
            ("d.html", &[]),
        ]);
        let graph = DependencyGraph::from_build_cache(&cache);
        graph.validate();
        for name in cache.templates.keys() {
            let id = graph.id(name).unwrap();
            let mut got = names(&graph, &graph.dependencies_transitive(id));
            got.retain(|n| n != name);
            got.sort();
            assert_eq!(got, shipwright_core::graph::closure(&cache, name), "{name}");
            let mut users = names(&graph, &graph.dependents_transitive(id));
            users.retain(|n| n != name);
            users.sort();
            assert_eq!(
                users,
                shipwright_core::graph::dependents(&cache, name),
                "{name}"
            );
        }
    }

    #[test]
    fn long_chain_needs_no_recursion() {
        const N: usize = 10_000;
        let names: Vec<String> = (0..N).map(|i| format!("t{i:05}.html")).collect();
        let deps: Vec<Vec<&str>> = (0..N)
            .map(|i| {
                if i + 1 < N {
                    vec![names[i + 1].as_str()]
                } else {
                    vec![]
                }
            })
            .collect();
        let list: Vec<(&str, &[&str])> = names
            .iter()
            .zip(&deps)
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let graph = DependencyGraph::from_build_cache(&build(&list));
        graph.validate();
        let last = graph.id(&names[N - 1]).unwrap();
        let up = graph.dependents_transitive(last);
        assert_eq!(up.len(), N - 1);
        assert_eq!(graph.name(up[0]), names[N - 2]);
        assert_eq!(graph.name(*up.last().unwrap()), names[0]);
        let first = graph.id(&names[0]).unwrap();
        assert_eq!(graph.dependencies_transitive(first).len(), N - 1);
    }

    #[test]
    fn empty_graph() {
        let graph = DependencyGraph::from_build_cache(&build(&[]));
        graph.validate();
        assert!(graph.is_empty());
        assert!(graph.affected(&[]).is_empty());
        assert_eq!(
            format!("{graph:?}"),
            "DependencyGraph { templates: 0, edges: 0, unresolved: 0 }"
        );
    }

    #[test]
    #[should_panic(expected = "is not an id of this graph")]
    fn foreign_id_panics() {
        let graph = DependencyGraph::from_build_cache(&build(&[("a.html", &[])]));
        graph.affected(&[TemplateId::new(7)]);
    }
}
