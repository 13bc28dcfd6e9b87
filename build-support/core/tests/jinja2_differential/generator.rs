//! A seeded generator of Jinja templates that Jinja2 parses, covering every construct of the
//! lexer: reference tags with all their forms of names and modifiers, string literals written
//! in every way Jinja2 reads them, nesting in every block tag, whitespace control on every
//! delimiter, raw blocks and comments holding fake tags, and text with lone braces.
//!
//! Every template it writes must parse in Jinja2: the differential test fails on one that does
//! not (a generator bug), so a construct is only written where Jinja2's grammar allows it.

use std::collections::BTreeMap;

/// Every construct the generator covers; each must show up in the corpus (see `mark`).
pub(crate) const FEATURES: &[&str] = &[
    // tags that reference other templates, and their modifiers
    "extends",
    "include",
    "import",
    "from import",
    "ignore missing",
    "with context",
    "without context",
    "import alias",
    "several names imported",
    "name imported under an alias",
    // static names
    "single quotes",
    "double quotes",
    "escaped quote",
    "other quote unescaped",
    "escaped backslash",
    "named escape",
    "hex escape",
    "unicode escape",
    "octal escape",
    "unknown escape",
    "backslash before non-ascii",
    "newline in string",
    "crlf in string",
    "cr in string",
    "line continuation",
    "non-ascii name",
    "empty name",
    "adjacent literals",
    "parentheses",
    "list",
    "tuple",
    "empty sequence",
    "trailing comma",
    "constant item",
    "dynamic item",
    "parenthesized item",
    "nested sequence",
    // dynamic names
    "variable",
    "attribute",
    "tilde concatenation",
    "plus concatenation",
    "conditional",
    "conditional without else",
    "filter",
    "number",
    "none or boolean",
    "negative number",
    "subscript",
    "function call",
    "method call",
    "dict literal name",
    "keyword-like variable",
    "parenthesized dynamic",
    "test expression",
    // structure
    "if",
    "elif",
    "else",
    "for",
    "for else",
    "macro",
    "call block",
    "call block with arguments",
    "block",
    "scoped block",
    "set",
    "set block",
    "filtered set block",
    "filter block",
    "with",
    "autoescape",
    // delimiters
    "{%-",
    "-%}",
    "{%+",
    "+%}",
    "{{-",
    "-}}",
    "{{+",
    "{#-",
    "-#}",
    "{#+",
    "+#}",
    "no space inside delimiters",
    "newline inside delimiters",
    "unicode blank inside tags",
    "no blank after keyword",
    "raw",
    "raw with whitespace control",
    "fake tags in raw",
    "comment",
    "fake tags in comment",
    "lone braces in text",
    "delimiters in strings",
    "dict literal in expression",
    "dict literal right after {{",
];

/// splitmix64: small, seeded, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Template names, as values (the generator writes them as literals in many ways).
const NAMES: &[&str] = &[
    "base.html",
    "layout.html",
    "nav.html",
    "partials/footer.html",
    "macros/forms.html",
    "a b.html",
    "déjà vu.html",
    "☃/snow.txt",
    "it's.html",
    "say \"hi\".html",
    "back\\slash.html",
    "C:\\new\\table.html",
    "%}.html",
    "}}.html",
    "{# x #}.html",
    "{{ x }}.html",
    "{% raw %}.html",
    "line\nbreak.html",
    "tab\there.html",
    "../up.html",
    "x",
    "",
];

/// Variables, some of them named like the keywords of the reference tags (Jinja2 allows that).
const VARIABLES: &[&str] = &["layout", "theme", "name", "page", "x"];
const KEYWORD_VARIABLES: &[&str] = &[
    "import", "as", "context", "with", "without", "ignore", "missing", "include", "extends", "from",
];

