use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn html(roots: Vec<PathBuf>) -> TemplateFiles {
    TemplateFiles::new(roots, crate::format::DEFAULT_EXTENSIONS)
}

fn names(listing: &Listing) -> Vec<&str> {
    listing.files().iter().map(|f| f.name.as_str()).collect()
}

fn reports(listing: &Listing) -> Vec<String> {
    listing.skipped().iter().map(ToString::to_string).collect()
}

/// `f` on a thread of its own; fails if it gives no answer within 30 s (a read that blocks must
/// fail the test, not hang it).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = send.send(f());
    });
    match receive.recv_timeout(Duration::from_secs(30)) {
        Ok(answer) => answer,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(thread.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no answer in 30 s"),
    }
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

#[test]
fn extensions_are_the_configured_ones_without_regard_to_case() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.tera", "");
    write(dir.path(), "b.Tera", "");
    write(dir.path(), "c.html", "");
    write(dir.path(), ".tera", "");
    let files = TemplateFiles::new(vec![dir.path().into()], ["TERA"]);
    assert_eq!(names(&files.walk()), ["a.tera", "b.Tera"]);
    assert!(files.has_template_extension("x/y.tErA"));
    assert!(!files.has_template_extension("tera"));
}

#[test]
fn the_extension_of_a_name_is_the_one_path_gives() {
    let files = TemplateFiles::new(vec![], ["html", ""]);
    for name in [
        "a.html",
        "a.HTML",
        ".html",
        "..html",
        "a.b.html",
        "a.",
        ".",
        "..",
        "",
        "html",
        "a/b.html",
        "a/.html",
        "a.html/",
        "a/..",
        "dir.html/x",
        "a\\b.html",
        "./a.html",
        "a..html",
    ] {
        let by_path = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["html", ""].iter().any(|x| x.eq_ignore_ascii_case(e)));
        assert_eq!(files.has_template_extension(name), by_path, "{name:?}");
    }
}

/// Bug 6 (core side): `ln -s /outside/file templates/partials/leak.html` was rendered by the
/// example's loader (`dir.join(name)`) although the scan refuses the link. The loader's
/// resolution and the walk now agree: a link whose target is outside the root is not read.
#[cfg(unix)]
#[test]
fn bug6_a_link_out_of_the_root_is_refused_by_the_loader_as_by_the_walk() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("templates");
    write(outer.path(), "outside/file", "secret");
    write(outer.path(), "outside/file.html", "secret");
    write(&root, "partials/nav.html", "nav");
    std::os::unix::fs::symlink(
        outer.path().join("outside/file"),
        root.join("partials/leak.html"),
    )
    .unwrap();
    // A link to a directory outside, and a relative link that climbs out.
    std::os::unix::fs::symlink(outer.path().join("outside"), root.join("out")).unwrap();
    std::os::unix::fs::symlink("../../outside/file", root.join("partials/up.html")).unwrap();
    let files = html(vec![root.clone()]);

    let listing = files.walk();
    assert_eq!(names(&listing), ["partials/nav.html"]);
    assert_eq!(
        reports(&listing),
        [
            "out: symbolic link leads out of the template root; not read",
            "partials/leak.html: symbolic link leads out of the template root; not read",
            "partials/up.html: symbolic link leads out of the template root; not read",
        ]
    );
    for name in ["partials/leak.html", "partials/up.html", "out/file.html"] {
        let error = files.read(name).unwrap_err();
        assert_eq!(error.problem, Problem::OutsideRoot, "{name}: {error}");
        assert_eq!(error.path, root.join(name), "the error names the file");
        assert!(!error.is_not_found());
    }
    assert_eq!(files.read("partials/nav.html").unwrap(), b"nav");

    // A later root that holds the name serves it: the first root holds no template of it.
    let theme = outer.path().join("theme");
    write(&theme, "partials/leak.html", "theme's own");
    let both = html(vec![root.clone(), theme.clone()]);
    let resolved = both.resolve("partials/leak.html").unwrap();
    assert_eq!(
        (resolved.root, resolved.path),
        (1, theme.join("partials/leak.html").canonicalize().unwrap())
    );
    assert_eq!(both.read("partials/leak.html").unwrap(), b"theme's own");
}

