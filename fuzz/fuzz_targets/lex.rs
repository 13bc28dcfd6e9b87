//! The lexer, the reference and variable passes, the analysis and the record, on any text.
//!
//! Invariants: nothing panics; the parts tile the text and every token lies inside its part;
//! every line reported (an error's, a reference's, a variable's, a dependency's) is within the
//! file's lines and is the line of the offset it names, when it names one; the analysis agrees
//! with the passes it is made of.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shipwright_core::analyze::{analyze, content_hash, record};
use shipwright_core::lex::refs::{Target, references};
use shipwright_core::lex::vars::root_variables;
use shipwright_core::lex::{Part, lex, line_of};

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    let src = src.as_ref();
    let lines = src.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    let in_file = |line: u32| (1..=lines).contains(&line);

    let lexed = match lex(src) {
        Ok(lexed) => lexed,
        Err(e) => {
            assert!(e.offset <= src.len(), "{e:?}");
            assert_eq!(e.line, line_of(src, e.offset), "{e:?}");
            assert!(in_file(e.line), "{e:?}");
            let (record, error) = record("fuzz.html", 0, src);
            assert_eq!(
                error.expect("a text that does not lex has an error").line,
                e.line
            );
            assert!(record.deps.is_empty() && record.dynamic.is_empty() && record.vars.is_empty());
            assert!(analyze(src).is_err());
            return;
        }
    };
    let mut at = 0;
    for part in &lexed.parts {
        match part {
            Part::Text { text, start } => {
                assert_eq!(*start, at);
                assert_eq!(&src[*start..*start + text.len()], *text);
                at += text.len();
            }
            Part::Comment(d) | Part::Expr(d) | Part::Tag(d) => {
                assert_eq!(d.start, at);
                assert!(d.end > d.start && d.end <= src.len());
                for token in lexed.tokens(d) {
                    assert!(
                        token.start >= d.start && token.end() <= d.end,
                        "{token:?} {d:?}"
                    );
                    assert_eq!(&src[token.start..token.end()], token.text);
                }
                at = d.end;
            }
        }
    }
    assert_eq!(at, src.len(), "the parts cover the text");

    let vars = root_variables(src, &lexed);
    assert!(vars.iter().all(|v| in_file(v.line)), "{vars:?}");
    let (record, error) = record("fuzz.html", 0, src);
    assert_eq!(record.size, src.len() as u64);
    assert_eq!(record.hash, content_hash(src.as_bytes()));
    match references(src, &lexed) {
        Ok(found) => {
            assert!(found.iter().all(|r| in_file(r.line)), "{found:?}");
            assert!(error.is_none(), "{error:?}");
            let analysis = analyze(src).expect("lexes, and its references are found");
            assert_eq!(analysis.references, found);
            let statics = found
                .iter()
                .filter(|r| matches!(r.target, Target::Static(_)));
            let dynamics = found
                .iter()
                .filter(|r| matches!(r.target, Target::Dynamic(_)));
            assert_eq!(analysis.dynamic.len(), dynamics.count());
            let mut names: Vec<&str> = analysis.deps.iter().map(|d| d.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), analysis.deps.len(), "deps are unique");
            assert!(analysis.deps.len() <= statics.count());
            // Each dependency carries the line of its first appearance.
            for dep in &analysis.deps {
                let first = found
                    .iter()
                    .find(|r| r.target == Target::Static(dep.name.clone()))
                    .expect("a dependency is a static reference");
                assert_eq!(dep.line, first.line, "{dep:?}");
            }
            assert_eq!(analysis.vars, vars);
            assert_eq!(record.deps, analysis.deps);
            assert_eq!(record.dynamic, analysis.dynamic);
            assert!(record.dynamic.iter().all(|d| in_file(d.line)));
        }
        Err(e) => {
            assert!(in_file(e.line), "{e:?}");
            assert_eq!(e.line, line_of(src, e.offset), "{e:?}");
            assert_eq!(error.expect("the record has the error").line, e.line);
        }
    }
});