/// Output expressions, some holding delimiters in strings or dict literals.
const EXPRESSIONS: &[(&str, &str)] = &[
    ("x", ""),
    ("user.name", ""),
    ("user.name|default('}}')", "delimiters in strings"),
    ("{'a': {'b': '%}'}}", "dict literal in expression"),
    (
        "{'k': [1, 2]}['k']|join(', ')",
        "dict literal in expression",
    ),
    ("{}", "dict literal in expression"),
    ("'{{ not a tag }}'", "delimiters in strings"),
    ("\"{% include 'fake.html' %}\"", "delimiters in strings"),
    ("x ~ '#}' ~ \"{#\"", "delimiters in strings"),
    ("f(a=1, b='-}}')", "delimiters in strings"),
    ("a if b else c", ""),
    ("loop.index0 + 1", ""),
    ("1 + 2 * 3 // 4 ** 2", ""),
    ("(x)", ""),
    ("'it\\'s' ~ \"say \\\"hi\\\"\"", ""),
    ("x is defined and not y", ""),
    ("range(3)|list|length", ""),
    ("'{%- raw -%}'", "delimiters in strings"),
    ("items.0.name", ""),
    ("[1, 2.5, none, true]", ""),
];

/// Name expressions that Jinja2 does not read as constant strings, with the feature each
/// covers; `{L}` is a string literal, `{V}` a variable.
const DYNAMIC: &[(&str, &str)] = &[
    ("variable", "{V}"),
    ("attribute", "{V}.layout"),
    ("tilde concatenation", "{L} ~ {V}"),
    ("tilde concatenation", "{L} ~{L}"),
    ("tilde concatenation", "{V}~{L}"),
    ("plus concatenation", "{L} + {L}"),
    ("conditional", "{L} if {V} else {L}"),
    ("conditional without else", "{L} if {V}"),
    ("filter", "{L}|lower"),
    ("filter", "{V}|default({L})"),
    ("number", "42"),
    ("number", "1.5"),
    ("number", "1e3"),
    ("none or boolean", "none"),
    ("none or boolean", "None"),
    ("none or boolean", "true"),
    ("none or boolean", "False"),
    ("negative number", "-1"),
    ("subscript", "[{L}, {L}][0]"),
    ("dict literal name", "{'a': {L}}['a']"),
    ("function call", "f({L})"),
    ("method call", "{L}.upper()"),
    ("parenthesized dynamic", "({L} ~ {V})"),
    ("parenthesized dynamic", "(\n{L}\n)|e"),
    // In parentheses: a test takes a following name (`with`) as its argument.
    ("test expression", "({V} is defined)"),
];

/// Literal text: lone braces and stray closing delimiters, never a `{` at the end (that would
/// open a tag with whatever follows).
const TEXT: &[(&str, &str)] = &[
    ("Hello ", ""),
    ("<p class=\"x\">", ""),
    ("</p>\n", ""),
    ("{ lone ", "lone braces in text"),
    ("} brace ", "lone braces in text"),
    ("}}", "lone braces in text"),
    ("%}", "lone braces in text"),
    ("#}", "lone braces in text"),
    ("a{b}c", "lone braces in text"),
    ("{ { x", "lone braces in text"),
    ("{ %", "lone braces in text"),
    ("{ #", "lone braces in text"),
    ("{}", "lone braces in text"),
    ("function() { return {a: 1}; } ", "lone braces in text"),
    ("  \n", ""),
    ("\t", ""),
    ("é ☃ ", ""),
    ("- + ' \" \\ ", ""),
    ("\r\n", ""),
];

/// The inside of comments and raw blocks: things that look like tags.
const FAKE_TAGS: &[&str] = &[
    "{% include 'fake.html' %}",
    "{{ x }}",
    "{% extends \"fake.html\" %}",
    "{% from 'fake.html' import y %}",
    "{%- import 'fake.html' as f -%}",
    "{% if %}",
    "{{",
    "%}",
    "}}",
    " text ",
    "\n",
    "{ {",
    "'",
    "\"",
];

/// Writes templates; counts the constructs it wrote in `seen`.
pub(crate) struct Generator {
    rng: Rng,
    /// How many times each of [`FEATURES`] was written.
    pub(crate) seen: BTreeMap<&'static str, usize>,
    serial: usize,
}

impl Generator {
    pub(crate) fn new(seed: u64) -> Self {
        Generator {
            rng: Rng(seed),
            seen: BTreeMap::new(),
            serial: 0,
        }
    }

