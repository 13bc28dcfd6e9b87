//! The rebuild planner: for a changed template file, which templates are affected, and whether
//! a hot reload is enough or `cargo build` is needed, and why.
//!
//! ```
//! use shipwright_runtime::planner::{Binding, Change, Decision, RebuildPlanner, RenderMode};
//! # use shipwright_core::format::BuildCache;
//! # fn build(files: &[(&str, &str)]) -> BuildCache {
//! #     let dir = tempfile::tempdir().unwrap();
//! #     for (name, text) in files { std::fs::write(dir.path().join(name), text).unwrap(); }
//! #     let roots = shipwright_build::scan::Roots::new(vec![(dir.path().into(), "templates".into())]);
//! #     shipwright_build::scan::scan(&roots, None).unwrap().cache
//! # }
//! let baseline = build(&[
//!     ("home.html", "<h1>{{ title }}</h1>{% include 'nav.html' %}"),
//!     ("nav.html", "<nav>{% for item in items %}{{ item }}{% endfor %}</nav>"),
//! ]);
//! let mut planner = RebuildPlanner::new(baseline, RenderMode::Runtime)
//!     .bind(Binding::new("home.html", "Home", ["title", "items"]));
//!
//! // Literal text: hot reload, and home.html, which includes nav.html, is affected.
//! let plan = planner.apply([Change::edit("nav.html", "<nav class=x>{% for item in items %}{{ item }}{% endfor %}</nav>")]);
//! assert_eq!(plan.affected().collect::<Vec<_>>(), ["home.html", "nav.html"]);
//! assert_eq!(plan.decision("nav.html").unwrap().to_string(), "hot reload: literal text changed in nav.html");
//!
//! // A variable the bound struct lacks: rebuild, with the reason.
//! let plan = planner.apply([Change::edit("nav.html", "<nav>{{ user.name }}</nav>")]);
//! assert_eq!(
//!     plan.decision("home.html").unwrap().to_string(),
//!     "rebuild: new variable `user` is not a field of `Home` (fields: title, items); \
//!      it is read in nav.html, which home.html renders"
//! );
//!
//! // Undone: back to the build, nothing to do.
//! let plan = planner.apply([Change::edit("nav.html", "<nav>{% for item in items %}{{ item }}{% endfor %}</nav>")]);
//! assert!(plan.decisions().all(|(_, d)| *d == Decision::Unchanged));
//! ```
//!
//! Decisions are always against the BuildCache the binary was built with (the baseline): the
//! planner remembers every file that differs from it, so an edit and its undo end in
//! `Unchanged`. Changed files are lexed with the build script's own lexer
//! ([`shipwright_core::analyze`]).
//!
//! # The rules
//!
//! - Literal text, comments: hot reload.
//! - Expressions, tags, references (the interface): in [`RenderMode::Compiled`] (the template is
//!   Rust code, as with askama) a rebuild; in [`RenderMode::Runtime`] (an engine renders the
//!   source) a hot reload, unless a template bound to a struct that renders a changed template
//!   now reads a variable the struct does not provide. That is judged by the template set as it
//!   is now (the build's records with the changed templates' replaced, added or removed), with
//!   the rule the derive checks at compile time ([`shipwright_core::context::missing_reads`]):
//!   reads through references that pass the context, minus what the templates define there,
//!   optional reads left out; so an unchanged layout newly pulled in by a switched `extends`
//!   brings its variables with it. A variable the closure already lacked in the build is not
//!   new (the struct's serde names or globals the planner is not told of).
//! - A template that renders a changed one (extends, includes, imports it) gets the changed
//!   one's decision. Where several decisions meet, the most severe wins; on a tie, the
//!   template's own decision, then the changed template first in name order.
//! - Conservative: an added or removed template, a reference to no template, a cycle, a file that
//!   does not lex, and an interface change in a template with a dynamic reference all need a
//!   rebuild; a template with a dynamic reference is in every plan's `affected` set (its cached
//!   renders are dropped), since it may render whatever changed.

mod plan;
mod reason;

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shipwright_core::analyze::{Analysis, analyze, content_hash, record_of};
use shipwright_core::context::missing_reads;
use shipwright_core::format::{BuildCache, DEFAULT_EXTENSIONS, Dep};
use shipwright_core::graph::resolve_name;
use shipwright_core::lex::{LexError, Part, lex, line_of};

