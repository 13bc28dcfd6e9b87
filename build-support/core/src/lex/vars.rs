//! The root variables a template reads: the names its context must provide.
//!
//! ```
//! use shipwright_core::lex::{lex, vars::root_variables};
//!
//! let src = "{% set title = page.title %}{% for item in items %}{{ item.name|upper }}\
//!            {{ loop.index }}{% endfor %}{{ title }}\n{{ user.name is defined }}";
//! let vars = root_variables(src, &lex(src).unwrap());
//! let names: Vec<(&str, u32)> = vars.iter().map(|v| (v.name.as_str(), v.line)).collect();
//! assert_eq!(names, [("items", 1), ("page", 1), ("user", 2)]);
//! ```
//!
//! A name is a root variable where it starts a value: not after `.` (an attribute), `|` (a
//! filter) or `is` (a test), not a keyword argument inside a call, not a keyword or a global
//! every engine provides (`range`, `loop`, `super`…). A name the template defines anywhere
//! (`set`, `for` targets, `macro` names and arguments, `call` arguments, `import … as`,
//! `from … import`, `with`) is not one. Scopes are not tracked: a name defined anywhere in the
//! template counts as defined everywhere in it, which errs towards fewer variables.

use std::collections::{BTreeMap, HashSet};

use super::{Lexed, Lines, Part, Token, TokenKind, top_level};
use crate::format::Var;

const KEYWORDS: [&str; 23] = [
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "recursive",
    "with",
    "without",
    "context",
    "ignore",
    "missing",
    "as",
    "import",
    "scoped",
    "required",
];

const GLOBALS: [&str; 13] = [
    "range",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "loop",
    "super",
    "self",
    "caller",
    "varargs",
    "kwargs",
    "debug",
];

/// The root variables that `lexed` (the tokens of `src`) reads and does not define, sorted by
/// name, each with the line of its first read.
pub fn root_variables(src: &str, lexed: &Lexed<'_>) -> Vec<Var> {
    let mut scan = Scan::default();
    for part in &lexed.parts {
        match part {
            Part::Tag(tag) => scan.tag(lexed.tokens(tag)),
            Part::Expr(expr) => scan.expr(lexed.tokens(expr), false),
            Part::Text { .. } | Part::Comment(_) => {}
        }
    }
    let mut reads: Vec<(&str, usize)> = scan
        .used
        .into_iter()
        .filter(|(name, _)| !scan.defined.contains(name))
        .collect();
    // Lines in one pass over the text, in offset order; then back to name order.
    reads.sort_unstable_by_key(|&(_, offset)| offset);
    let mut lines = Lines::default();
    let mut vars: Vec<Var> = reads
        .into_iter()
        .map(|(name, offset)| Var {
            name: name.to_string(),
            line: lines.line(src, offset),
        })
        .collect();
    vars.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    vars
}

#[derive(Default)]
struct Scan<'s> {
    /// Each name read, with the byte offset of its first read.
    used: BTreeMap<&'s str, usize>,
    defined: HashSet<&'s str>,
}

