//! Unit tests of the re-scan's fast path, which reads the stat index (not public).

use std::fs;
use std::path::Path;

use super::index::{self, Index};
use super::{Roots, moved_files};
use crate::Builder;

fn write(root: &Path, name: &str, text: impl AsRef<[u8]>) {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn builder(dir: &Path) -> Builder {
    Builder::new()
        .manifest_dir(dir)
        .out_dir(dir.join("out"))
        .cargo_directives(false)
}

/// Lets the clock move past the index's timestamp (see the integration tests).
fn past_racy_window() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

#[test]
fn moved_files_names_exactly_the_files_whose_stat_moved() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    for name in [
        "top.html",
        "a/one.html",
        "a/two.html",
        "a/b/deep.html",
        "c/three.html",
    ] {
        write(&root, name, format!("<p>{name}</p>"));
    }
    builder(dir.path()).build().unwrap();
    past_racy_window();
    let index = Index::load(&dir.path().join("out").join(index::FILE_NAME)).unwrap();
    let roots = Roots::new(vec![(root.clone(), "templates".into())]);
    let at = |name: &str| index.files.iter().position(|f| f.name == name).unwrap();
    assert_eq!(
        moved_files(&roots, &index),
        Vec::<usize>::new(),
        "nothing moved"
    );

    write(&root, "top.html", "<p>top, edited</p>");
    write(&root, "a/b/deep.html", "<p>deep, edited</p>");
    fs::remove_file(root.join("c/three.html")).unwrap();
    let mut want = vec![at("top.html"), at("a/b/deep.html"), at("c/three.html")];
    want.sort_unstable();
    assert_eq!(
        moved_files(&roots, &index),
        want,
        "edited at the root and deep down, and gone"
    );

    // A directory that can no longer be opened: all its files moved.
    fs::rename(root.join("a"), dir.path().join("a-moved")).unwrap();
    let mut want = vec![
        at("a/one.html"),
        at("a/two.html"),
        at("a/b/deep.html"),
        at("top.html"),
        at("c/three.html"),
    ];
    want.sort_unstable();
    assert_eq!(moved_files(&roots, &index), want);
}