pub use plan::Plan;
pub use reason::{Decision, Reason};

use crate::graph::{DependencyGraph, TemplateId};
use crate::template::{Embedded, Template};

/// How the app renders its templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderMode {
    /// The template is compiled into Rust code (askama's way): any interface change needs a
    /// rebuild.
    Compiled,
    /// An engine such as minijinja renders the source at run time: an interface change
    /// hot-reloads while the bound structs provide every new variable.
    Runtime,
}

/// A Rust type bound to a template, and the context it provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The template's name.
    pub template: String,
    /// The type's name, for messages.
    pub type_name: String,
    /// The struct's field names.
    pub fields: Vec<String>,
}

impl Binding {
    /// A binding by hand.
    pub fn new<I, S>(template: impl Into<String>, type_name: impl Into<String>, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Binding {
            template: template.into(),
            type_name: type_name.into(),
            fields: fields.into_iter().map(Into::into).collect(),
        }
    }

    /// The binding `#[derive(Template)]` made for `T`.
    pub fn of<T: Template>() -> Self {
        let full = std::any::type_name::<T>();
        let short = full.rsplit("::").next().unwrap_or(full);
        Binding::new(T::NAME, short, T::FIELDS.iter().copied())
    }
}

/// A template file's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The template's name (relative to its root).
    pub name: String,
    /// The new text, or `None` if the file is gone.
    pub content: Option<String>,
}

impl Change {
    /// The file now holds `content`.
    pub fn edit(name: impl Into<String>, content: impl Into<String>) -> Self {
        Change {
            name: name.into(),
            content: Some(content.into()),
        }
    }

    /// The file is gone.
    pub fn remove(name: impl Into<String>) -> Self {
        Change {
            name: name.into(),
            content: None,
        }
    }
}

/// A file's state when it differs from the build.
#[derive(Debug)]
enum Current {
    Removed,
    Present {
        source: String,
        analysis: Result<Analysis, LexError>,
    },
}

/// Decides, for changed template files, between unchanged, hot reload and rebuild.
#[derive(Debug)]
pub struct RebuildPlanner {
    baseline: BuildCache,
    /// The baseline with every changed template's record replaced, added or removed: the
    /// template set as it is now, which the variable rule is judged by.
    now: BuildCache,
    /// Per bound template, the variables its closure already lacked in the build (a struct with
    /// `#[serde(flatten)]`, a global the planner is not told of): not new, so no rebuild.
    lacking_in_build: HashMap<String, HashSet<String>>,
    graph: DependencyGraph,
    mode: RenderMode,
    bindings: HashMap<String, Binding>,
    sources: HashMap<String, Cow<'static, str>>,
    root_dirs: Vec<PathBuf>,
    current: BTreeMap<String, Current>,
    /// The templates with a dynamic reference in the build.
    with_dynamic: Vec<TemplateId>,
}

impl RebuildPlanner {
    /// A planner against `baseline`, the BuildCache the binary was built with.
    pub fn new(baseline: BuildCache, mode: RenderMode) -> Self {
        let graph = DependencyGraph::from_build_cache(&baseline);
        let with_dynamic = baseline
            .templates
            .iter()
            .filter(|(_, r)| !r.dynamic.is_empty())
            .filter_map(|(n, _)| graph.id(n))
            .collect();
        RebuildPlanner {
            now: baseline.clone(),
            lacking_in_build: HashMap::new(),
            baseline,
            graph,
            mode,
            bindings: HashMap::new(),
            sources: HashMap::new(),
            root_dirs: Vec::new(),
            current: BTreeMap::new(),
            with_dynamic,
        }
    }

    /// A planner against the templates embedded in the binary (`embedded_templates!()`), with
    /// their sources, so that reasons can name the changed expressions.
    pub fn from_embedded(templates: &'static Embedded, mode: RenderMode) -> Self {
        let mut planner = RebuildPlanner::new(templates.build_cache().clone(), mode);
        planner.sources = templates
            .iter()
            .map(|t| (t.name.clone(), Cow::Borrowed(t.source)))
            .collect();
        planner
    }

