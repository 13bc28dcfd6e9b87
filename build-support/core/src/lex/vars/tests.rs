//! The rules, each from a small template. Unless a test says otherwise, the expected names are
//! Jinja2's own answer (`jinja2.meta.find_undeclared_variables`, Jinja2 3.1.6), and where a
//! runtime behaviour is claimed it was checked by rendering with Jinja2.

use super::*;
use crate::lex::{lex, work};

fn reads(src: &str) -> Vec<String> {
    names(&variables(src, &lex(src).unwrap()).reads)
}

/// The names left out of the reads for `why`.
fn not_needed(src: &str, why: NotNeeded) -> Vec<String> {
    variables(src, &lex(src).unwrap())
        .not_needed
        .into_iter()
        .filter(|(_, w)| *w == why)
        .map(|(v, _)| v.name)
        .collect()
}

fn optional(src: &str) -> Vec<String> {
    not_needed(src, NotNeeded::Optional)
}

fn provided(src: &str) -> Vec<String> {
    not_needed(src, NotNeeded::OwnTopLevel)
}

fn names(vars: &[Var]) -> Vec<String> {
    vars.iter().map(|v| v.name.clone()).collect()
}

/// The names defined at each reference tag, in order.
fn scopes(src: &str) -> Vec<Vec<String>> {
    variables(src, &lex(src).unwrap())
        .scopes
        .into_iter()
        .map(|s| s.names)
        .collect()
}

const NONE: [&str; 0] = [];

#[test]
fn trans_modifiers_and_declared_names_are_not_variables() {
    assert_eq!(
        reads("{% trans trimmed %}hi {{ user }}{% endtrans %}"),
        ["user"]
    );
    assert_eq!(reads("{% trans notrimmed %}hi{% endtrans %}"), NONE);
    assert_eq!(
        reads("{% trans count=n %}one {{ count }}{% pluralize %}{{ count }} many{% endtrans %}"),
        ["n"]
    );
    assert_eq!(
        reads("{% trans trimmed count=list|length %}{{ count }}{% pluralize %}x{% endtrans %}"),
        ["list"]
    );
    assert_eq!(
        reads("{% trans n %}one{% pluralize %}{{ n }} many{% endtrans %}"),
        ["n"]
    );
    assert_eq!(
        reads("{% trans u=user.name %}{{ u }}{% endtrans %}"),
        ["user"]
    );
    assert_eq!(
        reads("{% trans trimmed user %}{{ user }}{% endtrans %}"),
        ["user"]
    );
    assert_eq!(
        reads("{% trans %}{{ a }}{% pluralize b %}{{ a }}{% endtrans %}{{ count }}"),
        ["a", "b", "count"]
    );
    // pydata-sphinx-theme's footer: two declared names, one a string.
    assert_eq!(
        reads(
            "{% trans trimmed theme_version=theme_version|e, PST_url=\"https://x\" %}\n\
             <a href=\"{{ PST_url }}\">x</a> {{ theme_version }}.{% endtrans %}"
        ),
        ["theme_version"]
    );
    // The declared names end with the block.
    assert_eq!(reads("{% trans a=1 %}{{ a }}{% endtrans %}{{ a }}"), ["a"]);
}

#[test]
fn parenthesised_tuple_targets_are_definitions() {
    assert_eq!(reads("{% set (a, b, c) = t %}{{ a }}{{ b }}{{ c }}"), ["t"]);
    assert_eq!(reads("{% set a, (b, c) = t %}{{ a }}{{ c }}"), ["t"]);
    assert_eq!(
        reads("{% for (a, b) in c %}{{ a }}{{ b }}{% endfor %}"),
        ["c"]
    );
}

#[test]
fn a_read_before_the_definition_reads_the_context() {
    assert_eq!(reads("{{ x }}{% set x = 1 %}{{ x }}"), ["x"]);
    assert_eq!(
        reads("{% set copyright = copyright|e %}{{ copyright }}"),
        ["copyright"]
    );
    assert_eq!(reads("{% set x = 1 %}{{ x }}"), NONE);
    // The line is the read's, not the definition's.
    let src = "{% set y = 1 %}\n{{ x }}\n{% set x = y %}";
    assert_eq!(variables(src, &lex(src).unwrap()).reads[0].line, 2);
    // In a loop the same holds for the loop's own assignments.
    assert_eq!(
        reads("{% for i in xs %}{{ x }}{% set x = 1 %}{% endfor %}"),
        ["x", "xs"]
    );
}

