//! What a dynamic reference may name: the templates that `{% include 'icons/' ~ name ~ '.svg' %}`
//! or `{% extends layout %}` can render, worked out from the expression alone, conservatively
//! (never fewer templates than the render can reach).
//!
//! ```
//! use shipwright_core::dynamic::Targets;
//!
//! let icons = Targets::of("'icons/' ~ name ~ '.svg'");
//! assert_eq!(icons.to_string(), "icons/*.svg");
//! assert!(icons.matches("icons/star.svg") && !icons.matches("star.svg"));
//!
//! let either = Targets::of("'wide.html' if wide else 'narrow.html'");
//! assert_eq!(either.select(["narrow.html", "other.html", "wide.html"]), ["narrow.html", "wide.html"]);
//!
//! // A name only known at render time: any template.
//! assert!(Targets::of("layout").is_any());
//! ```
//!
//! # The rules
//!
//! The expression is split the way Jinja2 parses it, loosest operator first:
//!
//! - `a if c else b`: the targets of `a` and of `b` (the condition names nothing); `a if c`:
//!   those of `a`.
//! - `a or b`, `a and b`: the targets of both (either operand can be the value).
//! - A list or tuple literal: the targets of every item (Jinja2 renders the first that exists,
//!   and which exists can change).
//! - Parentheses that only group are dropped.
//! - A concatenation (`~`, or `+` of strings) is a pattern: its string literals in order, with
//!   any text where another operand stands (a variable, an attribute, a call, a filtered
//!   value). A string formatted with `%` (`'x/%s.html' % v`) or `.format(…)`
//!   (`'x/{}.html'.format(v)`) is its literal text with any text for each placeholder.
//! - Anything else (a variable, a call, a filter over the whole name) is any template, and so is
//!   a pattern with no literal text at all.
//!
//! A pattern matches a template name when the name starts with the first literal piece, ends
//! with the last, and holds the ones between in order; "any text" may be empty and may contain
//! `/`. A leading `./` of the first piece is dropped, as the build drops it from static names.
//! An expression the lexer cannot read is any template.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Bound, Range};

use crate::lex::{Part, Token, TokenKind, lex, unquote, work};

/// The templates a dynamic reference may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// Any template at all.
    Any,
    /// The templates matching one of these patterns (none if the list is empty).
    Patterns(Vec<NamePattern>),
}

/// Literal pieces with any text between consecutive ones: `icons/*.svg` is
/// `["icons/", ".svg"]`; one piece is an exact name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamePattern {
    pieces: Vec<String>,
}

impl NamePattern {
    /// The pattern of an exact name.
    pub fn exact(name: impl Into<String>) -> Self {
        NamePattern {
            pieces: vec![name.into()],
        }
    }

    /// The literal pieces, with any text between consecutive ones.
    pub fn pieces(&self) -> &[String] {
        &self.pieces
    }

    /// The name, if the pattern has no wildcard.
    pub fn as_exact(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// Does `name` match?
    pub fn matches(&self, name: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return false,
        };
        let Some(mut tail) = name.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return tail.is_empty();
        };
        for piece in middle {
            match tail.find(piece.as_str()) {
                Some(at) => tail = &tail[at + piece.len()..],
                None => return false,
            }
        }
        tail.ends_with(last.as_str())
    }

    /// A pattern with no literal text matches every name.
    fn is_any(&self) -> bool {
        self.pieces.len() > 1 && self.pieces.iter().all(String::is_empty)
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pieces.join("*"))
    }
}

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Targets::Any => f.write_str("*"),
            Targets::Patterns(patterns) => {
                let shown: Vec<String> = patterns.iter().map(ToString::to_string).collect();
                f.write_str(&shown.join(" | "))
            }
        }
    }
}

