//! What rustc spends on the registry `embedded_templates!()` embeds, on the generated site of
//! 10,000 templates (`shipwright_fixtures::generate_site`), each time a template is edited.
//!
//! Generates two crates over the same templates and the same build script
//! (`Builder::new().root("templates").build()`): `registry`, whose `main` calls
//! `embedded_templates!()` (every template's source and the BuildCache), and `plain`, the floor,
//! which reads the same BuildCache and sources at run time (so the runtime's decoding is linked
//! too) and embeds nothing. Each is built once, then, in turn (`plain`, `registry`,
//! `plain`, ...), one template is edited and the crate rebuilt with `cargo build` (dev profile,
//! incremental as cargo's default: the dev loop), `ROUNDS` times. Measured: the wall time of
//! `cargo build` (which also reruns the build script: cargo's `rerun-if-changed` on the root),
//! and the time of the crate's own rustc, by running this binary as `RUSTC_WRAPPER` (it times the
//! rustc of the two bench crates and passes everything else through). The registry's cost is
//! the difference of the medians.
//!
//! `cargo bench -p shipwright-tests --bench registry` (add `-- --smoke` for 500 pages and 3
//! rounds). The crates live under `<target>/shipwright-bench/registry/`. Merges its figures into
//! `target/shipwright-bench/summary.json` (`registry_10k_rebuild`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use shipwright_fixtures::{figures as json, generate_site, merge_summary};

#[path = "../tests/support/mod.rs"]
mod support;
use support::{cargo_in, target_dir, write_bench_crate, write_if_changed as write};

/// Where the wrapper appends `<crate> <seconds>` for each rustc of a bench crate.
const TIMES_VAR: &str = "SHIPWRIGHT_BENCH_RUSTC_TIMES";
/// The crate-name prefix of the generated crates (what the wrapper times).
const PREFIX: &str = "bench_registry";

fn main() {
    if let Some(times) = std::env::var_os(TIMES_VAR) {
        wrap_rustc(Path::new(&times));
    }
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (pages, rounds) = if smoke { (500, 3) } else { (10_000 - 264, 7) };
    let root = target_dir()
        .join("shipwright-bench/registry")
        .join(if smoke { "smoke" } else { "full" });
    // `SHIPWRIGHT_BENCH_WORKSPACE`: the crates use that checkout's runtime and build script
    // instead of this one's (to compare two commits with the same bench).
    let workspace = std::env::var_os("SHIPWRIGHT_BENCH_WORKSPACE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .into()
        });
    let workspace = workspace.as_path();
    let target = root.join("target");
    let times = root.join("rustc-times.txt");
    let crates = [
        Crate::generate(&root.join("plain"), workspace, pages, false),
        Crate::generate(&root.join("registry"), workspace, pages, true),
    ];
    let templates = crates[0].templates.len();
    for c in &crates {
        cargo_build(&c.dir, &target, &times);
    }
    // The registry's file: `sources.bin` now, `registry.rs` (include_str!s) before.
    let registry = find_output(&target, &["sources.bin", "registry.rs"]);
    let build_cache = find_output(&target, &["build-cache.json"]);
    println!(
        "site: {templates} templates; {} {:.1} MiB, build-cache.json {:.1} MiB",
        registry.file_name().unwrap().to_str().unwrap(),
        len(&registry) as f64 / 1048576.0,
        len(&build_cache) as f64 / 1048576.0,
    );

    let mut wall = [Vec::new(), Vec::new()];
    let mut rustc = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (i, c) in crates.iter().enumerate() {
            c.edit(round);
            let _ = std::fs::remove_file(&times);
            let start = Instant::now();
            cargo_build(&c.dir, &target, &times);
            wall[i].push(start.elapsed());
            rustc[i].push(rustc_time(&times, &c.crate_name));
        }
    }
    let [wall_plain, wall_registry] = wall.map(median);
    let [rustc_plain, rustc_registry] = rustc.map(median);
    let s = |d: Duration| d.as_secs_f64();
    println!("rebuild after one template edit, median of {rounds} interleaved rounds:");
    println!(
        "  plain crate (floor): cargo build {:.2} s, its rustc {:.2} s",
        s(wall_plain),
        s(rustc_plain)
    );
    println!(
        "  embedded_templates!(): cargo build {:.2} s, its rustc {:.2} s",
        s(wall_registry),
        s(rustc_registry)
    );
    let cost = s(rustc_registry) - s(rustc_plain);
    println!(
        "  the registry's rustc cost: {cost:.2} s for {templates} templates (target <= 1 s at 10,000)"
    );

    let mut metrics = serde_json::Map::new();
    metrics.insert(
        "registry_10k_rebuild_rustc".into(),
        json(&[
            ("shipwright", s(rustc_registry)),
            ("floor_plain", s(rustc_plain)),
        ]),
    );
    metrics.insert(
        "registry_10k_rebuild_cargo".into(),
        json(&[
            ("shipwright", s(wall_registry)),
            ("floor_plain", s(wall_plain)),
        ]),
    );
    if !smoke {
        let units = metrics
            .keys()
            .map(|k| (k.clone(), serde_json::json!("s")))
            .collect();
        merge_summary(units, metrics);
    }
}