    fn mark(&mut self, feature: &'static str) {
        assert!(
            FEATURES.contains(&feature),
            "`{feature}` is missing from FEATURES"
        );
        *self.seen.entry(feature).or_default() += 1;
    }

    /// One template: a few nodes, nested up to four deep.
    pub(crate) fn template(&mut self) -> String {
        let mut out = String::new();
        for _ in 0..1 + self.rng.below(7) {
            self.node(&mut out, 0);
        }
        out
    }

    fn node(&mut self, out: &mut String, depth: usize) {
        match self.rng.below(if depth < 3 { 11 } else { 8 }) {
            0 => self.text(out),
            1 => self.comment(out),
            2 => self.raw(out),
            3 => self.output(out),
            4 => self.set(out),
            5..=7 => self.reference(out),
            _ => self.structure(out, depth),
        }
    }

    fn body(&mut self, out: &mut String, depth: usize) {
        for _ in 0..self.rng.below(4) {
            self.node(out, depth + 1);
        }
    }

    /// The blanks just inside a delimiter pair.
    fn spacing(&mut self) -> (&'static str, &'static str) {
        match self.rng.below(8) {
            0 => {
                self.mark("no space inside delimiters");
                ("", "")
            }
            1 => {
                self.mark("newline inside delimiters");
                ("\n  ", "\n")
            }
            2 => (" \t", "  "),
            3 => {
                // Python's `\s`, which Jinja2's lexer skips: more than ASCII's blanks.
                self.mark("unicode blank inside tags");
                (
                    self.rng.pick(&["\u{a0}", "\u{3000}", "\x0b", "\x1c "]),
                    self.rng.pick(&["\u{2003}", " \x0b"]),
                )
            }
            _ => (" ", " "),
        }
    }

    /// `{% content %}` with random whitespace control.
    fn tag(&mut self, out: &mut String, content: &str) {
        let open = self.rng.pick(&["{%", "{%", "{%", "{%-", "{%+"]);
        let close = self.rng.pick(&["%}", "%}", "%}", "-%}", "+%}"]);
        match open {
            "{%-" => self.mark("{%-"),
            "{%+" => self.mark("{%+"),
            _ => {}
        }
        match close {
            "-%}" => self.mark("-%}"),
            "+%}" => self.mark("+%}"),
            _ => {}
        }
        let (before, after) = self.spacing();
        out.extend([open, before, content, after, close]);
    }

    fn text(&mut self, out: &mut String) {
        for _ in 0..1 + self.rng.below(3) {
            let (piece, feature) = self.rng.pick(TEXT);
            if !feature.is_empty() {
                self.mark(feature);
            }
            out.push_str(piece);
        }
    }

    /// Up to three things that look like tags.
    fn fake_tags(&mut self) -> String {
        let n = self.rng.below(4);
        (0..n).map(|_| self.rng.pick(FAKE_TAGS)).collect()
    }

    fn comment(&mut self, out: &mut String) {
        self.mark("comment");
        let open = self.rng.pick(&["{#", "{#", "{#-", "{#+"]);
        let close = self.rng.pick(&["#}", "#}", "-#}", "+#}"]);
        match open {
            "{#-" => self.mark("{#-"),
            "{#+" => self.mark("{#+"),
            _ => {}
        }
        match close {
            "-#}" => self.mark("-#}"),
            "+#}" => self.mark("+#}"),
            _ => {}
        }
        let body = self.fake_tags();
        if !body.trim().is_empty() {
            self.mark("fake tags in comment");
        }
        let (before, after) = self.spacing();
        out.extend([open, before, &body, after, close]);
    }

