//! The README's "Use it in your app" snippets are this example's code (and the workspace's
//! manifest): each block after a `<!-- from FILE -->` or `<!-- from FILE: PART -->` marker must
//! equal that file, or the lines between `// README: PART` and `// README: end` in it (`#` for
//! `# README: …` in a TOML file; indentation removed). The example is built and tested, so the
//! README's code compiles.

use std::path::Path;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
}

/// The lines of `text` between the markers of `part` (comments that open with `comment`),
/// with their common indentation removed.
fn part(text: &str, part: &str, comment: &str) -> String {
    let start = format!("{comment} README: {part}");
    let end = format!("{comment} README: end");
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim() != start)
        .skip(1)
        .take_while(|l| l.trim() != end)
        .collect();
    assert!(!lines.is_empty(), "no `{start}` … `{end}` in the file");
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_shows_this_example_as_it_is() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let mut checked = 0;
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("<!-- from ") {
        rest = &rest[at + "<!-- from ".len()..];
        let marker = &rest[..rest.find(" -->").unwrap()];
        let block = rest
            .split_once("```")
            .and_then(|(_, b)| b.split_once('\n'))
            .and_then(|(_, b)| b.split_once("\n```"))
            .map(|(b, _)| b)
            .unwrap_or_else(|| panic!("no code block after <!-- from {marker} -->"));
        let (file, which) = match marker.split_once(": ") {
            Some((file, which)) => (file, Some(which)),
            None => (marker, None),
        };
        let text = std::fs::read_to_string(workspace().join(file)).unwrap();
        let comment = if file.ends_with(".toml") { "#" } else { "//" };
        let expected = match which {
            Some(which) => part(&text, which, comment),
            None => text.trim_end().to_string(),
        };
        assert_eq!(block, expected, "README block from {marker}");
        checked += 1;
    }
    assert_eq!(checked, 4, "the README's four snippets of the example");
}
