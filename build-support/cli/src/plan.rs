//! `shipwright-templates plan`: the rebuild planner on the template tree as it is now, against
//! the BuildCache of the last build, as JSON a tool can read.
//!
//! ```text
//! shipwright-templates plan --baseline target [--mode runtime|compiled]
//!     [--bind TEMPLATE=field,field]... [--global NAME]... [ROOT]...
//! ```
//!
//! `--baseline` is a BuildCache file or a directory holding one: the copy every build keeps at
//! `target/shipwright/<package>/build-cache.json` (so `--baseline target` finds it when the
//! target directory has one package's copy; name `target/shipwright/<package>` otherwise),
//! an `OUT_DIR` (`shipwright/build-cache.json` under it), or a directory with a
//! `build-cache.json`. The ROOTs are the template directories in the baseline's order; they
//! default to the baseline's own roots, read from the current directory (the crate's manifest
//! directory). Without `--bind`, every entry template of the baseline (one no other template
//! references) is bound to a struct whose fields are what the baseline's closure of it reads
//! ([`Binding::entries`]). `--global` adds to the baseline's declared globals.
//!
//! # Output
//!
//! One JSON document on stdout:
//!
//! ```json
//! {
//!   "format": "shipwright-plan",
//!   "version": 1,
//!   "baseline": "target/shipwright/app/build-cache.json",
//!   "mode": "runtime",
//!   "needs_rebuild": true,
//!   "templates": [
//!     {
//!       "template": "pages/home.html",
//!       "decision": "rebuild",
//!       "reason": {
//!         "kind": "missing_variable", "template": "pages/home.html", "variable": "user",
//!         "used_in": "partials/nav.html", "line": 3, "type_name": "Home", "fields": ["title"]
//!       },
//!       "message": "rebuild: new variable `user` is not a field of `Home` (fields: title); …",
//!       "affected": true
//!     }
//!   ],
//!   "notes": [{ "kind": "not_embedded", "template": "partials/new.html" }]
//! }
//! ```
//!
//! `templates` holds one object per template that has a decision or whose cached renders are
//! stale, sorted by name: `decision` is `unchanged`, `hot_reload` or `rebuild`; `reason` (absent
//! for `unchanged`) is the planner's [`Reason`](shipwright_runtime::planner::Reason) with its
//! `kind` and fields (a `dependency` reason nests the changed template's reason under `cause`);
//! `message` is the same as a sentence, for people; `affected` says whether the template's
//! cached renders are stale. `notes` lists the templates the binary does not embed yet.
//!
//! Exit status: 0 when nothing needs a rebuild, 1 when something does, 2 on an error (a
//! baseline that cannot be found or read, a missing root, a malformed `--bind`, a bound
//! template the baseline does not have).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use shipwright_core::format::{BuildCache, FILE_NAME, FormatError, baseline_copy};
use shipwright_runtime::planner::{Binding, Decision, Note, RebuildPlanner, RenderMode};

/// The value of the output's `format` field.
pub(crate) const FORMAT: &str = "shipwright-plan";

/// Why `plan` could not decide.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    /// No BuildCache where `--baseline` points.
    #[error(
        "no BuildCache at {}: expected a build-cache.json, an OUT_DIR (shipwright/build-cache.json), or a target directory (shipwright/<package>/build-cache.json, written by every build)",
        .0.display()
    )]
    NoBaseline(PathBuf),
    /// A target directory with the copies of several packages.
    #[error(
        "{} holds the BuildCache of several packages ({}): pass --baseline {}/shipwright/<package>",
        dir.display(), packages.join(", "), dir.display()
    )]
    SeveralBaselines {
        /// The directory given.
        dir: PathBuf,
        /// The packages found.
        packages: Vec<String>,
    },
    /// The BuildCache could not be read.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The ROOTs do not match the baseline's roots.
    #[error("the baseline has {expected} template roots ({}), {given} given", roots.join(", "))]
    Roots {
        /// The baseline's root count.
        expected: usize,
        /// The baseline's roots.
        roots: Vec<String>,
        /// How many were given.
        given: usize,
    },
    /// A template file could not be read.
    #[error("cannot read the templates under {}: {source}", roots.join(", "))]
    Read {
        /// The roots.
        roots: Vec<String>,
        /// The cause.
        source: shipwright_core::files::FileError,
    },
    /// `--bind` names a template the baseline does not have.
    #[error("--bind {0}: no such template in the baseline")]
    UnknownBinding(String),
}

/// One `--bind TEMPLATE=field,field`.
#[derive(Debug, Clone)]
pub(crate) struct BindArg {
    template: String,
    fields: Vec<String>,
}

