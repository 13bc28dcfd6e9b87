//! The rebuild planner: for a changed template file, which templates are affected, and whether
//! a hot reload is enough or `cargo build` is needed, and why.
//!
//! ```
//! use shipwright_runtime::planner::{Binding, Change, Decision, RebuildPlanner, RenderMode};
//! use shipwright_core::format::BuildCache;
//!
//! let baseline = BuildCache::from_sources("templates", [
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
//! ([`shipwright_core::analyze`]). Every rule judges the template set as it is now, with all the
//! changes applied so far, not only the files of the latest batch.
//!
//! # The rules
//!
//! - Literal text, comments: hot reload; in [`RenderMode::Compiled`] without a dev renderer
//!   ([`RebuildPlanner::dev_renderer`]) a change of literal text needs a rebuild
//!   ([`Reason::Compiled`]): askama compiled it into the binary. With the askama dev renderer,
//!   `Compiled` follows `Runtime`'s rules below, and a template whose closure now holds a
//!   construct the dev renderer refuses needs a rebuild ([`Reason::Refused`]).
//! - Expressions, tags, references (the interface): in [`RenderMode::Compiled`] (the template is
//!   Rust code, as with askama) a rebuild; in [`RenderMode::Runtime`] (an engine renders the
//!   source) a hot reload, unless a template bound to a struct that renders a changed template
//!   now reads a variable the struct does not provide and that is no declared global
//!   ([`BuildCache::globals`], [`RebuildPlanner::globals`]). That is judged by the template set as it
//!   is now (the build's records with the changed templates' replaced, added or removed), with
//!   the rule the derive checks at compile time ([`shipwright_core::context::missing_reads`]):
//!   reads through references that pass the context, minus what the templates define there,
//!   optional reads left out; so an unchanged layout newly pulled in by a switched `extends`
//!   brings its variables with it. A variable that the same template of the closure already
//!   read and lacked in the build is not new (the struct's serde names or globals the planner
//!   is not told of); read by another template, it is.
//! - A template that renders a changed one (extends, includes, imports it, or may name it
//!   through a dynamic reference) gets the changed one's decision. Where several decisions
//!   meet, the most severe wins; on a tie, the template's own decision, then the changed
//!   template first in name order.
//! - Dynamic references (`{% include 'icons/' ~ name ~ '.svg' %}`, `{% extends layout %}`)
//!   reach every template they may name ([`shipwright_core::dynamic`]: a pattern's matches,
//!   both branches of a conditional, every item of a list, every template for a name only known
//!   at render time), for the variables a bound template reads
//!   ([`missing_reads_through_dynamic`]),
//!   for the decisions it takes and for the affected set; then the rules above decide.
//! - Structural problems need a rebuild when they are new: a static reference that names no
//!   template (a reference the build already could not resolve, still there, is nothing new),
//!   a cycle through a template that was on none in the build, a file that does not lex, a bound
//!   template that is gone, and a removed template that a template still references.
//! - In [`RenderMode::Runtime`] an added template, a new include of an existing one, and a
//!   removed template that nothing references any more are hot reloads; the plan notes each
//!   template the binary does not embed yet ([`Note::NotEmbedded`]). In [`RenderMode::Compiled`]
//!   an added or removed template, and an interface change in a template with a dynamic
//!   reference, need a rebuild.

mod plan;
mod reason;

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shipwright_core::analyze::{Analysis, analyze, content_hash, record_of};
use shipwright_core::context::missing_reads_through_dynamic;
use shipwright_core::dynamic::Targets;
use shipwright_core::files::{FileError, Found, Listing, Problem, TemplateFiles};
use shipwright_core::format::{BuildCache, Dep};
use shipwright_core::graph::{closure_with_dynamic, entries, on_cycles, resolve_name};
use shipwright_core::lex::{LexError, Part, lex, line_of};

pub use plan::Plan;
pub use reason::{Decision, Note, Reason, Severity};

use crate::graph::{DependencyGraph, TemplateId};
use crate::template::{Embedded, Template};