#[test]
fn names_normalise_inside_the_root_and_carry_a_template_extension() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("templates");
    write(&root, "a/b.html", "b");
    write(outer.path(), "x.html", "outside");
    write(&root, "notes.md", "notes");
    let files = html(vec![root.clone()]);
    assert_eq!(files.read("a/./b.html").unwrap(), b"b");
    assert_eq!(files.read("a//c/../b.html").unwrap(), b"b");
    assert_eq!(files.resolve("a/./b.html").unwrap().name, "a/b.html");
    let problem = |name: &str| files.read(name).unwrap_err().problem;
    assert_eq!(
        problem("../x.html"),
        Problem::Name("escapes the template root")
    );
    assert_eq!(problem("/etc/passwd.html"), Problem::Name("absolute path"));
    assert!(matches!(problem("notes.md"), Problem::NotATemplate(_)));
    assert_eq!(problem("a/none.html"), Problem::NotFound);
    let error = files.read("a/none.html").unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(
        error.to_string(),
        "a/none.html: no template of this name in the roots"
    );
}

#[test]
fn the_first_root_holding_a_name_wins() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("app"), "nav.html", "app");
    write(&dir.path().join("theme"), "nav.html", "theme");
    write(&dir.path().join("theme"), "base.html", "base");
    let files = html(vec![dir.path().join("app"), dir.path().join("theme")]);
    let listing = files.walk();
    let roots: Vec<(&str, usize)> = listing
        .files()
        .iter()
        .map(|f| (f.name.as_str(), f.root))
        .collect();
    assert_eq!(roots, [("base.html", 1), ("nav.html", 0)]);
    assert_eq!(files.read("nav.html").unwrap(), b"app");
    // The theme's nav.html is hidden: no template.
    assert_eq!(listing.locate(&dir.path().join("theme/nav.html")), None);
    assert_eq!(
        listing.locate(&dir.path().join("app/nav.html")),
        Some((0, "nav.html"))
    );
}

/// Bug 3 (core side), counted: each directory is read once, under the name the breadth-first
/// walk reaches it by first.
#[cfg(unix)]
#[test]
fn each_directory_is_read_once_under_its_first_name() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write(&root, "a/x.html", "x");
    write(&root, "b/y.html", "y");
    symlink("../b", root.join("a/l1")).unwrap();
    symlink("../b", root.join("a/l2")).unwrap();
    symlink("../a", root.join("b/m1")).unwrap();
    symlink("../a", root.join("b/m2")).unwrap();
    symlink(".", root.join("b/self")).unwrap();
    // Reached by a link at depth 1 before its own path at depth 3: the link's name wins.
    write(&root, "deep/er/dir/z.html", "z");
    symlink("deep/er/dir", root.join("short")).unwrap();
    // A chain of links that never ends.
    symlink("ring2", root.join("ring1.html")).unwrap();
    symlink("ring1.html", root.join("ring2")).unwrap();
    let files = html(vec![root.clone()]);
    let listing = within("a walk over links", move || files.walk());
    assert_eq!(names(&listing), ["a/x.html", "b/y.html", "short/z.html"]);
    let dirs: Vec<&str> = listing.dirs().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(dirs, ["", "a", "b", "deep", "short", "deep/er"]);
    assert_eq!(
        reports(&listing),
        [
            "a/l1: symbolic link to a directory already listed as `b`; not followed",
            "a/l2: symbolic link to a directory already listed as `b`; not followed",
            "b/m1: symbolic link to a directory already listed as `a`; not followed",
            "b/m2: symbolic link to a directory already listed as `a`; not followed",
            "b/self: symbolic link loop; not followed",
            "deep/er/dir: the same directory as `short`; not walked again",
            "ring1.html: symbolic link loop; not followed",
            "ring2: symbolic link loop; not followed",
        ]
    );
    // The file is reached by its real path too: its directory is known by identity.
    assert_eq!(
        listing.locate(&root.join("deep/er/dir/z.html")),
        Some((0, "short/z.html"))
    );
    assert_eq!(
        listing.locate(&root.join("a/l1/y.html")),
        Some((0, "b/y.html"))
    );
    assert_eq!(listing.locate_dir(&root.join("a/l2")), Some((0, "b")));

    // 2^24 paths to the last of a chain of 24 directories, each linking twice to the next:
    // 24 directories read, 24 files listed.
    let chain = tempfile::tempdir().unwrap();
    for i in 0..24 {
        write(chain.path(), &format!("d{i:02}/f.html"), "f");
    }
    for i in 0..23 {
        for link in ["p", "q"] {
            symlink(
                format!("../d{:02}", i + 1),
                chain.path().join(format!("d{i:02}/{link}")),
            )
            .unwrap();
        }
    }
    let files = html(vec![chain.path().into()]);
    let listing = within("a chain of diamonds", move || files.walk());
    assert_eq!(listing.files().len(), 24);
    assert_eq!(listing.dirs().len(), 25);
    assert_eq!(listing.skipped().len(), 46);
}