impl<'s> Scan<'s> {
    fn tag(&mut self, tokens: &[Token<'s>]) {
        let Some((keyword, rest)) = tokens.split_first() else {
            return;
        };
        if keyword.kind != TokenKind::Name {
            return self.expr(tokens, false);
        }
        match keyword.text {
            "for" => match position(rest, |t| t.is_name("in")) {
                Some(k) => {
                    self.define_names(&rest[..k]);
                    self.expr(&rest[k + 1..], false);
                }
                None => self.expr(rest, false),
            },
            "set" => match position(rest, |t| t.is_op("=")) {
                Some(k) => {
                    self.assign_targets(&rest[..k]);
                    self.expr(&rest[k + 1..], false);
                }
                None => {
                    // `{% set body %}…{% endset %}`, maybe with filters: `set body | trim`.
                    self.assign_targets(&rest[..rest.len().min(1)]);
                    self.expr(rest.get(1..).unwrap_or_default(), false);
                }
            },
            "with" => {
                for item in split_top(rest, ",") {
                    match position(item, |t| t.is_op("=")) {
                        Some(k) => {
                            self.define_names(&item[..k]);
                            self.expr(&item[k + 1..], false);
                        }
                        None => self.expr(item, false),
                    }
                }
            }
            "macro" => {
                if let Some(name) = rest.first() {
                    self.defined.insert(name.text);
                }
                self.parameters(rest.get(1..).unwrap_or_default());
            }
            "call" => {
                if rest.first().is_some_and(|t| t.is_op("(")) {
                    let close = closing(rest);
                    self.parameters(&rest[..close]);
                    self.expr(&rest[close..], false);
                } else {
                    self.expr(rest, false);
                }
            }
            "import" => match rest.iter().rposition(|t| t.is_name("as")) {
                Some(k) => {
                    self.expr(&rest[..k], false);
                    self.define_names(rest.get(k + 1..k + 2).unwrap_or_default());
                }
                None => self.expr(rest, false),
            },
            "from" => match position(rest, |t| t.is_name("import")) {
                Some(k) => {
                    self.expr(&rest[..k], false);
                    for item in split_top(&rest[k + 1..], ",") {
                        let alias = item
                            .iter()
                            .rposition(|t| t.is_name("as"))
                            .map_or(0, |a| a + 1);
                        self.define_names(item.get(alias..alias + 1).unwrap_or_default());
                    }
                }
                None => self.expr(rest, false),
            },
            "filter" => self.expr(rest, true),
            "block" | "endblock" | "endmacro" => {}
            _ => self.expr(rest, false),
        }
    }

    /// Every root name read by an expression. `after_pipe`: the first name is a filter.
    fn expr(&mut self, tokens: &[Token<'s>], after_pipe: bool) {
        let mut depth = 0isize;
        for (i, token) in tokens.iter().enumerate() {
            depth += token.nesting();
            match token.kind {
                TokenKind::Name => {
                    let prev = i.checked_sub(1).map(|p| &tokens[p]);
                    let before = i.checked_sub(2).map(|p| &tokens[p]);
                    let member = prev.is_some_and(|p| p.is_op(".") || p.is_op("|"));
                    let test = prev.is_some_and(|p| p.is_name("is"))
                        || (prev.is_some_and(|p| p.is_name("not"))
                            && before.is_some_and(|b| b.is_name("is")));
                    let keyword_arg = depth > 0 && tokens.get(i + 1).is_some_and(|n| n.is_op("="));
                    let filter = after_pipe && i == 0;
                    if !(member || test || keyword_arg || filter || is_reserved(token.text)) {
                        self.used.entry(token.text).or_insert(token.start);
                    }
                }
                TokenKind::Op | TokenKind::Str | TokenKind::Number => {}
            }
        }
    }

    /// `a, b` defines both; `ns.count` reads `ns`.
    fn assign_targets(&mut self, targets: &[Token<'s>]) {
        for target in split_top(targets, ",") {
            match target {
                [name] if name.kind == TokenKind::Name => {
                    self.defined.insert(name.text);
                }
                _ => self.expr(target, false),
            }
        }
    }

    fn define_names(&mut self, tokens: &[Token<'s>]) {
        for t in tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Name && !is_reserved(t.text))
        {
            self.defined.insert(t.text);
        }
    }

    /// `(a, b=default, *args)`: names defined, defaults read.
    fn parameters(&mut self, tokens: &[Token<'s>]) {
        let inner = match tokens {
            [open, inner @ .., close] if open.is_op("(") && close.is_op(")") => inner,
            _ => return self.expr(tokens, false),
        };
        for param in split_top(inner, ",") {
            match position(param, |t| t.is_op("=")) {
                Some(k) => {
                    self.define_names(&param[..k]);
                    self.expr(&param[k + 1..], false);
                }
                None => self.define_names(param),
            }
        }
    }
}

fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name) || GLOBALS.contains(&name)
}

/// The index of the first top-level token that matches.
fn position(tokens: &[Token<'_>], mut want: impl FnMut(&Token<'_>) -> bool) -> Option<usize> {
    top_level(tokens).find(|(_, t)| want(t)).map(|(i, _)| i)
}

/// The length of the bracketed group that opens `tokens`, closing bracket included.
fn closing(tokens: &[Token<'_>]) -> usize {
    let mut depth = 0isize;
    for (i, t) in tokens.iter().enumerate() {
        depth += t.nesting();
        if depth <= 0 {
            return i + 1;
        }
    }
    tokens.len()
}

/// Splits at top-level `sep` operators.
fn split_top<'t, 's>(tokens: &'t [Token<'s>], sep: &str) -> Vec<&'t [Token<'s>]> {
    let mut out = Vec::new();
    let mut rest = tokens;
    while let Some(k) = position(rest, |t| t.is_op(sep)) {
        out.push(&rest[..k]);
        rest = &rest[k + 1..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}