#[test]
fn nested_scopes_see_the_outer_assignments_anywhere() {
    // Jinja2 binds these to the outer variable, undefined until the `set` runs (rendered with a
    // context `y`, the loop prints nothing): not a context read.
    assert_eq!(
        reads("{% for i in xs %}{{ y }}{% endfor %}{% set y = 1 %}"),
        ["xs"]
    );
    assert_eq!(
        reads("{% macro m() %}{{ x }}{% endmacro %}{% set x = 1 %}"),
        NONE
    );
    assert_eq!(
        reads("{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}"),
        NONE
    );
    assert_eq!(
        reads("{% for a in b %}{% for c in a %}{{ d }}{% endfor %}{% set d = 1 %}{% endfor %}"),
        ["b"]
    );
    // The block body of a `set` sees the name it assigns.
    assert_eq!(reads("{% set x %}{{ x }}{% endset %}{{ x }}"), NONE);
}

#[test]
fn loop_and_block_scopes_end() {
    assert_eq!(
        reads("{% for slug, url in versions %}{{ slug }}{% endfor %}{{ slug }}"),
        ["slug", "versions"]
    );
    assert_eq!(
        reads("{% for a in b %}{% set c = 1 %}{% endfor %}{{ c }}"),
        ["b", "c"]
    );
    assert_eq!(
        reads("{% for x in xs if x.ok %}{{ x }}{% else %}{{ x }}{% endfor %}"),
        ["x", "xs"]
    );
    assert_eq!(
        reads("{% for x in xs recursive %}{{ loop(x.children) }}{% endfor %}"),
        ["xs"]
    );
    assert_eq!(
        reads("{% macro m(x) %}{{ x }}{{ y }}{% endmacro %}{{ x }}"),
        ["x", "y"]
    );
    assert_eq!(reads("{% macro m(a=b) %}{{ a }}{% endmacro %}"), ["b"]);
    assert_eq!(reads("{% macro m(a, b=a) %}{% endmacro %}"), NONE);
    assert_eq!(
        reads("{% call(x) m() %}{{ x }}{% endcall %}{{ x }}"),
        ["m", "x"]
    );
    assert_eq!(
        reads("{% set q = 1 %}{% call m(q) %}{{ q }}{% endcall %}"),
        ["m"]
    );
    assert_eq!(reads("{% with a = 1 %}{{ a }}{% endwith %}{{ a }}"), ["a"]);
    assert_eq!(reads("{% with a = b, b = a %}{% endwith %}"), ["a", "b"]);
    assert_eq!(
        reads("{% with %}{% set q = 1 %}{% endwith %}{{ q }}"),
        ["q"]
    );
    assert_eq!(
        reads("{% filter upper %}{% set q = 1 %}{% endfilter %}{{ q }}"),
        ["q"]
    );
    assert_eq!(
        reads("{% autoescape true %}{% set q = 1 %}{% endautoescape %}{{ q }}"),
        ["q"]
    );
}

#[test]
fn a_branch_assignment_is_a_context_read_after_the_if() {
    assert_eq!(
        reads("{% if c %}{% set x = 1 %}{% endif %}{{ x }}"),
        ["c", "x"]
    );
    assert_eq!(
        reads("{% if c %}{% set x = 1 %}{% elif d %}{% set x = 2 %}{% endif %}{{ x }}"),
        ["c", "d", "x"]
    );
    // Inside the branch, after the assignment, it is local.
    assert_eq!(reads("{% if c %}{% set x = 1 %}{{ x }}{% endif %}"), ["c"]);
    // The other branch does not see it.
    assert_eq!(
        reads("{% if c %}{% set x = 1 %}{% else %}{{ x }}{% endif %}"),
        ["c", "x"]
    );
    // A nested scope reads it too.
    assert_eq!(
        reads("{% if true %}{% set x = 1 %}{% endif %}{% for i in l %}{{ x }}{% endfor %}"),
        ["l", "x"]
    );
    // Jinja2 reports `t` (it loads it from the context on entry to the macro, for the case
    // where the branch does not run), but only the read after the assignment reads it.
    let src = "{% macro m() %}{% if p %}{% set t = 1 %}{{ t }}{% endif %}{% endmacro %}";
    assert_eq!(reads(src), ["p"]);
    assert_eq!(not_needed(src, NotNeeded::BranchAssigned), ["t"]);
    // Assigned before the `if`: still defined after it.
    assert_eq!(
        reads("{% set x = 0 %}{% if c %}{% set x = 1 %}{% endif %}{{ x }}"),
        ["c"]
    );
}

