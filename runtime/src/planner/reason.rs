//! What the planner decided for one template, and why, in words a person can act on.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// The planner's verdict for one template, against the BuildCache the binary was built with.
///
/// Serialized (serde) as `{"decision": "unchanged" | "hot_reload" | "rebuild", "reason": …}`,
/// the reason as [`Reason`] says, absent for `unchanged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Nothing this template renders with differs from the build.
    Unchanged,
    /// Serving the new source is enough.
    HotReload {
        /// Why.
        reason: Reason,
    },
    /// The Rust side may have to change: `cargo build`.
    Rebuild {
        /// Why.
        reason: Reason,
    },
}

/// How much a [`Decision`] asks of the developer, in order: where several decisions meet on one
/// template (it renders several changed ones), the most severe wins.
///
/// ```
/// use shipwright_runtime::planner::Severity;
/// assert!(Severity::Unchanged < Severity::HotReload && Severity::HotReload < Severity::Rebuild);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Nothing to do.
    Unchanged,
    /// The running app shows the change.
    HotReload,
    /// `cargo build`.
    Rebuild,
}

impl Decision {
    /// How much the decision asks for.
    pub fn severity(&self) -> Severity {
        match self {
            Decision::Unchanged => Severity::Unchanged,
            Decision::HotReload { .. } => Severity::HotReload,
            Decision::Rebuild { .. } => Severity::Rebuild,
        }
    }

    /// The reason, unless `Unchanged`.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Decision::Unchanged => None,
            Decision::HotReload { reason } | Decision::Rebuild { reason } => Some(reason),
        }
    }

    /// Is a `cargo build` needed?
    pub fn needs_rebuild(&self) -> bool {
        matches!(self, Decision::Rebuild { .. })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Unchanged => f.write_str("unchanged"),
            Decision::HotReload { reason } => write!(f, "hot reload: {reason}"),
            Decision::Rebuild { reason } => write!(f, "rebuild: {reason}"),
        }
    }
}

/// Why a template hot-reloads or needs a rebuild. `Display` gives the sentence.
///
/// Serialized (serde) as an object whose `kind` is the variant in snake case
/// (`literal_text`, `missing_variable`, `dependency`, …), whose `template` is always
/// [`Reason::template`], and whose other keys are the variant's fields (`line`, `variable`,
/// `used_in`, `type_name`, `fields`, `dependency`, `change`, `expr`, `message`, `path`), a
/// `dependency` reason holding the changed template's reason under `cause`. A caller reads the
/// fields; the sentence is the `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Only literal text changed.
    LiteralText {
        /// The template.
        template: String,
    },
    /// The bytes changed, but neither the text nor the tags did (comments, spacing in tags).
    CommentsOnly {
        /// The template.
        template: String,
    },
    /// The expressions or tags changed.
    Interface {
        /// The template.
        template: String,
        /// 1-based line of the first new expression or tag (0 when only removals).
        line: u32,
        /// What changed: `new expression `user.name``, `removed tag `if admin``.
        change: String,
    },
    /// A static reference was added.
    NewDependency {
        /// The template.
        template: String,
        /// The name as written.
        dependency: String,
        /// 1-based line of its first tag.
        line: u32,
    },
    /// A static reference was removed.
    RemovedDependency {
        /// The template.
        template: String,
        /// The name as written.
        dependency: String,
    },
    /// A static reference names no template, and did not fail in the build.
    MissingDependency {
        /// The template.
        template: String,
        /// The name as written.
        dependency: String,
        /// 1-based line of its first tag.
        line: u32,
    },
    /// A variable the bound struct does not provide.
    MissingVariable {
        /// The bound template.
        template: String,
        /// The template that reads the variable (the bound one or one it includes).
        used_in: String,
        /// 1-based line of its first use in `used_in` (0 if unknown).
        line: u32,
        /// The variable.
        variable: String,
        /// The struct bound to `template`.
        type_name: String,
        /// Its fields.
        fields: Vec<String>,
    },
    /// In [`RenderMode::Compiled`](super::RenderMode::Compiled): an interface change in a
    /// template with a reference whose name is an expression.
    Dynamic {
        /// The template.
        template: String,
        /// 1-based line.
        line: u32,
        /// The expression.
        expr: String,
    },
    /// In [`RenderMode::Compiled`](super::RenderMode::Compiled) without a dev renderer: the text
    /// of a template compiled into the binary changed, which the running app cannot show.
    Compiled {
        /// The template.
        template: String,
    },
    /// In [`RenderMode::Compiled`](super::RenderMode::Compiled) with the askama dev renderer: a
    /// construct it cannot render as askama does ([`shipwright_core::askama::to_jinja`]).
    Refused {
        /// The template that holds the construct.
        template: String,
        /// 1-based line.
        line: u32,
        /// The construct: "a method call `len()`".
        construct: String,
    },
    /// In [`RenderMode::Compiled`](super::RenderMode::Compiled) with the askama dev renderer:
    /// the type bound to `template` is one it cannot render as askama does, whatever the text
    /// (a key of its `#[template(...)]` it does not emulate, a field whose serde form loses
    /// what askama reads).
    RefusedType {
        /// The bound template.
        template: String,
        /// The type.
        type_name: String,
        /// What the dev renderer cannot do.
        why: String,
    },
    /// The template is part of a dependency cycle through a template that was on none in the
    /// build.
    Cycle {
        /// The cycle, ending where it starts.
        path: Vec<String>,
    },
    /// The template does not lex.
    Parse {
        /// The template.
        template: String,
        /// 1-based line.
        line: u32,
        /// The lexer's message.
        message: String,
    },
    /// The template is not in the BuildCache the binary was built with (a hot reload in
    /// [`RenderMode::Runtime`](super::RenderMode::Runtime): see [`Note::NotEmbedded`]).
    Added {
        /// The template.
        template: String,
    },
    /// The template is gone from disk (a rebuild when it is bound or still referenced).
    Removed {
        /// The template.
        template: String,
    },
    /// A template this one renders with changed. One such reason is shared by every
    /// template that renders the same changed one.
    Dependency {
        /// Why the dependency changed.
        cause: Arc<Reason>,
    },
}