impl Targets {
    /// The targets of a dynamic reference's expression, as written (a
    /// [`DynamicRef::expr`](crate::format::DynamicRef::expr)).
    pub fn of(expr: &str) -> Targets {
        let wrapped = format!("{{{{ {expr} }}}}");
        let Ok(lexed) = lex(&wrapped) else {
            return Targets::Any;
        };
        let tokens = match lexed.parts.as_slice() {
            [Part::Expr(d)] => lexed.tokens(d),
            _ => return Targets::Any,
        };
        targets(tokens)
    }

    /// Any template at all?
    pub fn is_any(&self) -> bool {
        matches!(self, Targets::Any)
    }

    /// May the reference name `name`?
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Targets::Any => true,
            Targets::Patterns(patterns) => patterns.iter().any(|p| p.matches(name)),
        }
    }

    /// The names among `names` the reference may name, in their order.
    pub fn select<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        names.into_iter().filter(|n| self.matches(n)).collect()
    }

    /// The keys of a map by name the reference may name, sorted: each pattern looks only at
    /// the names that start with its first literal piece (a range of the map), so a pattern
    /// costs what it matches, not the whole site.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use shipwright_core::dynamic::Targets;
    ///
    /// let names: BTreeMap<String, ()> =
    ///     ["a.html", "icons/x.svg", "icons/y.svg", "z.html"].map(|n| (n.to_string(), ())).into();
    /// assert_eq!(Targets::of("'icons/' ~ n ~ '.svg'").select_in(&names), ["icons/x.svg", "icons/y.svg"]);
    /// ```
    pub fn select_in<'a, V>(&self, names: &'a BTreeMap<String, V>) -> Vec<&'a str> {
        let patterns = match self {
            Targets::Any => return names.keys().map(String::as_str).collect(),
            Targets::Patterns(patterns) => patterns,
        };
        let mut out: Vec<&'a str> = Vec::new();
        for pattern in patterns {
            let prefix = pattern.pieces.first().map_or("", String::as_str);
            let from = (Bound::Included(prefix), Bound::Unbounded);
            out.extend(
                names
                    .range::<str, _>(from)
                    .map(|(name, _)| name.as_str())
                    .take_while(|name| name.starts_with(prefix))
                    .filter(|name| pattern.matches(name)),
            );
        }
        if patterns.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
        out
    }
}

/// The whole analysis, without recursion: a work list of token ranges, each split at its loosest
/// operator. Brackets are matched once, so nested groups cost one pass however deep.
fn targets(tokens: &[Token<'_>]) -> Targets {
    let close = crate::lex::refs::matching_brackets(tokens);
    let mut patterns: Vec<NamePattern> = Vec::new();
    let mut work_list: Vec<Range<usize>> = Vec::new();
    work_list.push(0..tokens.len());
    while let Some(range) = work_list.pop() {
        let range = ungroup(tokens, &close, range);
        if range.is_empty() {
            continue;
        }
        let top: Vec<usize> = top_level(&close, range.clone()).collect();
        // `a if c else b`: the loosest operator.
        if let Some(&at) = top.iter().find(|&&i| tokens[i].is_name("if")) {
            work_list.push(range.start..at);
            if let Some(&other) = top.iter().find(|&&i| i > at && tokens[i].is_name("else")) {
                work_list.push(other + 1..range.end);
            }
            continue;
        }
        // `a or b`, `a and b`: either operand.
        let joins: Vec<usize> = top
            .iter()
            .copied()
            .filter(|&i| tokens[i].is_name("or") || tokens[i].is_name("and"))
            .collect();
        if !joins.is_empty() {
            let mut from = range.start;
            for at in joins {
                work_list.push(from..at);
                from = at + 1;
            }
            work_list.push(from..range.end);
            continue;
        }
        // A list or tuple: every item.
        if let Some(items) = sequence_items(tokens, &close, range.clone()) {
            work_list.extend(items);
            continue;
        }
        // `none`, `true`, a number: no template.
        if let [t] = &tokens[range.clone()]
            && (t.kind == TokenKind::Number
                || (t.kind == TokenKind::Name && is_value_keyword(t.text)))
        {
            continue;
        }
        let pattern = concatenation(tokens, &close, range);
        if pattern.is_any() {
            return Targets::Any;
        }
        patterns.push(pattern);
    }
    patterns.sort();
    patterns.dedup();
    Targets::Patterns(patterns)
}

fn is_value_keyword(word: &str) -> bool {
    matches!(word, "none" | "None" | "true" | "True" | "false" | "False")
}

/// The indices of the tokens of `range` outside any bracket (brackets left out), jumping over
/// each bracketed group in one step.
fn top_level(close: &[usize], range: Range<usize>) -> impl Iterator<Item = usize> + '_ {
    let mut i = range.start;
    std::iter::from_fn(move || {
        while i < range.end {
            work::step();
            let at = i;
            match close[at] {
                usize::MAX => {
                    i += 1;
                    return Some(at);
                }
                end => i = end + 1,
            }
        }
        None
    })
}

