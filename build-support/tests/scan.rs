//! The scanner and the Builder on real directories: bad input, determinism, the fast path.

use std::fs;
use std::path::{Path, PathBuf};

use shipwright_build::Builder;
use shipwright_build::scan::{Roots, ScanError, Scanned, scan};
use shipwright_core::format::BuildCache;

fn write(root: &Path, name: &str, text: impl AsRef<[u8]>) {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn scan_dir(dir: &Path) -> Scanned {
    scan(
        &Roots::new(vec![(dir.to_path_buf(), "templates".into())]),
        None,
    )
    .unwrap()
}

fn warnings(scanned: &Scanned) -> Vec<String> {
    scanned.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn unterminated_constructs_are_recorded_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tag.html", "ok\n{% if x");
    write(dir.path(), "comment.html", "\n\n{# open");
    write(dir.path(), "string.html", "{{ 'abc }}");
    write(dir.path(), "fine.html", "{% include 'tag.html' %}");
    let scanned = scan_dir(dir.path());
    let errors: Vec<(&str, u32)> = scanned
        .cache
        .errors
        .iter()
        .map(|e| (e.template.as_str(), e.line))
        .collect();
    assert_eq!(
        errors,
        [("comment.html", 3), ("string.html", 1), ("tag.html", 2)]
    );
    let w = warnings(&scanned);
    assert!(
        w.contains(&"templates/tag.html:2: unterminated tag: `{%` has no closing `%}`".to_string()),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.starts_with("templates/comment.html:3: unterminated comment")),
        "{w:?}"
    );
    // Nothing is lost: the broken templates are still listed, with their content hash.
    assert_eq!(scanned.cache.templates.len(), 4);
    let broken = &scanned.cache.templates["tag.html"];
    assert_eq!(broken.hash.len(), 64);
    assert_eq!(
        shipwright_core::graph::closure(&scanned.cache, "fine.html"),
        ["tag.html"]
    );
}

#[test]
fn non_utf8_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "latin1.html", b"line one\ncaf\xe9 {{ x }}");
    write(dir.path(), "empty.html", "");
    let scanned = scan_dir(dir.path());
    assert_eq!(
        scanned.cache.templates.keys().collect::<Vec<_>>(),
        ["empty.html"]
    );
    let empty = &scanned.cache.templates["empty.html"];
    assert_eq!((empty.size, empty.deps.len()), (0, 0));
    assert_eq!(empty.hash, blake3::hash(b"").to_hex().to_string());
    assert_eq!(
        warnings(&scanned),
        ["templates/latin1.html:2: not UTF-8 (byte 12); skipped"]
    );
}

#[test]
fn a_50_mb_template() {
    let dir = tempfile::tempdir().unwrap();
    let chunk = "<p>{{ row.name }}</p>{% include 'row.html' %}\n";
    let big = chunk.repeat(50 * 1024 * 1024 / chunk.len());
    write(dir.path(), "big.html", &big);
    write(dir.path(), "row.html", "{{ row }}");
    // Over the default limit (16 MiB): left out, with a warning naming it.
    let scanned = scan_dir(dir.path());
    assert_eq!(
        scanned.cache.templates.keys().collect::<Vec<_>>(),
        ["row.html"]
    );
    assert_eq!(
        warnings(&scanned),
        [format!(
            "templates/big.html: {} bytes, over the limit of 16777216 bytes; skipped",
            big.len()
        )]
    );
    assert!(!scanned.complete);
    let mut roots = Roots::new(vec![(dir.path().to_path_buf(), "templates".into())]);
    roots.max_file_size = 64 << 20;
    let scanned = scan(&roots, None).unwrap();
    let record = &scanned.cache.templates["big.html"];
    assert_eq!(record.size, big.len() as u64);
    assert_eq!(record.deps, ["row.html"]);
    assert_eq!(record.vars, ["row"]);
    assert_eq!(
        record.hash,
        blake3::hash(big.as_bytes()).to_hex().to_string()
    );
}

#[test]
fn ten_thousand_templates_in_one_root() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.html", "{% block body %}{% endblock %}");
    for i in 0..10_000 {
        write(
            dir.path(),
            &format!("pages/p{i:05}.html"),
            format!("{{% extends 'base.html' %}}{{% block body %}}{i}{{% endblock %}}"),
        );
    }
    let scanned = scan_dir(dir.path());
    assert_eq!(scanned.cache.templates.len(), 10_001);
    assert!(
        scanned
            .cache
            .templates
            .values()
            .filter(|r| r.deps == ["base.html"])
            .count()
            == 10_000
    );
    assert!(scanned.warnings.is_empty());
}