/// The reason for a construct the askama dev renderer refuses in `template`.
#[cold]
fn refused(template: &str, refusal: shipwright_core::askama::Refusal) -> Reason {
    Reason::Refused {
        template: template.to_string(),
        line: refusal.line,
        construct: refusal.construct,
    }
}

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
    /// What the askama dev renderer cannot do for the type itself, whatever its template's text
    /// (see [`Reason::RefusedType`]); `None` for a binding by hand.
    pub dev_refusal: Option<String>,
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
            dev_refusal: None,
        }
    }

    /// The binding `#[derive(Template)]` made for `T`.
    pub fn of<T: Template>() -> Self {
        let full = std::any::type_name::<T>();
        let short = full.rsplit("::").next().unwrap_or(full);
        Binding {
            dev_refusal: T::__dev_refusal(),
            ..Binding::new(T::NAME, short, T::FIELDS.iter().copied())
        }
    }

    /// Bindings read from a BuildCache alone, for a tool that has no Rust types to look at:
    /// every entry template ([`shipwright_core::graph::entries`]: one no other template
    /// references), bound to a struct named `struct of <template>` whose fields are the root
    /// variables the build's closure of the entry reads (through dynamic references too),
    /// declared globals left out. Sorted by template.
    ///
    /// ```
    /// use shipwright_core::format::BuildCache;
    /// use shipwright_runtime::planner::Binding;
    ///
    /// let cache = BuildCache::from_sources("templates", [
    ///     ("home.html", "{% extends 'base.html' %}{% block body %}{{ title }}{% endblock %}"),
    ///     ("base.html", "<title>{{ site }}</title>{% block body %}{% endblock %}"),
    /// ]);
    /// let bindings = Binding::entries(&cache);
    /// assert_eq!(bindings, [Binding::new("home.html", "struct of home.html", ["site", "title"])]);
    /// ```
    pub fn entries(cache: &BuildCache) -> Vec<Binding> {
        let globals: HashSet<&str> = cache.globals.iter().map(String::as_str).collect();
        entries(cache)
            .into_iter()
            .map(|entry| {
                let fields: BTreeSet<&str> = std::iter::once(entry)
                    .chain(closure_with_dynamic(cache, entry))
                    .flat_map(|t| cache.templates[t].var_names())
                    .filter(|v| !globals.contains(v))
                    .collect();
                Binding::new(entry, format!("struct of {entry}"), fields)
            })
            .collect()
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
    /// Per bound template, the reads its closure already lacked in the build, as (variable,
    /// template that reads it) (a struct with `#[serde(flatten)]`, a global the planner is not
    /// told of): not new, so no rebuild. The same variable read by another template is new: the
    /// build's read may be one the struct need not provide (set by a layout before the block
    /// that reads it renders, say), which says nothing of the new one.
    lacking_in_build: HashMap<String, HashSet<(String, String)>>,
    /// The build's references, static ones and the targets of dynamic ones.
    graph: DependencyGraph,
    mode: RenderMode,
    /// In [`RenderMode::Compiled`]: the app renders changed templates with askama's dev
    /// renderer ([`RebuildPlanner::dev_renderer`]).
    dev_renderer: bool,
    bindings: HashMap<String, Binding>,
    sources: HashMap<String, Cow<'static, str>>,
    root_dirs: Vec<PathBuf>,
    current: BTreeMap<String, Current>,
    /// The declared globals: the build's and those added with [`RebuildPlanner::globals`].
    globals: BTreeSet<String>,
    /// The targets of the dynamic references of the build's templates that have one.
    dynamic_built: BTreeMap<String, Vec<Targets>>,
    /// The references the build could not resolve: (template, name as written).
    missing_built: HashSet<(String, String)>,
    /// The templates on a cycle in the build.
    cyclic_built: HashSet<String>,
    /// The build's rebuild stamp, written by the dev watcher when a plan needs a rebuild.
    stamp: Option<PathBuf>,
}

impl RebuildPlanner {
    /// A planner against `baseline`, the BuildCache the binary was built with.
    pub fn new(baseline: BuildCache, mode: RenderMode) -> Self {
        let graph = DependencyGraph::with_dynamic_targets(&baseline);
        let dynamic_built = baseline
            .templates
            .iter()
            .filter(|(_, r)| !r.dynamic.is_empty())
            .map(|(n, r)| {
                let targets = r.dynamic.iter().map(|d| Targets::of(&d.expr)).collect();
                (n.clone(), targets)
            })
            .collect();
        let missing_built = baseline
            .missing
            .iter()
            .map(|m| (m.template.clone(), m.name.clone()))
            .collect();
        let cyclic_built = on_cycles(&baseline)
            .into_iter()
            .map(str::to_string)
            .collect();
        RebuildPlanner {
            globals: baseline.globals.iter().cloned().collect(),
            now: baseline.clone(),
            lacking_in_build: HashMap::new(),
            baseline,
            graph,
            mode,
            dev_renderer: false,
            bindings: HashMap::new(),
            sources: HashMap::new(),
            root_dirs: Vec::new(),
            current: BTreeMap::new(),
            dynamic_built,
            missing_built,
            cyclic_built,
            stamp: None,
        }
    }