#[test]
fn an_assignment_in_every_branch_of_an_if_with_else_defines_the_name() {
    // Jinja2 reports `x` (it loads it on entry, as for any name a branch assigns) but one
    // branch runs, whichever, and every branch assigns it: no read sees the context's value.
    // Rendered with StrictUndefined and no `x`, each of these renders.
    let src = "{% if c %}{% set x = 1 %}{% else %}{% set x = 2 %}{% endif %}{{ x }}";
    assert_eq!(reads(src), ["c"]);
    assert_eq!(not_needed(src, NotNeeded::BranchAssigned), ["x"]);
    assert_eq!(
        reads(
            "{% if c %}{% set x = 1 %}{% elif d %}{% set x = 2 %}{% else %}{% set x = 3 %}\
             {% endif %}{{ x }}"
        ),
        ["c", "d"]
    );
    // One branch that does not assign it is enough to read the context after the `if`.
    assert_eq!(
        reads("{% if c %}{% set x = 1 %}{% elif d %}{% else %}{% set x = 3 %}{% endif %}{{ x }}"),
        ["c", "d", "x"]
    );
    // A nested `if` that assigns it in all its branches counts for its branch.
    assert_eq!(
        reads(
            "{% if c %}{% if d %}{% set x = 1 %}{% else %}{% set x = 2 %}{% endif %}\
             {% else %}{% set x = 3 %}{% endif %}{{ x }}"
        ),
        ["c", "d"]
    );
    // sphinx's layout.html: in a macro, read in a loop after the `if` (in a `trans`), and
    // mkdocs-material's social.html: read after the `if` in a macro.
    assert_eq!(
        reads(
            "{% macro m() %}{% if hasdoc('c') %}{% set p = 1 %}{% else %}{% set p = 2 %}\
             {% endif %}{% for l in c %}{% trans p=p %}{{ p }}{% endtrans %}{% endfor %}\
             {% endmacro %}"
        ),
        ["c", "hasdoc"]
    );
    // At the top level, blocks after it see it too.
    let src = "{% if c %}{% set x = 1 %}{% else %}{% set x = 2 %}{% endif %}\
               {% block b %}{{ x }}{% endblock %}";
    assert_eq!(reads(src), ["c"]);
}

#[test]
fn a_nested_scope_sees_what_is_defined_where_it_starts() {
    // mkdocs-material's nav-item.html: assigned in a branch, read in a loop of that branch.
    assert_eq!(
        reads(
            "{% macro r(n) %}{% if n.children %}{% set index = n.index %}\
             {% for i in n.children %}{{ index }}{% endfor %}{% endif %}{% endmacro %}"
        ),
        NONE
    );
    assert_eq!(
        reads("{% if c %}{% set x = 1 %}{% for i in l %}{{ x }}{% endfor %}{% endif %}"),
        ["c", "l"]
    );
    // A loop after the `if`, or in another branch, reads the context's value.
    assert_eq!(
        reads("{% if c %}{% set x = 1 %}{% else %}{% for i in l %}{{ x }}{% endfor %}{% endif %}"),
        ["c", "l", "x"]
    );
    assert_eq!(
        reads(
            "{% if c %}{% set x = 1 %}{% endif %}{% for i in l %}{% for j in i %}{{ x }}\
             {% endfor %}{% endfor %}"
        ),
        ["c", "l", "x"]
    );
    // Two levels down, from inside the branch.
    assert_eq!(
        reads(
            "{% if c %}{% set x = 1 %}{% for i in l %}{% for j in i %}{{ x }}{% endfor %}\
             {% endfor %}{% endif %}"
        ),
        ["c", "l"]
    );
}