#[test]
fn names_that_escape_the_root_are_reported_and_never_read() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("templates");
    write(
        &root,
        "a.html",
        "{% include '../../etc/passwd' %}\n{% include '/etc/hostname' %}\n{% extends '../secret.html' %}",
    );
    write(outer.path(), "secret.html", "outside the root");
    let scanned = scan_dir(&root);
    let missing: Vec<(&str, u32, &str)> = scanned
        .cache
        .missing
        .iter()
        .map(|m| (m.name.as_str(), m.line, m.reason.as_str()))
        .collect();
    assert_eq!(
        missing,
        [
            ("../../etc/passwd", 1, "escapes the template root"),
            ("/etc/hostname", 2, "absolute path"),
            ("../secret.html", 3, "escapes the template root"),
        ]
    );
    assert!(!scanned.cache.templates.contains_key("../secret.html"));
    assert!(warnings(&scanned).iter().any(|w| {
        w.starts_with("templates/a.html:1: `../../etc/passwd` escapes the template root")
    }));
}

#[cfg(unix)]
#[test]
fn symlinks_loops_and_links_out_of_the_root() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("templates");
    write(&root, "sub/a.html", "a");
    write(outer.path(), "outside/secret.html", "secret");
    std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(outer.path().join("outside"), root.join("escape")).unwrap();
    std::os::unix::fs::symlink(root.join("sub/a.html"), root.join("alias.html")).unwrap();
    let scanned = scan_dir(&root);
    assert_eq!(
        scanned.cache.templates.keys().collect::<Vec<_>>(),
        ["alias.html", "sub/a.html"]
    );
    let w = warnings(&scanned);
    assert!(
        w.contains(
            &"templates/escape: symbolic link leads out of the template root; not read".to_string()
        ),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.starts_with("templates/sub/loop") && w.contains("symbolic link loop")),
        "{w:?}"
    );
}

#[test]
fn a_cycle_of_a_thousand_templates() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..1000 {
        write(
            dir.path(),
            &format!("c{i:04}.html"),
            format!("{{% include 'c{:04}.html' %}}", (i + 1) % 1000),
        );
    }
    let scanned = scan_dir(dir.path());
    assert_eq!(scanned.cache.cycles.len(), 1);
    let cycle = &scanned.cache.cycles[0];
    assert_eq!(
        (
            cycle.len(),
            cycle[0].as_str(),
            cycle[1].as_str(),
            cycle[1000].as_str()
        ),
        (1001, "c0000.html", "c0001.html", "c0000.html")
    );
    assert!(
        warnings(&scanned)[0]
            .starts_with("templates/c0000.html: dependency cycle: c0000.html -> c0001.html -> ")
    );
}

#[test]
fn a_missing_root_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = scan(
        &Roots::new(vec![(dir.path().join("nope"), "nope".into())]),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, ScanError::MissingRoot(_)));
    assert!(
        err.to_string()
            .ends_with("nope does not exist or is not a directory"),
        "{err}"
    );
}

#[test]
fn first_root_wins_and_extensions_filter() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("app"), "nav.html", "app nav");
    write(&dir.path().join("theme"), "nav.html", "theme nav");
    write(
        &dir.path().join("theme"),
        "base.jinja",
        "{% include 'nav.html' %}",
    );
    write(&dir.path().join("theme"), "style.css", "{{ not scanned }}");
    let roots = Roots::new(vec![
        (dir.path().join("app"), "app".into()),
        (dir.path().join("theme"), "theme".into()),
    ]);
    let cache = scan(&roots, None).unwrap().cache;
    assert_eq!(
        cache.templates.keys().collect::<Vec<_>>(),
        ["base.jinja", "nav.html"]
    );
    assert_eq!(
        (
            cache.templates["nav.html"].root,
            cache.templates["base.jinja"].root
        ),
        (0, 1)
    );
    assert_eq!(cache.relative_path("nav.html").unwrap(), "app/nav.html");
}

