use super::refs::{RefKind, Target, references};
use super::vars::root_variables;
use super::*;

fn kinds(src: &str) -> Vec<&'static str> {
    lex(src)
        .unwrap()
        .parts
        .iter()
        .map(|p| match p {
            Part::Text { .. } => "text",
            Part::Comment(_) => "comment",
            Part::Expr(_) => "expr",
            Part::Tag(_) => "tag",
        })
        .collect()
}

fn token_texts(src: &str, index: usize) -> Vec<String> {
    let lexed = lex(src).unwrap();
    let (Part::Expr(d) | Part::Tag(d) | Part::Comment(d)) = &lexed.parts[index] else {
        panic!("text part")
    };
    lexed.tokens(d).iter().map(|t| t.text.to_string()).collect()
}

fn refs(src: &str) -> Vec<Target> {
    references(src, &lex(src).unwrap())
        .unwrap()
        .into_iter()
        .map(|r| r.target)
        .collect()
}

fn st(name: &str) -> Target {
    Target::Static(name.into())
}

fn dy(expr: &str) -> Target {
    Target::Dynamic(expr.into())
}

fn err(src: &str) -> LexError {
    lex(src).unwrap_err()
}

#[test]
fn plain_text_and_lone_braces() {
    assert_eq!(kinds(""), Vec::<&str>::new());
    assert_eq!(kinds("just text { not a tag } {x}"), ["text"]);
    assert_eq!(kinds("a{"), ["text"]);
}

#[test]
fn expressions_tags_and_comments() {
    assert_eq!(
        kinds("a{{ b }}c{% if d %}e{# f #}"),
        ["text", "expr", "text", "tag", "text", "comment"]
    );
    assert_eq!(
        token_texts("{{ user.name|default('x', 2.5) }}", 0),
        [
            "user", ".", "name", "|", "default", "(", "'x'", ",", "2.5", ")"
        ]
    );
}

#[test]
fn operators_take_two_characters_first() {
    assert_eq!(
        token_texts("{{ a // b ** c == d != e >= f <= g }}", 0),
        [
            "a", "//", "b", "**", "c", "==", "d", "!=", "e", ">=", "f", "<=", "g"
        ]
    );
    assert_eq!(token_texts("{% set x=1 %}", 0), ["set", "x", "=", "1"]);
}

#[test]
fn numbers() {
    assert_eq!(
        token_texts("{{ 1_000 + 0x1F + 1.5e-3 + 2e10 }}", 0),
        ["1_000", "+", "0x1F", "+", "1.5e-3", "+", "2e10"]
    );
    // After a dot a number is an index, never a fraction.
    assert_eq!(
        token_texts("{{ items.0.name }}", 0),
        ["items", ".", "0", ".", "name"]
    );
}