#[test]
fn blocks_see_the_top_level_assignments_made_before_them() {
    // Jinja2 renders a block as a function of the context, into which the top level has put
    // its assignments: rendered, `a` is "local", though find_undeclared_variables reports it.
    let src = "{% set a = 'local' %}{% block b %}{{ a }}{% endblock %}";
    assert_eq!(reads(src), NONE);
    assert_eq!(provided(src), ["a"]);
    // After the block: read from the context when the block renders.
    assert_eq!(
        reads("{% block b %}{{ a }}{% endblock %}{% set a = 1 %}"),
        ["a"]
    );
    // In a template that extends another, the whole top level runs first.
    let child = "{% extends 'p' %}{% block b %}{{ a }}{% endblock %}{% set a = 1 %}";
    assert_eq!(reads(child), NONE);
    assert_eq!(provided(child), ["a"]);
    // Top-level macros and imports too.
    assert_eq!(
        reads("{% macro q() %}{% endmacro %}{% block b %}{{ q() }}{% endblock %}"),
        NONE
    );
    // Not what a loop around defines: a block does not see it (rendered: the context's `item`).
    assert_eq!(
        reads("{% for item in items %}{% block sb %}{{ item }}{% endblock %}{% endfor %}"),
        ["item", "items"]
    );
    // A scoped block does (rendered: the loop's `item`; Jinja2's meta reports it).
    let scoped = "{% for item in items %}{% block sb scoped %}{{ item }}{% endblock %}{% endfor %}";
    assert_eq!(reads(scoped), ["items"]);
    assert_eq!(not_needed(scoped, NotNeeded::AroundScopedBlock), ["item"]);
    // Not an assignment in a branch (it may not have run).
    assert_eq!(
        reads("{% if c %}{% set a = 1 %}{% endif %}{% block b %}{{ a }}{% endblock %}"),
        ["a", "c"]
    );
    // The block's own assignments are its own.
    assert_eq!(
        reads("{% block b %}{% set z = 1 %}{{ z }}{% endblock %}{{ z }}"),
        ["z"]
    );
}

#[test]
fn optional_reads_are_kept_apart() {
    let cases: [(&str, &[&str], &[&str]); 10] = [
        ("{{ x|default(1) }}{{ y|d('a') }}", &[], &["x", "y"]),
        (
            "{{ x is defined }}{{ y is undefined }}{{ z is not defined }}",
            &[],
            &["x", "y", "z"],
        ),
        ("{{ x if x is defined else 'none' }}", &[], &["x"]),
        (
            "{{ x.name if x is defined and y else z }}",
            &["y", "z"],
            &["x"],
        ),
        ("{{ x is defined and x.y }}", &[], &["x"]),
        (
            "{% if x is defined %}{{ x }}{% for i in x %}{{ i }}{% endfor %}{% endif %}",
            &[],
            &["x"],
        ),
        (
            "{% if x is defined and x.on %}{{ x.label }}{% else %}{{ y }}{% endif %}",
            &["y"],
            &["x"],
        ),
        (
            "{% if x is undefined %}none{% else %}{{ x }}{% endif %}",
            &[],
            &["x"],
        ),
        (
            "{% if a %}{% elif x is defined %}{{ x }}{% endif %}",
            &["a"],
            &["x"],
        ),
        (
            "{{ (x if x is defined else 1)|string }}{{ f(k=v if v is defined else 0) }}",
            &["f"],
            &["x", "v"],
        ),
    ];
    for (src, expected_reads, expected_optional) in cases {
        assert_eq!(reads(src), expected_reads, "{src}");
        let mut expected: Vec<&str> = expected_optional.to_vec();
        expected.sort_unstable();
        assert_eq!(optional(src), expected, "{src}");
    }
    // Not optional: an attribute of an undefined name fails, and a guard covers only its
    // branch, its `and` chain, its conditional's value.
    let cases: [(&str, &[&str]); 7] = [
        ("{{ x.y|default(1) }}", &["x"]),
        ("{{ x.y is defined }}", &["x"]),
        ("{% if x is defined %}{% endif %}{{ x }}", &["x"]),
        ("{% if x is defined %}{% else %}{{ x }}{% endif %}", &["x"]),
        ("{% if x is defined or y %}{{ x }}{% endif %}", &["x", "y"]),
        ("{{ x is defined or x.y }}", &["x"]),
        ("{{ y if x is defined else x }}", &["x", "y"]),
    ];
    for (src, expected) in cases {
        assert_eq!(reads(src), expected, "{src}");
    }
    assert_eq!(reads("{{ not x is defined and x }}"), ["x"]);
}