fn fixture(root: &Path, reverse: bool) {
    let mut files = vec![
        (
            "layouts/base.html",
            "<html>{% block body %}{% endblock %}{% include 'partials/nav.html' %}</html>",
        ),
        (
            "partials/nav.html",
            "{% for l in links %}<a href='{{ l.href }}'>{{ l.label }}</a>{% endfor %}",
        ),
        (
            "pages/home.html",
            "{% extends 'layouts/base.html' %}{% block body %}{{ greeting }}{% endblock %}",
        ),
        (
            "pages/icons.html",
            "{% include 'icons/' ~ icon %}{% include 'nope.html' %}",
        ),
    ];
    if reverse {
        files.reverse();
    }
    for (name, text) in files {
        write(root, name, text);
    }
}

#[test]
fn the_same_tree_in_two_places_and_two_orders_gives_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let b_manifest = b.path().join("some/deeper/checkout");
    fixture(&a.path().join("templates"), false);
    fixture(&b_manifest.join("templates"), true);
    let built_a = builder(a.path()).build().unwrap();
    let built_b = builder(&b_manifest).build().unwrap();
    let (bytes_a, bytes_b) = (
        fs::read(&built_a.path).unwrap(),
        fs::read(&built_b.path).unwrap(),
    );
    assert_eq!(bytes_a, bytes_b);
    let text = String::from_utf8(bytes_a).unwrap();
    assert!(
        !text.contains(a.path().to_str().unwrap()) && !text.contains("/tmp"),
        "no absolute path inside"
    );
}

#[test]
fn snapshot_of_a_fixture_tree() {
    let dir = tempfile::tempdir().unwrap();
    fixture(&dir.path().join("templates"), false);
    let built = Builder::new()
        .manifest_dir(dir.path())
        .out_dir(dir.path().join("out"))
        .cargo_directives(false)
        .build()
        .unwrap();
    let bytes = fs::read(&built.path).unwrap();
    insta::assert_snapshot!(BuildCache::parse(&bytes, "cache").unwrap().to_pretty());
    assert_eq!(
        built.warnings,
        [
            "templates/pages/icons.html:1: `nope.html` not found: reference does not resolve"
                .to_string()
        ]
    );
}

fn builder(dir: &Path) -> Builder {
    Builder::new()
        .manifest_dir(dir)
        .out_dir(dir.join("out"))
        .cargo_directives(false)
}

/// Lets the clock move past the index's timestamp, so that the next write is not "racily
/// clean" (a file changed in the same tick as the index is always read again, which would
/// hide whether the fast path works).
fn past_racy_window() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

