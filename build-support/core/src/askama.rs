//! askama templates read by a Jinja engine: the subset of askama's grammar that a minijinja
//! environment configured like askama renders to askama's bytes, translated, and a refusal,
//! naming the construct and its line, for everything else.
//!
//! ```
//! use shipwright_core::askama::to_jinja;
//!
//! let jinja = to_jinja("{% if a && !b %}{{ self.title|upper }}{% else if c %}x{% endif %}").unwrap();
//! assert_eq!(jinja, "{% if a and not b %}{{ title|upper }}{% elif c %}x{% endif %}");
//!
//! let refused = to_jinja("<p>\n{{ user.name() }}</p>").unwrap_err();
//! assert_eq!(refused.to_string(), "a method call `name()` at line 2");
//! ```
//!
//! The rule is one list: what is translated or kept is known to render askama's bytes (checked
//! by the compatibility generator of `tests/benches/askama_compat`); anything else is refused,
//! so that the rebuild planner says `Rebuild` and the app keeps askama's compiled render.
//!
//! - Kept: text, comments, `{{ … }}` of names, attributes, indexes, string and number literals,
//!   comparisons, `+ - *`, `~`; the filters of [`FILTERS`]; `if` / `elif` / `else`, `for … in`
//!   with `loop.index`, `index0`, `first`, `last`; `include`, `extends`, `block`, `raw`.
//! - Done on the text: whitespace control `-`, `+`, `~` and [`to_jinja_with`]'s default (askama's
//!   `#[template(whitespace = ...)]`): each text's leading and trailing ASCII whitespace kept,
//!   dropped or minimized as askama's generator does, and the signs blanked (minijinja's `-`
//!   would also take Unicode whitespace, and it has no `~`). A `{` left before a tag is refused
//!   (it would open a delimiter).
//! - Translated: `&&`, `||`, `!` to `and`, `or`, `not`; `else if` to `elif`; `self.` dropped
//!   (the struct's fields are the context). `let name = value` to `set` at the top of a
//!   template, a `block` or a `for` body. `if let` / `else if let` and `match` / `when` /
//!   `else` with the patterns that test an `Option` or a literal (`_`, a name, `None`,
//!   `Some(p)`, `Some with (p)` with `p` a name, `_` or a literal; a string, an integer,
//!   `true`, `false`): serde writes `None` as none and `Some(v)` as `v`, so `Some(x)` is
//!   `is not none` with `{% with x = … %}` around the branch, `None` is `is none`, a literal is
//!   `==`, and a `match` is an `if false` / `elif` chain (askama drops what stands before the
//!   first `when`, as the `if false` branch does).
//! - Refused: method and function calls, Rust paths (`::`), ranges, casts, `/` and `%` (Rust's
//!   integer arithmetic), `?`, `&`, char literals, `\u{…}` escapes, other `let`s, other patterns
//!   (variants, tuples, structs, `|`, nested `Some`), a `Some` / `None` test of a name an outer
//!   pattern bound (an `Option<Option<_>>`: serde writes `Some(None)` as `None`), a `block`
//!   inside a pattern's branch, macros, `call`, `import`, `filter` blocks, `break` /
//!   `continue`, filters not in [`FILTERS`], and any other tag or operator.
//!
//! Not seen from the text: a subject whose type is `Option<Option<_>>` or `Option<()>` tested
//! only once reads `Some(None)` / `Some(())` as `None`. The dev renderer compares its page
//! with askama's while the files are the build's, and hands the type back to askama for good
//! when they differ; a `Some(None)` first met after an edit renders as `None`.

use std::borrow::Cow;
use std::fmt;

use crate::lex::{LexError, Part, Token, TokenKind, lex, line_of};

mod whitespace;
pub use whitespace::Whitespace;
use whitespace::whitespace;

/// The filters that render as askama renders them (`escape` / `e` and `capitalize` as the dev
/// renderer defines them: minijinja's `capitalize` upper-cases `ß` to `S`, askama's to `SS`).
pub const FILTERS: [&str; 7] = [
    "safe",
    "escape",
    "e",
    "lower",
    "upper",
    "trim",
    "capitalize",
];

/// The operators that mean the same in both engines.
const OPS: [&str; 16] = [
    ".", "|", "(", ")", "[", "]", ",", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*",
];