/// Without parentheses that only group (no comma directly inside).
fn ungroup(tokens: &[Token<'_>], close: &[usize], mut range: Range<usize>) -> Range<usize> {
    while range.len() >= 2
        && tokens[range.start].is_op("(")
        && close[range.start] == range.end - 1
        && !top_level(close, range.start + 1..range.end - 1).any(|i| tokens[i].is_op(","))
    {
        range = range.start + 1..range.end - 1;
    }
    range
}

/// The items of a list or tuple literal that is the whole of `range`.
fn sequence_items(
    tokens: &[Token<'_>],
    close: &[usize],
    range: Range<usize>,
) -> Option<Vec<Range<usize>>> {
    let first = &tokens[range.start];
    let bracketed = (first.is_op("[") || first.is_op("(")) && close[range.start] == range.end - 1;
    let inner = if bracketed {
        range.start + 1..range.end - 1
    } else if top_level(close, range.clone()).any(|i| tokens[i].is_op(",")) {
        // A bare tuple: `'a.html', 'b.html'`.
        range.clone()
    } else {
        return None;
    };
    let mut items = Vec::new();
    let mut from = inner.start;
    for i in top_level(close, inner.clone()).filter(|&i| tokens[i].is_op(",")) {
        items.push(from..i);
        from = i + 1;
    }
    items.push(from..inner.end);
    Some(items)
}

/// The pattern of a concatenation: literal pieces, any text for every other operand. A grouped
/// operand that is itself a concatenation is flattened in place (a stack, not recursion).
fn concatenation(tokens: &[Token<'_>], close: &[usize], range: Range<usize>) -> NamePattern {
    let mut pieces: Vec<String> = vec![String::new()];
    let mut operands: Vec<Range<usize>> = vec![range];
    while let Some(operand) = operands.pop() {
        let operand = ungroup(tokens, close, operand);
        let splits: Vec<usize> = top_level(close, operand.clone())
            .filter(|&i| (tokens[i].is_op("~") || tokens[i].is_op("+")) && i > operand.start)
            .collect();
        if !splits.is_empty() {
            let mut parts = Vec::with_capacity(splits.len() + 1);
            let mut from = operand.start;
            for at in splits {
                parts.push(from..at);
                from = at + 1;
            }
            parts.push(from..operand.end);
            operands.extend(parts.into_iter().rev());
            continue;
        }
        match operand_pieces(tokens, close, operand) {
            Some(literal) => {
                for (n, piece) in literal.into_iter().enumerate() {
                    if n > 0 {
                        pieces.push(String::new());
                    }
                    pieces.last_mut().expect("never empty").push_str(&piece);
                }
            }
            None => pieces.push(String::new()),
        }
    }
    if let Some(first) = pieces.first_mut() {
        while let Some(rest) = first.strip_prefix("./") {
            *first = rest.to_string();
        }
    }
    // Two wildcards in a row are one.
    let last = pieces.len() - 1;
    let pieces = pieces
        .into_iter()
        .enumerate()
        .filter(|(i, p)| *i == 0 || *i == last || !p.is_empty())
        .map(|(_, p)| p)
        .collect();
    NamePattern { pieces }
}

/// An operand's literal pieces (more than one when it has placeholders), or `None` for an
/// operand that is not a string literal.
fn operand_pieces(
    tokens: &[Token<'_>],
    close: &[usize],
    range: Range<usize>,
) -> Option<Vec<String>> {
    let operand = &tokens[range.clone()];
    let strings = operand
        .iter()
        .take_while(|t| t.kind == TokenKind::Str)
        .count();
    if strings == 0 {
        return None;
    }
    let literal: String = operand[..strings].iter().map(|t| unquote(t.text)).collect();
    let rest = &operand[strings..];
    match rest {
        [] => Some(vec![literal]),
        // `'x/%s.html' % value`: the right side is one operand of `%` (nothing looser follows).
        [percent, ..] if percent.is_op("%") => Some(split_placeholders(&literal, percent_spec)),
        // `'x/{}.html'.format(…)`, and nothing after the call.
        [dot, format, open, ..]
            if dot.is_op(".")
                && format.is_name("format")
                && open.is_op("(")
                && close[range.start + strings + 2] == range.end - 1 =>
        {
            Some(split_placeholders(&literal, brace_spec))
        }
        _ => None,
    }
}

/// What a format string holds at a position.
enum Placeholder {
    /// A placeholder of this many bytes: any text.
    Field(usize),
    /// An escape of this many bytes standing for this text (`%%`, `{{`).
    Escape(usize, &'static str),
}

/// The literal text between placeholders; `spec` says what starts at a position, if anything
/// but a plain character.
fn split_placeholders(literal: &str, spec: fn(&str) -> Option<Placeholder>) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut rest = literal;
    while let Some(c) = rest.chars().next() {
        match spec(rest) {
            Some(Placeholder::Field(len)) => {
                pieces.push(String::new());
                rest = &rest[len..];
            }
            Some(Placeholder::Escape(len, text)) => {
                pieces.last_mut().expect("never empty").push_str(text);
                rest = &rest[len..];
            }
            None => {
                pieces.last_mut().expect("never empty").push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    pieces
}

/// `%s`, `%(name)s`, `%05d` …: the placeholder's length; `%%` is a literal `%`.
fn percent_spec(at: &str) -> Option<Placeholder> {
    let rest = at.strip_prefix('%')?;
    if rest.starts_with('%') {
        return Some(Placeholder::Escape(2, "%"));
    }
    let mut len = 1;
    let mut chars = rest.char_indices().peekable();
    if rest.starts_with('(') {
        let end = rest.find(')')?;
        len += end + 1;
        chars = rest[end + 1..].char_indices().peekable();
    }
    for (_, c) in chars {
        len += c.len_utf8();
        if c.is_ascii_alphabetic() {
            return Some(Placeholder::Field(len));
        }
    }
    None
}

/// `{}`, `{0}`, `{name!r:>5}`: the placeholder's length; `{{` and `}}` are literal braces.
fn brace_spec(at: &str) -> Option<Placeholder> {
    if at.starts_with("{{") {
        return Some(Placeholder::Escape(2, "{"));
    }
    if at.starts_with("}}") {
        return Some(Placeholder::Escape(2, "}"));
    }
    if at.starts_with('{') {
        return at.find('}').map(|end| Placeholder::Field(end + 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(expr: &str) -> String {
        Targets::of(expr).to_string()
    }

    #[test]
    fn literal_pieces_and_operands() {
        assert_eq!(shown("'icons/' ~ name ~ '.svg'"), "icons/*.svg");
        assert_eq!(shown("\"partials/\" + lang + \".html\""), "partials/*.html");
        assert_eq!(
            shown("'a/' ~ x ~ '/b/' ~ y|lower ~ '.html'"),
            "a/*/b/*.html"
        );
        assert_eq!(shown("'./icons/' ~ name"), "icons/*");
        assert_eq!(shown("'x' 'y' ~ z"), "xy*");
        assert_eq!(shown("('p/' ~ page) ~ '.html'"), "p/*.html");
        assert_eq!(shown("name ~ '.html'"), "*.html");
    }

    #[test]
    fn formatted_strings() {
        assert_eq!(shown("'themes/%s/base.html' % theme"), "themes/*/base.html");
        assert_eq!(shown("'%(a)s-%(b)d.html' % d"), "*-*.html");
        assert_eq!(shown("'100%%/%s' % x"), "100%/*");
        assert_eq!(shown("'t/{}.html'.format(x)"), "t/*.html");
        assert_eq!(shown("'t/{{{}}}.html'.format(x)"), "t/{*}.html");
        // A call after the format: not a plain format.
        assert!(Targets::of("'t/{}.html'.format(x).strip()").is_any());
    }

    #[test]
    fn alternatives() {
        assert_eq!(
            shown("'wide.html' if wide else 'narrow.html'"),
            "narrow.html | wide.html"
        );
        assert_eq!(shown("'a.html' if c"), "a.html");
        assert_eq!(
            shown("'a.html' if c else 'b.html' if d else 'c/' ~ e"),
            "a.html | b.html | c/*"
        );
        assert_eq!(shown("layout or 'base.html'"), "*");
        assert_eq!(
            shown("['a.html', 'b/' ~ x, none]"),
            "a.html | b/*",
            "a list: every item, constants name nothing"
        );
        assert_eq!(shown("('a.html', ('b.html'))"), "a.html | b.html");
        assert_eq!(shown("(('solo.html'))"), "solo.html");
    }

    #[test]
    fn unknown_names_are_any_template() {
        for expr in [
            "layout",
            "page.template",
            "pick(x)",
            "(x ~ '.html')|lower",
            "'{% if",
        ] {
            assert!(Targets::of(expr).is_any(), "{expr}");
        }
        assert!(Targets::of("'a.html' if c else layout").is_any());
    }

    #[test]
    fn matching_is_anchored_at_both_ends() {
        let t = Targets::of("'icons/' ~ name ~ '.svg'");
        assert!(t.matches("icons/a.svg"));
        assert!(t.matches("icons/deep/a.svg"), "any text includes `/`");
        assert!(t.matches("icons/.svg"), "any text may be empty");
        assert!(!t.matches("xicons/a.svg"));
        assert!(!t.matches("icons/a.svg.bak"));
        let t = Targets::of("'a' ~ x ~ 'a'");
        assert!(!t.matches("a"), "the two pieces cannot overlap");
        assert!(t.matches("aa"));
        assert_eq!(
            t.select(["a", "aa", "aba", "b"]),
            ["aa", "aba"],
            "select keeps the order"
        );
        assert!(NamePattern::exact("x.html").matches("x.html"));
        assert!(!NamePattern::exact("x.html").matches("x.htmlx"));
    }

    #[test]
    fn deep_nesting_takes_linear_work() {
        fn steps(depth: usize) -> u64 {
            let expr = format!("{}'a/' ~ x{}", "(".repeat(depth), ")".repeat(depth));
            let wrapped = format!("{{{{ {expr} }}}}");
            let lexed = lex(&wrapped).unwrap();
            let [Part::Expr(d)] = lexed.parts.as_slice() else {
                panic!()
            };
            work::take();
            assert_eq!(targets(lexed.tokens(d)).to_string(), "a/*");
            work::take()
        }
        let (n, double) = (steps(5_000), steps(10_000));
        assert!(
            double <= 2 * n + 64,
            "{double} steps against {n}: not linear"
        );
        let lists = format!("{}'a.html'{}", "[".repeat(50_000), "]".repeat(50_000));
        assert_eq!(shown(&lists), "a.html", "no recursion, no overflow");
    }
}