#[test]
fn rescans_reuse_unchanged_files_and_catch_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().join("templates");
    fixture(&root, false);
    let first = builder(dir.path()).build().unwrap();
    assert_eq!((first.analysed, first.changed), (4, true));
    let registry = dir
        .path()
        .join("out")
        .join(shipwright_core::registry::FILE_NAME);
    let registry_bytes = fs::read(&registry).unwrap();
    let sources_of = |built: &shipwright_build::Built, registry: &[u8]| -> Vec<String> {
        let cache = BuildCache::load(&built.path).unwrap();
        let sources = shipwright_core::registry::split(&cache, registry).unwrap();
        sources.into_iter().map(str::to_owned).collect()
    };
    let on_disk = |cache: &Path| -> Vec<String> {
        let cache = BuildCache::load(cache).unwrap();
        let files = cache.templates.keys().map(|name| root.join(name));
        files.map(|f| fs::read_to_string(f).unwrap()).collect()
    };
    assert_eq!(sources_of(&first, &registry_bytes), on_disk(&first.path));
    past_racy_window();

    let same = builder(dir.path()).build().unwrap();
    assert_eq!(
        (same.analysed, same.changed, same.templates),
        (0, false, 4),
        "nothing read when nothing moved"
    );
    assert_eq!(
        same.warnings, first.warnings,
        "warnings are printed again from the index"
    );
    fs::remove_file(&registry).unwrap();
    let restored = builder(dir.path()).build().unwrap();
    assert_eq!(
        (restored.analysed, restored.changed),
        (4, false),
        "a lost registry is written again (its sources read again: no record holds them)"
    );
    assert_eq!(fs::read(&registry).unwrap(), registry_bytes);
    past_racy_window();
    // A registry changed behind the build's back (same length, other bytes) is written again.
    let mut damaged = registry_bytes.clone();
    *damaged.last_mut().unwrap() ^= 1;
    fs::write(&registry, damaged).unwrap();
    let repaired = builder(dir.path()).build().unwrap();
    assert!(!repaired.changed, "the templates did not move");
    assert_eq!(
        fs::read(&registry).unwrap(),
        registry_bytes,
        "the registry is the scan's again"
    );
    past_racy_window();

    // A touch with the same bytes: re-read, same BuildCache bytes.
    let nav = root.join("partials/nav.html");
    let before = fs::read(&first.path).unwrap();
    fs::write(&nav, fs::read(&nav).unwrap()).unwrap();
    let touched = builder(dir.path()).build().unwrap();
    assert_eq!((touched.analysed, touched.changed), (1, false));
    assert_eq!(fs::read(&first.path).unwrap(), before);
    past_racy_window();

    // An edit, an added file, a removed file: the result equals a cold scan's.
    fs::write(&nav, "{% include 'partials/new.html' %}").unwrap();
    write(&root, "partials/new.html", "new {{ thing }}");
    fs::remove_file(root.join("pages/icons.html")).unwrap();
    let edited = builder(dir.path()).build().unwrap();
    assert_eq!((edited.analysed, edited.changed), (2, true));
    let incremental = fs::read(&edited.path).unwrap();
    let cold = scan_dir(&root).cache.to_bytes();
    assert_eq!(incremental, cold);
    // The registry, of the sources read now and those kept from the last build, is a cold
    // build's.
    assert_eq!(
        sources_of(&edited, &fs::read(&registry).unwrap()),
        on_disk(&edited.path)
    );
    let cold_build = Builder::new()
        .manifest_dir(dir.path())
        .out_dir(dir.path().join("out-cold"))
        .cargo_directives(false)
        .build()
        .unwrap();
    assert_eq!(cold_build.analysed, edited.templates);
    assert_eq!(
        fs::read(&registry).unwrap(),
        fs::read(
            dir.path()
                .join("out-cold")
                .join(shipwright_core::registry::FILE_NAME)
        )
        .unwrap()
    );
    let cache = BuildCache::parse(&incremental, "x").unwrap();
    assert_eq!(
        shipwright_core::graph::closure(&cache, "pages/home.html"),
        [
            "layouts/base.html",
            "partials/nav.html",
            "partials/new.html"
        ]
    );
}

#[test]
fn a_file_added_or_removed_alone_is_seen_without_reading_directories_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    fixture(&root, false);
    assert_eq!(builder(dir.path()).build().unwrap().templates, 4);
    past_racy_window();
    assert_eq!(builder(dir.path()).build().unwrap().analysed, 0);
    // Nothing else moves: only the directories' mtimes tell.
    write(&root, "partials/added.html", "new");
    let built = builder(dir.path()).build().unwrap();
    assert_eq!((built.templates, built.analysed), (5, 1));
    past_racy_window();
    write(&root, "deep/new/dir/x.html", "x");
    assert_eq!(builder(dir.path()).build().unwrap().templates, 6);
    past_racy_window();
    fs::remove_file(root.join("partials/added.html")).unwrap();
    let built = builder(dir.path()).build().unwrap();
    assert_eq!((built.templates, built.analysed), (5, 0));
    let cache = BuildCache::load(&built.path).unwrap();
    assert!(!cache.templates.contains_key("partials/added.html"));
    assert!(cache.templates.contains_key("deep/new/dir/x.html"));
}