#[test]
fn engine_names_and_keywords_are_not_variables() {
    assert_eq!(
        reads("{{ range(n) }}{{ loop }}{{ super() }}{{ _('a') }}{{ gettext('b') }}{{ self }}"),
        ["n"]
    );
    // Tag syntax words are names in an expression.
    assert_eq!(
        reads("{{ missing }}{{ context }}{{ ignore }}"),
        ["context", "ignore", "missing"]
    );
    assert_eq!(
        reads("{% include 'a' ~ theme ignore missing with context %}"),
        ["theme"]
    );
}

#[test]
fn references_get_the_names_defined_where_they_are() {
    // Checked by rendering with Jinja2: an included template sees the loop's variable, the
    // `with` names, the macro and call arguments, the assignments made before the include.
    assert_eq!(
        scopes("{% for item in items %}{% include 'inc' %}{% endfor %}"),
        [["item"]]
    );
    assert_eq!(
        scopes("{% set top = 1 %}{% with w = 2 %}{% include 'inc' %}{% endwith %}"),
        [["top", "w"]]
    );
    assert_eq!(
        scopes(
            "{% macro m(a) %}{% include 'inc' %}{% endmacro %}{% call(c) m(1) %}{% include 'inc' %}{% endcall %}"
        ),
        [vec!["a", "m"], vec!["c", "m"]]
    );
    // Not what is assigned after, nor in a branch that has ended.
    assert_eq!(
        scopes(
            "{% include 'inc' %}{% set late = 1 %}{% if c %}{% set b = 1 %}{% endif %}{% include 'inc' %}"
        ),
        [vec![], vec!["late"]]
    );
    // Not the loop's names in a block (Jinja2: the block sees the context, plus the top level's
    // assignments made before it).
    assert_eq!(
        scopes(
            "{% set t = 1 %}{% for item in items %}{% block b %}{% include 'inc' %}{% endblock %}{% endfor %}"
        ),
        [["t"]]
    );
    // `extends`: the parent sees everything the child's top level assigns, before or after.
    assert_eq!(
        scopes(
            "{% extends 'base' %}{% set title = 'x' %}{% macro m() %}{% endmacro %}{% import 'f' as f %}"
        ),
        [vec!["f", "m", "title"], vec!["m", "title"]]
    );
}

/// The steps of analysing `src`'s variables.
fn work_of(src: &str) -> u64 {
    let lexed = lex(src).unwrap();
    work::take();
    let found = variables(src, &lexed);
    let steps = work::take();
    assert!(found.reads.len() <= src.len());
    steps
}