/// What the dev renderer cannot render as askama does, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 1-based line.
    pub line: u32,
    /// The construct, as a reason names it: "a method call `name()`".
    pub construct: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {}", self.construct, self.line)
    }
}

impl From<LexError> for Refusal {
    fn from(error: LexError) -> Self {
        Refusal {
            line: error.line,
            construct: format!("a template that does not lex ({})", error.message),
        }
    }
}

/// The template `src`, written in askama's grammar, as a Jinja template that minijinja renders
/// to askama's bytes, or the first construct it cannot render so.
pub fn to_jinja(src: &str) -> Result<String, Refusal> {
    to_jinja_with(src, Whitespace::Preserve)
}

/// [`to_jinja`] with `default`, askama's `#[template(whitespace = "...")]`, as the control of
/// every tag side without a sign of its own.
pub fn to_jinja_with(src: &str, default: Whitespace) -> Result<String, Refusal> {
    let refuse = |(offset, construct): Refused| Refusal {
        line: line_of(src, offset),
        construct,
    };
    let (blanked, mut texts) = whitespace(src, &lex(src)?.parts, default).map_err(refuse)?;
    // The same parts, with no sign left for minijinja to act on.
    let src = blanked.as_str();
    let lexed = lex(src)?;
    let mut out = String::with_capacity(src.len());
    let mut copied = 0;
    let mut open: Vec<Frame<'_>> = Vec::new();
    texts.reverse();
    for part in &lexed.parts {
        let (Part::Expr(d) | Part::Tag(d)) = part else {
            continue;
        };
        let mut edits = Edits::new();
        while texts.last().is_some_and(|t| t.0 < d.start) {
            edits.extend(texts.pop());
        }
        let tokens = &merged(src, lexed.tokens(d));
        let body = if matches!(part, Part::Tag(_)) {
            tag(src, tokens, &mut open, &mut edits).map_err(refuse)?
        } else {
            tokens
        };
        expression(body, &mut edits).map_err(refuse)?;
        copied = apply(src, copied, edits, &mut out);
    }
    texts.reverse();
    copied = apply(src, copied, texts, &mut out);
    out.push_str(&src[copied..]);
    Ok(out)
}

/// Replacements of byte ranges of the template, in order.
type Edits = Vec<(usize, usize, Cow<'static, str>)>;
/// Where a construct that cannot be rendered starts, and its name.
type Refused = (usize, String);

/// Copies `src` from `copied` to `out` with `edits` made; returns where the copy stopped.
fn apply(src: &str, mut copied: usize, edits: Edits, out: &mut String) -> usize {
    for (start, end, with) in edits {
        out.push_str(&src[copied..start]);
        out.push_str(&with);
        copied = end;
    }
    copied
}

/// A block open where a tag stands: its tag, the name a pattern of its current branch bound
/// with a Jinja `{% with %}` (closed before the next branch), and for `match`, its subject.
struct Frame<'s> {
    tag: &'static str,
    bound: Option<&'s str>,
    subject: String,
    /// In its `else` branch.
    otherwise: bool,
}

impl Frame<'_> {
    fn new(tag: &'static str) -> Self {
        Frame {
            tag,
            bound: None,
            subject: String::new(),
            otherwise: false,
        }
    }

    /// What closes the current branch's `{% with %}` before a tag, and ends the branch.
    fn end_branch(&mut self) -> &'static str {
        match self.bound.take() {
            Some(_) => "endwith %}{% ",
            None => "",
        }
    }
}

