//! What binding N templates costs the build, three ways over the same generated templates (a base,
//! 4 layouts extending it, 20 partials, N pages each extending a layout, looping over a list and
//! including a partial, as in the macro-expansion bench):
//!
//! - **askama**: a struct per page with askama's `#[derive(Template)]`, rendered by `main`;
//! - **Shipwright**: the build script (`shipwright_build::Builder`), a struct per page with
//!   `#[derive(Template, Serialize)]` (which checks at compile time that the struct has every
//!   variable its template reads), rendered by `main` through `render::Templates` (minijinja),
//!   as a user's dev build is: the runtime's `dev` feature on, debug profile (a template edit
//!   then leaves cargo's fingerprint alone: see `shipwright_core::devbuild`);
//! - **minijinja-embed**: the templates embedded by its build script and loaded into a minijinja
//!   environment, the same structs with `#[derive(Serialize)]`, rendered by name.
//!
//! Each `main` renders every page, and the three must print the same byte count. The crates live
//! under `target/shipwright-bench/peers/build-cost/` and share one target directory; dev profile,
//! incremental on. Timed, median of several runs: a cold `cargo build` of the crate (`cargo clean
//! -p` first; its dependencies stay built), `cargo build` after one page's template edit, after a
//! `.rs` edit, and `cargo check` after a `.rs` edit.
//!
//! `cargo bench -p shipwright-peers --bench build_cost` (200 and 1,000 pages, 3 runs; `-- --smoke`:
//! 50 pages, one run; `-- --runs N`: N runs).

use std::path::{Path, PathBuf};
use std::time::Duration;

use shipwright_peers::{
    Cargo, bench_dir, load_average, lock_like_workspace, median, workspace, write,
};

const LAYOUTS: usize = 4;
const PARTIALS: usize = 20;

#[derive(Clone, Copy, PartialEq)]
enum Peer {
    Askama,
    Shipwright,
    Embed,
}

impl Peer {
    const ALL: [Peer; 3] = [Peer::Askama, Peer::Shipwright, Peer::Embed];

    fn name(self) -> &'static str {
        match self {
            Peer::Askama => "askama",
            Peer::Shipwright => "shipwright",
            Peer::Embed => "embed",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Peer::Askama => "askama",
            Peer::Shipwright => "Shipwright",
            Peer::Embed => "minijinja-embed",
        }
    }

    fn manifest(self, pages: usize) -> String {
        let ws = workspace().display();
        let (dependencies, build) = match self {
            Peer::Askama => ("askama = \"0.16\"\n".to_string(), String::new()),
            Peer::Shipwright => (
                format!(
                    "shipwright-runtime = {{ path = \"{ws}/runtime\", features = [\"minijinja\", \"dev\"] }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n"
                ),
                format!("shipwright-build = {{ path = \"{ws}/build-support\" }}\n"),
            ),
            Peer::Embed => (
                "minijinja = { version = \"3.1\", features = [\"serde\"] }\nminijinja-embed = \"3.0\"\nserde = { version = \"1\", features = [\"derive\"] }\n".to_string(),
                "minijinja-embed = \"3.0\"\n".to_string(),
            ),
        };
        let build = if build.is_empty() {
            String::new()
        } else {
            format!("\n[build-dependencies]\n{build}")
        };
        format!(
            "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependencies}{build}\n[workspace]\n",
            self.package(pages)
        )
    }

    fn package(self, pages: usize) -> String {
        format!("cost-{}-{pages}", self.name())
    }

    fn build_script(self) -> Option<&'static str> {
        match self {
            Peer::Askama => None,
            Peer::Shipwright => Some(
                "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    shipwright_build::Builder::new().root(\"templates\").build()?;\n    Ok(())\n}\n",
            ),
            Peer::Embed => {
                Some("fn main() {\n    minijinja_embed::embed_templates!(\"templates\");\n}\n")
            }
        }
    }

    /// `src/main.rs`: a struct per page, each rendered; `EDIT` is what a `.rs` edit changes.
    fn main(self, pages: usize, edit: usize) -> String {
        let mut main = format!("const EDIT: usize = {edit};\n\n");
        main.push_str(match self {
            Peer::Askama => "use askama::Template;\n\nfn render<T: Template>(page: T) -> usize {\n    page.render().unwrap().len()\n}\n\n",
            Peer::Shipwright => "use shipwright_runtime::render::Templates;\nuse shipwright_runtime::{Template, embedded_templates};\n\nfn render<T: Template + serde::Serialize>(templates: &Templates, page: T) -> usize {\n    templates.render(&page).unwrap().len()\n}\n\n",
            Peer::Embed => "use minijinja::Environment;\n\nfn render<T: serde::Serialize>(env: &Environment<'_>, name: &str, page: T) -> usize {\n    env.get_template(name).unwrap().render(minijinja::Value::from(minijinja::value::Serde(&page))).unwrap().len()\n}\n\n",
        });
        for i in 0..pages {
            main.push_str(match self {
                Peer::Askama => "#[derive(Template)]\n",
                Peer::Shipwright => "#[derive(Template, serde::Serialize)]\n",
                Peer::Embed => "#[derive(serde::Serialize)]\n",
            });
            if self != Peer::Embed {
                main.push_str(&format!("#[template(path = \"pages/t{i:04}.html\")]\n"));
            }
            main.push_str(&format!(
                "struct T{i:04} {{\n    title: String,\n    count: u32,\n    user: String,\n    items: Vec<String>,\n}}\n\n"
            ));
        }
        main.push_str("fn main() {\n    let title = || String::from(\"Title\");\n    let user = || String::from(\"Ada\");\n    let items = || vec![String::from(\"one\"), String::from(\"two\")];\n");
        main.push_str(match self {
            Peer::Askama => "",
            Peer::Shipwright => {
                "    let templates = Templates::new(embedded_templates!()).expect(\"template roots\");\n"
            }
            Peer::Embed => "    let mut env = Environment::new();\n    minijinja_embed::load_templates!(&mut env);\n",
        });
        main.push_str("    let mut bytes = 0;\n");
        for i in 0..pages {
            let page =
                format!("T{i:04} {{ title: title(), count: {i}, user: user(), items: items() }}");
            main.push_str(&match self {
                Peer::Askama => format!("    bytes += render({page});\n"),
                Peer::Shipwright => format!("    bytes += render(&templates, {page});\n"),
                Peer::Embed => {
                    format!("    bytes += render(&env, \"pages/t{i:04}.html\", {page});\n")
                }
            });
        }
        main.push_str(&format!(
            "    println!(\"{pages} pages, {{bytes}} bytes (edit {{EDIT}})\");\n}}\n"
        ));
        main
    }
}