#[test]
fn the_analysis_takes_linear_work() {
    type Shape = fn(usize) -> String;
    let shapes: [(&str, Shape); 6] = [
        ("nested loops", |n| {
            format!(
                "{}{{{{ x }}}}{}",
                "{% for a in b %}{% set x = 1 %}".repeat(n),
                "{% endfor %}".repeat(n)
            )
        }),
        ("nested ifs", |n| {
            format!(
                "{}{{{{ y }}}}{}",
                "{% if c is defined %}{% set y = 1 %}{% else %}".repeat(n),
                "{% endif %}".repeat(n)
            )
        }),
        ("blocks after many sets", |n| {
            format!(
                "{}{}",
                (0..n)
                    .map(|i| format!("{{% set v{i} = 1 %}}"))
                    .collect::<String>(),
                "{% block b %}{{ v0 }}{% endblock %}".repeat(n)
            )
        }),
        ("many elifs", |n| {
            format!(
                "{{% if a is undefined %}}{}{{% else %}}{{{{ x }}}}{{% endif %}}",
                (0..n)
                    .map(|i| format!("{{% elif a{i} is undefined %}}{{{{ a }}}}"))
                    .collect::<String>()
            )
        }),
        ("unmatched end tags", |n| {
            format!(
                "{}{}",
                "{% for a in b %}".repeat(n),
                "{% endif %}".repeat(n)
            )
        }),
        ("guards in one expression", |n| {
            format!(
                "{{{{ {} }}}}",
                "(x if x is defined and x else ".repeat(n) + &")".repeat(n)
            )
        }),
    ];
    for (what, shape) in shapes {
        let (n, double) = (work_of(&shape(1_000)), work_of(&shape(2_000)));
        assert!(
            double <= 2 * n + 64,
            "{what}: {double} steps for twice the size against {n}: not linear"
        );
    }
}

/// askama's grammar on a template that both engines read (not Jinja2's answer: Jinja2 rejects
/// these templates).
#[test]
fn askama_paths_casts_let_and_match_patterns_are_not_reads() {
    assert_eq!(
        reads("{{ crate::CONST }}{{ super::x }}{{ Kind::A }}{{ self.title }}{{ user.name() }}"),
        ["user"]
    );
    assert_eq!(reads("{{ n as i64 }}{{ x[::2] }}"), ["n", "x"]);
    assert_eq!(
        reads("{% let x = y %}{{ x }}{% let (a, b) = pair %}{{ a }}{{ b }}{% let z %}{{ z }}"),
        ["pair", "y"]
    );
    assert_eq!(
        reads(
            "{% match item %}{% when Some with (v) %}{{ v }}{% when Point { x, y } %}{{ x }}\
             {% when None %}{{ other }}{% endmatch %}"
        ),
        ["item", "other"]
    );
    assert_eq!(
        reads("{% if let Some(o) = opt %}{{ o }}{% endif %}{{ after }}"),
        ["after", "opt"]
    );
    // askama's `else if` is an `elif`: its condition is read, its `let` pattern binds.
    assert_eq!(
        reads(
            "{% if a %}{% else if let Some(v) = b %}{{ v }}{% else if c %}{{ d }}\
             {% else %}{{ e }}{% endif %}"
        ),
        ["a", "b", "c", "d", "e"]
    );
}

/// More of askama's Rust, found on askama's own test templates: binding modes, `mut` and
/// `decl` tags, word operators, constructors, struct literals, turbofish types and macro calls
/// read no variable; the values in them do.
#[test]
fn askama_binding_modes_operators_constructors_and_macros_are_not_reads() {
    assert_eq!(
        reads(
            "{% let mut sum = 0 %}{% for i in items %}{% mut sum += i %}{% endfor %}{{ sum }}\
             {% let (ref a, mut b) = pair %}{{ a }}{{ b }}{% decl d %}{% if c %}{% let d = 1 %}\
             {% endif %}{{ d }}"
        ),
        ["c", "items", "pair"]
    );
    assert_eq!(
        reads("{{ a bitand b }}{{ c bitor (d xor e) }}"),
        ["a", "b", "c", "d", "e"]
    );
    assert_eq!(
        reads("{{ x == Some(1) }}{{ Cell { number: *n, ..Default::default() } }}{{ Unit {} }}"),
        ["n", "x"]
    );
    assert_eq!(
        reads("{{ f::<Vec<(u32, Vec<u32>)>>(&v) }}{{ Cell::<u64> { 0: w } }}"),
        ["v", "w"]
    );
    assert_eq!(
        reads("{{ matches!(v, x if *x > 9) }}{{ hello!() }}{{ y }}"),
        ["y"]
    );
    // In Jinja's reading too, a lower-case name called is a read, and a dict's keys are.
    assert_eq!(reads("{{ fmt(x) }}{{ {k: v} }}"), ["fmt", "k", "v", "x"]);
}