#[test]
fn an_edit_alone_is_seen_without_a_walk_and_an_incomplete_walk_is_done_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    fixture(&root, false);
    builder(dir.path()).build().unwrap();
    past_racy_window();
    // In place: no directory moves, the index's list of files is the tree's.
    let nav = root.join("partials/nav.html");
    fs::write(&nav, "<nav>{{ user }}</nav>").unwrap();
    let edited = builder(dir.path()).build().unwrap();
    assert_eq!((edited.analysed, edited.changed), (1, true));
    assert_eq!(
        fs::read(&edited.path).unwrap(),
        scan_dir(&root).cache.to_bytes()
    );
    past_racy_window();

    // A file the last scan skipped is not in the index's list: while the list is incomplete,
    // every re-scan walks, so fixing the file in place (no directory moves) is seen.
    write(&root, "partials/latin1.html", b"caf\xe9");
    let skipped = builder(dir.path()).build().unwrap();
    assert_eq!(skipped.templates, 4);
    assert!(
        skipped.warnings.iter().any(|w| w.contains("not UTF-8")),
        "{:?}",
        skipped.warnings
    );
    past_racy_window();
    fs::write(root.join("partials/latin1.html"), "café").unwrap();
    let fixed = builder(dir.path()).build().unwrap();
    assert_eq!((fixed.templates, fixed.analysed), (5, 1));
    assert!(
        !fixed.warnings.iter().any(|w| w.contains("not UTF-8")),
        "{:?}",
        fixed.warnings
    );
    past_racy_window();

    // Likewise a walk that reported a link: the report is made again after an edit.
    std::os::unix::fs::symlink(dir.path(), root.join("escape")).unwrap();
    builder(dir.path()).build().unwrap();
    past_racy_window();
    fs::write(&nav, "<nav>{{ other }}</nav>").unwrap();
    let again = builder(dir.path()).build().unwrap();
    assert_eq!(again.analysed, 1);
    assert!(
        again
            .warnings
            .iter()
            .any(|w| w.contains("leads out of the template root")),
        "{:?}",
        again.warnings
    );
}

#[test]
fn a_damaged_build_cache_is_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    fixture(&dir.path().join("templates"), false);
    let first = builder(dir.path()).build().unwrap();
    let good = fs::read(&first.path).unwrap();
    past_racy_window();
    fs::write(&first.path, &good[..good.len() / 2]).unwrap();
    let again = builder(dir.path()).build().unwrap();
    // The JSON is never read back: the records come from the side file, which is intact.
    assert_eq!(
        (again.analysed, again.changed),
        (0, true),
        "torn cache: written again"
    );
    assert_eq!(fs::read(&again.path).unwrap(), good);
}

#[test]
fn a_damaged_or_replaced_records_file_is_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    fixture(&root, false);
    let first = builder(dir.path()).build().unwrap();
    let good = fs::read(&first.path).unwrap();
    let records = dir.path().join("out").join("shipwright/scan-records");
    let bytes = fs::read(&records).unwrap();
    let edit = |text: &str| {
        past_racy_window();
        write(&root, "partials/nav.html", text);
    };
    let nav = fs::read_to_string(root.join("partials/nav.html")).unwrap();

    // Torn: everything is read again, and the result is the cold scan's.
    edit("{{ x }}");
    fs::write(&records, &bytes[..bytes.len() - 3]).unwrap();
    let torn = builder(dir.path()).build().unwrap();
    assert_eq!(torn.analysed, 4, "torn records: everything read again");

    // Replaced by a well-formed file of another scan (its stat is not the one the index
    // vouches for): not read either.
    let stale = fs::read(&records).unwrap();
    edit(&nav);
    builder(dir.path()).build().unwrap();
    past_racy_window();
    fs::write(&records, &stale).unwrap();
    edit("{{ y }}");
    let replaced = builder(dir.path()).build().unwrap();
    assert_eq!(
        replaced.analysed, 4,
        "replaced records: everything read again"
    );

    // And an intact one is used: only the edited file is read.
    edit(&nav);
    let intact = builder(dir.path()).build().unwrap();
    assert_eq!(intact.analysed, 1);
    assert_eq!(fs::read(&intact.path).unwrap(), good);
}

#[test]
fn builder_needs_cargo_or_explicit_dirs() {
    // Cargo sets OUT_DIR only for crates with a build script, and this one has none.
    let err = Builder::new().cargo_directives(false).build().unwrap_err();
    assert!(err.to_string().starts_with("OUT_DIR is not set"), "{err}");
}

#[test]
fn a_build_script_error_reads_as_a_sentence_and_keeps_its_cause() {
    // What `fn main() -> Result<(), Box<dyn Error>>` prints is the error's `Debug`.
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("templates"), "a.html", "<p>a</p>");
    // The output directory is a file: the BuildCache cannot be written under it.
    fs::write(dir.path().join("out"), "not a directory").unwrap();
    let err = builder(dir.path()).build().unwrap_err();
    let printed = format!("{:?}", Box::<dyn std::error::Error>::from(err));
    assert!(printed.starts_with("cannot write "), "{printed}");
    assert!(printed.contains("out/shipwright/"), "{printed}");
    assert!(!printed.contains("Write {"), "no struct dump: {printed}");
    let err = builder(dir.path()).build().unwrap_err();
    let cause = std::error::Error::source(&err).expect("the io error is kept");
    assert!(cause.downcast_ref::<std::io::Error>().is_some());

    let err = builder(&dir.path().join("nowhere")).build().unwrap_err();
    assert!(format!("{err:?}").starts_with("template root "), "{err:?}");
}