/// A link to a file is a template of its own name; a link to a directory inside the root is
/// followed, and its files are read through the resolved path. One directory has one name: here
/// the link's, which the walk meets first (same depth, `linked` < `real`).
#[cfg(unix)]
#[test]
fn links_inside_the_root_are_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(&root, "real/a.html", "a");
    symlink("real/a.html", root.join("alias.html")).unwrap();
    symlink("real", root.join("linked")).unwrap();
    let files = html(vec![root.clone()]);
    let listing = files.walk_with_stats();
    assert_eq!(names(&listing), ["alias.html", "linked/a.html"]);
    assert_eq!(
        reports(&listing),
        ["real: the same directory as `linked`; not walked again"]
    );
    let alias = listing.get("alias.html").unwrap();
    let real = root.join("real/a.html").canonicalize().unwrap();
    assert_eq!(alias.target.as_deref(), Some(real.as_path()));
    assert_eq!(alias.file(), real);
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(alias.stat, Some(Stat::of(&meta)));
    let through = listing.get("linked/a.html").unwrap();
    assert_eq!(
        (through.path.as_path(), through.stat),
        (real.as_path(), Some(Stat::of(&meta)))
    );
    assert_eq!(files.read_found(alias).unwrap(), b"a");
    assert_eq!(files.read("alias.html").unwrap(), b"a");
    // A loader takes any path inside the root to a template file.
    assert_eq!(files.read("linked/a.html").unwrap(), b"a");
    assert_eq!(files.read("real/a.html").unwrap(), b"a");
    let dirs: Vec<(&str, Stat)> = listing
        .dirs()
        .iter()
        .map(|d| (d.name.as_str(), d.stat))
        .collect();
    assert_eq!(
        dirs,
        [
            ("", Stat::of(&std::fs::metadata(&root).unwrap())),
            (
                "linked",
                Stat::of(&std::fs::metadata(root.join("real")).unwrap())
            )
        ]
    );
}

/// Bug 4 (core side): a FIFO named like a template is never opened by the walk, and a read of
/// one (a file swapped for a FIFO after the walk, a loader asked for it) does not block.
#[cfg(unix)]
#[test]
fn special_files_are_reported_and_never_block_a_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(&root, "partials/nav.html", "nav");
    mkfifo(&root.join("partials/fifo.html"));
    mkfifo(&root.join("partials/fifo.md"));
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock.html")).unwrap();
    let files = html(vec![root.clone()]);
    let (listing, read, resolved, found) = within("reads beside FIFOs", move || {
        let listing = files.walk();
        let read = read_file(&root.join("partials/fifo.html"), DEFAULT_MAX_SIZE);
        let resolved = files.read("partials/fifo.html");
        let dir = OpenDir::open(&root.join("partials"));
        let found = dir.read_into("fifo.html", DEFAULT_MAX_SIZE, &mut Vec::new());
        (listing, read, resolved, found)
    });
    assert_eq!(names(&listing), ["partials/nav.html"]);
    assert_eq!(
        reports(&listing),
        [
            "partials/fifo.html: not a regular file (a FIFO); skipped",
            "sock.html: not a regular file (a socket); skipped",
        ]
    );
    for error in [read.unwrap_err(), resolved.unwrap_err(), found.unwrap_err()] {
        assert_eq!(error.problem, Problem::Special("a FIFO"), "{error}");
        assert!(error.path.ends_with("partials/fifo.html"), "{error}");
    }
}