#[test]
fn reads_in_macros_say_which_and_calls_are_recorded() {
    let src = "{% import 'lib' as lib with context %}{% from 'forms' import field as f, label %}\
               {% macro a() %}{{ x }}{{ b() }}{{ lib.row() }}{% endmacro %}\
               {% macro b() %}{{ x }}{{ y }}{{ b() }}{% endmacro %}\
               {% macro c() %}{% for i in l %}{{ z }}{% endfor %}{% endmacro %}\
               {{ a() }}{{ x }}{% block body %}{{ lib.col() }}{% endblock %}";
    let found = variables(src, &lex(src).unwrap());
    let where_read: Vec<(&str, Vec<&str>)> = found
        .reads
        .iter()
        .map(|v| {
            (
                v.name.as_str(),
                v.macros.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    // `x` is read outside the macros too; `l` is the loop's sequence, read in `c`'s body.
    assert_eq!(
        where_read,
        [
            ("l", vec!["c"]),
            ("x", vec![]),
            ("y", vec!["b"]),
            ("z", vec!["c"])
        ]
    );
    let macros: Vec<(&str, bool, Vec<&str>)> = found
        .macros
        .iter()
        .map(|m| {
            let calls = m.calls.iter().map(String::as_str).collect();
            (m.name.as_str(), m.called, calls)
        })
        .collect();
    assert_eq!(
        macros,
        [
            ("a", true, vec!["b"]),
            ("b", false, vec![]),
            ("c", false, vec![])
        ]
    );
    let imports: Vec<Option<Vec<String>>> = found.imports.into_iter().map(|i| i.calls).collect();
    assert_eq!(
        imports,
        [
            Some(vec!["col".to_string(), "row".to_string()]),
            Some(vec!["field".to_string(), "label".to_string()])
        ]
    );
    // A module used as a value may have any macro called.
    let src = "{% import 'lib' as lib %}{{ render(lib) }}{{ lib.a() }}";
    let found = variables(src, &lex(src).unwrap());
    assert_eq!(found.imports[0].calls, None);
}

#[test]
fn output_after_a_top_level_extends_is_not_evaluated() {
    // Jinja2 compiles no output of a child's top level after its `extends` (checked by
    // rendering with StrictUndefined): `{{ … }}` there, also in a loop, an `if` or a `with`,
    // reads nothing; tags still run, and so do captured bodies.
    assert_eq!(reads("{% extends 'b' %}{{ x }}"), NONE);
    assert_eq!(
        reads("{% extends 'b' %}{% for i in l %}{{ x }}{% endfor %}{% if c %}{{ y }}{% endif %}"),
        ["c", "l"]
    );
    assert_eq!(
        reads("{% extends 'b' %}{% with a = 1 %}{{ x }}{% endwith %}"),
        NONE
    );
    // Before the `extends`, it renders (the parent is not known yet).
    assert_eq!(reads("{{ x }}{% extends 'b' %}"), ["x"]);
    // A set block, a macro and a block capture or render apart.
    assert_eq!(
        reads("{% extends 'b' %}{% set t %}{{ x }}{% endset %}"),
        ["x"]
    );
    assert_eq!(
        reads("{% extends 'b' %}{% macro m() %}{{ x }}{% endmacro %}{% set t = m() %}"),
        ["x"]
    );
    assert_eq!(
        reads("{% extends 'b' %}{% block c %}{{ x }}{% endblock %}"),
        ["x"]
    );
    // An `extends` in a branch may not run: the output after it may render.
    assert_eq!(
        reads("{% if c %}{% extends 'b' %}{% endif %}{{ x }}"),
        ["c", "x"]
    );
}

#[test]
fn positions_are_those_of_first_appearance_before_and_after_the_map() {
    // 40 names, each seen three times in turn: past 16 the positions come from the map.
    let names: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut positions = super::Positions::default();
    for round in 0..3 {
        for name in &names {
            let at = positions.of(name, seen.len(), |i| seen[i]);
            let expected = seen.iter().position(|n| n == name).unwrap_or(seen.len());
            assert_eq!(at, expected, "{name} in round {round}");
            if at == seen.len() {
                seen.push(name);
            }
        }
    }
    assert_eq!(seen.len(), 40);
}
