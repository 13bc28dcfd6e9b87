//! Helpers shared by the tests and the benchmark of this crate that drive cargo themselves.
#![allow(dead_code)] // each user takes what it needs

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// cargo metadata's target directory: the one this crate is built in, and trybuild's.
pub(crate) fn target_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version=1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    PathBuf::from(metadata["target_directory"].as_str().unwrap())
}

/// The target directory the end-to-end tests build their generated apps in, shared so that
/// their dependencies are built once: `<target>/tests/shipwright-e2e`.
pub(crate) fn apps_target_dir() -> PathBuf {
    target_dir().join("tests/shipwright-e2e")
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Writes `text` to `dir/file` unless it already holds it (so that a generated crate's warm
/// build stays warm), creating the directories.
pub(crate) fn write_if_changed(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs `cargo <args> --offline --quiet` in a generated crate `dir` with the target directory
/// `target`, none of the caller's `RUSTFLAGS` or BuildCache override, and the variables `env`
/// (`None`: removed); panics with cargo's output if it fails. Returns what it printed on
/// standard output (a `run`'s program output).
pub(crate) fn cargo_in(
    dir: &Path,
    target: &Path,
    args: &[&str],
    env: &[(&str, Option<&OsStr>)],
) -> Vec<u8> {
    let args: Vec<&str> = args.iter().copied().chain(["--quiet"]).collect();
    let output = cargo_output(dir, target, &args, env);
    assert!(
        output.status.success(),
        "cargo {args:?} in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `cargo <args> --offline` as [`cargo_in`] does, and returns its output, whether it
/// succeeded or not.
pub(crate) fn cargo_output(
    dir: &Path,
    target: &Path,
    args: &[&str],
    env: &[(&str, Option<&OsStr>)],
) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("SHIPWRIGHT_BUILD_CACHE")
        .env_remove("SHIPWRIGHT_DEV_BUILD");
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    command.output().unwrap()
}

/// Writes the manifest, lock file and build script of a generated bench crate `name` in `dir`,
/// on the runtime and build script of the checkout `workspace`: the build script records
/// `templates/` (the caller writes the templates and `src/main.rs`).
pub(crate) fn write_bench_crate(dir: &Path, workspace: &Path, name: &str) {
    let ws = workspace.display();
    write_if_changed(
        dir,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nshipwright-runtime = {{ path = \"{ws}/runtime\" }}\n\n\
             [build-dependencies]\nshipwright-build = {{ path = \"{ws}/build-support\" }}\n\n\
             [workspace]\n"
        ),
    );
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    write_if_changed(
        dir,
        "build.rs",
        "fn main() {\n    shipwright_build::Builder::new().root(\"templates\").build().unwrap();\n}\n",
    );
}
