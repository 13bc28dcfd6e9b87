//! Measured compatibility of the askama dev renderer: generated askama templates (blocks and
//! includes, loops, conditions, filters, strings with `<>&'"/`, non-ASCII, floats, booleans,
//! `Option`s read by `if let` and `match`, `let`, and askama-only Rust), each bound to a struct
//! with both derives in a generated crate built once; its binary renders every template with
//! askama's compiled code, then from a copy of the templates, each edited by a comment (askama's
//! page does not change), through `shipwright_runtime::askama::render`, and compares the bytes
//! per context.
//!
//! `cargo bench -p shipwright-tests --bench askama_compat [-- --smoke]` prints how many render
//! byte-identically, how many the dev renderer refuses (by construct) and how many differ. The
//! crate lives under `<target>/shipwright-askama-compat/` and builds in the workspace's target
//! directory (its dependencies are the tests crate's).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

#[path = "../tests/support/mod.rs"]
mod support;
use support::{cargo_in, copy_dir, target_dir};

const FULL: usize = 300;
const SMOKE: usize = 40;
const INCLUDES: usize = 6;

/// xorshift64*: the same templates for the same seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const TEXT: [&str; 8] = [
    "<p>plain</p>",
    " a/b ",
    "caf\u{e9} \u{2014} \u{65e5}\u{672c}",
    "\n  <li class=\"x\">'q'</li>\n",
    "&amp; <>",
    "",
    " \n\t  ",
    "  pad \u{a0}\n ",
];
const EXPRS: [&str; 25] = [
    "{{ s }}",
    "{{ t }}",
    "{{ b }}",
    "{{ f }}",
    "{{ g }}",
    "{{ n }}",
    "{{ s|upper }}",
    "{{ s|lower }}",
    "{{ t|capitalize }}",
    "{{ s|trim }}",
    "{{ s|safe }}",
    "{{ s|e }}",
    "{{ \"lit <&> '/'\" }}",
    "{{ n + 1 }}",
    "{{ n * 2 }}",
    "{{ 3.0 }}",
    "{{ true }}",
    "{{ self.s }}",
    "{{ s.len() }}",
    "{{ f|fmt(\"{:.2}\") }}",
    "{{ n / 2 }}",
    "{{- s -}}",
    "{{~ s ~}}",
    "\n  {{- n ~}}  \n",
    " {{~ t +}} ",
];
const CONDITIONS: [&str; 6] = [
    "b",
    "!b",
    "n > 0",
    "b && n < 3",
    "s == \"x\" || b",
    "f >= 1.5",
];

/// Patterns on integers, booleans, strings and `Option`s.
const MATCHES: [&str; 5] = [
    "{% match n %}{% when 0 %}zero{% when -7 %}minus seven{% when x %}{{ x }}{% endmatch %}",
    "{% match on %}{% when Some(2) %}two{% when Some(_) %}some{% when None %}none{% endmatch %}",
    "{% match k %}{% when \"a\" %}A{% when \"<&>\" %}amp{% else %}{{ k }}{% endmatch %}",
    "{% match b %}{% when true %}yes{% when false %}no{% endmatch %}",
    "{%- if let Some(2) = on -%} two {%- else if let None = on %}no n{% endif %}",
];
/// An `Option<Option<_>>`: refused (serde writes `Some(None)` as `None`).
const NESTED: [&str; 2] = [
    "{% if let Some(x) = oo %}{% if let Some(y) = x %}{{ y }}{% endif %}{% endif %}",
    "{% match oo %}{% when Some(Some(y)) %}{{ y }}{% when _ %}-{% endmatch %}",
];