    /// Adds a binding. Defaults to: none (every template is unbound).
    pub fn bind(mut self, binding: Binding) -> Self {
        let lacking = missing_reads(
            &self.baseline,
            &binding.template,
            binding.fields.iter().map(String::as_str),
            [],
        )
        .into_iter()
        .map(|m| m.variable)
        .collect();
        self.lacking_in_build
            .insert(binding.template.clone(), lacking);
        self.bindings.insert(binding.template.clone(), binding);
        self
    }

    /// The build's text of a template, so that reasons can name the expressions that changed.
    /// Defaults to: none (reasons then say that the interface changed, not how).
    pub fn source(mut self, name: impl Into<String>, text: impl Into<Cow<'static, str>>) -> Self {
        self.sources.insert(name.into(), text.into());
        self
    }

    /// The directories of the BuildCache's roots on disk, in the same order, for
    /// [`plan_paths`](Self::plan_paths) and [`plan_roots`](Self::plan_roots). Defaults to: none.
    pub fn root_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.root_dirs = dirs;
        self
    }

    /// The BuildCache the decisions are made against.
    pub fn baseline(&self) -> &BuildCache {
        &self.baseline
    }

    /// Reads the given changed files (a missing file is a removal) and applies them. Paths that
    /// are not templates under a root are ignored.
    pub fn plan_paths<P: AsRef<Path>>(&mut self, paths: &[P]) -> std::io::Result<Plan> {
        let mut changes = Vec::new();
        for path in paths {
            let Some(name) = self.name_of(path.as_ref()) else {
                continue;
            };
            match std::fs::read(path.as_ref()) {
                Ok(bytes) => changes.push(Change {
                    name,
                    content: Some(String::from_utf8_lossy(&bytes).into_owned()),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    changes.push(Change::remove(name))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.apply(changes))
    }

    /// Reads every template under the roots and applies what differs from the build (for a
    /// start-up check: edits made while the app was not running).
    pub fn plan_roots(&mut self) -> std::io::Result<Plan> {
        let mut on_disk: BTreeMap<String, PathBuf> = BTreeMap::new();
        for dir in self.root_dirs.iter().rev() {
            let mut stack = vec![dir.clone()];
            while let Some(at) = stack.pop() {
                for entry in std::fs::read_dir(&at)? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if let Some(name) =
                        relative_name(dir, &path).filter(|n| self.is_template(n))
                    {
                        on_disk.insert(name, path);
                    }
                }
            }
        }
        let mut changes = Vec::new();
        for (name, path) in &on_disk {
            let bytes = std::fs::read(path)?;
            if self
                .baseline
                .templates
                .get(name)
                .is_none_or(|r| r.hash != content_hash(&bytes))
            {
                changes.push(Change {
                    name: name.clone(),
                    content: Some(String::from_utf8_lossy(&bytes).into_owned()),
                });
            }
        }
        changes.extend(
            self.baseline
                .templates
                .keys()
                .filter(|n| !on_disk.contains_key(*n))
                .map(Change::remove),
        );
        Ok(self.apply(changes))
    }

    /// Applies a batch of changes and decides.
    pub fn apply(&mut self, changes: impl IntoIterator<Item = Change>) -> Plan {
        let mut touched = Vec::new();
        for change in changes {
            let built = self.baseline.templates.get(&change.name);
            match change.content {
                None if built.is_none() => {
                    self.current.remove(&change.name);
                    self.now.templates.remove(&change.name);
                }
                None => {
                    self.current.insert(change.name.clone(), Current::Removed);
                    self.now.templates.remove(&change.name);
                }
                Some(text) if built.is_some_and(|r| r.hash == content_hash(text.as_bytes())) => {
                    self.current.remove(&change.name);
                    let built = built.expect("checked").clone();
                    self.now.templates.insert(change.name.clone(), built);
                }
                Some(text) => {
                    let analysis = analyze(&text);
                    let root = built.map_or(0, |r| r.root);
                    let (record, _) = record_of(&change.name, root, &text, analysis.clone());
                    self.now.templates.insert(change.name.clone(), record);
                    self.current.insert(
                        change.name.clone(),
                        Current::Present {
                            source: text,
                            analysis,
                        },
                    );
                }
            }
            touched.push(change.name);
        }
        self.decide(&touched)
    }

    fn decide(&self, touched: &[String]) -> Plan {
        let count = self.graph.len();
        // Decisions of their own, by name; every touched template has one.
        let mut own: Decisions<'_> = HashMap::default();
        for name in touched {
            own.insert(name, Decision::Unchanged);
        }
        // One decision per changed template for what renders it, and per template of the build
        // the one it takes (`NONE` for none), the more severe where two meet.
        let mut shared: Vec<Decision> = Vec::new();
        let mut takes: Vec<u32> = Vec::new();
        // What renders each template walked here, kept for the affected set.
        let mut walked: HashMap<&str, Vec<TemplateId>> = HashMap::new();
        for (name, current) in &self.current {
            let decision = self.own_decision(name, current);
            let dependents = walked.entry(name).or_insert_with(|| self.dependents(name));
            if let Some(cause) = decision.reason()
                && !dependents.is_empty()
            {
                let reason = Reason::Dependency {
                    cause: Arc::new(cause.clone()),
                };
                let index = shared.len() as u32;
                let severity = decision.severity();
                shared.push(if decision.needs_rebuild() {
                    Decision::Rebuild { reason }
                } else {
                    Decision::HotReload { reason }
                });
                if takes.is_empty() {
                    takes = vec![NONE; count];
                }
                for id in dependents.iter() {
                    let slot = &mut takes[id.index()];
                    if *slot == NONE || shared[*slot as usize].severity() < severity {
                        *slot = index;
                    }
                }
            }
            worst(&mut own, name, decision);
        }
        // A template with a decision of its own keeps the more severe of the two.
        if !takes.is_empty() {
            for (name, decision) in own.iter_mut() {
                let Some(id) = self.graph.id(name) else {
                    continue;
                };
                let slot = std::mem::replace(&mut takes[id.index()], NONE);
                if slot != NONE && shared[slot as usize].severity() > decision.severity() {
                    *decision = shared[slot as usize].clone();
                }
            }
        }
        if self.mode == RenderMode::Runtime && !self.bindings.is_empty() {
            // Every bound template that renders something changed, judged by its closure now.
            let inheriting = takes
                .iter()
                .enumerate()
                .filter(|(_, t)| **t != NONE)
                .map(|(i, _)| self.graph.name(TemplateId::new(i as u32)));
            let bound: Vec<&str> = own
                .keys()
                .copied()
                .chain(inheriting)
                .filter(|n| self.bindings.contains_key(*n))
                .collect();
            for name in bound {
                if let Some(reason) = self.missing_variable(name) {
                    if let Some(slot) = self.graph.id(name).and_then(|id| takes.get_mut(id.index()))
                    {
                        *slot = NONE;
                    }
                    own.insert(name, Decision::Rebuild { reason });
                }
            }
        }
        let inherited = takes
            .iter()
            .enumerate()
            .filter(|(_, t)| **t != NONE)
            .map(|(i, &t)| (TemplateId::new(i as u32), t))
            .collect();
        let mut own: Vec<(String, Decision)> = own
            .into_iter()
            .map(|(name, d)| (name.to_string(), d))
            .collect();
        own.sort_unstable_by(|a, b| a.0.cmp(&b.0));

        // The affected set: marks by id, read back in id (= name) order.
        let mut marks = vec![0u64; count.div_ceil(64)];
        let mut mark = |id: TemplateId| marks[id.index() / 64] |= 1 << (id.index() % 64);
        let mut affected_new: Vec<String> = Vec::new();
        let mut add = |name: &str| match self.graph.id(name) {
            Some(id) => mark(id),
            None => affected_new.push(name.to_string()),
        };
        for name in touched {
            add(name);
        }
        // A template whose references are expressions may render any changed template.
        if !touched.is_empty() {
            for (name, current) in &self.current {
                if matches!(current, Current::Present { analysis: Ok(new), .. } if !new.dynamic.is_empty())
                {
                    add(name);
                }
            }
            self.with_dynamic.iter().copied().for_each(&mut mark);
        }
        for name in touched {
            match walked.get(name.as_str()) {
                Some(dependents) => dependents.iter().copied().for_each(&mut mark),
                None => self.dependents(name).into_iter().for_each(&mut mark),
            }
        }
        affected_new.sort_unstable();
        affected_new.dedup();
        let mut affected = Vec::new();
        for (at, &word) in marks.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                affected.push(TemplateId::new((at * 64) as u32 + word.trailing_zeros()));
                word &= word - 1;
            }
        }
        Plan {
            names: Arc::clone(self.graph.names()),
            own,
            shared,
            inherited,
            affected,
            affected_new,
        }
    }

    /// The decision for a template that differs from the build, on its own.
    fn own_decision(&self, name: &str, current: &Current) -> Decision {
        let rebuild = |reason| Decision::Rebuild { reason };
        let template = || name.to_string();
        let Current::Present { source, analysis } = current else {
            return rebuild(Reason::Removed {
                template: template(),
            });
        };
        let Some(built) = self.baseline.templates.get(name) else {
            return rebuild(Reason::Added {
                template: template(),
            });
        };
        let new = match analysis {
            Ok(new) => new,
            Err(e) => {
                return rebuild(Reason::Parse {
                    template: template(),
                    line: e.line,
                    message: e.message.clone(),
                });
            }
        };
        if let Some(dep) = new.deps.iter().find(|d| !self.exists(&d.name)) {
            return rebuild(Reason::MissingDependency {
                template: template(),
                dependency: dep.name.clone(),
            });
        }
        if let Some(path) = self.cycle_through(name) {
            return rebuild(Reason::Cycle { path });
        }
        if new.interface_hash == built.interface_hash {
            let reason = if new.static_hash == built.static_hash {
                Reason::CommentsOnly {
                    template: template(),
                }
            } else {
                Reason::LiteralText {
                    template: template(),
                }
            };
            return Decision::HotReload { reason };
        }
        if let Some(first) = new.dynamic.first() {
            return rebuild(Reason::Dynamic {
                template: template(),
                line: first.line,
                expr: first.expr.clone(),
            });
        }
        let has = |deps: &[Dep], name: &str| deps.iter().any(|d| d.name == name);
        let reason = if let Some(dep) = new.deps.iter().find(|d| !has(&built.deps, &d.name)) {
            Reason::NewDependency {
                template: template(),
                dependency: dep.name.clone(),
            }
        } else if let Some(dep) = built.deps.iter().find(|d| !has(&new.deps, &d.name)) {
            Reason::RemovedDependency {
                template: template(),
                dependency: dep.name.clone(),
            }
        } else {
            let (line, change) = self.interface_change(name, source);
            Reason::Interface {
                template: template(),
                line,
                change,
            }
        };
        match self.mode {
            RenderMode::Compiled => rebuild(reason),
            RenderMode::Runtime => Decision::HotReload { reason },
        }
    }

    /// For a bound template in runtime mode: the first variable that its closure, as it is now,
    /// reads from the struct ([`missing_reads`]), that the struct lacks and that its closure
    /// did not already lack in the build.
    fn missing_variable(&self, name: &str) -> Option<Reason> {
        let binding = self.bindings.get(name)?;
        let lacking = self.lacking_in_build.get(name);
        let missing = missing_reads(
            &self.now,
            name,
            binding.fields.iter().map(String::as_str),
            [],
        )
        .into_iter()
        .find(|m| !lacking.is_some_and(|l| l.contains(&m.variable)))?;
        Some(Reason::MissingVariable {
            template: name.to_string(),
            used_in: missing.template,
            line: missing.line,
            variable: missing.variable,
            type_name: binding.type_name.clone(),
            fields: binding.fields.clone(),
        })
    }

    /// A path through `name`'s current references back to `name`, if there is one.
    fn cycle_through(&self, name: &str) -> Option<Vec<String>> {
        let mut parent: HashMap<String, String> = HashMap::new();
        let mut queue = VecDeque::from([name.to_string()]);
        while let Some(at) = queue.pop_front() {
            for dep in self.deps_now(&at) {
                if dep == name {
                    let mut path = vec![name.to_string(), at.clone()];
                    let mut step = at;
                    while step != name {
                        step = parent[&step].clone();
                        path.push(step.clone());
                    }
                    path.reverse();
                    return Some(path);
                }
                if !parent.contains_key(&dep) {
                    parent.insert(dep.clone(), at.clone());
                    queue.push_back(dep);
                }
            }
        }
        None
    }

    /// The resolved names `name` references now (its new version if it changed).
    fn deps_now(&self, name: &str) -> Vec<String> {
        let written: &[Dep] = match self.current.get(name) {
            Some(Current::Removed) => &[],
            Some(Current::Present {
                analysis: Ok(new), ..
            }) => &new.deps,
            Some(Current::Present {
                analysis: Err(_), ..
            }) => &[],
            None => self.baseline.templates.get(name).map_or(&[], |r| &r.deps),
        };
        written
            .iter()
            .filter_map(|d| resolve_name(&d.name).ok())
            .filter(|d| self.exists(d))
            .collect()
    }

    /// Is there a template of this name now?
    fn exists(&self, written: &str) -> bool {
        let Ok(name) = resolve_name(written) else {
            return false;
        };
        match self.current.get(&name) {
            Some(Current::Removed) => false,
            Some(Current::Present { .. }) => true,
            None => self.baseline.templates.contains_key(&name),
        }
    }

    /// Every template that renders `name`, as built.
    fn dependents(&self, name: &str) -> Vec<TemplateId> {
        match self.graph.id(name) {
            Some(id) => self.graph.dependents_transitive(id),
            None => Vec::new(),
        }
    }

    /// The first expression or tag the new text has that the build's text has not (or the
    /// first it lost), when the build's text is known.
    fn interface_change(&self, name: &str, new_source: &str) -> (u32, String) {
        let Some(old_source) = self.sources.get(name) else {
            return (0, "expressions or tags changed".to_string());
        };
        let (old, new) = (code_pieces(old_source), code_pieces(new_source));
        let mut remaining: HashMap<&str, usize> = HashMap::new();
        for (_, piece) in &old {
            *remaining.entry(piece.as_str()).or_default() += 1;
        }
        for (offset, piece) in &new {
            match remaining.get_mut(piece.as_str()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => return (line_of(new_source, *offset), format!("new {piece}")),
            }
        }
        if let Some((_, piece)) = old
            .iter()
            .find(|(_, p)| remaining.get(p.as_str()).is_some_and(|n| *n > 0))
        {
            return (0, format!("removed {piece}"));
        }
        (
            0,
            "expressions or tags moved or changed whitespace control".to_string(),
        )
    }

    /// The template name of a path under one of the roots.
    fn name_of(&self, path: &Path) -> Option<String> {
        self.root_dirs
            .iter()
            .find_map(|dir| relative_name(dir, path))
            .filter(|name| self.is_template(name))
    }

    fn is_template(&self, name: &str) -> bool {
        self.baseline.templates.contains_key(name)
            || Path::new(name)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| DEFAULT_EXTENSIONS.contains(&e))
    }
}