#[test]
fn reads_stop_at_the_size_limit_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.html", &"x".repeat(1000));
    write(dir.path(), "small.html", &"x".repeat(100));
    let files = html(vec![dir.path().into()]).max_size(999);
    assert_eq!(files.size_limit(), 999);
    assert_eq!(files.read("small.html").unwrap().len(), 100);
    let error = files.read("big.html").unwrap_err();
    assert_eq!(
        error.problem,
        Problem::TooLarge {
            size: 1000,
            limit: 999
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "{}: 1000 bytes, over the limit of 999 bytes; skipped",
            dir.path()
                .join("big.html")
                .canonicalize()
                .unwrap()
                .display()
        )
    );
    let mut bytes = Vec::new();
    let at = OpenDir::open(dir.path());
    assert_eq!(
        at.read_into("big.html", 1000, &mut bytes).unwrap().size,
        1000
    );
    assert_eq!(bytes.len(), 1000);
    assert!(at.read_into("big.html", 10, &mut bytes).is_err());
    assert_eq!(
        at.stat("big.html").unwrap(),
        Stat::of(&std::fs::metadata(dir.path().join("big.html")).unwrap())
    );
    assert_eq!(html(vec![]).size_limit(), DEFAULT_MAX_SIZE);
}

#[test]
fn a_missing_root_is_reported_and_the_others_are_walked() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("b"), "x.html", "x");
    let files = html(vec![dir.path().join("a"), dir.path().join("b")]);
    let listing = files.walk();
    assert_eq!(names(&listing), ["x.html"]);
    assert_eq!(listing.skipped()[0].problem, Problem::MissingRoot);
    assert_eq!(listing.skipped()[0].root, 0);
    let error = files.check_roots().unwrap_err();
    assert_eq!(
        (error.path, error.problem),
        (dir.path().join("a"), Problem::MissingRoot)
    );
    write(dir.path(), "file.html", "not a directory");
    let error = html(vec![dir.path().join("b"), dir.path().join("file.html")])
        .check_roots()
        .unwrap_err();
    assert_eq!(error.path, dir.path().join("file.html"));
    assert!(html(vec![dir.path().join("b")]).check_roots().is_ok());
}

#[test]
fn event_paths_map_to_templates_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(&root, "pages/home.html", "home");
    write(&root, "pages/notes.md", "notes");
    write(dir.path(), "elsewhere.html", "x");
    let listing = html(vec![root.clone()]).walk();
    assert_eq!(
        listing.locate(&root.join("pages/home.html")),
        Some((0, "pages/home.html"))
    );
    assert_eq!(listing.locate(&root.join("pages/notes.md")), None);
    assert_eq!(
        listing.locate(&root.join("pages/new.html")),
        None,
        "not listed"
    );
    assert_eq!(listing.locate(&dir.path().join("elsewhere.html")), None);
    assert_eq!(listing.locate(&root), None);
    assert_eq!(listing.locate_dir(&root.join("pages")), Some((0, "pages")));
    assert_eq!(listing.locate_dir(&root), Some((0, "")));
    assert_eq!(
        listing
            .under(0, "pages")
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["pages/home.html"]
    );
    assert!(listing.had_dir(&root.join("pages")));
    assert!(!listing.had_dir(&root.join("other")));
}