/// Parses `TEMPLATE=field,field` (no fields after `=` is a struct without fields).
pub(crate) fn parse_bind(arg: &str) -> Result<BindArg, String> {
    let (template, fields) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected TEMPLATE=field,field, got {arg:?}"))?;
    if template.is_empty() {
        return Err(format!("no template name in {arg:?}"));
    }
    Ok(BindArg {
        template: template.to_string(),
        fields: fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// What `plan` was asked.
pub(crate) struct PlanArgs {
    pub(crate) baseline: PathBuf,
    pub(crate) mode: RenderMode,
    pub(crate) binds: Vec<BindArg>,
    pub(crate) globals: Vec<String>,
    pub(crate) roots: Vec<PathBuf>,
}

/// The output document.
#[derive(Serialize)]
struct Output<'a> {
    format: &'static str,
    version: u32,
    baseline: String,
    mode: &'static str,
    needs_rebuild: bool,
    templates: Vec<Entry<'a>>,
    notes: &'a [Note],
}

/// One template of the output.
#[derive(Serialize)]
struct Entry<'a> {
    template: &'a str,
    #[serde(flatten)]
    decision: &'a Decision,
    message: String,
    affected: bool,
}

/// Plans and returns the JSON and whether a rebuild is needed.
pub(crate) fn run(args: PlanArgs) -> Result<(String, bool), PlanError> {
    let path = find_baseline(&args.baseline)?;
    let baseline = BuildCache::load(&path)?;
    let roots: Vec<PathBuf> = if args.roots.is_empty() {
        baseline.roots.iter().map(PathBuf::from).collect()
    } else {
        args.roots
    };
    if roots.len() != baseline.roots.len() {
        return Err(PlanError::Roots {
            expected: baseline.roots.len(),
            roots: baseline.roots.clone(),
            given: roots.len(),
        });
    }
    let bindings = if args.binds.is_empty() {
        Binding::entries(&baseline)
    } else {
        let mut bindings = Vec::new();
        for bind in args.binds {
            if !baseline.templates.contains_key(&bind.template) {
                return Err(PlanError::UnknownBinding(bind.template));
            }
            let type_name = format!("struct of {}", bind.template);
            bindings.push(Binding::new(bind.template, type_name, bind.fields));
        }
        bindings
    };
    let root_names: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    let mut planner = RebuildPlanner::new(baseline, args.mode)
        .globals(args.globals)
        .root_dirs(roots);
    for binding in bindings {
        planner = planner.bind(binding);
    }
    let plan = planner.plan_roots().map_err(|source| PlanError::Read {
        roots: root_names,
        source,
    })?;

    let unchanged = Decision::Unchanged;
    let mut templates: BTreeMap<&str, Entry<'_>> = plan
        .decisions()
        .map(|(template, decision)| {
            let entry = Entry {
                template,
                decision,
                message: decision.to_string(),
                affected: false,
            };
            (template, entry)
        })
        .collect();
    for template in plan.affected() {
        templates
            .entry(template)
            .or_insert_with(|| Entry {
                template,
                decision: &unchanged,
                message: unchanged.to_string(),
                affected: true,
            })
            .affected = true;
    }
    let output = Output {
        format: FORMAT,
        version: 1,
        baseline: path.display().to_string(),
        mode: match args.mode {
            RenderMode::Runtime => "runtime",
            RenderMode::Compiled => "compiled",
        },
        needs_rebuild: plan.needs_rebuild(),
        templates: templates.into_values().collect(),
        notes: plan.notes(),
    };
    let mut json = serde_json::to_string_pretty(&output).expect("the plan always serializes");
    json.push('\n');
    Ok((json, plan.needs_rebuild()))
}

/// The BuildCache file `--baseline` names.
fn find_baseline(given: &Path) -> Result<PathBuf, PlanError> {
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    if !given.is_dir() {
        return Err(PlanError::NoBaseline(given.to_path_buf()));
    }
    for candidate in [given.join("build-cache.json"), given.join(FILE_NAME)] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    // A target directory: the copies the builds keep, one per package.
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(given.join("shipwright"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let package = entry.file_name().to_str()?.to_string();
            let file = baseline_copy(given, &package);
            file.is_file().then_some((package, file))
        })
        .collect();
    found.sort();
    match found.len() {
        0 => Err(PlanError::NoBaseline(given.to_path_buf())),
        1 => Ok(found.remove(0).1),
        _ => Err(PlanError::SeveralBaselines {
            dir: given.to_path_buf(),
            packages: found.into_iter().map(|(p, _)| p).collect(),
        }),
    }
}