/// Runs as cargo's `RUSTC_WRAPPER`: `argv[1]` is rustc, the rest its arguments. Times the
/// rustc of a bench crate into the file `TIMES_VAR` names; never returns.
fn wrap_rustc(times: &Path) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let crate_name = args
        .iter()
        .position(|a| a == "--crate-name")
        .map(|at| args[at + 1].clone());
    let start = Instant::now();
    let status = Command::new(&args[0]).args(&args[1..]).status().unwrap();
    if let Some(name) = crate_name.filter(|n| n.starts_with(PREFIX)) {
        use std::io::Write;
        let mut file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(times)
            .unwrap();
        writeln!(file, "{name} {}", start.elapsed().as_secs_f64()).unwrap();
    }
    std::process::exit(status.code().unwrap_or(1));
}

/// The rustc time the wrapper recorded for `crate_name` in this build.
fn rustc_time(times: &Path, crate_name: &str) -> Duration {
    let text = std::fs::read_to_string(times).unwrap_or_default();
    let secs: Vec<f64> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| *name == crate_name)
        .map(|(_, s)| s.parse().unwrap())
        .collect();
    assert_eq!(
        secs.len(),
        1,
        "one rustc of {crate_name} per rebuild, found {text:?}"
    );
    Duration::from_secs_f64(secs[0])
}

struct Crate {
    dir: PathBuf,
    crate_name: String,
    templates: Vec<PathBuf>,
}

impl Crate {
    /// Writes the crate (only files whose bytes change) and its templates.
    fn generate(dir: &Path, workspace: &Path, pages: usize, registry: bool) -> Crate {
        let name = if registry {
            "bench-registry"
        } else {
            "bench-registry-plain"
        };
        write_bench_crate(dir, workspace, name);
        let main = if registry {
            "fn main() {\n    let templates = shipwright_runtime::embedded_templates!();\n    \
             println!(\"{} templates\", templates.len());\n}\n"
        } else {
            // The same BuildCache and sources, read at run time: the runtime's decoding of the
            // BuildCache is linked, nothing is embedded.
            "fn main() {\n    let path = env!(\"SHIPWRIGHT_BUILD_CACHE\");\n    \
             let cache = shipwright_runtime::BuildCache::load(path).unwrap();\n    \
             let dir = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\"));\n    \
             let read = |name: &String| std::fs::read_to_string(dir.join(cache.relative_path(name).unwrap()));\n    \
             let bytes: usize = cache.templates.keys().map(|name| read(name).unwrap().len()).sum();\n    \
             println!(\"{} templates, {bytes} bytes\", cache.templates.len());\n}\n"
        };
        write(dir, "src/main.rs", main);
        let templates = dir.join("templates");
        let _ = std::fs::remove_dir_all(&templates);
        Crate {
            dir: dir.to_path_buf(),
            crate_name: name.replace('-', "_"),
            templates: generate_site(&templates, pages),
        }
    }

    /// A real edit of one template (its literal text), a different one each round.
    fn edit(&self, round: usize) {
        let file = &self.templates[self.templates.len() - 1 - round * 7];
        let mut text = std::fs::read_to_string(file).unwrap();
        text.push_str(&format!("<p>edit {round}</p>\n"));
        std::fs::write(file, text).unwrap();
    }
}

fn cargo_build(dir: &Path, target: &Path, times: &Path) {
    let wrapper = std::env::current_exe().unwrap();
    let env = [
        ("RUSTC_WRAPPER", Some(wrapper.as_os_str())),
        (TIMES_VAR, Some(times.as_os_str())),
        ("CARGO_INCREMENTAL", None),
    ];
    cargo_in(dir, target, &["build"], &env);
}

/// The first of `files` in the `shipwright/` output of the last run of `bench-registry`'s build
/// script.
fn find_output(target: &Path, files: &[&str]) -> PathBuf {
    let out = std::fs::read_dir(target.join("debug/build"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|dir| {
            let name = dir.file_name().unwrap().to_str().unwrap();
            name.starts_with("bench-registry-") && !name.starts_with("bench-registry-plain")
        })
        .map(|dir| dir.join("out/shipwright"))
        .filter(|out| out.join("build-cache.json").exists())
        // The build script's files all carry one old mtime; the directory's is its last write.
        .max_by_key(|out| std::fs::metadata(out).unwrap().modified().unwrap())
        .expect("the registry crate's build script wrote its outputs");
    files
        .iter()
        .map(|file| out.join(file))
        .find(|path| path.exists())
        .expect("the registry's file")
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
