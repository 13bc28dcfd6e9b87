//! An application built by cargo, edited and built again: what its binary embeds follows the
//! templates' bytes, through transitive dependencies, and not their timestamps.
//!
//! The app (`fixtures/app`) is copied to a temporary directory and built offline with this
//! workspace's `Cargo.lock`, in `<target>/tests/shipwright-e2e` so that every run after the first
//! builds only the app.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

mod support;
use support::{apps_target_dir, copy_dir};

use shipwright_core::analyze::content_hash;

/// What the app's binary printed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Embedded {
    /// The BuildCache file its build script wrote.
    cache: PathBuf,
    /// `pages/home.html` as bound by `#[derive(Template)]`: (hash, length of the embedded source).
    bound: (String, String),
    /// Every registry entry: name -> (hash, length of the embedded source).
    registry: BTreeMap<String, (String, String)>,
}

struct App {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl App {
    fn new() -> App {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = tests.parent().unwrap();
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&tests.join("fixtures/app"), dir.path());
        let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml.in")).unwrap();
        let manifest = manifest.replace("@WORKSPACE@", workspace.to_str().unwrap());
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        std::fs::copy(workspace.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
        App {
            dir,
            target: apps_target_dir(),
        }
    }

    fn template(&self, name: &str) -> PathBuf {
        self.dir.path().join("templates").join(name)
    }

    fn binary(&self) -> PathBuf {
        self.target.join("debug").join(format!(
            "shipwright-e2e-app{}",
            std::env::consts::EXE_SUFFIX
        ))
    }

    fn build_and_run(&self) -> Embedded {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("SHIPWRIGHT_BUILD_CACHE")
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "cargo build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let output = Command::new(self.binary()).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse(&String::from_utf8(output.stdout).unwrap())
    }
}

fn parse(stdout: &str) -> Embedded {
    let mut cache = None;
    let mut bound = None;
    let mut registry = BTreeMap::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["cache", path] => cache = Some(PathBuf::from(path)),
            ["bound", "pages/home.html", hash, tree] => bound = Some((hash.into(), tree.into())),
            ["registry", name, hash, tree] => {
                let before = registry.insert(name.to_string(), (hash.into(), tree.into()));
                assert!(before.is_none(), "{name} twice in the registry");
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }
    Embedded {
        cache: cache.unwrap(),
        bound: bound.unwrap(),
        registry,
    }
}

#[test]
fn edits_reach_the_binary_and_touches_do_not() {
    let app = App::new();
    let first = app.build_and_run();
    let names: Vec<&str> = first.registry.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "layout.html",
            "pages/home.html",
            "partials/footer.html",
            "partials/nav.html"
        ]
    );
    assert_eq!(first.bound, first.registry["pages/home.html"]);
    let home = std::fs::read(app.template("pages/home.html")).unwrap();
    assert_eq!(first.bound.0, content_hash(&home));
    let first_cache = std::fs::read(&first.cache).unwrap();

    // Edit a transitive dependency of pages/home.html (home extends layout, which includes nav).
    let nav = app.template("partials/nav.html");
    std::fs::write(
        &nav,
        "<nav><a href=\"/\">Home</a> <a href=\"/about\">About</a></nav>\n",
    )
    .unwrap();
    let second = app.build_and_run();
    assert_eq!(
        second.bound.0, first.bound.0,
        "home.html's own bytes did not change"
    );
    assert_eq!(second.bound, second.registry["pages/home.html"]);
    let nav_bytes = std::fs::read(&nav).unwrap();
    assert_eq!(
        second.registry["partials/nav.html"],
        (content_hash(&nav_bytes), nav_bytes.len().to_string()),
        "the binary embeds the new nav.html, record and source"
    );
    assert_ne!(
        second.registry["partials/nav.html"],
        first.registry["partials/nav.html"]
    );
    assert_eq!(
        second.registry["partials/footer.html"],
        first.registry["partials/footer.html"]
    );
    let second_cache = std::fs::read(&second.cache).unwrap();
    assert_ne!(second_cache, first_cache);

    // Touch pages/home.html without changing its bytes: cargo reruns the build script and
    // rebuilds the app, and nothing it embeds or records changes.
    let binary_before = modified(&app.binary());
    let home_file = std::fs::File::options()
        .write(true)
        .open(app.template("pages/home.html"))
        .unwrap();
    home_file.set_modified(SystemTime::now()).unwrap();
    drop(home_file);
    let third = app.build_and_run();
    assert_ne!(
        modified(&app.binary()),
        binary_before,
        "the touch did not rebuild the app"
    );
    assert_eq!(third, second);
    assert_eq!(std::fs::read(&third.cache).unwrap(), second_cache);

    // Nothing changed: cargo neither reruns the build script nor rebuilds the app (the
    // script's own outputs, which it asks cargo to watch, do not look changed).
    let binary_before = modified(&app.binary());
    assert_eq!(app.build_and_run(), third);
    assert_eq!(
        modified(&app.binary()),
        binary_before,
        "a no-op build rebuilt the app"
    );

    // A BuildCache damaged after the build (torn, edited by hand) is repaired by the next
    // `cargo build`, which would otherwise fail in the derive until a template is touched.
    std::fs::write(
        &third.cache,
        b"{\"format\":\"shipwright-build-cache\",\"vers",
    )
    .unwrap();
    let fourth = app.build_and_run();
    assert_eq!(fourth, third);
    assert_eq!(std::fs::read(&fourth.cache).unwrap(), second_cache);
    // And one deleted.
    std::fs::remove_file(&fourth.cache).unwrap();
    assert_eq!(app.build_and_run(), third);
    assert_eq!(std::fs::read(&third.cache).unwrap(), second_cache);
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}