impl Reason {
    /// The template the reason is about (for `Dependency`, the changed template it renders).
    pub fn template(&self) -> &str {
        match self {
            Reason::LiteralText { template }
            | Reason::CommentsOnly { template }
            | Reason::Interface { template, .. }
            | Reason::NewDependency { template, .. }
            | Reason::RemovedDependency { template, .. }
            | Reason::MissingDependency { template, .. }
            | Reason::MissingVariable { template, .. }
            | Reason::Dynamic { template, .. }
            | Reason::Compiled { template }
            | Reason::Refused { template, .. }
            | Reason::RefusedType { template, .. }
            | Reason::Parse { template, .. }
            | Reason::Added { template }
            | Reason::Removed { template } => template,
            Reason::Dependency { cause } => cause.template(),
            Reason::Cycle { path } => path.first().map_or("", String::as_str),
        }
    }

    /// The file and line a person should look at, when there is one.
    pub fn location(&self) -> Option<(&str, u32)> {
        match self {
            Reason::Interface { template, line, .. } if *line > 0 => Some((template, *line)),
            Reason::Dynamic { template, line, .. }
            | Reason::Parse { template, line, .. }
            | Reason::Refused { template, line, .. } => Some((template, *line)),
            Reason::MissingVariable { used_in, line, .. } if *line > 0 => Some((used_in, *line)),
            Reason::NewDependency { template, line, .. }
            | Reason::MissingDependency { template, line, .. }
                if *line > 0 =>
            {
                Some((template, *line))
            }
            Reason::Dependency { cause, .. } => cause.location(),
            _ => None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::LiteralText { template } => write!(f, "literal text changed in {template}"),
            Reason::CommentsOnly { template } => write!(
                f,
                "only comments or spacing inside tags changed in {template}"
            ),
            Reason::Interface {
                template, change, ..
            } => write!(f, "interface of {template} changed: {change}"),
            Reason::NewDependency {
                template,
                dependency,
                ..
            } => write!(f, "new include of {dependency} in {template}"),
            Reason::RemovedDependency {
                template,
                dependency,
            } => write!(f, "{template} no longer includes {dependency}"),
            Reason::MissingDependency {
                template,
                dependency,
                ..
            } => {
                write!(
                    f,
                    "{template} references {dependency}, which is not a template"
                )
            }
            Reason::MissingVariable {
                template,
                used_in,
                variable,
                type_name,
                fields,
                ..
            } => {
                write!(
                    f,
                    "new variable `{variable}` is not a field of `{type_name}` (fields: {})",
                    fields.join(", ")
                )?;
                if used_in != template {
                    write!(f, "; it is read in {used_in}, which {template} renders")?;
                }
                Ok(())
            }
            Reason::Dynamic {
                template,
                line,
                expr,
            } => {
                write!(
                    f,
                    "dynamic reference at line {line} of {template} (`{expr}`): conservative"
                )
            }
            Reason::Compiled { template } => write!(
                f,
                "{template} changed, and askama compiled it into the binary: `cargo build`, or \
                 render it with the askama dev renderer (shipwright-runtime's `askama` and `dev` \
                 features in a debug build, and RebuildPlanner::dev_renderer)"
            ),
            Reason::Refused {
                template,
                line,
                construct,
            } => write!(
                f,
                "the askama dev renderer cannot render {construct} at line {line} of {template} \
                 as askama does: `cargo build` (the app shows askama's page of the last build)"
            ),
            Reason::RefusedType {
                template,
                type_name,
                why,
            } => write!(
                f,
                "{why}, so the askama dev renderer does not render {type_name} ({template}): \
                 `cargo build` (the app shows askama's page of the last build)"
            ),
            Reason::Cycle { path } => write!(f, "dependency cycle: {}", path.join(" -> ")),
            Reason::Parse {
                template,
                line,
                message,
            } => write!(f, "{template}:{line}: {message}"),
            Reason::Added { template } => {
                write!(
                    f,
                    "added: {template} is not in the BuildCache this binary was built with"
                )
            }
            Reason::Removed { template } => write!(f, "removed: {template}"),
            Reason::Dependency { cause } => write!(f, "renders {}: {cause}", cause.template()),
        }
    }
}

