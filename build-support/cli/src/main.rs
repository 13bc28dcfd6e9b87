//! `shipwright-templates`: the BuildCache of template roots, and questions about its graph.
//!
//! ```text
//! shipwright-templates scan templates            # the BuildCache JSON on stdout, indented
//! shipwright-templates deps pages/home.html      # what home.html needs, transitively
//! shipwright-templates rdeps partials/nav.html   # what a change to nav.html affects
//! shipwright-templates graph --format mermaid    # the graph, for a README or Graphviz
//! shipwright-templates dev -- cargo run          # run the app; rebuild and restart it when needed
//! shipwright-templates plan --baseline target    # what the edits since the last build need
//! ```
//!
//! Roots default to `templates` (for `plan`, to the baseline's roots). Problems go to stderr as
//! `root/name:line: message`; a missing root exits with status 2. `plan` prints every decision
//! as JSON and exits 0 when nothing needs a rebuild, 1 when something does, 2 on an error: see
//! the `plan` module for the shape.
#![forbid(unsafe_code)]

#[cfg(unix)]
mod dev;
mod draw;
mod plan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use shipwright_build::scan::{Roots, scan};
use shipwright_core::format::BuildCache;

#[derive(Parser)]
#[command(
    name = "shipwright-templates",
    version,
    about = "Scan Jinja-family templates: hashes, dependencies, graph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the BuildCache of the roots as JSON.
    Scan {
        /// Template roots, searched in order.
        #[arg(default_value = "templates")]
        roots: Vec<PathBuf>,
    },
    /// Print every template NAME depends on, transitively (or only directly, as written).
    Deps {
        /// A template name, relative to its root.
        name: String,
        /// Template roots, searched in order.
        #[arg(default_value = "templates")]
        roots: Vec<PathBuf>,
        /// Only the direct references, as written.
        #[arg(long)]
        direct: bool,
    },
    /// Print every template a change to NAME affects, transitively.
    Rdeps {
        /// A template name, relative to its root.
        name: String,
        /// Template roots, searched in order.
        #[arg(default_value = "templates")]
        roots: Vec<PathBuf>,
    },
    /// Run the app (`-- cargo run`), rebuild and restart it when a template edit needs a
    /// build, keeping its listening socket.
    Dev(DevArgs),
    /// Draw the dependency graph.
    Graph {
        /// Template roots, searched in order.
        #[arg(default_value = "templates")]
        roots: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Decide, for the templates as they are now against the BuildCache of the last build, what
    /// needs a hot reload and what a rebuild; print every decision as JSON. Exit status: 0
    /// nothing needs a rebuild, 1 a rebuild is needed, 2 an error.
    Plan {
        /// The BuildCache of the last build, or a directory holding it: a target directory
        /// (`shipwright/<package>/build-cache.json`, kept by every build), an OUT_DIR, or a
        /// directory with a `build-cache.json`.
        #[arg(long, value_name = "BUILD_CACHE_OR_DIR")]
        baseline: PathBuf,
        /// How the app renders its templates.
        #[arg(long, value_enum, default_value_t = Mode::Runtime)]
        mode: Mode,
        /// Bind a template to a struct with these fields (repeatable). Without any, every entry
        /// template is bound to what the baseline's closure of it reads.
        #[arg(long, value_name = "TEMPLATE=field,field", value_parser = plan::parse_bind)]
        bind: Vec<plan::BindArg>,
        /// A name every template may read without a struct providing it (repeatable), besides
        /// the baseline's declared globals.
        #[arg(long = "global", value_name = "NAME")]
        globals: Vec<String>,
        /// The template roots on disk, in the baseline's order. Defaults to the baseline's
        /// roots, relative to the current directory.
        roots: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// An engine renders the source at run time (minijinja).
    Runtime,
    /// Templates are compiled into Rust code (askama).
    Compiled,
}

/// `dev`: see the `dev` module.
#[derive(clap::Args)]
struct DevArgs {
    /// Where the app listens: the runner binds it and passes the socket on (LISTEN_FDS).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: std::net::SocketAddr,
    /// Rebuild only on Enter, not when the app reports that a rebuild is needed.
    #[arg(long)]
    no_auto: bool,
    /// The build command (words split on spaces). Defaults to: `cargo build` with the options
    /// of `cargo run`; none for other commands.
    #[arg(long)]
    build: Option<String>,
    /// The command that runs the app.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Dev(args) = cli.command {
        return dev(args);
    }
    let roots = match cli.command {
        Command::Plan {
            baseline,
            mode,
            bind,
            globals,
            roots,
        } => {
            let args = plan::PlanArgs {
                baseline,
                mode: match mode {
                    Mode::Runtime => shipwright_runtime::planner::RenderMode::Runtime,
                    Mode::Compiled => shipwright_runtime::planner::RenderMode::Compiled,
                },
                binds: bind,
                globals,
                roots,
            };
            return match plan::run(args) {
                Ok((json, needs_rebuild)) => {
                    print!("{json}");
                    ExitCode::from(u8::from(needs_rebuild))
                }
                Err(e) => {
                    eprintln!("shipwright-templates: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Scan { ref roots }
        | Command::Deps { ref roots, .. }
        | Command::Rdeps { ref roots, .. }
        | Command::Graph { ref roots, .. } => roots,
        Command::Dev(_) => unreachable!("handled above"),
    };
    let roots = Roots::new(
        roots
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    r.to_string_lossy().trim_end_matches('/').to_string(),
                )
            })
            .collect(),
    );
    let scanned = match scan(&roots, None) {
        Ok(scanned) => scanned,
        Err(e) => {
            eprintln!("shipwright-templates: {e}");
            return ExitCode::from(2);
        }
    };
    for warning in &scanned.warnings {
        eprintln!("warning: {warning}");
    }
    let cache = scanned.cache;
    let out = match cli.command {
        Command::Scan { .. } => cache.to_pretty(),
        Command::Deps { name, direct, .. } => match known(&cache, &name) {
            Ok(record) => {
                if direct {
                    lines(record.dep_names())
                } else {
                    lines(shipwright_core::graph::closure(&cache, &name))
                }
            }
            Err(code) => return code,
        },
        Command::Rdeps { name, .. } => match known(&cache, &name) {
            Ok(_) => lines(shipwright_core::graph::dependents(&cache, &name)),
            Err(code) => return code,
        },
        Command::Graph {
            format: GraphFormat::Dot,
            ..
        } => draw::dot(&cache),
        Command::Graph {
            format: GraphFormat::Mermaid,
            ..
        } => draw::mermaid(&cache),
        Command::Dev(_) => unreachable!("handled above"),
        Command::Plan { .. } => unreachable!("planned above"),
    };
    print!("{out}");
    ExitCode::SUCCESS
}

#[cfg(unix)]
fn dev(args: DevArgs) -> ExitCode {
    dev::run(dev::Options {
        addr: args.addr,
        auto: !args.no_auto,
        build: args.build,
        command: args.command,
    })
}

#[cfg(not(unix))]
fn dev(_: DevArgs) -> ExitCode {
    eprintln!("shipwright-templates dev: passing the listening socket needs a Unix system");
    ExitCode::from(2)
}

fn known<'c>(
    cache: &'c BuildCache,
    name: &str,
) -> Result<&'c shipwright_core::format::TemplateRecord, ExitCode> {
    cache.templates.get(name).ok_or_else(|| {
        let mut close: Vec<(usize, &String)> = cache
            .templates
            .keys()
            .map(|k| (draw::distance(k, name), k))
            .collect();
        close.sort();
        let close: Vec<&str> = close.iter().take(3).map(|(_, k)| k.as_str()).collect();
        eprintln!(
            "shipwright-templates: no template named {name:?}; closest: {}",
            close.join(", ")
        );
        ExitCode::from(2)
    })
}

fn lines<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(|n| format!("{n}\n")).collect()
}