fn node(rng: &mut Rng, depth: usize, out: &mut String) {
    match rng.below(if depth == 0 { 3 } else { 12 }) {
        0 => out.push_str(rng.pick(&TEXT)),
        1 | 2 => out.push_str(rng.pick(&EXPRS)),
        3 => {
            let sign = rng.pick(&["", "~", "-", "+"]);
            let _ = write!(out, "{{%{sign} if {} {sign}%}}", rng.pick(&CONDITIONS));
            node(rng, depth - 1, out);
            if rng.below(2) == 0 {
                out.push_str("{% else if b %}");
                node(rng, depth - 1, out);
            }
            out.push_str("{% else %}");
            node(rng, depth - 1, out);
            out.push_str("{% endif %}");
        }
        4 => {
            out.push_str("{% for item in items %}{{ loop.index }}:{{ item }}");
            if rng.below(2) == 0 {
                out.push_str("{% if loop.first %}^{% endif %}{% if loop.last %}${% endif %}");
            }
            node(rng, depth - 1, out);
            out.push_str("{% endfor %}");
        }
        5 => {
            let _ = write!(out, "{{% include \"inc/i{}.html\" %}}", rng.below(INCLUDES));
        }
        6 => {
            out.push_str("{% if let Some(o) = opt %}[{{ o }}]");
            node(rng, depth - 1, out);
            if rng.below(2) == 0 {
                // (`else if let` binding no name: the derive's variable analysis does not yet
                // see the names an `else if let` binds)
                out.push_str(rng.pick(&[
                    "{% else if let None = on %}no n",
                    "{% else if let Some(_) = on %}some n",
                ]));
                node(rng, depth - 1, out);
            }
            out.push_str("{% else %}");
            node(rng, depth - 1, out);
            out.push_str("{% endif %}");
        }
        7 => {
            out.push_str(rng.pick(&[
                "{% match opt %}\n  {% when Some with (o) %}{{ o }}",
                "{% match opt %}{% when Some(o) %}<{{ o|lower }}>",
            ]));
            node(rng, depth - 1, out);
            out.push_str(rng.pick(&["{% when None %}none", "{% when _ %}_", "{% else %}-"]));
            node(rng, depth - 1, out);
            out.push_str("{% endmatch %}");
        }
        8 => out.push_str(rng.pick(&MATCHES)),
        9 => out.push_str(rng.pick(&NESTED)),
        10 => out.push_str(rng.pick(&[
            "{% let w = n * 2 + 1 %}({{ w }})",
            "{%- let v = s %}{{ v|upper }}|{{ v }}",
            "{% for item in items %}{% let u = item %}[{{ u|lower }}]{% endfor %}",
        ])),
        _ => {
            out.push_str(rng.pick(&["{# a comment #}", " {#~ a comment ~#}\n "]));
            node(rng, depth - 1, out);
        }
    }
}

