//! Shipwright measured beside its peers, on the same templates:
//!
//! - `dev_loop` (bench): save → new DOM in headless Chromium for the askama loop (rebuild and
//!   restart), for minijinja-autoreload with tower-livereload (a full reload), and for the
//!   minimal example on Shipwright's dev layer (a morph in place);
//! - `build_cost` (bench): what binding N templates costs `cargo build` and `cargo check`, with
//!   askama's derive, with Shipwright's, and embedded with minijinja-embed.
//!
//! The library holds what the two peer apps share ([`serve`], feature `serve`) and how the
//! benches drive cargo over the crates they generate ([`Cargo`]).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[cfg(feature = "serve")]
pub mod serve;

/// The workspace root.
pub fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Where the benches put their generated crates: `target/shipwright-bench/peers/` of the
/// workspace.
pub fn bench_dir() -> PathBuf {
    workspace().join("target/shipwright-bench/peers")
}

/// Writes `text` to `dir/file` unless it already holds exactly that (so that reruns reuse warm
/// builds), creating directories.
pub fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("a file in a directory")).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Gives a generated crate the workspace's `Cargo.lock` (once: cargo then keeps it to the
/// crate's own packages), so that it builds offline with the versions the workspace locked.
pub fn lock_like_workspace(dir: &Path) {
    let lock = dir.join("Cargo.lock");
    if !lock.exists() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::copy(workspace().join("Cargo.lock"), lock).unwrap();
    }
}

/// cargo, run over generated crates that share one target directory.
pub struct Cargo {
    /// The shared target directory.
    pub target: PathBuf,
}

impl Cargo {
    /// Over `bench_dir()/target`, the generated crates' own (not the workspace's: the workspace
    /// build is running the bench).
    pub fn shared() -> Cargo {
        Cargo {
            target: bench_dir().join("target"),
        }
    }

    /// Runs `cargo ARGS --offline --quiet` in `dir` (dev profile, incremental on, as in the dev
    /// loop) and returns how long it took; panics with cargo's output when it fails.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Duration {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let start = Instant::now();
        let output = Command::new(cargo)
            .args(args)
            .args(["--offline", "--quiet"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_INCREMENTAL", "1")
            .env_remove("RUSTFLAGS")
            .env_remove("SHIPWRIGHT_BUILD_CACHE")
            .output()
            .unwrap();
        let took = start.elapsed();
        assert!(
            output.status.success(),
            "cargo {args:?} in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        took
    }

    /// A binary built in the dev profile in the shared target directory.
    pub fn binary(&self, name: &str) -> PathBuf {
        self.target.join("debug").join(name)
    }
}

/// (p50, p99, max) of `samples`, nearest rank.
pub fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    assert!(!samples.is_empty(), "no samples");
    samples.sort_by(f64::total_cmp);
    let at =
        |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.5), at(0.99), samples[samples.len() - 1])
}

/// The median of `samples`.
pub fn median(samples: &[Duration]) -> Duration {
    assert!(!samples.is_empty(), "no samples");
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// The 1-minute load average (`/proc/loadavg`), to print beside the figures: other builds share
/// the machine.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentiles(samples), (50.0, 99.0, 100.0));
        assert_eq!(percentiles(vec![3.0, 1.0, 2.0]), (2.0, 3.0, 3.0));
    }

    #[test]
    fn median_of_an_odd_and_an_even_count() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(&[ms(4), ms(1), ms(3), ms(2)]), ms(3));
    }

    #[test]
    fn write_leaves_an_identical_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a/b.txt", "one");
        let path = dir.path().join("a/b.txt");
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        write(dir.path(), "a/b.txt", "one");
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        write(dir.path(), "a/b.txt", "two");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
    }
}