/// The page the template edit changes, at edit `n`.
fn first_page(edit: usize) -> String {
    format!(
        "{{% extends \"layouts/l0.html\" %}}\n{{% block main %}}<h1>Page 0{}</h1>\n<p>{{{{ title }}}}: {{{{ count }}}} items</p>\n<ul>{{% for item in items %}}<li>{{{{ item }}}}</li>{{% endfor %}}</ul>\n{{% include \"partials/p0.html\" %}}\n{{% endblock %}}\n",
        if edit == 0 {
            String::new()
        } else {
            format!(" (edit {edit})")
        }
    )
}

fn templates(dir: &Path, pages: usize) {
    write(
        dir,
        "templates/base.html",
        "<!doctype html>\n<html>\n<head><title>{% block title %}{{ title }}{% endblock %}</title></head>\n<body>\n{% block body %}{% endblock %}\n</body>\n</html>\n",
    );
    for l in 0..LAYOUTS {
        write(
            dir,
            &format!("templates/layouts/l{l}.html"),
            &format!(
                "{{% extends \"base.html\" %}}\n{{% block body %}}<nav class=\"l{l}\">{{% include \"partials/p{}.html\" %}}</nav>\n<main>{{% block main %}}{{% endblock %}}</main>{{% endblock %}}\n",
                l * 5 % PARTIALS
            ),
        );
    }
    for p in 0..PARTIALS {
        write(
            dir,
            &format!("templates/partials/p{p}.html"),
            &format!("<aside class=\"p{p}\">{{{{ user }}}} #{p}</aside>\n"),
        );
    }
    write(dir, "templates/pages/t0000.html", &first_page(0));
    for i in 1..pages {
        write(
            dir,
            &format!("templates/pages/t{i:04}.html"),
            &format!(
                "{{% extends \"layouts/l{}.html\" %}}\n{{% block main %}}<h1>Page {i}</h1>\n<p>{{{{ title }}}}: {{{{ count }}}} items</p>\n<ul>{{% for item in items %}}<li>{{{{ item }}}}</li>{{% endfor %}}</ul>\n{{% include \"partials/p{}.html\" %}}\n{{% endblock %}}\n",
                i % LAYOUTS,
                i % PARTIALS
            ),
        );
    }
}

