//! The watcher's and the loaders' path handling on any path: what `Listing::locate` (an event's
//! path back to a template) and `TemplateFiles::resolve` / `read` (a name to a file) make of
//! names with `..`, absolute parts, empty and odd components, over a tree that holds a link
//! loop, a link out of the root and a FIFO.
//!
//! Invariants: nothing panics or blocks; `locate` answers only with a template the walk listed,
//! under the root it names; `resolve` answers only with a regular file inside a root's real path
//! with a template extension, and `read` of a name never returns bytes of a file outside it.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shipwright_core::files::{Listing, TemplateFiles};

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    real_root: PathBuf,
    files: TemplateFiles,
    listing: Listing,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("templates");
        let outside = dir.path().join("outside");
        for (name, text) in [
            ("base.html", "<main>{% block body %}{% endblock %}</main>"),
            ("pages/home.html", "{% extends 'base.html' %}"),
            ("pages/deep/more.html", "more"),
            ("notes.md", "not a template"),
        ] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.html"), "secret").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.html"), root.join("leak.html")).unwrap();
        std::os::unix::fs::symlink("..", root.join("pages/up")).unwrap();
        let _ = std::process::Command::new("mkfifo")
            .arg(root.join("fifo.html"))
            .status();
        let files = TemplateFiles::new(vec![root.clone()], ["html"]);
        let listing = files.walk();
        let real_root = root.canonicalize().unwrap();
        Tree {
            _dir: dir,
            root,
            real_root,
            files,
            listing,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let tree = tree();
    let text = String::from_utf8_lossy(data);
    // As an event's path under the root, and as it is.
    for path in [tree.root.join(text.as_ref()), PathBuf::from(text.as_ref())] {
        if let Some((root, name)) = tree.listing.locate(&path) {
            assert_eq!(root, 0);
            let found = tree.listing.get(name).expect("a listed template");
            assert_eq!(found.root, root);
            assert!(found.name.ends_with(".html"), "{name}");
        }
    }
    // As a name a template or a loader asks for.
    if let Ok(resolved) = tree.files.resolve(&text) {
        let real = resolved.path.canonicalize().unwrap();
        assert!(real.starts_with(&tree.real_root), "{text:?} resolved to {real:?}");
        assert!(real.is_file(), "{real:?}");
        assert!(Path::new(&resolved.name).extension().is_some_and(|e| e == "html"));
    }
    if let Ok(bytes) = tree.files.read(&text) {
        assert_ne!(bytes, b"secret", "{text:?} read a file outside the root");
    }
});