#[test]
fn strings_in_both_quotes_with_escapes() {
    assert_eq!(
        token_texts(r#"{{ 'it\'s' ~ "say \"hi\"" }}"#, 0),
        [r"'it\'s'", "~", r#""say \"hi\"""#]
    );
    assert_eq!(unquote(r"'it\'s'"), "it's");
    assert_eq!(unquote(r#""a\\b\n\t\x41\u00e9""#), "a\\b\n\tAé");
    assert_eq!(unquote(r"'\q'"), r"\q");
    // A delimiter inside a string does not end the tag.
    assert_eq!(kinds("{{ '}}' }}x"), ["expr", "text"]);
    assert_eq!(kinds("{% set a = '%}' %}x"), ["tag", "text"]);
}

#[test]
fn brackets_balance_so_braces_inside_do_not_end_an_expression() {
    assert_eq!(kinds("{{ {'a': {'b': 1}} }}x"), ["expr", "text"]);
    assert_eq!(
        token_texts("{{ {'a': {'b': 1}} }}", 0),
        ["{", "'a'", ":", "{", "'b'", ":", "1", "}", "}"]
    );
}

/// The whitespace-control signs of every expression, tag and comment.
fn signs(src: &str) -> Vec<(u8, u8)> {
    lex(src)
        .unwrap()
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Expr(d) | Part::Tag(d) | Part::Comment(d) => Some((d.open_trim, d.close_trim)),
            Part::Text { .. } => None,
        })
        .collect()
}

#[test]
fn whitespace_control_on_every_delimiter() {
    assert_eq!(
        signs("a {%- if x -%} b {{+ y +}} c {#- z -#} d {%+ endif %}"),
        [(b'-', b'-'), (b'+', b'+'), (b'-', b'-'), (b'+', 0)]
    );
    assert_eq!(token_texts("{%- if x -%}", 0), ["if", "x"]);
    // askama's `~` (minimize) is a sign too: the tag's keyword comes first.
    assert_eq!(
        signs("{%~ if let Some(x) = y ~%}{#~ z ~#}{{~ x ~}}"),
        [(b'~', b'~'); 3]
    );
    assert_eq!(
        token_texts("{%~ if let Some(x) = y ~%}", 0)[..2],
        ["if", "let"]
    );
    // A minus before the delimiter with a space in between is an operator, not a trim sign.
    assert_eq!(token_texts("{{ a - 1 }}", 0), ["a", "-", "1"]);
}

#[test]
fn comments_hide_tags() {
    assert_eq!(kinds("{# {% include 'x.html' %} #}"), ["comment"]);
    assert!(refs("{# {% include 'x.html' %} #}{#- multi\nline -#}").is_empty());
}

#[test]
fn raw_blocks_are_literal_text() {
    let src = "{% raw %}{% include 'no.html' %}{{ x }}{% endraw %}{% include 'yes.html' %}";
    assert_eq!(kinds(src), ["tag", "text", "tag", "tag"]);
    assert_eq!(refs(src), [st("yes.html")]);
    let src = "{%- raw -%} {% endraw x %} {%+endraw-%}after";
    assert_eq!(kinds(src), ["tag", "text", "tag", "text"]);
    let lexed = lex(src).unwrap();
    assert!(matches!(
        lexed.parts[1],
        Part::Text {
            text: " {% endraw x %} ",
            ..
        }
    ));
}

#[test]
fn unterminated_things_name_their_line() {
    let e = err("line1\n\n{{ oops");
    assert_eq!((e.line, e.offset), (3, 7));
    assert!(e.message.contains("unterminated expression"), "{e}");
    assert!(err("{% if").message.contains("unterminated tag"));
    let e = err("a\n{# never closed");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("unterminated comment"));
    let e = err("x\ny\n{{ 'abc }}");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("unterminated string"), "{e}");
    assert!(
        err(r#"{{ "abc\" }}"#)
            .message
            .contains("unterminated string")
    );
    assert!(
        err("{% raw %}body")
            .message
            .contains("unterminated raw block")
    );
    assert!(err("{{ a) }}").message.contains("unexpected `)`"));
    assert_eq!(err("ok\n{{ (a }}").line, 2);
}

#[test]
fn lines_count_forward() {
    let src = "a\nb\nc";
    let mut lines = Lines::default();
    assert_eq!(lines.line(src, 0), 1);
    assert_eq!(lines.line(src, 2), 2);
    assert_eq!(lines.line(src, 4), 3);
    assert_eq!(lines.line(src, 1), 1);
    assert_eq!(line_of(src, 99), 3);
}

#[test]
fn extends_include_import_from() {
    let src = "{% extends \"base.html\" %}{% include 'a.html' %}{% import 'm.html' as m %}\
               {% from 'f.html' import x, y as z with context %}";
    let found = references(src, &lex(src).unwrap()).unwrap();
    let kinds: Vec<RefKind> = found.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            RefKind::Extends,
            RefKind::Include,
            RefKind::Import,
            RefKind::FromImport
        ]
    );
    assert_eq!(
        refs(src),
        [st("base.html"), st("a.html"), st("m.html"), st("f.html")]
    );
}

