//! A dev build (debug, `shipwright-runtime/dev`) of a generated app, edited and built again as a
//! user would: a template edit the dev watcher hot-reloads leaves `cargo build` fresh; one that
//! needs a rebuild (a variable the struct lacks) makes the app write the rebuild stamp, and the
//! next `cargo build` reruns the build script and fails in the derive's check; a build without
//! the `dev` feature still rebuilds on any template edit. What cargo did is read from
//! `cargo build -v` (`Fresh` / `Compiling` the app, `Running` its build script), never timed.
//!
//! The app is written to a temporary directory and built offline with this workspace's
//! `Cargo.lock`, in the end-to-end test's target directory (`<target>/tests/shipwright-e2e`), so
//! that every run after the first builds only the app.

use std::path::{Path, PathBuf};

mod support;
use support::{apps_target_dir, cargo_in, cargo_output, write_if_changed};

const PACKAGE: &str = "shipwright-devbuild-app";

const MAIN: &str = r#"//! Prints the bound template's source and, in dev, the watcher's start-up verdict.
use shipwright_runtime::{Template, embedded_templates};

#[allow(dead_code)] // bound, never rendered here
#[derive(Template)]
#[template(path = "page.html")]
struct Page {
    title: String,
}

fn main() {
    let embedded = embedded_templates!();
    println!("source {:?}", Page::info().source);
    println!("stamp {}", embedded.rebuild_stamp().display());
    #[cfg(feature = "dev")]
    {
        use shipwright_runtime::dev::Watcher;
        use shipwright_runtime::{Binding, RebuildPlanner, RenderMode};
        let planner = RebuildPlanner::from_embedded(embedded, RenderMode::Runtime)
            .bind(Binding::of::<Page>());
        let watcher = Watcher::builder(planner, embedded.root_dirs()).start().unwrap();
        println!("needs rebuild {}", watcher.plan().needs_rebuild());
    }
}
"#;

struct App {
    dir: tempfile::TempDir,
    target: PathBuf,
}

/// What one `cargo build -v` did to the app.
#[derive(Debug, PartialEq, Eq)]
struct Build {
    ok: bool,
    /// rustc compiled the app (`Compiling`), rather than finding it `Fresh`.
    compiled: bool,
    /// The app's build script ran.
    script_ran: bool,
    stderr: String,
}