/// Checks a tag's keyword, translating askama's blocks, and returns the tokens that are an
/// expression.
fn tag<'t, 's>(
    src: &'s str,
    tokens: &'t [Token<'s>],
    open: &mut Vec<Frame<'s>>,
    edits: &mut Edits,
) -> Result<&'t [Token<'s>], Refused> {
    let Some(keyword) = tokens.first() else {
        return Ok(tokens);
    };
    let rest = &tokens[1..];
    let whole_end = tokens.last().map_or(keyword.end(), Token::end);
    let unbalanced = || {
        (
            keyword.start,
            format!("an unbalanced `{{% {} %}}`", keyword.text),
        )
    };
    match keyword.text {
        "if" => {
            let mut frame = Frame::new("if");
            let body = if rest.first().is_some_and(|t| t.is_name("let")) {
                let (jinja, bound) = if_let(src, "if", &rest[1..], open, keyword.start)?;
                edits.push((keyword.start, whole_end, jinja.into()));
                frame.bound = bound;
                &[]
            } else {
                rest
            };
            open.push(frame);
            Ok(body)
        }
        "else" | "elif" => {
            let frame = open.last_mut().ok_or_else(unbalanced)?;
            let close = frame.end_branch();
            frame.otherwise = true;
            let (condition, spelled) = match rest.first() {
                _ if keyword.text == "elif" => (rest, keyword.end()),
                Some(t) if t.is_name("if") => (&rest[1..], t.end()),
                _ => {
                    edits.push((keyword.start, keyword.end(), format!("{close}else").into()));
                    return Ok(&[]);
                }
            };
            if frame.tag != "if" {
                return Err(unbalanced());
            }
            if condition.first().is_some_and(|t| t.is_name("let")) {
                let (jinja, bound) = if_let(src, "elif", &condition[1..], open, keyword.start)?;
                edits.push((keyword.start, whole_end, format!("{close}{jinja}").into()));
                open.last_mut().expect("checked").bound = bound;
                return Ok(&[]);
            }
            edits.push((keyword.start, spelled, format!("{close}elif").into()));
            Ok(condition)
        }
        "match" => {
            if rest.is_empty() {
                return Err(unbalanced());
            }
            let mut frame = Frame::new("match");
            frame.subject = subject(src, rest)?;
            edits.push((keyword.start, whole_end, "if false".into()));
            open.push(frame);
            Ok(&[])
        }
        "when" => {
            let frame = open
                .last_mut()
                .filter(|f| f.tag == "match")
                .ok_or_else(unbalanced)?;
            let close = frame.end_branch();
            let subject = std::mem::take(&mut frame.subject);
            let arm = pattern(src, rest, keyword.end())?;
            if arm.option && open.iter().any(|f| f.bound == Some(subject.as_str())) {
                return Err(nested(rest));
            }
            let frame = open.last_mut().expect("checked");
            let jinja = arm.jinja("elif", &subject);
            frame.subject = subject;
            frame.bound = arm.bind;
            edits.push((keyword.start, whole_end, format!("{close}{jinja}").into()));
            Ok(&[])
        }
        "endif" | "endfor" | "endmatch" | "endblock" => {
            let mut frame = open
                .pop()
                .filter(|f| keyword.text[3..] == *f.tag)
                .ok_or_else(unbalanced)?;
            let close = frame.end_branch();
            let jinja = if frame.tag == "match" {
                "endif"
            } else {
                keyword.text
            };
            edits.push((
                keyword.start,
                keyword.end(),
                format!("{close}{jinja}").into(),
            ));
            Ok(&[])
        }
        "for" => {
            let Some(k) = rest.iter().position(|t| t.is_name("in")) else {
                return Err((keyword.start, "a `for` without `in`".into()));
            };
            let targets = &rest[..k];
            if let Some(t) = targets.iter().find(|t| {
                !(t.kind == TokenKind::Name && t.text.starts_with(char::is_lowercase)
                    || t.is_op(",")
                    || t.nesting() != 0)
            }) {
                return Err((t.start, format!("the loop pattern `{}`", t.text)));
            }
            open.push(Frame::new("for"));
            Ok(&rest[k + 1..])
        }
        "block" => {
            if open.iter().any(|f| f.bound.is_some()) {
                return Err((keyword.start, "a `block` inside a pattern's branch".into()));
            }
            open.push(Frame::new("block"));
            Ok(&[])
        }
        "let" => {
            // askama's `let` lives to the end of its Rust block; Jinja's `set` to the end of
            // its scope: alike at the top of a template, a `block` or a `for` body, not in an
            // `if` / `match` branch (Jinja's `if` has no scope) nor outside the blocks of a
            // template that extends another.
            let scoped = open.last().is_none_or(|f| f.tag != "extends")
                && open.iter().all(|f| {
                    f.tag == "extends" || f.tag == "block" || f.tag == "for" && !f.otherwise
                });
            if !scoped {
                return Err((keyword.start, "a `let` inside a branch".into()));
            }
            match rest {
                [name, eq, value @ ..] if binding(name) && eq.is_op("=") && !value.is_empty() => {
                    edits.push((keyword.start, keyword.end(), "set".into()));
                    Ok(value)
                }
                _ => Err((
                    keyword.start,
                    "a `let` that is not `let name = value`".into(),
                )),
            }
        }
        "extends" => {
            open.push(Frame::new("extends"));
            Ok(rest)
        }
        "include" => Ok(rest),
        "raw" | "endraw" => Ok(&[]),
        word => Err((keyword.start, format!("the tag `{{% {word} %}}`"))),
    }
}