#[test]
fn every_missing_reference_of_a_file_gets_its_own_line() {
    // The lines of a file's references that do not resolve are found in one read of the file
    // (they were found by reading and lexing it again per reference: minutes for thousands).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    let n = 3_000;
    let text: String = (0..n)
        .map(|i| format!("{{% include \"t{i}.html\" %}}\n{{% include 'here.html' %}}\n"))
        .collect();
    write(&root, "many.html", &text);
    write(
        &root,
        "here.html",
        "{% include 'gone.html' %}{% include '../out.html' %}",
    );
    let scanned = scan_dir(&root);
    let missing = &scanned.cache.missing;
    assert_eq!(missing.len(), n + 2);
    assert_eq!(
        (missing[0].name.as_str(), missing[0].line),
        ("../out.html", 1)
    );
    assert_eq!(
        (missing[1].name.as_str(), missing[1].line),
        ("gone.html", 1)
    );
    for (i, m) in missing[2..].iter().enumerate() {
        assert_eq!(m.template, "many.html");
        assert_eq!(m.line, 2 * i as u32 + 1, "{m:?}");
        assert_eq!(m.name, format!("t{i}.html"));
    }
    assert!(warnings(&scanned).contains(
        &"templates/many.html:5999: `t2999.html` not found: reference does not resolve".into()
    ));

    // A re-scan keeps the lines of an unchanged file's references and finds those of an
    // edited file again (they once came from the last report, stale for an edited file).
    builder(dir.path()).build().unwrap();
    past_racy_window();
    write(
        &root,
        "here.html",
        "\n{% include 'gone.html' %}\n{% include 'other.html' %}",
    );
    let again = builder(dir.path()).build().unwrap();
    assert_eq!(again.analysed, 1);
    let cache = BuildCache::parse(&fs::read(&again.path).unwrap(), "cache").unwrap();
    assert_eq!(cache.missing, scan_dir(&root).cache.missing);
    let here: Vec<(&str, u32)> = cache.missing[..2]
        .iter()
        .map(|m| (m.name.as_str(), m.line))
        .collect();
    assert_eq!(here, [("gone.html", 2), ("other.html", 3)]);
    assert_eq!(cache.missing[2 + 2_999].line, 5_999);
}

/// A workspace of two members: `app`, whose templates extend the layouts of `ui`.
fn workspace(app_metadata: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    write(
        ws,
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\", \"ui\"]\nresolver = \"3\"\n\n\
         [workspace.metadata.shipwright]\nglobals = [\"site_name\"]\n",
    );
    write(
        ws,
        "app/Cargo.toml",
        format!(
            "[package]\nname = \"app\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n{app_metadata}"
        ),
    );
    write(ws, "app/src/lib.rs", "");
    write(
        ws,
        "ui/Cargo.toml",
        "[package]\nname = \"ui\"\nversion = \"0.0.0\"\nedition = \"2024\"\n",
    );
    write(ws, "ui/src/lib.rs", "");
    write(
        &ws.join("app/templates"),
        "pages/home.html",
        "{% extends 'layouts/base.html' %}{% block body %}{{ user }}{% endblock %}",
    );
    write(
        &ws.join("ui/templates"),
        "layouts/base.html",
        "<title>{{ site_name }}</title>{% block body %}{% endblock %}",
    );
    dir
}