    /// A planner against the templates embedded in the binary (`embedded_templates!()`), with
    /// their sources, so that reasons can name the changed expressions, and the build's
    /// [rebuild stamp](Embedded::rebuild_stamp).
    pub fn from_embedded(templates: &'static Embedded, mode: RenderMode) -> Self {
        let mut planner = RebuildPlanner::new(templates.build_cache().clone(), mode);
        planner.sources = templates
            .iter()
            .map(|t| (t.name.clone(), Cow::Borrowed(t.source)))
            .collect();
        planner.stamp = Some(templates.rebuild_stamp());
        planner
    }

    /// The file the dev watcher writes, with the templates and the reasons, when its plan
    /// (a batch's, or the start-up read's) needs a rebuild: in a dev build, the build's rebuild
    /// stamp makes the next `cargo build` rerun the build script and recompile the crate (see
    /// [`shipwright_core::devbuild`]). Defaults to: [`Embedded::rebuild_stamp`] for
    /// [`from_embedded`](Self::from_embedded), none for [`new`](Self::new).
    pub fn rebuild_stamp(mut self, path: impl Into<PathBuf>) -> Self {
        self.stamp = Some(path.into());
        self
    }

    /// The file set by [`rebuild_stamp`](Self::rebuild_stamp), for the dev watcher.
    #[cfg(feature = "dev")]
    pub(crate) fn stamp(&self) -> Option<&Path> {
        self.stamp.as_deref()
    }

    /// In [`RenderMode::Compiled`]: the running app renders the templates that differ from the
    /// build with askama's dev renderer (`shipwright_runtime::askama::render` with the runtime's
    /// `askama` and `dev` features, in a debug build). The decisions are then those of
    /// [`RenderMode::Runtime`], except that a template whose closure, as it is now, holds a
    /// construct the dev renderer refuses ([`shipwright_core::askama::to_jinja`]) needs a
    /// rebuild, naming the construct and its line ([`Reason::Refused`]): the app keeps
    /// askama's compiled page for it. Without it, a change of a template's text in
    /// `Compiled` mode needs a rebuild ([`Reason::Compiled`]). Defaults to: off.
    pub fn dev_renderer(mut self) -> Self {
        self.dev_renderer = true;
        self
    }

    /// Do the decisions follow [`RenderMode::Runtime`]'s rules: an engine renders the new
    /// source in the running app?
    fn renders_source(&self) -> bool {
        self.mode == RenderMode::Runtime || self.dev_renderer
    }

    /// Adds a binding. Defaults to: none (every template is unbound).
    pub fn bind(mut self, binding: Binding) -> Self {
        let lacking = missing_reads_through_dynamic(
            &self.baseline,
            &binding.template,
            binding.fields.iter().map(String::as_str),
            [],
        )
        .into_iter()
        .map(|m| (m.variable, m.template))
        .collect();
        self.lacking_in_build
            .insert(binding.template.clone(), lacking);
        self.bindings.insert(binding.template.clone(), binding);
        self
    }