    fn raw(&mut self, out: &mut String) {
        self.mark("raw");
        let blank = |g: &mut Self| g.rng.pick(&["", " ", "  ", "\n"]);
        let open_sign = self.rng.pick(&["", "", "-", "+"]);
        let open_close = self.rng.pick(&["%}", "%}", "-%}"]);
        let end_sign = self.rng.pick(&["", "", "-", "+"]);
        let end_close = self.rng.pick(&["%}", "%}", "-%}", "+%}"]);
        if [open_sign, end_sign].iter().any(|s| !s.is_empty())
            || open_close != "%}"
            || end_close != "%}"
        {
            self.mark("raw with whitespace control");
        }
        let (b1, b2, b3, b4) = (blank(self), blank(self), blank(self), blank(self));
        out.extend(["{%", open_sign, b1, "raw", b2, open_close]);
        let mut body = self.fake_tags();
        if self.rng.percent(30) {
            // Almost an end tag, but not one.
            body.push_str(
                self.rng
                    .pick(&["{% endraw x %}", "{% endrawx %}", "{%endraw"]),
            );
        }
        if !body.trim().is_empty() {
            self.mark("fake tags in raw");
        }
        out.push_str(&body);
        out.extend(["{%", end_sign, b3, "endraw", b4, end_close]);
    }

    fn output(&mut self, out: &mut String) {
        let open = self.rng.pick(&["{{", "{{", "{{-", "{{+"]);
        let close = self.rng.pick(&["}}", "}}", "-}}"]);
        match open {
            "{{-" => self.mark("{{-"),
            "{{+" => self.mark("{{+"),
            _ => {}
        }
        if close == "-}}" {
            self.mark("-}}");
        }
        let (expr, feature) = self.rng.pick(EXPRESSIONS);
        if !feature.is_empty() {
            self.mark(feature);
        }
        let (before, after) = self.spacing();
        if before.is_empty() && expr.starts_with('{') {
            self.mark("dict literal right after {{");
        }
        out.extend([open, before, expr, after, close]);
    }

    fn set(&mut self, out: &mut String) {
        self.mark("set");
        let (expr, feature) = self.rng.pick(EXPRESSIONS);
        if !feature.is_empty() {
            self.mark(feature);
        }
        self.tag(out, &format!("set v = {expr}"));
    }

    /// The name expression with the blank that separates it from the keyword before it.
    fn spaced_name_expr(&mut self) -> String {
        let expr = self.name_expr();
        let blank = match self.rng.below(8) {
            0 if expr.starts_with(['\'', '"', '(', '[']) => {
                self.mark("no blank after keyword");
                ""
            }
            1 => {
                self.mark("unicode blank inside tags");
                self.rng.pick(&["\u{a0}", "\u{3000}\n", "\x0b", "\x1f"])
            }
            2 => "\n ",
            _ => " ",
        };
        format!("{blank}{expr}")
    }

    fn reference(&mut self, out: &mut String) {
        let content = match self.rng.below(4) {
            0 => {
                self.mark("extends");
                format!("extends{}", self.spaced_name_expr())
            }
            1 => {
                self.mark("include");
                let mut s = format!("include{}", self.spaced_name_expr());
                if self.rng.percent(30) {
                    self.mark("ignore missing");
                    s.push_str(" ignore missing");
                }
                s.push_str(self.context());
                s
            }
            2 => {
                self.mark("import");
                self.mark("import alias");
                let alias = self
                    .rng
                    .pick(&["m", "forms", "as", "import", "context", "ignore"]);
                format!(
                    "import{} as {alias}{}",
                    self.spaced_name_expr(),
                    self.context()
                )
            }
            _ => {
                self.mark("from import");
                let expr = self.spaced_name_expr();
                let mut names = Vec::new();
                for _ in 0..1 + self.rng.below(3) {
                    let name = self
                        .rng
                        .pick(&["a", "b", "as", "import", "context", "with", "macro1"]);
                    names.push(if self.rng.percent(30) {
                        self.mark("name imported under an alias");
                        format!("{name} as {}", self.rng.pick(&["c", "as", "d2"]))
                    } else {
                        name.to_string()
                    });
                }
                if names.len() > 1 {
                    self.mark("several names imported");
                }
                let sep = self.rng.pick(&[", ", ",", " ,\n"]);
                format!("from{expr} import {}{}", names.join(sep), self.context())
            }
        };
        self.tag(out, &content);
    }

