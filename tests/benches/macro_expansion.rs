//! What `#[derive(Template)]` costs the compilation of a crate with 1,000 bound templates.
//!
//! Generates two crates over the same 1,000 templates and the same build script: `derive`
//! binds one struct to each template (and its `main` reads every record), `plain` has the same
//! structs without the derive. Each is built once to warm the dependencies, then rebuilt
//! `RUNS` times after touching `src/main.rs` (the build script does not rerun), in dev profile,
//! with and without incremental compilation, with `cargo check`, and with proc macros built
//! optimized (`[profile.dev.build-override] opt-level = 3`). The difference of the
//! medians, divided by 1,000, is the cost per template: expansion, which parses the BuildCache
//! once and hashes each template and its dependencies, plus compiling what it generates.
//!
//! `cargo bench -p shipwright-tests --bench macro_expansion` prints a Markdown table. The crates
//! live under `<target>/shipwright-bench/`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

#[path = "../tests/support/mod.rs"]
mod support;
use support::{cargo_in, target_dir, write_bench_crate, write_if_changed as write};

const TEMPLATES: usize = 1_000;
const PARTIALS: usize = 10;
const RUNS: usize = 7;

fn main() {
    let root = target_dir().join("shipwright-bench");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = root.join("target");
    let derive = generate(&root.join("derive"), workspace, true);
    let plain = generate(&root.join("plain"), workspace, false);

    println!(
        "| build | plain crate (median of {RUNS}) | with {TEMPLATES} derives | per template |"
    );
    println!("| --- | --- | --- | --- |");
    for (label, args, incremental) in [
        ("`cargo build`, incremental off", &["build"][..], "0"),
        ("`cargo build`, incremental on", &["build"][..], "1"),
        ("`cargo check`", &["check"][..], "1"),
        (
            "`cargo build`, incremental on, proc macros optimized",
            &[
                "build",
                "--config",
                "profile.dev.build-override.opt-level=3",
            ][..],
            "1",
        ),
    ] {
        let plain_time = median(&plain, &target, args, incremental);
        let derive_time = median(&derive, &target, args, incremental);
        let per = derive_time.saturating_sub(plain_time).as_secs_f64() * 1e3 / TEMPLATES as f64;
        println!(
            "| {label} | {:.2} s | {:.2} s | {per:.3} ms |",
            plain_time.as_secs_f64(),
            derive_time.as_secs_f64()
        );
    }
}

/// Writes the crate (only files whose bytes change, so that reruns reuse the warm build).
fn generate(dir: &Path, workspace: &Path, derive: bool) -> PathBuf {
    let name = if derive {
        "bench-derive"
    } else {
        "bench-plain"
    };
    write_bench_crate(dir, workspace, name);
    write(
        dir,
        "templates/layout.html",
        "<!doctype html>\n<title>{{ title }}</title>\n<main>{% block content %}{% endblock %}</main>\n",
    );
    for p in 0..PARTIALS {
        write(
            dir,
            &format!("templates/partials/p{p}.html"),
            &format!("<aside>{{{{ user }}}} #{p}</aside>\n"),
        );
    }
    let mut main = String::from("#![allow(dead_code)]\n\n");
    if derive {
        main.push_str("use shipwright_runtime::{Template, TemplateInfo};\n\n");
    }
    for i in 0..TEMPLATES {
        write(
            dir,
            &format!("templates/pages/t{i:04}.html"),
            &format!(
                "{{% extends \"layout.html\" %}}\n{{% block content %}}<h1>Page {i}</h1>\n\
             <p>{{{{ title }}}}: {{{{ count }}}} items</p>\n{{% include \"partials/p{}.html\" %}}\n{{% endblock %}}\n",
                i % PARTIALS
            ),
        );
        if derive {
            main.push_str(&format!(
                "#[derive(Template)]\n#[template(path = \"pages/t{i:04}.html\")]\n"
            ));
        }
        main.push_str(&format!(
            "pub struct T{i:04} {{\n    pub title: String,\n    pub count: u32,\n    pub user: String,\n}}\n\n"
        ));
    }
    if derive {
        main.push_str(&format!(
            "static ALL: [fn() -> &'static TemplateInfo; {TEMPLATES}] = [\n"
        ));
        for i in 0..TEMPLATES {
            main.push_str(&format!("    T{i:04}::info,\n"));
        }
        main.push_str("];\n\nfn main() {\n    let bytes: u64 = ALL.iter().map(|info| info().record.size).sum();\n    println!(\"{} templates, {bytes} bytes\", ALL.len());\n}\n");
    } else {
        main.push_str("fn main() {\n    println!(\"{} structs\", ");
        main.push_str(&format!("{TEMPLATES});\n}}\n"));
    }
    write(dir, "src/main.rs", &main);
    dir.to_path_buf()
}

/// Warm build, then the median of `RUNS` rebuilds after a touch of `src/main.rs`.
fn median(dir: &Path, target: &Path, args: &[&str], incremental: &str) -> Duration {
    cargo(dir, target, args, incremental);
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let main = std::fs::File::options()
                .write(true)
                .open(dir.join("src/main.rs"))
                .unwrap();
            main.set_modified(SystemTime::now()).unwrap();
            drop(main);
            let start = Instant::now();
            cargo(dir, target, args, incremental);
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn cargo(dir: &Path, target: &Path, args: &[&str], incremental: &str) {
    let incremental = OsStr::new(incremental);
    cargo_in(
        dir,
        target,
        args,
        &[("CARGO_INCREMENTAL", Some(incremental))],
    );
}