/// `if let PATTERN = SUBJECT` (the tokens after `let`) as the Jinja tag `keyword` (`if` or
/// `elif`) and the name the pattern binds.
fn if_let<'s>(
    src: &str,
    keyword: &str,
    tokens: &[Token<'s>],
    open: &[Frame<'_>],
    at: usize,
) -> Result<(String, Option<&'s str>), Refused> {
    let Some(eq) = tokens.iter().position(|t| t.is_op("=")) else {
        return Err((at, format!("`{keyword} let` without `=`")));
    };
    let arm = pattern(src, &tokens[..eq], at)?;
    let subject =
        subject(src, &tokens[eq + 1..]).map_err(|e| if e.0 == 0 { (at, e.1) } else { e })?;
    if arm.option && open.iter().any(|f| f.bound == Some(subject.as_str())) {
        return Err(nested(tokens));
    }
    Ok((arm.jinja(keyword, &subject), arm.bind))
}

/// A pattern testing for `Some` / `None` a name an outer pattern bound: the content of an
/// `Option<Option<_>>`, whose `Some(None)` serde writes as `None` (refused).
#[cold]
fn nested(tokens: &[Token<'_>]) -> Refused {
    (
        tokens.first().map_or(0, |t| t.start),
        "a nested `Option` (serde writes `Some(None)` as `None`)".into(),
    )
}

/// The subject of a pattern, translated (offset 0 when it is empty).
fn subject(src: &str, tokens: &[Token<'_>]) -> Result<String, Refused> {
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return Err((0, "a pattern without a subject".into()));
    };
    if let Some(t) = tokens.iter().find(|t| t.is_op("&&") || t.is_op("||")) {
        return Err((t.start, format!("`{}` in a pattern's subject", t.text)));
    }
    let mut edits = Edits::new();
    expression(tokens, &mut edits)?;
    let mut out = String::new();
    let copied = apply(src, first.start, edits, &mut out);
    out.push_str(&src[copied..last.end()]);
    Ok(out)
}

/// What a pattern tests its subject for, in Jinja.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    /// `_`, a name.
    Always,
    /// `None`.
    IsNone,
    /// `Some(_)`, `Some(name)`.
    IsSome,
    /// A literal, or `Some(literal)`: serde writes `Some(v)` as `v`.
    Equals(String),
}

/// A pattern of `if let` or `when`: its test and the name it binds.
struct Arm<'s> {
    test: Test,
    bind: Option<&'s str>,
    /// Does it name `Some` or `None`?
    option: bool,
}

impl Arm<'_> {
    /// The Jinja tag (`if` / `elif`) that tests `subject`, and opens the binding's `with`.
    fn jinja(&self, keyword: &str, subject: &str) -> String {
        let test = match &self.test {
            Test::Always => "true".to_string(),
            Test::IsNone => format!("({subject}) is none"),
            Test::IsSome => format!("({subject}) is not none"),
            Test::Equals(literal) => format!("({subject}) == {literal}"),
        };
        match self.bind {
            Some(name) => format!("{keyword} {test} %}}{{% with {name} = ({subject})"),
            None => format!("{keyword} {test}"),
        }
    }
}