#[test]
fn roots_extensions_and_globals_come_from_cargo_toml_and_a_member_crate() {
    let dir = workspace(
        "[package.metadata.shipwright]\n\
         roots = [\"templates\", { package = \"ui\", path = \"templates\" }]\n",
    );
    let app = dir.path().join("app");
    let out = dir.path().join("out");
    let build = |builder: Builder| {
        let built = builder
            .manifest_dir(&app)
            .out_dir(&out)
            .cargo_directives(false)
            .build()
            .unwrap();
        BuildCache::parse(&fs::read(&built.path).unwrap(), "cache").unwrap()
    };
    let cache = build(Builder::new());
    assert_eq!(cache.roots, ["templates", "../ui/templates"]);
    assert_eq!(cache.templates["layouts/base.html"].root, 1);
    assert!(cache.missing.is_empty(), "{:?}", cache.missing);
    assert_eq!(
        cache.globals,
        ["site_name"],
        "from [workspace.metadata.shipwright]"
    );
    assert_eq!(
        cache.relative_path("layouts/base.html").unwrap(),
        "../ui/templates/layouts/base.html",
        "relative to the manifest directory, never absolute"
    );

    // What build.rs says wins, key by key.
    let cache = build(Builder::new().root("templates").globals(["x"]));
    assert_eq!(cache.roots, ["templates"]);
    assert_eq!(cache.missing[0].name, "layouts/base.html");
    assert_eq!(cache.globals, ["x"]);
    let cache = build(Builder::new().read_cargo_metadata(false));
    assert_eq!((cache.roots.len(), cache.globals.len()), (1, 0));
}

#[test]
fn a_bad_shipwright_table_is_an_error_naming_the_manifest() {
    let dir = workspace("[package.metadata.shipwright]\nroot = [\"templates\"]\n");
    let app = dir.path().join("app");
    let err = Builder::new()
        .manifest_dir(&app)
        .out_dir(dir.path().join("out"))
        .cargo_directives(false)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("app/Cargo.toml: [package.metadata.shipwright]"),
        "{err}"
    );
    assert!(err.contains("unknown field `root`"), "{err}");

    let dir = workspace("[package.metadata.shipwright]\nroots = [{ package = \"uii\" }]\n");
    let err = Builder::new()
        .manifest_dir(dir.path().join("app"))
        .out_dir(dir.path().join("out"))
        .cargo_directives(false)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no workspace member named \"uii\""), "{err}");
    assert!(err.contains("members: app, ui"), "{err}");
}

// ---- the file rule (issue 13): loops, diamonds, special files ----

/// Runs `f` on a thread of its own and gives its answer, or fails if there is none within 30 s
/// (a walk that never ends must fail the test, not hang it; the thread is then left behind).
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = send.send(f());
    });
    match receive.recv_timeout(std::time::Duration::from_secs(30)) {
        Ok(answer) => answer,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(thread.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: no answer in 30 s"),
    }
}

#[cfg(unix)]
fn names_and_dirs(scanned: &Scanned) -> (Vec<String>, Vec<String>) {
    (
        scanned.cache.templates.keys().cloned().collect(),
        scanned.dirs.iter().map(|d| d.name.clone()).collect(),
    )
}

/// Bug 3: `a/l1 -> ../b`, `a/l2 -> ../b`, `b/m1 -> ../a`, `b/m2 -> ../a` made the scan never
/// end (716 MB after 60 s), and one link each way recorded 82 phantom templates such as
/// `a/l/m/l/…/x.html`. Every directory is walked once, under the first name the breadth-first
/// walk finds for it: here its own.
#[cfg(unix)]
#[test]
fn bug3_symlink_cycles_and_diamonds_list_each_directory_once() {
    use std::os::unix::fs::symlink;
    let outer = tempfile::tempdir().unwrap();
    let both = outer.path().join("both");
    write(&both, "a/x.html", "x");
    write(&both, "b/y.html", "y");
    for link in ["a/l1", "a/l2"] {
        symlink("../b", both.join(link)).unwrap();
    }
    for link in ["b/m1", "b/m2"] {
        symlink("../a", both.join(link)).unwrap();
    }
    let scanned = within("two links each way", move || scan_dir(&both));
    assert_eq!(
        names_and_dirs(&scanned),
        (
            vec!["a/x.html".to_string(), "b/y.html".into()],
            vec!["".to_string(), "a".into(), "b".into()]
        ),
        "each file once, each directory read once"
    );
    let w = warnings(&scanned);
    assert!(
        w.contains(
            &"templates/a/l1: symbolic link to a directory already listed as `b`; not followed"
                .to_string()
        ),
        "{w:?}"
    );
    assert_eq!(w.len(), 4, "one report per link: {w:?}");

    let one = outer.path().join("one");
    write(&one, "a/x.html", "x");
    write(&one, "b/y.html", "y");
    symlink("../b", one.join("a/l")).unwrap();
    symlink("../a", one.join("b/m")).unwrap();
    let scanned = within("one link each way", move || scan_dir(&one));
    assert_eq!(
        names_and_dirs(&scanned).0,
        ["a/x.html", "b/y.html"],
        "no phantom a/l/m/…"
    );

    // Work, counted: a chain of 24 directories, each with two links to the next (2^24 paths
    // to the last one), is 24 directories read and 24 files listed.
    let chain = outer.path().join("chain");
    for i in 0..24 {
        write(&chain, &format!("d{i:02}/f.html"), "f");
    }
    for i in 0..23 {
        for link in ["p", "q"] {
            symlink(
                format!("../d{:02}", i + 1),
                chain.join(format!("d{i:02}/{link}")),
            )
            .unwrap();
        }
    }
    let scanned = within("a chain of diamonds", move || scan_dir(&chain));
    let (names, dirs) = names_and_dirs(&scanned);
    assert_eq!(names.len(), 24, "{names:?}");
    assert_eq!(dirs.len(), 25, "the root and 24 directories, each once");
    assert!(
        names.iter().all(|n| n.len() == "d00/f.html".len()),
        "{names:?}"
    );
}