fn template(rng: &mut Rng) -> String {
    let mut body = String::new();
    for _ in 0..1 + rng.below(5) {
        node(rng, 3, &mut body);
    }
    if rng.below(3) == 0 {
        format!("{{% extends \"base.html\" %}}{{% block body %}}{body}{{% endblock %}}\n")
    } else {
        format!("<div>{body}</div>\n")
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let count = if smoke { SMOKE } else { FULL };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = target_dir().join("shipwright-askama-compat");
    let _ = std::fs::remove_dir_all(dir.join("templates"));
    let ws = workspace.display();
    write(
        &dir,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"askama-compat\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\naskama = \"0.16.1\"\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\
             shipwright-runtime = {{ path = \"{ws}/runtime\", features = [\"minijinja\", \"askama\", \"dev\"] }}\n\n\
             [build-dependencies]\nshipwright-build = {{ path = \"{ws}/build-support\" }}\n\n[workspace]\n"
        ),
    );
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    write(
        &dir,
        "build.rs",
        "fn main() { shipwright_build::Builder::new().root(\"templates\").build().unwrap(); }\n",
    );
    let mut rng = Rng(0x5eed_a5ca_a0c0_ffee);
    write(
        &dir,
        "templates/base.html",
        "<html><h1>{{ t }}</h1>{% block body %}default{% endblock %}</html>\n",
    );
    let mut partials = Vec::new();
    for i in 0..INCLUDES {
        // A partial includes none (it could include itself).
        let mut body = String::from("{% include");
        while body.contains("{% include") {
            body.clear();
            node(&mut rng, 1, &mut body);
        }
        let name = format!("inc/i{i}.html");
        write(
            &dir,
            &format!("templates/{name}"),
            &format!("<i>{body}</i>"),
        );
        partials.push((name, body));
    }
    let mut main = String::from(
        "use shipwright_runtime::askama::{dev_problems, render, set_dev_roots};\n\
         #[derive(serde::Serialize, Clone)]\npub struct Ctx { s: String, t: String, b: bool, f: f64, g: f64, n: i64, items: Vec<String>, opt: Option<String>, on: Option<i64>, oo: Option<Option<i64>>, k: &'static str }\n\
         macro_rules! page { ($name:ident, $path:literal $(, $ws:literal)? $(; $oo:ident)?) => {\n\
           #[derive(askama::Template, shipwright_runtime::Template, serde::Serialize)]\n\
           #[template(path = $path $(, whitespace = $ws)?)]\n\
           struct $name { s: String, t: String, b: bool, f: f64, g: f64, n: i64, items: Vec<String>, opt: Option<String>, on: Option<i64>, $($oo: Option<Option<i64>>,)? k: &'static str }\n\
           impl From<Ctx> for $name { fn from(c: Ctx) -> Self { $name { s: c.s, t: c.t, b: c.b, f: c.f, g: c.g, n: c.n, items: c.items, opt: c.opt, on: c.on, $($oo: c.oo,)? k: c.k } } }\n\
         } }\n",
    );
    let mut rows = String::new();
    for i in 0..count {
        let text = template(&mut rng);
        write(&dir, &format!("templates/t{i}.html"), &text);
        // Every third page with askama's whitespace key.
        let ws = ["", ", \"suppress\"", "", "", ", \"minimize\"", ""][i % 6];
        // The `Option<Option<_>>` field only where the page or a partial it includes reads it
        // (a struct that has one stays with askama).
        let reads_oo = text.contains(" oo ")
            || partials
                .iter()
                .any(|(name, body)| text.contains(name.as_str()) && body.contains(" oo "));
        let oo = if reads_oo { "; oo" } else { "" };
        let _ = writeln!(main, "page!(T{i}, \"t{i}.html\"{ws}{oo});");
        let _ = writeln!(rows, "    check::<T{i}>(\"t{i}.html\", &contexts);");
    }
    main.push_str(
        "fn check<T: askama::Template + shipwright_runtime::Template + shipwright_runtime::__private::DevContext + serde::Serialize + From<Ctx>>(name: &str, contexts: &[Ctx]) {\n\
           let mut verdict = String::from(\"identical\");\n\
           for c in contexts {\n\
             let page = T::from(c.clone());\n\
             let compiled = askama::Template::render(&page).unwrap();\n\
             let dev = render(&page).unwrap();\n\
             let problem = dev_problems().into_iter().find(|p| p.template == name);\n\
             if let Some(p) = problem { verdict = format!(\"refused\\t{}\", p.reason); break; }\n\
             if dev != compiled { verdict = format!(\"different\\t{compiled:?} vs {dev:?}\"); break; }\n\
           }\n\
           println!(\"{name}\\t{verdict}\");\n\
         }\n\
         fn main() {\n\
           let edited = std::path::Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"edited\");\n\
           set_dev_roots(vec![edited]);\n\
           let contexts = vec![\n\
             Ctx { s: \"<a href=\\\"/x\\\">'&'</a>\".into(), t: \"\u{e9}t\u{e9} \u{65e5}\".into(), b: true, f: 3.0, g: 0.1, n: 2, items: vec![\"<one>\".into(), \"two/2\".into()], opt: Some(\"<o>\".into()), on: Some(2), oo: Some(Some(1)), k: \"a\" },\n\
             Ctx { s: \"x\".into(), t: \"\".into(), b: false, f: -1.5, g: 1e20, n: -7, items: vec![], opt: None, on: None, oo: None, k: \"<&>\" },\n\
             Ctx { s: \"  Mixed Case  \".into(), t: \"\u{df}tra\u{df}e\".into(), b: true, f: 2.25, g: 100.0, n: 0, items: vec![\"\\\"q\\\"\".into()], opt: Some(\"Caf\u{c9} '/'\".into()), on: Some(-7), oo: Some(None), k: \"b\" },\n\
           ];\n",
    );
    main.push_str(&rows);
    main.push_str("}\n");
    write(&dir, "src/main.rs", &main);
    // The copy the binary renders from: every template edited by a leading comment.
    let edited = dir.join("edited");
    let _ = std::fs::remove_dir_all(&edited);
    copy_dir(&dir.join("templates"), &edited);
    let names = ["base.html".to_string()]
        .into_iter()
        .chain((0..INCLUDES).map(|i| format!("inc/i{i}.html")))
        .chain((0..count).map(|i| format!("t{i}.html")));
    for name in names {
        let path = edited.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{{#+ edited +#}}{text}")).unwrap();
    }

    let stdout = String::from_utf8(cargo_in(&dir, &target_dir(), &["run"], &[])).unwrap();
    let (mut identical, mut refused, mut different) = (0, BTreeMap::new(), Vec::new());
    for line in stdout.lines() {
        let mut fields = line.splitn(3, '\t');
        let (name, verdict, detail) = (
            fields.next().unwrap(),
            fields.next().unwrap_or(""),
            fields.next().unwrap_or(""),
        );
        match verdict {
            "identical" => identical += 1,
            "refused" => {
                let construct = detail
                    .split(" at line")
                    .next()
                    .unwrap_or(detail)
                    .to_string();
                *refused.entry(construct).or_insert(0) += 1;
            }
            _ => different.push(format!("{name}: {detail}")),
        }
    }
    let total = identical + refused.values().sum::<usize>() + different.len();
    assert_eq!(total, count, "{stdout}");
    println!("| templates | byte-identical | refused | different |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| {count} | {identical} | {} | {} |",
        refused.values().sum::<usize>(),
        different.len()
    );
    println!("\nrefused, by the first construct met:");
    for (construct, n) in &refused {
        println!("- {n}: {construct}");
    }
    for d in &different {
        println!("DIFFERENT {d}");
    }
    assert!(
        different.is_empty(),
        "the dev renderer rendered a different page"
    );
}