impl Reason {
    /// The `kind` of the serialized form: the variant's name in snake case.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::LiteralText { .. } => "literal_text",
            Reason::CommentsOnly { .. } => "comments_only",
            Reason::Interface { .. } => "interface",
            Reason::NewDependency { .. } => "new_dependency",
            Reason::RemovedDependency { .. } => "removed_dependency",
            Reason::MissingDependency { .. } => "missing_dependency",
            Reason::MissingVariable { .. } => "missing_variable",
            Reason::Dynamic { .. } => "dynamic",
            Reason::Compiled { .. } => "compiled",
            Reason::Refused { .. } => "refused",
            Reason::RefusedType { .. } => "refused_type",
            Reason::Cycle { .. } => "cycle",
            Reason::Parse { .. } => "parse",
            Reason::Added { .. } => "added",
            Reason::Removed { .. } => "removed",
            Reason::Dependency { .. } => "dependency",
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", self.kind())?;
        map.serialize_entry("template", self.template())?;
        match self {
            Reason::LiteralText { .. }
            | Reason::CommentsOnly { .. }
            | Reason::Added { .. }
            | Reason::Compiled { .. }
            | Reason::Removed { .. } => {}
            Reason::Refused {
                line, construct, ..
            } => {
                map.serialize_entry("line", line)?;
                map.serialize_entry("construct", construct)?;
            }
            Reason::RefusedType { type_name, why, .. } => {
                map.serialize_entry("type_name", type_name)?;
                map.serialize_entry("why", why)?;
            }
            Reason::Interface { line, change, .. } => {
                map.serialize_entry("line", line)?;
                map.serialize_entry("change", change)?;
            }
            Reason::NewDependency {
                dependency, line, ..
            }
            | Reason::MissingDependency {
                dependency, line, ..
            } => {
                map.serialize_entry("dependency", dependency)?;
                map.serialize_entry("line", line)?;
            }
            Reason::RemovedDependency { dependency, .. } => {
                map.serialize_entry("dependency", dependency)?;
            }
            Reason::MissingVariable {
                used_in,
                line,
                variable,
                type_name,
                fields,
                ..
            } => {
                map.serialize_entry("variable", variable)?;
                map.serialize_entry("used_in", used_in)?;
                map.serialize_entry("line", line)?;
                map.serialize_entry("type_name", type_name)?;
                map.serialize_entry("fields", fields)?;
            }
            Reason::Dynamic { line, expr, .. } => {
                map.serialize_entry("line", line)?;
                map.serialize_entry("expr", expr)?;
            }
            Reason::Cycle { path } => map.serialize_entry("path", path)?,
            Reason::Parse { line, message, .. } => {
                map.serialize_entry("line", line)?;
                map.serialize_entry("message", message)?;
            }
            Reason::Dependency { cause } => map.serialize_entry("cause", &**cause)?,
        }
        map.end()
    }
}

/// Something a plan says besides its decisions, for a person or a tool to show.
///
/// Serialized (serde) as `{"kind": "not_embedded", "template": …}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Note {
    /// A template the binary does not embed (added since the build): the running app serves it
    /// from its file, and the next build embeds it.
    NotEmbedded {
        /// The template.
        template: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::NotEmbedded { template } => write!(
                f,
                "{template} is served from its file; the next build embeds it"
            ),
        }
    }
}
