//! `shipwright-templates`: the BuildCache of template roots, and questions about its graph.
//!
//! ```text
//! shipwright-templates scan templates            # the BuildCache JSON on stdout, indented
//! shipwright-templates deps pages/home.html      # what home.html needs, transitively
//! shipwright-templates rdeps partials/nav.html   # what a change to nav.html affects
//! shipwright-templates graph --format mermaid    # the graph, for a README or Graphviz
//! ```
//!
//! Roots default to `templates`. Problems go to stderr as `root/name:line: message`; a missing
//! root exits with status 2.

mod draw;

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
    /// Draw the dependency graph.
    Graph {
        /// Template roots, searched in order.
        #[arg(default_value = "templates")]
        roots: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
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
    let roots = match &cli.command {
        Command::Scan { roots }
        | Command::Deps { roots, .. }
        | Command::Rdeps { roots, .. }
        | Command::Graph { roots, .. } => roots,
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
    };
    print!("{out}");
    ExitCode::SUCCESS
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
