//! The two input files: the replay (fetch.py: template trees and edits) and the oracle's verdicts
//! on it (oracle.py), and their preparation by the Python scripts when absent or stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// A replay file: per template set, a tree per version and the edits between them.
#[derive(Deserialize)]
pub(crate) struct Replay {
    pub(crate) format: String,
    pub(crate) version: u32,
    pub(crate) sets: Vec<ReplaySet>,
}

#[derive(Deserialize)]
pub(crate) struct ReplaySet {
    pub(crate) package: String,
    pub(crate) set: String,
    pub(crate) trees: BTreeMap<String, Tree>,
    pub(crate) edits: Vec<Edit>,
}

#[derive(Deserialize)]
pub(crate) struct Tree {
    pub(crate) files: BTreeMap<String, String>,
}

#[derive(Deserialize)]
pub(crate) struct Edit {
    pub(crate) from: String,
    pub(crate) to: String,
    /// Name to new text, `None` for a removed file.
    pub(crate) changes: BTreeMap<String, Option<String>>,
}

/// The oracle's verdicts, in the replay's order (edits without changes left out).
#[derive(Deserialize)]
pub(crate) struct Oracle {
    pub(crate) format: String,
    pub(crate) jinja2: String,
    pub(crate) sets: Vec<OracleSet>,
}

#[derive(Deserialize)]
pub(crate) struct OracleSet {
    pub(crate) package: String,
    pub(crate) set: String,
    /// The names the package's renderer declares as globals (Jinja's own and the
    /// extensions'): the app would declare them, so the planner is given them too.
    #[serde(default)]
    pub(crate) globals: Vec<String>,
    pub(crate) edits: Vec<OracleEdit>,
}

#[derive(Deserialize)]
pub(crate) struct OracleEdit {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) entries: Vec<Verdict>,
}

/// The oracle on one entry template of one edit.
#[derive(Deserialize)]
pub(crate) struct Verdict {
    pub(crate) entry: String,
    /// `rebuild`, `hot_reload` or `unchanged`.
    pub(crate) decision: String,
    pub(crate) cause: String,
    pub(crate) reason: String,
    /// The root variables the build's closure of the entry reads: the bound struct's fields.
    pub(crate) fields: Vec<String>,
    /// Per name the render reads without requiring it, why (only for affected entries).
    #[serde(default)]
    pub(crate) excused: BTreeMap<String, Vec<String>>,
    /// For `missing variable`: the variables the struct lacks.
    #[serde(default)]
    pub(crate) missing: Vec<Missing>,
}

/// A variable the oracle says the struct lacks (oracle.py `decide`).
#[derive(Deserialize)]
pub(crate) struct Missing {
    pub(crate) variable: String,
    /// The template that reads it.
    pub(crate) template: String,
    /// Why the build's render did not require it (empty: the build did not read it).
    pub(crate) build: Vec<String>,
}

impl Verdict {
    pub(crate) fn needs_rebuild(&self) -> bool {
        self.decision == "rebuild"
    }
}

/// The files of one run.
pub(crate) struct Files {
    pub(crate) replay: PathBuf,
    pub(crate) oracle: PathBuf,
}

impl Files {
    pub(crate) fn new(replay: PathBuf) -> Self {
        let oracle = replay.with_extension("oracle.json");
        Files { replay, oracle }
    }
}

/// Why the data could not be prepared.
pub(crate) enum Unavailable {
    /// Python (or pip, or Jinja2) is not there: nothing real can run.
    NoPython(String),
    /// Anything else.
    Failed(String),
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/replay")
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Checks that Python, pip and Jinja2 can run, and says which is missing.
pub(crate) fn check_python(need_pip: bool) -> Result<(), Unavailable> {
    let probe = |args: &[&str], what: &str| -> Result<(), Unavailable> {
        match Command::new(python()).args(args).output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(_) => Err(Unavailable::NoPython(format!(
                "{what} is not available to `{}` (python3 -m pip install -r .ci/requirements.txt)",
                python()
            ))),
            Err(e) => Err(Unavailable::NoPython(format!(
                "cannot run `{}`: {e}",
                python()
            ))),
        }
    };
    probe(&["-c", "import jinja2"], "Jinja2")?;
    if need_pip {
        probe(&["-m", "pip", "--version"], "pip")?;
    }
    Ok(())
}

fn run(script: &str, args: &[&str]) -> Result<(), Unavailable> {
    let path = scripts().join(script);
    eprintln!("replay: running {} {}", path.display(), args.join(" "));
    let status = Command::new(python())
        .arg(&path)
        .args(args)
        .status()
        .map_err(|e| Unavailable::NoPython(format!("cannot run `{}`: {e}", python())))?;
    if status.success() {
        Ok(())
    } else {
        Err(Unavailable::Failed(format!(
            "{} {} failed ({status})",
            path.display(),
            args.join(" ")
        )))
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Makes sure the replay and oracle files exist: the replay is fetched with `fetch_args` when
/// absent (or an error if `fetch_args` is `None`); the oracle runs again when its output is
/// older than the replay or than oracle.py.
pub(crate) fn prepare(files: &Files, fetch_args: Option<&[&str]>) -> Result<(), Unavailable> {
    if !files.replay.exists() {
        let Some(args) = fetch_args else {
            return Err(Unavailable::Failed(format!(
                "{} is absent: run runtime/benches/replay/run.sh (or fetch.py) first",
                files.replay.display()
            )));
        };
        check_python(true)?;
        let out = files.replay.to_string_lossy().into_owned();
        let mut all = args.to_vec();
        all.extend(["--out", &out]);
        run("fetch.py", &all)?;
    }
    let script = scripts().join("oracle.py");
    let oracle_time = modified(&files.oracle);
    let stale = oracle_time.is_none()
        || oracle_time < modified(&files.replay)
        || oracle_time < modified(&script);
    if stale {
        check_python(false)?;
        let replay = files.replay.to_string_lossy().into_owned();
        let oracle = files.oracle.to_string_lossy().into_owned();
        run("oracle.py", &[&replay, "--out", &oracle])?;
    }
    Ok(())
}

/// Reads and checks both files.
pub(crate) fn load(files: &Files) -> Result<(Replay, Oracle), String> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let replay: Replay = serde_json::from_slice(&read(&files.replay)?)
        .map_err(|e| format!("{}: {e}", files.replay.display()))?;
    if replay.format != "shipwright-replay" || replay.version != 1 {
        return Err(format!(
            "{} is not a version 1 replay file",
            files.replay.display()
        ));
    }
    let oracle: Oracle = serde_json::from_slice(&read(&files.oracle)?)
        .map_err(|e| format!("{}: {e}", files.oracle.display()))?;
    if oracle.format != "shipwright-replay-oracle" {
        return Err(format!("{} is not an oracle file", files.oracle.display()));
    }
    Ok((replay, oracle))
}