/// Decisions of their own, by template name.
type Decisions<'a> = HashMap<&'a str, Decision, ahash::RandomState>;

/// In [`RebuildPlanner::decide`]: a template of the build that takes no shared decision.
const NONE: u32 = u32::MAX;

/// Keeps the more severe decision for `name`.
fn worst<'a>(decisions: &mut Decisions<'a>, name: &'a str, decision: Decision) {
    match decisions.entry(name) {
        Entry::Occupied(existing) if existing.get().severity() >= decision.severity() => {}
        Entry::Occupied(mut existing) => *existing.get_mut() = decision,
        Entry::Vacant(slot) => {
            slot.insert(decision);
        }
    }
}

/// Every expression and tag as `expression `…`` / `tag `…``, with its offset; tokens joined by
/// single spaces so that spacing does not count.
fn code_pieces(source: &str) -> Vec<(usize, String)> {
    let Ok(lexed) = lex(source) else {
        return Vec::new();
    };
    lexed
        .parts
        .iter()
        .filter_map(|part| {
            let (kind, d) = match part {
                Part::Expr(d) => ("expression", d),
                Part::Tag(d) => ("tag", d),
                _ => return None,
            };
            let words: Vec<&str> = lexed.tokens(d).iter().map(|t| t.text).collect();
            Some((d.start, format!("{kind} `{}`", words.join(" "))))
        })
        .collect()
}

/// `pages/home.html` for `<root>/pages/home.html`.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    Some(parts?.join("/")).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests;