/// Writes the crate of `peer` over `pages` pages (unchanged files keep their times).
fn generate(peer: Peer, pages: usize) -> PathBuf {
    let dir = bench_dir().join("build-cost").join(peer.package(pages));
    write(&dir, "Cargo.toml", &peer.manifest(pages));
    if let Some(script) = peer.build_script() {
        write(&dir, "build.rs", script);
    }
    if peer == Peer::Askama {
        write(&dir, "askama.toml", "[general]\ndirs = [\"templates\"]\n");
    }
    templates(&dir, pages);
    write(&dir, "src/main.rs", &peer.main(pages, 0));
    lock_like_workspace(&dir);
    dir
}

#[derive(Default)]
struct Times {
    cold: Vec<Duration>,
    template: Vec<Duration>,
    rust: Vec<Duration>,
    check: Vec<Duration>,
}

/// The rendered byte count the crate's binary prints.
fn rendered(cargo: &Cargo, peer: Peer, pages: usize) -> String {
    let output = std::process::Command::new(cargo.binary(&peer.package(pages)))
        .output()
        .unwrap();
    assert!(output.status.success(), "{} ran", peer.package(pages));
    let text = String::from_utf8(output.stdout).unwrap();
    text.split(" (edit").next().unwrap_or_default().to_string()
}

fn measure(cargo: &Cargo, pages: usize, runs: usize) -> Vec<(Peer, Times)> {
    let crates: Vec<(Peer, PathBuf)> = Peer::ALL
        .iter()
        .map(|&peer| (peer, generate(peer, pages)))
        .collect();
    // Warm: the dependencies, in build and in check mode; every crate renders the same bytes.
    let mut counts = Vec::new();
    for (peer, dir) in &crates {
        cargo.run(dir, &["build"]);
        cargo.run(dir, &["check"]);
        counts.push((peer.label(), rendered(cargo, *peer, pages)));
    }
    assert!(
        counts.iter().all(|(_, count)| *count == counts[0].1),
        "the crates render different pages: {counts:?}"
    );
    println!("{pages} pages: every crate renders {}", counts[0].1);

    let mut times: Vec<(Peer, Times)> = Peer::ALL.iter().map(|&p| (p, Times::default())).collect();
    let mut edit = 0;
    for run in 0..runs {
        for ((peer, dir), (_, times)) in crates.iter().zip(&mut times) {
            let package = peer.package(pages);
            cargo.run(dir, &["clean", "-p", &package]);
            times.cold.push(cargo.run(dir, &["build"]));
            cargo.run(dir, &["check"]);
            edit += 1;
            write(dir, "templates/pages/t0000.html", &first_page(edit));
            times.template.push(cargo.run(dir, &["build"]));
            write(dir, "src/main.rs", &peer.main(pages, edit));
            times.rust.push(cargo.run(dir, &["build"]));
            edit += 1;
            write(dir, "src/main.rs", &peer.main(pages, edit));
            times.check.push(cargo.run(dir, &["check"]));
            if run + 1 == runs {
                // Leave the crate as generated, so that a rerun starts from the same files.
                write(dir, "templates/pages/t0000.html", &first_page(0));
                write(dir, "src/main.rs", &peer.main(pages, 0));
            }
        }
    }
    times
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let (sizes, mut runs): (&[usize], usize) = if smoke {
        (&[50], 1)
    } else {
        (&[200, 1_000], 3)
    };
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--runs") {
        runs = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .filter(|&n| n > 0)
            .expect("--runs takes a positive number");
    }
    let cargo = Cargo::shared();
    println!(
        "build cost, dev profile, incremental; load average {} at the start",
        load_average()
    );
    for &pages in sizes {
        let times = measure(&cargo, pages, runs);
        let askama = &times[0].1;
        let ours = &times[1].1;
        let embed = &times[2].1;
        println!(
            "\n{pages} pages, median of {runs} (load average {} now)\n\n| build | askama | Shipwright | minijinja-embed | Shipwright / askama |\n| --- | --- | --- | --- | --- |",
            load_average()
        );
        for (label, pick) in [
            (
                "cold `cargo build` of the crate",
                (|t: &Times| &t.cold) as fn(&Times) -> &Vec<Duration>,
            ),
            ("`cargo build` after a template edit", |t: &Times| {
                &t.template
            }),
            ("`cargo build` after a `.rs` edit", |t: &Times| &t.rust),
            ("`cargo check` after a `.rs` edit", |t: &Times| &t.check),
        ] {
            let (a, s, e) = (
                median(pick(askama)),
                median(pick(ours)),
                median(pick(embed)),
            );
            println!(
                "| {label} | {} | {} | {} | {:.2}x |",
                seconds(a),
                seconds(s),
                seconds(e),
                s.as_secs_f64() / a.as_secs_f64()
            );
        }
    }
    println!("\ntarget: Shipwright / askama <= 0.20x after a template edit");
}