#[test]
fn include_modifiers_are_not_part_of_the_name() {
    assert_eq!(refs("{% include 'a' ignore missing %}"), [st("a")]);
    assert_eq!(refs("{% include 'a' with context %}"), [st("a")]);
    assert_eq!(refs("{% include 'a' without context %}"), [st("a")]);
    assert_eq!(
        refs("{% include 'a' ignore missing with context %}"),
        [st("a")]
    );
    assert_eq!(refs("{% import 'm' as m without context %}"), [st("m")]);
}

#[test]
fn lists_and_tuples_of_names() {
    assert_eq!(refs("{% include ['a', \"b\"] %}"), [st("a"), st("b")]);
    assert_eq!(refs("{% include ('a', 'b',) %}"), [st("a"), st("b")]);
    assert_eq!(refs("{% include ('a',) %}"), [st("a")]);
    assert_eq!(
        refs("{% include ['a', name, 3, none] %}"),
        [st("a"), dy("name")]
    );
    assert_eq!(refs("{% include [] %}"), []);
    assert_eq!(refs("{% include [['a']] %}"), [dy("['a']")]);
}

#[test]
fn static_names_joined_and_grouped() {
    assert_eq!(refs("{% include 'a' 'b.html' %}"), [st("ab.html")]);
    assert_eq!(refs("{% include (('a.html')) %}"), [st("a.html")]);
    assert_eq!(
        refs("{% include 'd\\u00e9j\\u00e0.html' %}"),
        [st("déjà.html")]
    );
}

#[test]
fn dynamic_references() {
    assert_eq!(
        refs("{% include 'icons/' ~ name %}"),
        [dy("'icons/' ~ name")]
    );
    assert_eq!(refs("{% extends layout %}"), [dy("layout")]);
    assert_eq!(refs("{% include 'a' + 'b' %}"), [dy("'a' + 'b'")]);
    assert_eq!(
        refs("{% extends 'a' if x else 'b' %}"),
        [dy("'a' if x else 'b'")]
    );
    assert_eq!(refs("{% include 42 %}"), [dy("42")]);
    assert_eq!(refs("{% include none %}"), [dy("none")]);
    assert_eq!(refs("{% include 'a'|lower %}"), [dy("'a'|lower")]);
    assert_eq!(
        refs("{% import theme ~ '/m.html' as m %}"),
        [dy("theme ~ '/m.html'")]
    );
    assert_eq!(refs("{% from x import y %}"), [dy("x")]);
}

#[test]
fn references_in_branches_macros_and_blocks_count() {
    let src = "{% if false %}{% include 'dead.html' %}{% endif %}\
               {% macro m() %}{% include 'in-macro.html' %}{% endmacro %}\
               {% block b %}{% extends 'in-block.html' %}{% endblock %}";
    assert_eq!(
        refs(src),
        [st("dead.html"), st("in-macro.html"), st("in-block.html")]
    );
}

#[test]
fn other_tags_are_not_references() {
    assert!(
        refs("{% set include = 'x' %}{{ include }}{% for x in extends %}{% endfor %}").is_empty()
    );
    assert!(refs("{{ 'include \"a\"' }}").is_empty());
}

#[test]
fn a_reference_without_a_name_is_an_error() {
    let src = "\n{% include %}";
    let e = references(src, &lex(src).unwrap()).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("`include` needs a template name"));
}

#[test]
fn reference_lines() {
    let src = "a\n{% include 'x' %}\n\n{% include y %}";
    let lines: Vec<u32> = references(src, &lex(src).unwrap())
        .unwrap()
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [2, 4]);
}

fn vars(src: &str) -> Vec<String> {
    root_variables(src, &lex(src).unwrap())
        .into_iter()
        .map(|var| var.name)
        .collect()
}

#[test]
fn root_variables_skip_attributes_filters_tests_and_kwargs() {
    assert_eq!(
        vars("{{ user.name|default(fallback, boolean=true) }}"),
        ["fallback", "user"]
    );
    assert_eq!(
        vars("{% if x is divisibleby(3) and y is not none %}{% endif %}"),
        ["x", "y"]
    );
    assert_eq!(vars("{{ range(n) }}{{ loop }}{{ super() }}"), ["n"]);
    assert_eq!(vars("{{ f(a=b) }}"), ["b", "f"]);
}