/// The patterns that test an `Option` or a literal: `_`, a name, `None`, `Some(p)` and
/// `Some with (p)` where `p` is `_`, a name or a literal, and literals (a string, an integer,
/// `true`, `false`). Anything else is refused.
fn pattern<'s>(src: &str, tokens: &[Token<'s>], at: usize) -> Result<Arm<'s>, Refused> {
    let refused = || match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => (
            first.start,
            format!("the pattern `{}`", &src[first.start..last.end()]),
        ),
        _ => (at, "an empty pattern".into()),
    };
    let option = tokens
        .first()
        .is_some_and(|t| t.is_name("Some") || t.is_name("None"));
    let arm = |test, bind| Ok(Arm { test, bind, option });
    match tokens {
        [t] if t.is_name("None") => arm(Test::IsNone, None),
        [some, inner @ ..] if some.is_name("Some") => {
            let inner = match inner {
                [with, open, inner @ .., close]
                    if with.is_name("with") && open.is_op("(") && close.is_op(")") =>
                {
                    inner
                }
                [open, inner @ .., close] if open.is_op("(") && close.is_op(")") => inner,
                _ => return Err(refused()),
            };
            match inner {
                [t] if t.is_name("_") => arm(Test::IsSome, None),
                [t] if binding(t) => arm(Test::IsSome, Some(t.text)),
                _ => literal(src, inner)
                    .map_or_else(|| Err(refused()), |l| arm(Test::Equals(l), None)),
            }
        }
        [t] if t.is_name("_") => arm(Test::Always, None),
        [t] if binding(t) => arm(Test::Always, Some(t.text)),
        _ => literal(src, tokens).map_or_else(|| Err(refused()), |l| arm(Test::Equals(l), None)),
    }
}

/// Is `t` a name a pattern binds (not a literal, a keyword, a constant or a variant)?
fn binding(t: &Token<'_>) -> bool {
    t.kind == TokenKind::Name
        && t.text.starts_with(|c: char| c.is_lowercase() || c == '_')
        && t.text != "_"
        && !matches!(
            t.text,
            "true" | "false" | "ref" | "mut" | "with" | "loop" | "self" | "super"
        )
}