    /// Declares globals: names every template may read without a struct providing them (the
    /// engine's globals, say `gettext` of an i18n extension). Defaults to: the BuildCache's
    /// [`globals`](BuildCache::globals).
    pub fn globals<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.globals.extend(names.into_iter().map(Into::into));
        self
    }

    /// The declared globals, sorted: the BuildCache's and those added with
    /// [`globals`](Self::globals).
    pub fn declared_globals(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.globals.iter().map(String::as_str)
    }

    /// The build's text of a template, so that reasons can name the expressions that changed.
    /// Defaults to: none (reasons then say that the interface changed, not how).
    pub fn source(mut self, name: impl Into<String>, text: impl Into<Cow<'static, str>>) -> Self {
        self.sources.insert(name.into(), text.into());
        self
    }

    /// The directories of the BuildCache's roots on disk, in the same order, for
    /// [`plan_paths`](Self::plan_paths) and [`plan_roots`](Self::plan_roots), which read them by
    /// [`shipwright_core::files`]' rule with the BuildCache's extensions. Defaults to: none.
    pub fn root_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.root_dirs = dirs;
        self
    }

    /// The BuildCache the decisions are made against.
    pub fn baseline(&self) -> &BuildCache {
        &self.baseline
    }

    /// Reads the given changed files (a missing file is a removal) and applies them. Paths that
    /// are not templates under a root, by [`shipwright_core::files`]' rule, are ignored: the
    /// roots are walked once, and a path names the template the walk lists for its file
    /// ([`Listing::locate`]).
    pub fn plan_paths<P: AsRef<Path>>(&mut self, paths: &[P]) -> Result<Plan, FileError> {
        let files = self.files();
        let listing = files.walk();
        let mut changes = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if let Some((_, name)) = listing.locate(path) {
                let found = listing.get(name).expect("a listed template");
                changes.push(read_change(&files, found)?);
            } else if let Some(name) = self.gone(&files, &listing, path) {
                changes.push(Change::remove(name));
            }
        }
        Ok(self.apply(changes))
    }

    /// Reads every template under the roots (by [`shipwright_core::files`]' rule) and applies
    /// what differs from the build (for a start-up check: edits made while the app was not
    /// running). Files the rule passes over (special files, links out of a root or in a loop)
    /// are not templates; a root that does not exist is an error.
    pub fn plan_roots(&mut self) -> Result<Plan, FileError> {
        let files = self.files();
        let listing = files.walk();
        if let Some(missing) = listing
            .skipped()
            .iter()
            .find(|s| s.problem == Problem::MissingRoot)
        {
            return Err(FileError::new(&missing.path, Problem::MissingRoot));
        }
        let mut changes = Vec::new();
        for found in listing.files() {
            let change = read_change(&files, found)?;
            let unchanged = change.content.as_ref().is_some_and(|text| {
                self.baseline
                    .templates
                    .get(&change.name)
                    .is_some_and(|r| r.hash == content_hash(text.as_bytes()))
            });
            if !unchanged {
                changes.push(change);
            }
        }
        changes.extend(
            self.baseline
                .templates
                .keys()
                .filter(|n| listing.get(n).is_none())
                .map(Change::remove),
        );
        Ok(self.apply(changes))
    }

    /// The file rule over [`root_dirs`](Self::root_dirs), with the build's extensions.
    fn files(&self) -> TemplateFiles {
        TemplateFiles::of_build(&self.baseline, self.root_dirs.clone())
    }

    /// The template a `path` that no longer exists was: its name under a root, if a template
    /// of that name exists (in the build or as changed since) and the walk lists none.
    fn gone(&self, files: &TemplateFiles, listing: &Listing, path: &Path) -> Option<String> {
        if path.symlink_metadata().is_ok() {
            return None;
        }
        let name = self
            .root_dirs
            .iter()
            .find_map(|dir| relative_name(dir, path))
            .filter(|name| files.has_template_extension(name))?;
        (listing.get(&name).is_none() && self.exists(&name)).then_some(name)
    }

    /// Applies a batch of changes (any number of files, edited, added or removed, in one call)
    /// and decides, with every change so far applied.
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
        let now = Overlay::new(self);
        let count = self.graph.len();
        let nodes = now.len();
        // Decisions of their own, by name; every touched template has one.
        let mut own: Decisions<'_> = HashMap::default();
        for name in touched {
            own.insert(name, Decision::Unchanged);
        }
        // The templates that decide for what renders them: every one that differs from the
        // build, and every unchanged one that references a removed one.
        let mut sources: Vec<(&str, Decision)> = self
            .current
            .iter()
            .map(|(name, current)| (name.as_str(), self.own_decision(name, current)))
            .collect();
        sources.extend(self.broken_by_removal());
        sources.sort_by(|a, b| a.0.cmp(b.0));
        // One decision per source for what renders it, and per node the one it takes (`NONE`
        // for none), the more severe where two meet.
        let mut shared: Vec<Decision> = Vec::new();
        let mut takes: Vec<u32> = Vec::new();
        // What renders each source now, kept for the affected set.
        let mut walked: HashMap<&str, Vec<u32>> = HashMap::new();
        for (name, decision) in sources {
            // Nothing renders a removed template now: what still references it decides.
            let removed = matches!(self.current.get(name), Some(Current::Removed));
            if let Some(cause) = decision.reason()
                && !removed
                && let Some(node) = now.node(name)
            {
                let dependents = walked.entry(name).or_insert_with(|| now.dependents(node));
                if !dependents.is_empty() {
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
                        takes = vec![NONE; nodes];
                    }
                    for &node in dependents.iter() {
                        let slot = &mut takes[node as usize];
                        if *slot == NONE || shared[*slot as usize].severity() < severity {
                            *slot = index;
                        }
                    }
                }
            }
            worst(&mut own, name, decision);
        }
        // A template with a decision of its own keeps the more severe of the two.
        if !takes.is_empty() {
            for (name, decision) in own.iter_mut() {
                let Some(node) = now.node(name) else {
                    continue;
                };
                let slot = std::mem::replace(&mut takes[node as usize], NONE);
                if slot != NONE && shared[slot as usize].severity() > decision.severity() {
                    *decision = shared[slot as usize].clone();
                }
            }
            // Added templates that take a decision: the plan's shared decisions are for the
            // build's templates only.
            for (at, slot) in takes.iter_mut().enumerate().skip(count) {
                if *slot != NONE {
                    own.insert(now.name(at as u32), shared[*slot as usize].clone());
                    *slot = NONE;
                }
            }
        }
        if self.dev_renderer {
            self.refused_in_closures(&mut own, &mut takes, &shared);
        }
        if self.renders_source() && !self.bindings.is_empty() {
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
                let reason = self
                    .refused_type(name)
                    .or_else(|| self.missing_variable(name));
                if let Some(reason) = reason {
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

        // The affected set: what each touched template is rendered by now and was in the
        // build, marked by node and read back in id (= name) order, then the added names.
        let mut marks = vec![0u64; nodes.div_ceil(64)];
        let mut mark = |node: u32| marks[node as usize / 64] |= 1 << (node % 64);
        for name in touched {
            if let Some(node) = now.node(name) {
                mark(node);
                match walked.get(name.as_str()) {
                    Some(dependents) => dependents.iter().copied().for_each(&mut mark),
                    None => now.dependents(node).into_iter().for_each(&mut mark),
                }
            }
            // What rendered it in the build: the same unless another template's references
            // changed since.
            if let Some(id) = self.graph.id(name)
                && now.changed.iter().any(|&c| c != id)
            {
                self.graph
                    .dependents_transitive(id)
                    .into_iter()
                    .for_each(|id| mark(id.index() as u32));
            }
        }
        let mut affected = Vec::new();
        let mut affected_new: Vec<String> = touched
            .iter()
            .filter(|n| now.node(n).is_none())
            .cloned()
            .collect();
        for (at, &word) in marks.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let node = (at * 64) as u32 + word.trailing_zeros();
                if (node as usize) < count {
                    affected.push(TemplateId::new(node));
                } else {
                    affected_new.push(now.name(node).to_string());
                }
                word &= word - 1;
            }
        }
        affected_new.sort_unstable();
        affected_new.dedup();
        let notes = self
            .current
            .iter()
            .filter(|(name, current)| {
                matches!(current, Current::Present { .. })
                    && !self.baseline.templates.contains_key(*name)
            })
            .map(|(name, _)| Note::NotEmbedded {
                template: name.clone(),
            })
            .collect();
        Plan {
            names: Arc::clone(self.graph.names()),
            own,
            shared,
            inherited,
            affected,
            affected_new,
            notes,
        }
    }

    /// The decision for a template that differs from the build, on its own.
    fn own_decision(&self, name: &str, current: &Current) -> Decision {
        let rebuild = |reason| Decision::Rebuild { reason };
        let template = || name.to_string();
        let Current::Present { source, analysis } = current else {
            let reason = Reason::Removed {
                template: template(),
            };
            // A bound template that is gone, or one a template still references: the
            // references are reported where they are (`broken_by_removal`).
            let referenced = || self.referrers_now(name).next().is_some();
            return if self.renders_source() && !self.bindings.contains_key(name) && !referenced() {
                Decision::HotReload { reason }
            } else {
                rebuild(reason)
            };
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
        if let Some(dep) = new.deps.iter().find(|d| {
            !self.exists(&d.name) && !self.missing_built.contains(&(template(), d.name.clone()))
        }) {
            return rebuild(Reason::MissingDependency {
                template: template(),
                dependency: dep.name.clone(),
                line: dep.line,
            });
        }
        if let Some(path) = self.new_cycle(name) {
            return rebuild(Reason::Cycle { path });
        }
        let Some(built) = self.baseline.templates.get(name) else {
            let reason = Reason::Added {
                template: template(),
            };
            return if self.renders_source() {
                Decision::HotReload { reason }
            } else {
                rebuild(reason)
            };
        };
        if self.dev_renderer
            && let Err(refusal) = shipwright_core::askama::to_jinja(source)
        {
            return rebuild(refused(name, refusal));
        }
        if new.interface_hash == built.interface_hash {
            let reason = if new.static_hash == built.static_hash {
                Reason::CommentsOnly {
                    template: template(),
                }
            } else if !self.renders_source() {
                return rebuild(Reason::Compiled {
                    template: template(),
                });
            } else {
                Reason::LiteralText {
                    template: template(),
                }
            };
            return Decision::HotReload { reason };
        }
        if !self.renders_source()
            && let Some(first) = new.dynamic.first()
        {
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
                line: dep.line,
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
        if self.renders_source() {
            Decision::HotReload { reason }
        } else {
            rebuild(reason)
        }
    }

    /// With the askama dev renderer: every template that would hot-reload and whose closure now
    /// holds a template the dev renderer refuses needs a rebuild instead, naming the construct.
    /// A template's text is its new source if it changed, else the build's when the planner
    /// has it ([`from_embedded`](Self::from_embedded), [`source`](Self::source)).
    fn refused_in_closures<'a>(
        &'a self,
        own: &mut Decisions<'a>,
        takes: &mut [u32],
        shared: &[Decision],
    ) {
        let mut verdicts: HashMap<String, Option<Reason>> = HashMap::new();
        let mut refusal_of = |name: &str| -> Option<Reason> {
            verdicts
                .entry(name.to_string())
                .or_insert_with(|| {
                    let text = match self.current.get(name) {
                        Some(Current::Present { source, .. }) => source.as_str(),
                        Some(Current::Removed) => return None,
                        None => self.sources.get(name)?.as_ref(),
                    };
                    let refusal = shipwright_core::askama::to_jinja(text).err()?;
                    Some(refused(name, refusal))
                })
                .clone()
        };
        let mut in_closure = |name: &str| {
            self.closure_now(name)
                .iter()
                .find_map(|member| refusal_of(member))
        };
        for (name, decision) in own.iter_mut() {
            if let Decision::HotReload { .. } = decision
                && let Some(reason) = in_closure(name)
            {
                *decision = Decision::Rebuild { reason };
            }
        }
        for (at, slot) in takes.iter_mut().enumerate() {
            if *slot == NONE || shared[*slot as usize].needs_rebuild() {
                continue;
            }
            let name = self.graph.name(TemplateId::new(at as u32));
            if let Some(reason) = in_closure(name) {
                *slot = NONE;
                own.insert(name, Decision::Rebuild { reason });
            }
        }
    }

    /// The unchanged templates that reference a removed one: each now has a reference to no
    /// template (a rebuild of its own), the first such reference named.
    fn broken_by_removal(&self) -> Vec<(&str, Decision)> {
        let mut out: BTreeMap<&str, Decision> = BTreeMap::new();
        for (name, current) in &self.current {
            if !matches!(current, Current::Removed) {
                continue;
            }
            for (user, dep) in self.referrers_now(name) {
                if self.current.contains_key(user) {
                    continue;
                }
                out.entry(user).or_insert_with(|| Decision::Rebuild {
                    reason: Reason::MissingDependency {
                        template: user.to_string(),
                        dependency: dep.name.clone(),
                        line: dep.line,
                    },
                });
            }
        }
        out.into_iter().collect()
    }

    /// The templates that reference `name` by a static name now, each with the reference: the
    /// build's referrers that did not change, and the changed ones whose new text does.
    fn referrers_now<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a str, &'a Dep)> {
        let names = move |d: &&Dep| resolve_name(&d.name).is_ok_and(|n| n == name);
        let unchanged = self
            .graph
            .id(name)
            .map(|id| self.graph.dependents(id))
            .unwrap_or_default()
            .iter()
            .map(|&user| self.graph.name(user))
            .filter(|user| !self.current.contains_key(*user))
            .filter_map(move |user| {
                let dep = self.baseline.templates[user].deps.iter().find(names)?;
                Some((user, dep))
            });
        let changed = self.current.iter().filter_map(move |(user, current)| {
            let Current::Present {
                analysis: Ok(new), ..
            } = current
            else {
                return None;
            };
            Some((user.as_str(), new.deps.iter().find(names)?))
        });
        unchanged.chain(changed)
    }

    /// `name` and every template it may render now (dynamic references followed),
    /// breadth-first.
    fn closure_now(&self, name: &str) -> Vec<String> {
        let mut seen: HashSet<String> = HashSet::from([name.to_string()]);
        let mut order = vec![name.to_string()];
        let mut queue = VecDeque::from([name.to_string()]);
        while let Some(at) = queue.pop_front() {
            for dep in self.edges_now(&at) {
                if seen.insert(dep.to_string()) {
                    order.push(dep.to_string());
                    queue.push_back(dep.to_string());
                }
            }
        }
        order
    }

    /// With the askama dev renderer: why it cannot render the type bound to `name` whatever
    /// the text ([`Binding::dev_refusal`]), if it cannot.
    fn refused_type(&self, name: &str) -> Option<Reason> {
        if !self.dev_renderer {
            return None;
        }
        let binding = self.bindings.get(name)?;
        Some(Reason::RefusedType {
            template: name.to_string(),
            type_name: binding.type_name.clone(),
            why: binding.dev_refusal.clone()?,
        })
    }

    /// For a bound template in runtime mode: the first variable that its closure, as it is now,
    /// reads from the struct ([`missing_reads`]), that the struct lacks and that the same
    /// template of its closure did not already lack in the build.
    fn missing_variable(&self, name: &str) -> Option<Reason> {
        let binding = self.bindings.get(name)?;
        let lacking = self.lacking_in_build.get(name);
        let missing = missing_reads_through_dynamic(
            &self.now,
            name,
            binding.fields.iter().map(String::as_str),
            self.globals.iter().map(String::as_str),
        )
        .into_iter()
        .find(|m| {
            !lacking.is_some_and(|l| l.contains(&(m.variable.clone(), m.template.clone())))
        })?;
        Some(Reason::MissingVariable {
            template: name.to_string(),
            used_in: missing.template,
            line: missing.line,
            variable: missing.variable,
            type_name: binding.type_name.clone(),
            fields: binding.fields.clone(),
        })
    }

    /// A cycle through `name` now, over static references, that passes through a template that
    /// was on no cycle in the build (one the build already had is nothing new). It starts at
    /// `name` if `name` is such a template, else at the first such one by name.
    fn new_cycle(&self, name: &str) -> Option<Vec<String>> {
        // Forward from `name`, keeping every edge seen, reversed.
        let mut seen: HashSet<String> = HashSet::from([name.to_string()]);
        let mut queue = VecDeque::from([name.to_string()]);
        let mut back: HashMap<String, Vec<String>> = HashMap::new();
        while let Some(at) = queue.pop_front() {
            for dep in self.static_deps_now(&at) {
                back.entry(dep.clone()).or_default().push(at.clone());
                if seen.insert(dep.clone()) {
                    queue.push_back(dep);
                }
            }
        }
        if !back.contains_key(name) {
            return None;
        }
        // Backward from `name` over those edges: the templates on a cycle through it.
        let mut on_cycle: BTreeSet<String> = BTreeSet::from([name.to_string()]);
        let mut queue = VecDeque::from([name.to_string()]);
        while let Some(at) = queue.pop_front() {
            for from in back.get(&at).into_iter().flatten() {
                if on_cycle.insert(from.clone()) {
                    queue.push_back(from.clone());
                }
            }
        }
        let fresh = |t: &String| !self.cyclic_built.contains(t);
        let start = if fresh(&name.to_string()) {
            name.to_string()
        } else {
            on_cycle.into_iter().find(fresh)?
        };
        self.cycle_through(&start)
    }

    /// A shortest path through `name`'s current static references back to `name`, if any.
    fn cycle_through(&self, name: &str) -> Option<Vec<String>> {
        let mut parent: HashMap<String, String> = HashMap::new();
        let mut queue = VecDeque::from([name.to_string()]);
        while let Some(at) = queue.pop_front() {
            for dep in self.static_deps_now(&at) {
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

    /// The resolved names `name` references by a static name now (its new version if it
    /// changed), that are templates now.
    fn static_deps_now(&self, name: &str) -> Vec<String> {
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

    /// Every template `name` may render directly now: its static references that are
    /// templates now, then every template now its dynamic references may name.
    fn edges_now(&self, name: &str) -> Vec<String> {
        let mut out = self.static_deps_now(name);
        let targets: Cow<'_, [Targets]> = match self.current.get(name) {
            Some(Current::Present {
                analysis: Ok(new), ..
            }) => new.dynamic.iter().map(|d| Targets::of(&d.expr)).collect(),
            Some(_) => Cow::Borrowed(&[]),
            None => self
                .dynamic_built
                .get(name)
                .map_or(Cow::Borrowed(&[][..]), |t| Cow::Borrowed(t.as_slice())),
        };
        if !targets.is_empty() {
            // The build's templates by prefix ranges, then the added ones.
            let mut dynamic: Vec<&str> = targets
                .iter()
                .flat_map(|t| t.select_in(&self.baseline.templates))
                .filter(|n| !matches!(self.current.get(*n), Some(Current::Removed)))
                .chain(
                    self.added_now()
                        .filter(|n| targets.iter().any(|t| t.matches(n))),
                )
                .filter(|n| *n != name)
                .collect();
            dynamic.sort_unstable();
            dynamic.dedup();
            let written: HashSet<&str> = out.iter().map(String::as_str).collect();
            dynamic.retain(|n| !written.contains(n));
            out.extend(dynamic.into_iter().map(str::to_string));
        }
        out
    }

    /// Every template now, in name order for each part: the build's that are not removed,
    /// then the added ones.
    #[cfg(test)]
    fn names_now(&self) -> impl Iterator<Item = &str> {
        let built = self
            .baseline
            .templates
            .keys()
            .filter(|n| !matches!(self.current.get(*n), Some(Current::Removed)))
            .map(String::as_str);
        built.chain(self.added_now())
    }

    /// The templates added since the build, in name order.
    fn added_now(&self) -> impl Iterator<Item = &str> {
        self.current.iter().filter_map(|(n, c)| {
            (matches!(c, Current::Present { .. }) && !self.baseline.templates.contains_key(n))
                .then_some(n.as_str())
        })
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
}

/// A listed template's file as a change: its text (read by the file rule), or its removal if it
/// vanished since the walk.
fn read_change(files: &TemplateFiles, found: &Found) -> Result<Change, FileError> {
    match files.read_found(found) {
        Ok(bytes) => Ok(Change {
            name: found.name.clone(),
            content: Some(String::from_utf8_lossy(&bytes).into_owned()),
        }),
        Err(e) if e.is_not_found() => Ok(Change::remove(found.name.clone())),
        Err(e) => Err(e),
    }
}

/// The template set as it is now, laid over the build's graph: nodes are the graph's ids, then
/// one per added template; the graph's edges hold for every template that did not change, and
/// the edges of the changed ones, and those into added templates, are kept aside.
struct Overlay<'p> {
    graph: &'p DependencyGraph,
    /// The graph's templates.
    count: usize,
    /// The added templates, in name order: node `count + i` is `added[i]`.
    added: Vec<&'p str>,
    /// By graph id: the template changed or was removed, so its edges in the graph are stale.
    stale: Vec<u64>,
    /// The same templates, as a list.
    changed: Vec<TemplateId>,
    /// By node: what renders it now that the graph does not say.
    users: HashMap<u32, Vec<u32>, ahash::RandomState>,
}

impl<'p> Overlay<'p> {
    fn new(p: &'p RebuildPlanner) -> Self {
        let count = p.graph.len();
        let added: Vec<&'p str> = p
            .current
            .iter()
            .filter(|(n, c)| {
                matches!(c, Current::Present { .. }) && !p.baseline.templates.contains_key(*n)
            })
            .map(|(n, _)| n.as_str())
            .collect();
        let mut overlay = Overlay {
            graph: &p.graph,
            count,
            added,
            stale: vec![0u64; count.div_ceil(64)],
            changed: Vec::new(),
            users: HashMap::default(),
        };
        if p.current.is_empty() {
            return overlay;
        }
        for (name, current) in &p.current {
            if let Some(id) = p.graph.id(name) {
                overlay.stale[id.index() / 64] |= 1 << (id.index() % 64);
                overlay.changed.push(id);
            }
            if matches!(current, Current::Present { .. }) {
                let from = overlay.node(name).expect("a template now");
                for to in p.edges_now(name) {
                    let to = overlay
                        .node(&to)
                        .expect("an edge now ends at a template now");
                    overlay.users.entry(to).or_default().push(from);
                }
            }
        }
        // Unchanged templates that reach an added one: a reference the build could not
        // resolve, or a dynamic reference that may name it.
        for at in 0..overlay.added.len() {
            let name = overlay.added[at];
            let to = (count + at) as u32;
            let mut from: BTreeSet<&str> = p
                .baseline
                .missing
                .iter()
                .filter(|m| resolve_name(&m.name).is_ok_and(|n| n == name))
                .map(|m| m.template.as_str())
                .collect();
            from.extend(
                p.dynamic_built
                    .iter()
                    .filter(|(user, targets)| {
                        user.as_str() != name && targets.iter().any(|t| t.matches(name))
                    })
                    .map(|(user, _)| user.as_str()),
            );
            for user in from {
                if !p.current.contains_key(user)
                    && let Some(id) = p.graph.id(user)
                {
                    overlay.users.entry(to).or_default().push(id.index() as u32);
                }
            }
        }
        overlay
    }

    fn len(&self) -> usize {
        self.count + self.added.len()
    }

    /// The node of a template that exists in the graph or was added.
    fn node(&self, name: &str) -> Option<u32> {
        if let Some(id) = self.graph.id(name) {
            return Some(id.index() as u32);
        }
        if let Ok(at) = self.added.binary_search(&name) {
            return Some((self.count + at) as u32);
        }
        None
    }

    fn name(&self, node: u32) -> &'p str {
        match (node as usize).checked_sub(self.count) {
            Some(at) => self.added[at],
            None => self.graph.name(TemplateId::new(node)),
        }
    }

    fn is_stale(&self, node: u32) -> bool {
        (node as usize) < self.count && self.stale[node as usize / 64] & (1 << (node % 64)) != 0
    }

    /// Every node that renders `start` now, directly or not, breadth-first, without `start`.
    fn dependents(&self, start: u32) -> Vec<u32> {
        let mut seen = vec![0u64; self.len().div_ceil(64)];
        let mut mark = |node: u32| {
            let (word, bit) = (node as usize / 64, 1u64 << (node % 64));
            let fresh = seen[word] & bit == 0;
            seen[word] |= bit;
            fresh
        };
        mark(start);
        let mut order = vec![start];
        let mut next = 0;
        while next < order.len() {
            let at = order[next];
            next += 1;
            let built: &[TemplateId] = if (at as usize) < self.count {
                self.graph.dependents(TemplateId::new(at))
            } else {
                &[]
            };
            let built = built
                .iter()
                .map(|id| id.index() as u32)
                .filter(|&user| !self.is_stale(user));
            let now = match self.users.is_empty() {
                true => None,
                false => self.users.get(&at),
            };
            let now = now.into_iter().flatten().copied();
            for user in built.chain(now) {
                if mark(user) {
                    order.push(user);
                }
            }
        }
        order.remove(0);
        order
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