#[test]
fn root_variables_defined_by_the_template_are_not_needed() {
    assert_eq!(
        vars("{% for k, v in pairs if v %}{{ k }}{{ v }}{% endfor %}"),
        ["pairs"]
    );
    assert_eq!(vars("{% set a, b = c %}{{ a }}{{ b }}"), ["c"]);
    assert_eq!(
        vars("{% set body %}x{% endset %}{{ body }}"),
        Vec::<String>::new()
    );
    assert_eq!(vars("{% set ns.count = 1 %}"), ["ns"]);
    assert_eq!(
        vars("{% macro card(title, size=default_size) %}{{ title }}{% endmacro %}{{ card(t) }}"),
        ["default_size", "t"]
    );
    assert_eq!(
        vars("{% call(item) grid(items) %}{{ item }}{% endcall %}"),
        ["grid", "items"]
    );
    assert_eq!(
        vars(
            "{% import 'm.html' as m %}{% from 'f.html' import a, b as c %}{{ m.x }}{{ a }}{{ c }}"
        ),
        Vec::<String>::new()
    );
    assert_eq!(vars("{% with a = b %}{{ a }}{% endwith %}"), ["b"]);
    assert_eq!(vars("{% filter upper %}{{ x }}{% endfilter %}"), ["x"]);
    assert_eq!(
        vars("{% block content %}{{ y }}{% endblock content %}"),
        ["y"]
    );
    assert_eq!(
        vars("{% include 'a' ~ theme ignore missing with context %}"),
        ["theme"]
    );
}

// The cases below were found by the differential test against Jinja2
// (tests/jinja2_differential.rs); each expected value is Jinja2's own answer.

#[test]
fn string_escapes_resolve_as_in_jinja2() {
    // Octal escapes take one to three digits.
    assert_eq!(unquote(r"'\101\0\1234'"), "A\0S4");
    // Line breaks in a string become `\n`; a backslash before a line break drops both.
    assert_eq!(unquote("'a\r\nb\rc'"), "a\nb\nc");
    assert_eq!(unquote("'a\\\r\nb'"), "ab");
    assert_eq!(
        refs("{% include 'partials/\\\r\nnav.html' %}"),
        [st("partials/nav.html")]
    );
    // Jinja2 writes non-ASCII characters as escapes before resolving them, so a backslash
    // right before one escapes the backslash of that escape.
    assert_eq!(unquote(r"'\é\☃'"), r"\xe9\u2603");
    assert_eq!(unquote("'\\\u{1f600}'"), r"\U0001f600");
    assert_eq!(unquote(r"'\\é'"), r"\é");
}

#[test]
fn python_blanks_separate_tokens() {
    // Jinja2 skips what Python's `\s` matches: `\v`, `\x1c`..`\x1f` and Unicode's blanks.
    assert_eq!(token_texts("{% include\u{a0}'a' %}", 0), ["include", "'a'"]);
    assert_eq!(refs("{%\x0binclude\u{3000}'a'\x1c%}"), [st("a")]);
    // Non-ASCII letters still belong to names.
    assert_eq!(token_texts("{{ déjà }}", 0), ["déjà"]);
    let src = "{% raw %}x{%\u{a0}endraw\x0b%}{% include 'b' %}";
    assert_eq!(kinds(src), ["tag", "text", "tag", "tag"]);
    assert_eq!(refs(src), [st("b")]);
}

#[test]
fn keyword_like_names_around_import() {
    // The alias of `import … as` is the last name, even when it is `as`.
    assert_eq!(refs("{% import 'a' as as %}"), [st("a")]);
    assert_eq!(refs("{% import 'a' as as with context %}"), [st("a")]);
    assert_eq!(refs("{% import as as m %}"), [dy("as")]);
    // The keyword `import` of `from` is the first one that can follow a whole expression.
    assert_eq!(refs("{% from import import x %}"), [dy("import")]);
    assert_eq!(refs("{% from x.import import y %}"), [dy("x.import")]);
    assert_eq!(refs("{% from x|import import y %}"), [dy("x|import")]);
    assert_eq!(refs("{% from not import import y %}"), [dy("not import")]);
    assert_eq!(refs("{% from 'a' import import, as as c %}"), [st("a")]);
}