/// Special files named like templates are skipped with a warning and never opened (a FIFO
/// would block the open for ever).
#[cfg(unix)]
#[test]
fn fifos_and_sockets_named_like_templates_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("templates");
    write(&root, "partials/nav.html", "nav");
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("partials/fifo.html"))
        .status()
        .unwrap();
    assert!(made.success());
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock.html")).unwrap();
    let scanned = within("a scan beside a FIFO", move || {
        let scanned = scan_dir(&root);
        (
            scanned.cache.templates.keys().cloned().collect::<Vec<_>>(),
            warnings(&scanned),
        )
    });
    assert_eq!(scanned.0, ["partials/nav.html"]);
    assert_eq!(
        scanned.1,
        [
            "templates/partials/fifo.html: not a regular file (a FIFO); skipped",
            "templates/sock.html: not a regular file (a socket); skipped",
        ]
    );
}

#[test]
fn every_build_keeps_a_copy_of_the_build_cache_under_the_target_directory() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    fs::create_dir_all(&target).unwrap();
    fs::write(
        target.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55",
    )
    .unwrap();
    write(&dir.path().join("templates"), "a.html", "<p>{{ a }}</p>");
    let copy = target.join("shipwright/app/build-cache.json");
    // A cross build's OUT_DIR has the target triple between the target directory and the
    // profile.
    for out_dir in [
        target.join("debug/build/app-0123abcd/out"),
        target.join("x86_64-unknown-linux-gnu/release/build/app-4567/out"),
    ] {
        let _ = fs::remove_file(&copy);
        let build = || {
            Builder::new()
                .manifest_dir(dir.path())
                .out_dir(&out_dir)
                .package("app")
                .cargo_directives(false)
                .build()
                .unwrap()
        };
        let built = build();
        assert_eq!(fs::read(&copy).unwrap(), fs::read(&built.path).unwrap());
        // Replaced by another run (another profile, an editor's check): written again, though
        // nothing changed for this build.
        fs::write(&copy, "{}").unwrap();
        past_racy_window();
        let again = build();
        assert_eq!(again.analysed, 0, "nothing changed for this build");
        assert_eq!(fs::read(&copy).unwrap(), fs::read(&built.path).unwrap());
        // An edit: the copy follows.
        past_racy_window();
        write(&dir.path().join("templates"), "a.html", "<p>{{ b }}</p>");
        let edited = build();
        assert!(edited.changed);
        let cache = BuildCache::load(&copy).unwrap();
        assert_eq!(cache.templates["a.html"].vars, ["b"]);
        write(&dir.path().join("templates"), "a.html", "<p>{{ a }}</p>");
        past_racy_window();
    }
    // Without the build-script layout, or turned off: no copy, no error.
    fs::remove_dir_all(target.join("shipwright")).unwrap();
    builder(dir.path()).package("app").build().unwrap();
    Builder::new()
        .manifest_dir(dir.path())
        .out_dir(target.join("debug/build/app-0123abcd/out"))
        .package("app")
        .keep_copy(false)
        .cargo_directives(false)
        .build()
        .unwrap();
    assert!(!target.join("shipwright").exists());
}