/// A literal pattern whose Jinja spelling compares as Rust's pattern matches: a string without
/// `\u{…}`, a decimal integer (with its sign), `true`, `false`.
fn literal(src: &str, tokens: &[Token<'_>]) -> Option<String> {
    let digits =
        |t: &Token<'_>| t.kind == TokenKind::Number && t.text.bytes().all(|b| b.is_ascii_digit());
    match tokens {
        [t] if t.kind == TokenKind::Str && t.text.starts_with('"') && !t.text.contains("\\u") => {
            Some(t.text.to_string())
        }
        [t] if digits(t) || t.is_name("true") || t.is_name("false") => Some(t.text.to_string()),
        [minus, t] if minus.is_op("-") && digits(t) => Some(src[minus.start..t.end()].to_string()),
        _ => None,
    }
}

/// Checks an expression's tokens, translating what has a Jinja spelling.
fn expression(tokens: &[Token<'_>], edits: &mut Edits) -> Result<(), Refused> {
    for (i, token) in tokens.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let next = tokens.get(i + 1);
        match token.kind {
            TokenKind::Name => {
                let filter = prev.is_some_and(|p| p.is_op("|"));
                let member = prev.is_some_and(|p| p.is_op("."));
                if filter {
                    if !FILTERS.contains(&token.text) {
                        return Err((token.start, format!("the filter `|{}`", token.text)));
                    }
                } else if next.is_some_and(|n| n.is_op("(")) && token.text != "super" {
                    let what = if member {
                        "a method call"
                    } else {
                        "a function call"
                    };
                    return Err((token.start, format!("{what} `{}()`", token.text)));
                } else if token.is_name("self") && next.is_some_and(|n| n.is_op(".")) && !member {
                    edits.push((token.start, next.expect("checked").end(), "".into()));
                } else if member && prev_is_loop(tokens, i) {
                    if !matches!(token.text, "index" | "index0" | "first" | "last") {
                        return Err((token.start, format!("`loop.{}`", token.text)));
                    }
                } else if !member
                    && matches!(
                        token.text,
                        "is" | "in" | "not" | "and" | "or" | "if" | "else" | "as" | "none"
                    )
                {
                    return Err((token.start, format!("the keyword `{}`", token.text)));
                }
            }
            TokenKind::Str => {
                if token.text.starts_with('\'') {
                    return Err((token.start, format!("the char literal {}", token.text)));
                }
                if token.text.contains("\\u") {
                    return Err((token.start, "a `\\u{…}` escape".into()));
                }
            }
            TokenKind::Number => {
                if token
                    .text
                    .bytes()
                    .any(|b| b.is_ascii_alphabetic() && b != b'e')
                {
                    return Err((token.start, format!("the literal `{}`", token.text)));
                }
            }
            TokenKind::Op => match token.text {
                "&&" => edits.push((token.start, token.end(), "and".into())),
                "||" => edits.push((token.start, token.end(), "or".into())),
                "!" => match prev {
                    Some(p) if p.kind != TokenKind::Op || p.nesting() < 0 => {
                        return Err((token.start, format!("a macro call `{}!`", p.text)));
                    }
                    _ => edits.push((token.start, token.end(), "not ".into())),
                },
                "~" if i > 0 => {}
                op if OPS.contains(&op) => {}
                "::" => return Err((token.start, "a Rust path `::`".into())),
                op => return Err((token.start, format!("the operator `{op}`"))),
            },
        }
    }
    Ok(())
}

/// The tokens with Rust's two-character operators the Jinja lexer splits (`&&`, `||`, `..`,
/// `::`) as one token each.
fn merged<'s>(src: &'s str, tokens: &[Token<'s>]) -> Vec<Token<'s>> {
    let mut out: Vec<Token<'s>> = Vec::with_capacity(tokens.len());
    for token in tokens {
        if let Some(last) = out.last_mut()
            && last.kind == TokenKind::Op
            && token.kind == TokenKind::Op
            && last.end() == token.start
            && matches!(
                (last.text, token.text),
                ("&", "&") | ("|", "|") | (".", ".") | (":", ":")
            )
        {
            last.text = &src[last.start..token.end()];
            continue;
        }
        out.push(*token);
    }
    out
}

/// Is the token before the `.` before `i` the name `loop`?
fn prev_is_loop(tokens: &[Token<'_>], i: usize) -> bool {
    i >= 2 && tokens[i - 2].is_name("loop") && (i < 3 || !tokens[i - 3].is_op("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(src: &str) -> String {
        to_jinja(src).unwrap_err().to_string()
    }

    #[test]
    fn keeps_the_shared_grammar() {
        let src = "<a href=\"/x\">{{ user.name|upper }}</a>\n{% for item in items %}{{ loop.index }}\
                   {{ item[0] }}{% else %}-{% endfor %}{%- if a == 1 -%}{{ \"<s>\" ~ b }}{% elif \
                   c %}{% include \"nav.html\" %}{% endif %}{# note #}{% block body %}{{ super() }}\
                   {% endblock %}{% raw %}{{ x }}{% endraw %}";
        // (whitespace signs blanked: the text is trimmed already)
        assert_eq!(
            to_jinja(src).unwrap(),
            src.replace("{%- if a == 1 -%}", "{%  if a == 1  %}")
        );
    }

    #[test]
    fn translates_rust_operators_else_if_and_self() {
        assert_eq!(
            to_jinja("{% if !a || b && c != 1 %}{{ self.x }}{% else if d %}{% endif %}").unwrap(),
            "{% if not a or b and c != 1 %}{{ x }}{% elif d %}{% endif %}"
        );
    }

    #[test]
    fn translates_if_let_on_options_to_none_tests_and_with() {
        assert_eq!(
            to_jinja("{%- if let Some(x) = self.opt -%}[{{ x }}]{%- else if let None = b %}n{% else %}-{% endif %}")
                .unwrap(),
            "{%  if (opt) is not none %}{% with x = (opt)  %}[{{ x }}]{%  endwith %}{% elif (b) \
             is none %}n{% else %}-{% endif %}"
        );
        assert_eq!(
            to_jinja(
                "{% for i in xs %}{% if let Some(x) = i %}{{ x }}{% endif %}{% else %}-{% endfor %}"
            )
            .unwrap(),
            "{% for i in xs %}{% if (i) is not none %}{% with x = (i) %}{{ x }}{% endwith %}\
             {% endif %}{% else %}-{% endfor %}"
        );
        assert_eq!(
            to_jinja("{% if let Some(_) = a.b %}y{% else if c %}{% endif %}").unwrap(),
            "{% if (a.b) is not none %}y{% elif c %}{% endif %}"
        );
        assert_eq!(
            to_jinja("{% if let Some(\"a\") = k %}A{% elif let Some(v) = n %}{{ v }}{% endif %}")
                .unwrap(),
            "{% if (k) == \"a\" %}A{% elif (n) is not none %}{% with v = (n) %}{{ v }}{% endwith \
             %}{% endif %}"
        );
    }

    #[test]
    fn translates_let_where_both_scopes_agree() {
        assert_eq!(
            to_jinja(
                "{% let a = self.n + 1 %}{% for i in xs %}{%- let b = i -%}{% endfor %}{% extends \
                 \"b.html\" %}{% block c %}{% let d = !e %}{% endblock %}"
            )
            .unwrap(),
            "{% set a = n + 1 %}{% for i in xs %}{%  set b = i  %}{% endfor %}{% extends \
             \"b.html\" %}{% block c %}{% set d = not e %}{% endblock %}"
        );
    }

    #[test]
    fn translates_match_to_an_if_chain() {
        assert_eq!(
            to_jinja(
                "{% match opt %}\n  {% when Some with (o) %}<{{ o }}>{% when None %}none\
                 {% endmatch %}"
            )
            .unwrap(),
            "{% if false %}\n  {% elif (opt) is not none %}{% with o = (opt) %}<{{ o }}>\
             {% endwith %}{% elif (opt) is none %}none{% endif %}"
        );
        assert_eq!(
            to_jinja(
                "{% match self.n %}{% when 0 %}z{% when -7 %}m{% when Some(2) %}t{% when _ %}\
                 _{% endmatch %}{% match b %}{% when true %}y{% else %}n{% endmatch %}"
            )
            .unwrap(),
            "{% if false %}{% elif (n) == 0 %}z{% elif (n) == -7 %}m{% elif (n) == 2 %}t{% elif \
             true %}_{% endif %}{% if false %}{% elif (b) == true %}y{% else %}n{% endif %}"
        );
        assert_eq!(
            to_jinja("{% match k %}{% when other %}{{ other }}{%- endmatch %}").unwrap(),
            "{% if false %}{% elif true %}{% with other = (k) %}{{ other }}{%  endwith %}\
             {% endif %}"
        );
    }

    #[test]
    fn does_askamas_whitespace_control_on_the_text() {
        for (src, jinja) in [
            ("a \n {{- x -}} \n b", "a{{  x  }}b"),
            ("a \n\n {{~ x ~}} \n b", "a\n{{  x  }}\nb"),
            (
                "a  {%~ if c ~%}  b{% endif %}",
                "a {%  if c  %} b{% endif %}",
            ),
            // Whitespace alone: as the next tag says, after a `~` too; dropped after a `-`.
            ("{{ x ~}}  \n  {{ y }}", "{{ x  }}  \n  {{ y }}"),
            ("{{ x }}  \n  {{~ y }}", "{{ x }}\n{{  y }}"),
            ("{{ x -}}  {{~ y }}", "{{ x  }}{{  y }}"),
            ("{{ x ~}}  {{- y }}", "{{ x  }}{{  y }}"),
            // At the end, as the last tag says.
            ("{{ x ~}} \n ", "{{ x  }}\n"),
            ("{{ x }} \n ", "{{ x }} \n "),
            // ASCII whitespace only (minijinja's `-` would take these too).
            ("a \u{a0} {{- x }}", "a \u{a0}{{  x }}"),
            ("{{ x -}}\u{3000}b", "{{ x  }}\u{3000}b"),
            ("a\u{b}{{- x }}", "a\u{b}{{  x }}"),
            // Comments and raw blocks have controls too.
            ("a  {#~ c ~#}  b", "a {#  c  #} b"),
            ("{% raw -%} x {%- endraw %}", "{% raw  %}x{%  endraw %}"),
        ] {
            assert_eq!(to_jinja(src).unwrap(), jinja, "{src:?}");
        }
        // `#[template(whitespace = ...)]`: the control of every side without a sign.
        assert_eq!(
            to_jinja_with("a {{ x }} b {{+ y +}} c", Whitespace::Suppress).unwrap(),
            "a{{ x }}b {{  y  }} c"
        );
        assert_eq!(
            to_jinja_with("a \n\n {{ x }}  b", Whitespace::Minimize).unwrap(),
            "a\n{{ x }} b"
        );
    }

    #[test]
    fn refuses_what_renders_otherwise_with_its_line() {
        for (src, expected) in [
            ("a\n{{ user.name() }}", "a method call `name()` at line 2"),
            (
                "{{ format_price(p) }}",
                "a function call `format_price()` at line 1",
            ),
            ("{{ crate::NAME }}", "a Rust path `::` at line 1"),
            (
                "{% for i in 0..n %}{% endfor %}",
                "the operator `..` at line 1",
            ),
            ("{{ a / 2 }}", "the operator `/` at line 1"),
            ("Hi {{ hello!() }}", "a macro call `hello!` at line 1"),
            ("{{ a as i64 }}", "the keyword `as` at line 1"),
            (
                "\n\n{% match x %}{% when Ok(v) %}{% endmatch %}",
                "the pattern `Ok(v)` at line 3",
            ),
            (
                "{% match x %}{% when Color::Red %}{% endmatch %}",
                "the pattern `Color::Red` at line 1",
            ),
            (
                "{% match x %}{% when Some(Some(v)) %}{% endmatch %}",
                "the pattern `Some(Some(v))` at line 1",
            ),
            (
                "{% match x %}{% when Some(1) | None %}{% endmatch %}",
                "the pattern `Some(1) | None` at line 1",
            ),
            (
                "{% match x %}{% when (a, b) %}{% endmatch %}",
                "the pattern `(a, b)` at line 1",
            ),
            (
                "{% match x %}{% when 1.5 %}{% endmatch %}",
                "the pattern `1.5` at line 1",
            ),
            (
                "{% match x %}{% when 'c' %}{% endmatch %}",
                "the pattern `'c'` at line 1",
            ),
            (
                "{% if let Some(o) = x %}\n{% if let Some(p) = o %}{% endif %}{% endif %}",
                "a nested `Option` (serde writes `Some(None)` as `None`) at line 2",
            ),
            (
                "{% match x %}{% when Some(o) %}{% match o %}{% when None %}{% endmatch %}\
                 {% endmatch %}",
                "a nested `Option` (serde writes `Some(None)` as `None`) at line 1",
            ),
            (
                "{% if let Some(x) = a && b %}{% endif %}",
                "`&&` in a pattern's subject at line 1",
            ),
            (
                "{% if let Some(x) = a.get(0) %}{% endif %}",
                "a method call `get()` at line 1",
            ),
            (
                "{% if let Some(x) = y %}{% block b %}{% endblock %}{% endif %}",
                "a `block` inside a pattern's branch at line 1",
            ),
            ("{% when None %}", "an unbalanced `{% when %}` at line 1"),
            (
                "{% if a %}{% endfor %}",
                "an unbalanced `{% endfor %}` at line 1",
            ),
            (
                "{% if a %}\n{% let x = 1 %}{% endif %}",
                "a `let` inside a branch at line 2",
            ),
            (
                "{% extends \"b.html\" %}{% let x = 1 %}",
                "a `let` inside a branch at line 1",
            ),
            (
                "{% for i in xs %}{% else %}{% let x = 1 %}{% endfor %}",
                "a `let` inside a branch at line 1",
            ),
            (
                "{% let x %}",
                "a `let` that is not `let name = value` at line 1",
            ),
            (
                "{% let (a, b) = t %}",
                "a `let` that is not `let name = value` at line 1",
            ),
            (
                "{% macro m() %}{% endmacro %}",
                "the tag `{% macro %}` at line 1",
            ),
            ("{{ x|fmt(\"{:?}\") }}", "the filter `|fmt` at line 1"),
            ("{{ 'c' }}", "the char literal 'c' at line 1"),
            (
                "a\n{ {{- x }}",
                "a `{` left before a tag by whitespace control at line 2",
            ),
            ("{{ loop.cycle }}", "`loop.cycle` at line 1"),
            (
                "{% if x is defined %}{% endif %}",
                "the keyword `is` at line 1",
            ),
            ("{{ x?.y }}", "the operator `?` at line 1"),
            ("{{ &x }}", "the operator `&` at line 1"),
            (
                "{% for Some(a) in xs %}{% endfor %}",
                "the loop pattern `Some` at line 1",
            ),
        ] {
            let found = refused(src);
            assert_eq!(found, expected, "{src}");
        }
        assert!(
            to_jinja("{{ x")
                .unwrap_err()
                .construct
                .contains("does not lex")
        );
    }
}