/// The tokens the reference passes look at for `{% include ((…'a.html'…)) %}` at `depth`.
fn work_of_nested_name(depth: usize) -> u64 {
    let src = format!(
        "{{% include {}'a.html'{} %}}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let lexed = lex(&src).unwrap();
    work::take();
    let found = references(&src, &lexed).unwrap();
    let steps = work::take();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].target, st("a.html"));
    steps
}

#[test]
fn nested_parentheses_in_a_name_take_linear_work() {
    // Each level used to scan the whole name again: 4x the work for twice the depth.
    let (n, double) = (work_of_nested_name(2_000), work_of_nested_name(4_000));
    assert!(
        double <= 2 * n + 64,
        "twice the depth, {double} steps against {n}: not linear"
    );
    // A few looks per token at most (2 * depth + 1 tokens in the name).
    assert!(n <= 4 * 4_001, "{n} steps for 4001 tokens");
    // The reported case: 100,000 levels, a 200 KB template (it took 20-28 s to scan).
    assert!(work_of_nested_name(100_000) <= 4 * 200_001);
}

#[test]
fn django_include_options_are_not_part_of_the_name() {
    // Django: `include NAME [with k=v …] [only]`, the two options in either order.
    assert_eq!(
        refs("{% include \"x.html\" with a=b only %}"),
        [st("x.html")]
    );
    assert_eq!(refs("{% include \"x.html\" only %}"), [st("x.html")]);
    assert_eq!(refs("{% include 'x.html' only with a=b %}"), [st("x.html")]);
    assert_eq!(
        refs("{% include 'x.html' with a=b c=d.e|default:\"z\" f='only' g=only %}"),
        [st("x.html")]
    );
    assert_eq!(
        refs("{%- include 'x.html' with a=b.c only -%}"),
        [st("x.html")]
    );
    assert_eq!(refs("{% include name with a=b only %}"), [dy("name")]);
    assert_eq!(refs("{% include t|lower with a=b %}"), [dy("t|lower")]);
    // Not options: a name in the expression, or words that do not make an option list.
    assert_eq!(refs("{% include only %}"), [dy("only")]);
    assert_eq!(refs("{% include with %}"), [dy("with")]);
    assert_eq!(refs("{% include x.only %}"), [dy("x.only")]);
    assert_eq!(refs("{% include x|with %}"), [dy("x|with")]);
    assert_eq!(refs("{% include 'a' ~ only %}"), [dy("'a' ~ only")]);
    assert_eq!(refs("{% include 'a' with %}"), [dy("'a' with")]);
    assert_eq!(refs("{% include 'a' with b %}"), [dy("'a' with b")]);
    assert_eq!(refs("{% include 'a' only only %}"), [dy("'a' only only")]);
    assert_eq!(
        refs("{% include 'a' with b=c with d=e %}"),
        [dy("'a' with b=c with d=e")]
    );
    assert_eq!(refs("{% include ('a' only) %}"), [dy("'a' only")]);
    // `extends` takes no options.
    assert_eq!(refs("{% extends 'a' only %}"), [dy("'a' only")]);
}

#[test]
fn jinja_include_modifiers_in_double_quotes() {
    assert_eq!(
        refs("{% include \"x.html\" ignore missing with context %}"),
        [st("x.html")]
    );
    assert_eq!(
        refs("{% include \"x.html\" ignore missing without context %}"),
        [st("x.html")]
    );
    assert_eq!(
        refs("{% include \"x.html\" without context %}"),
        [st("x.html")]
    );
    assert_eq!(
        refs("{%- include [\"x.html\", 'y.html'] ignore missing with context +%}"),
        [st("x.html"), st("y.html")]
    );
}