impl App {
    fn new() -> App {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace.display();
        write_if_changed(
            dir.path(),
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{PACKAGE}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dependencies]\nshipwright-runtime = {{ path = \"{ws}/runtime\" }}\n\n\
                 [build-dependencies]\nshipwright-build = {{ path = \"{ws}/build-support\" }}\n\n\
                 [features]\ndefault = [\"dev\"]\ndev = [\"shipwright-runtime/dev\"]\n\n[workspace]\n"
            ),
        );
        std::fs::copy(workspace.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
        write_if_changed(
            dir.path(),
            "build.rs",
            "fn main() {\n    shipwright_build::Builder::new().root(\"templates\").build().unwrap();\n}\n",
        );
        write_if_changed(dir.path(), "src/main.rs", MAIN);
        let app = App {
            dir,
            target: apps_target_dir(),
        };
        app.edit("<p>{{ title }}</p>\n");
        app
    }

    fn edit(&self, text: &str) {
        std::fs::create_dir_all(self.dir.path().join("templates")).unwrap();
        std::fs::write(self.dir.path().join("templates/page.html"), text).unwrap();
    }

    fn build(&self, features: &[&str]) -> Build {
        let args: Vec<&str> = ["build", "-v"].iter().chain(features).copied().collect();
        let output = cargo_output(self.dir.path(), &self.target, &args, &[]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        let app = format!("{PACKAGE} v0.0.0");
        let lines = || stderr.lines().map(str::trim_start);
        let compiled = lines().any(|l| l.starts_with(&format!("Compiling {app}")));
        let fresh = lines().any(|l| l.starts_with(&format!("Fresh {app}")));
        assert!(compiled != fresh || !output.status.success(), "{stderr}");
        let script = format!("/build/{PACKAGE}-");
        let script_ran = lines().any(|l| {
            l.starts_with("Running `") && l.contains(&script) && l.ends_with("/build-script-build`")
        });
        Build {
            ok: output.status.success(),
            compiled,
            script_ran,
            stderr,
        }
    }

    /// [`App::build`], which must have done `(ok, compiled, script_ran)`.
    fn build_doing(&self, features: &[&str], expected: (bool, bool, bool)) -> Build {
        let build = self.build(features);
        let did = (build.ok, build.compiled, build.script_ran);
        assert_eq!(
            did, expected,
            "(ok, compiled, script ran):\n{}",
            build.stderr
        );
        build
    }

    /// Runs the built binary (in the features of the last build): its lines.
    fn run(&self, features: &[&str]) -> Vec<String> {
        let args: Vec<&str> = ["run"].iter().chain(features).copied().collect();
        let stdout = cargo_in(self.dir.path(), &self.target, &args, &[]);
        String::from_utf8(stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn stamp_of(lines: &[String]) -> PathBuf {
    let line = lines.iter().find_map(|l| l.strip_prefix("stamp ")).unwrap();
    PathBuf::from(line)
}

fn bytes_and_mtime(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    (std::fs::read(path).unwrap(), modified)
}

#[test]
fn a_template_edit_leaves_a_dev_build_fresh_until_it_needs_a_rebuild() {
    let app = App::new();
    let first = app.build(&[]);
    assert!(first.ok, "{}", first.stderr);
    let lines = app.run(&[]);
    assert_eq!(lines[0], r#"source "<p>{{ title }}</p>\n""#);
    assert_eq!(lines[2], "needs rebuild false");
    // The build script made the stamp if it was not there (empty then; `OUT_DIR` outlives the
    // temporary crate: cargo hashes a root package's path relative to its workspace).
    let stamp = stamp_of(&lines);
    let stamp_before = bytes_and_mtime(&stamp);

    // A literal edit: cargo has nothing to do, the app serves the new text.
    app.edit("<p>Title: {{ title }}</p>\n");
    app.build_doing(&[], (true, false, false));
    let lines = app.run(&[]);
    assert_eq!(lines[0], r#"source "<p>Title: {{ title }}</p>\n""#);
    assert_eq!(lines[2], "needs rebuild false");
    assert_eq!(
        bytes_and_mtime(&stamp),
        stamp_before,
        "a hot reload writes nothing"
    );

    // A variable `Page` lacks: the app says so at start-up and writes the stamp; the next build
    // reruns the build script and recompiles, and the derive's check fails.
    app.edit("<p>{{ title }} by {{ user }}</p>\n");
    let lines = app.run(&[]);
    assert_eq!(lines[2], "needs rebuild true");
    let stamp_text = std::fs::read_to_string(&stamp).unwrap();
    assert!(stamp_text.starts_with("cargo build needed"), "{stamp_text}");
    assert!(stamp_text.contains("page.html: "), "{stamp_text}");
    assert!(stamp_text.contains("`user`"), "{stamp_text}");
    let rebuild = app.build_doing(&[], (false, true, true));
    assert!(
        rebuild.stderr.contains("reads `user`")
            && rebuild.stderr.contains("`Page` does not provide it"),
        "{}",
        rebuild.stderr
    );

    // Undone: the failed derive wrote the stamp, so the build script records the template as
    // it is now, and the build passes.
    app.edit("<p>{{ title }}</p>\n");
    app.build_doing(&[], (true, true, true));
    assert_eq!(app.run(&[])[2], "needs rebuild false");
    app.build_doing(&[], (true, false, false));

    // A `.rs` edit reruns the build script too: the derive never checks a stale record.
    app.edit("<p>Title: {{ title }}</p>\n");
    write_if_changed(app.dir.path(), "src/main.rs", &format!("{MAIN}// edited\n"));
    app.build_doing(&[], (true, true, true));

    // Without the `dev` feature the build script tracks the templates: an edit rebuilds.
    let release_like = ["--no-default-features"];
    assert!(app.build(&release_like).ok);
    app.build_doing(&release_like, (true, false, false));
    app.edit("<p>Title, edited: {{ title }}</p>\n");
    app.build_doing(&release_like, (true, true, true));
    let lines = app.run(&release_like);
    assert_eq!(lines[0], r#"source "<p>Title, edited: {{ title }}</p>\n""#);
}