    fn context(&mut self) -> &'static str {
        match self.rng.below(4) {
            0 => {
                self.mark("with context");
                " with context"
            }
            1 => {
                self.mark("without context");
                " without context"
            }
            _ => "",
        }
    }

    /// The name expression of a reference tag.
    fn name_expr(&mut self) -> String {
        match self.rng.below(10) {
            0..=4 => self.static_name(),
            5 | 6 => self.sequence(),
            _ => self.dynamic_name(),
        }
    }

    fn static_name(&mut self) -> String {
        match self.rng.below(6) {
            0 => self.adjacent(),
            1 => {
                self.mark("parentheses");
                let inner = if self.rng.percent(50) {
                    self.adjacent()
                } else {
                    self.literal_of_pool()
                };
                self.parenthesize(inner)
            }
            2 if self.rng.percent(30) => self.wild_literal(),
            _ => self.literal_of_pool(),
        }
    }

    fn parenthesize(&mut self, inner: String) -> String {
        let (a, b) = self
            .rng
            .pick(&[("(", ")"), ("( ", " )"), ("((", "))"), ("(\n", ")")]);
        format!("{a}{inner}{b}")
    }

    fn pool_name(&mut self) -> &'static str {
        let name = self.rng.pick(NAMES);
        if name.is_empty() {
            self.mark("empty name");
        }
        if !name.is_ascii() {
            self.mark("non-ascii name");
        }
        name
    }

    fn literal_of_pool(&mut self) -> String {
        let name = self.pool_name();
        self.literal(name)
    }

    /// A pool name cut in two or three, each piece its own literal: Jinja2 joins them.
    fn adjacent(&mut self) -> String {
        self.mark("adjacent literals");
        let name: Vec<char> = self.pool_name().chars().collect();
        let cut1 = self.rng.below(name.len() + 1);
        let cut2 = cut1 + self.rng.below(name.len() - cut1 + 1);
        let pieces = [&name[..cut1], &name[cut1..cut2], &name[cut2..]];
        let mut out = String::new();
        for (i, piece) in pieces.iter().enumerate() {
            if i == 2 && piece.is_empty() && self.rng.percent(50) {
                break;
            }
            if i > 0 {
                out.push_str(self.rng.pick(&["", " ", "\n", "  "]));
            }
            let piece: String = piece.iter().collect();
            out.push_str(&self.literal(&piece));
        }
        out
    }

    /// `value` as a string literal, in either quote style, each character written plainly or
    /// as one of the escapes that Jinja2 resolves to that same character.
    fn literal(&mut self, value: &str) -> String {
        let quote = if self.rng.percent(50) { '\'' } else { '"' };
        self.mark(if quote == '\'' {
            "single quotes"
        } else {
            "double quotes"
        });
        let plain = self.rng.percent(40);
        let mut out = String::from(quote);
        let chars: Vec<char> = value.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if !plain && self.rng.percent(5) {
                self.mark("line continuation");
                out.push_str(self.rng.pick(&["\\\n", "\\\r\n"]));
            }
            let next = chars.get(i + 1).copied();
            match c {
                _ if c == quote => {
                    self.mark("escaped quote");
                    out.push('\\');
                    out.push(c);
                }
                '\'' | '"' => {
                    if self.rng.percent(50) {
                        self.mark("escaped quote");
                        out.push('\\');
                    } else {
                        self.mark("other quote unescaped");
                    }
                    out.push(c);
                }
                '\\' => {
                    // `\s` is an unknown escape and stays `\s`; before a known escape letter, a
                    // quote, a digit, a non-ASCII character or the end it must be `\\`.
                    let unknown = next.is_some_and(|n| {
                        n.is_ascii_graphic() && !"\\'\"abfnrtvxuUN01234567".contains(n)
                    });
                    if unknown && self.rng.percent(50) {
                        self.mark("unknown escape");
                        out.push('\\');
                    } else {
                        self.mark("escaped backslash");
                        out.push_str("\\\\");
                    }
                }
                '\n' => match self.rng.below(if plain { 1 } else { 6 }) {
                    0 => {
                        self.mark("newline in string");
                        out.push('\n');
                    }
                    1 => {
                        self.mark("crlf in string");
                        out.push_str("\r\n");
                    }
                    2 => {
                        self.mark("cr in string");
                        out.push('\r');
                    }
                    3 => {
                        self.mark("named escape");
                        out.push_str("\\n");
                    }
                    4 => {
                        self.mark("hex escape");
                        out.push_str("\\x0a");
                    }
                    _ => {
                        self.mark("octal escape");
                        out.push_str("\\012");
                    }
                },
                '\t' if !plain && self.rng.percent(50) => {
                    self.mark("named escape");
                    out.push_str("\\t");
                }
                _ if !plain && self.rng.percent(15) => self.escape(&mut out, c),
                _ => out.push(c),
            }
        }
        out.push(quote);
        out
    }

    /// `c` as a numeric escape that Jinja2 (Python's `unicode-escape`) resolves to `c`.
    fn escape(&mut self, out: &mut String, c: char) {
        let code = c as u32;
        match self.rng.below(4) {
            0 if code < 0x100 => {
                self.mark("hex escape");
                out.push_str(&format!("\\x{code:02x}"));
            }
            1 if code <= 0o777 => {
                self.mark("octal escape");
                out.push_str(&format!("\\{code:03o}"));
            }
            2 if code < 0x10000 => {
                self.mark("unicode escape");
                out.push_str(&format!("\\u{code:04X}"));
            }
            _ => {
                self.mark("unicode escape");
                out.push_str(&format!("\\U{code:08x}"));
            }
        }
    }

    /// A literal whose escapes are odd: unknown ones (`\q`, `\%`) and a backslash before a
    /// non-ASCII character (which Jinja2 turns into `\xe9`-like text, not into the character).
    fn wild_literal(&mut self) -> String {
        let quote = self.rng.pick(&["'", "\""]);
        let mut out = String::from(quote);
        for _ in 0..1 + self.rng.below(4) {
            let (piece, feature) = self.rng.pick(&[
                ("\\q", "unknown escape"),
                ("\\%}", "unknown escape"),
                ("\\}", "unknown escape"),
                ("\\ ", "unknown escape"),
                ("\\é", "backslash before non-ascii"),
                ("\\☃", "backslash before non-ascii"),
                ("\\\u{1f600}", "backslash before non-ascii"),
                ("\\\u{a0}", "backslash before non-ascii"),
                ("\\0", "octal escape"),
                ("\\1234", "octal escape"),
                ("\\x41\\u00e9\\U0001F600", "unicode escape"),
                ("\\a\\b\\f\\v\\r", "named escape"),
                ("name.html", ""),
            ]);
            if !feature.is_empty() {
                self.mark(feature);
            }
            out.push_str(piece);
        }
        out.push_str(quote);
        out
    }

    fn sequence(&mut self) -> String {
        let list = self.rng.percent(50);
        self.mark(if list { "list" } else { "tuple" });
        let n = self.rng.below(4);
        let items: Vec<String> = (0..n).map(|_| self.item()).collect();
        let sep = self.rng.pick(&[", ", ",", " ,\n  "]);
        let mut inner = items.join(sep);
        if n == 0 {
            self.mark("empty sequence");
        } else if (n == 1 && !list) || self.rng.percent(25) {
            // A one-item tuple needs its comma; anywhere else it is optional.
            self.mark("trailing comma");
            inner.push(',');
        }
        let seq = if list {
            format!("[{inner}]")
        } else {
            format!("({inner})")
        };
        if self.rng.percent(15) {
            self.mark("parentheses");
            return self.parenthesize(seq);
        }
        seq
    }

    fn item(&mut self) -> String {
        match self.rng.below(10) {
            0..=4 => self.static_name(),
            5 => {
                self.mark("constant item");
                self.rng
                    .pick(&[
                        "1", "2.5", "none", "None", "true", "False", "0x1f", "1_000", "1e3",
                    ])
                    .into()
            }
            6 => {
                self.mark("parenthesized item");
                let inner = self.literal_of_pool();
                self.parenthesize(inner)
            }
            7 => {
                self.mark("nested sequence");
                self.mark("dynamic item");
                let inner = self.literal_of_pool();
                if self.rng.percent(50) {
                    format!("[{inner}]")
                } else {
                    format!("({inner},)")
                }
            }
            _ => {
                self.mark("dynamic item");
                self.dynamic_name()
            }
        }
    }

    /// A name expression that is not a constant string: one of [`DYNAMIC`], with `{L}` filled
    /// with a literal of a pool name and `{V}` with a variable; or a keyword-like variable.
    fn dynamic_name(&mut self) -> String {
        if self.rng.percent(5) {
            self.mark("keyword-like variable");
            return self.rng.pick(KEYWORD_VARIABLES).into();
        }
        let (feature, pattern) = self.rng.pick(DYNAMIC);
        self.mark(feature);
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(at) = rest.find(['{', '}']) {
            out.push_str(&rest[..at]);
            if rest[at..].starts_with("{L}") {
                out.push_str(&self.literal_of_pool());
                rest = &rest[at + 3..];
            } else if rest[at..].starts_with("{V}") {
                out.push_str(self.rng.pick(VARIABLES));
                rest = &rest[at + 3..];
            } else {
                out.push_str(&rest[at..at + 1]);
                rest = &rest[at + 1..];
            }
        }
        out.push_str(rest);
        out
    }

    fn structure(&mut self, out: &mut String, depth: usize) {
        self.serial += 1;
        let id = self.serial;
        let cond = |g: &mut Self| {
            g.rng
                .pick(&["x", "x > 1", "'}}' in y", "false", "not (a or b)"])
        };
        match self.rng.below(11) {
            0 | 1 => {
                self.mark("if");
                let c = cond(self);
                self.tag(out, &format!("if {c}"));
                self.body(out, depth);
                if self.rng.percent(30) {
                    self.mark("elif");
                    let c = cond(self);
                    self.tag(out, &format!("elif {c}"));
                    self.body(out, depth);
                }
                if self.rng.percent(30) {
                    self.mark("else");
                    self.tag(out, "else");
                    self.body(out, depth);
                }
                self.tag(out, "endif");
            }
            2 => {
                self.mark("for");
                let head =
                    self.rng
                        .pick(&["item in items", "k, v in d.items() if v", "i in range(3)"]);
                self.tag(out, &format!("for {head}"));
                self.body(out, depth);
                if self.rng.percent(30) {
                    self.mark("for else");
                    self.tag(out, "else");
                    self.body(out, depth);
                }
                self.tag(out, "endfor");
            }
            3 => {
                self.mark("macro");
                self.tag(out, &format!("macro m{id}(a, b='%}}')"));
                self.body(out, depth);
                self.tag(out, "endmacro");
            }
            4 => {
                if self.rng.percent(50) {
                    self.mark("call block");
                    self.tag(out, "call m(1)");
                } else {
                    self.mark("call block with arguments");
                    self.tag(out, "call(item) m(x, '}}')");
                }
                self.body(out, depth);
                self.tag(out, "endcall");
            }
            5 | 6 => {
                self.mark("block");
                let scoped = if self.rng.percent(20) {
                    self.mark("scoped block");
                    " scoped"
                } else {
                    ""
                };
                self.tag(out, &format!("block b{id}{scoped}"));
                self.body(out, depth);
                let end = if self.rng.percent(50) {
                    format!("endblock b{id}")
                } else {
                    "endblock".into()
                };
                self.tag(out, &end);
            }
            7 => {
                if self.rng.percent(50) {
                    self.mark("set block");
                    self.tag(out, &format!("set s{id}"));
                } else {
                    self.mark("filtered set block");
                    self.tag(out, &format!("set s{id} | upper"));
                }
                self.body(out, depth);
                self.tag(out, "endset");
            }
            8 => {
                self.mark("filter block");
                let f = self.rng.pick(&["upper", "replace('a', '}}')|trim"]);
                self.tag(out, &format!("filter {f}"));
                self.body(out, depth);
                self.tag(out, "endfilter");
            }
            9 => {
                self.mark("with");
                self.tag(out, "with a = 1, b = '%}'");
                self.body(out, depth);
                self.tag(out, "endwith");
            }
            _ => {
                self.mark("autoescape");
                self.tag(out, "autoescape false");
                self.body(out, depth);
                self.tag(out, "endautoescape");
            }
        }
    }
}
