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
//!   with `loop.index`, `index0`, `first`, `last`; `include`, `extends`, `block`, `raw`;
//!   whitespace control `-` and `+`.
//! - Translated: `&&`, `||`, `!` to `and`, `or`, `not`; `else if` to `elif`; `self.` dropped
//!   (the struct's fields are the context).
//! - Refused: method and function calls, Rust paths (`::`), ranges, casts, `/` and `%` (Rust's
//!   integer arithmetic), `?`, `&`, char literals, `\u{…}` escapes, `match`, `let`, `if let`,
//!   macros, `call`, `import`, `filter` blocks, `break` / `continue`, the `~` whitespace control,
//!   filters not in [`FILTERS`], and any other tag or operator.

use std::fmt;

use crate::lex::{LexError, Part, Token, TokenKind, lex, line_of};

/// The filters that render as askama renders them. (`capitalize` is not: askama upper-cases
/// `ß` to `SS`, minijinja to `S`; found by the compatibility generator.)
pub const FILTERS: [&str; 6] = ["safe", "escape", "e", "lower", "upper", "trim"];

/// The tags that render as askama renders them (besides `else if`).
const TAGS: [&str; 13] = [
    "if", "elif", "else", "endif", "for", "endfor", "include", "extends", "block", "endblock",
    "raw", "endraw", "endmatch",
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
    let lexed = lex(src)?;
    let mut out = String::with_capacity(src.len());
    let mut copied = 0;
    let refuse = |offset: usize, construct: String| Refusal {
        line: line_of(src, offset),
        construct,
    };
    for part in &lexed.parts {
        let (Part::Expr(d) | Part::Tag(d)) = part else {
            continue;
        };
        let bytes = src.as_bytes();
        if bytes.get(d.start + 2) == Some(&b'~') || bytes.get(d.end.wrapping_sub(3)) == Some(&b'~')
        {
            return Err(refuse(d.start, "the whitespace control `~`".into()));
        }
        let tokens = &merged(src, lexed.tokens(d));
        let mut edits: Vec<(usize, usize, &str)> = Vec::new();
        let body = if matches!(part, Part::Tag(_)) {
            match tag(tokens, &mut edits) {
                Ok(body) => body,
                Err((at, construct)) => return Err(refuse(at, construct)),
            }
        } else {
            tokens
        };
        if let Err((at, construct)) = expression(body, &mut edits) {
            return Err(refuse(at, construct));
        }
        for (start, end, with) in edits {
            out.push_str(&src[copied..start]);
            out.push_str(with);
            copied = end;
        }
    }
    out.push_str(&src[copied..]);
    Ok(out)
}

type Edits<'a> = Vec<(usize, usize, &'a str)>;
type Refused = (usize, String);

/// Checks a tag's keyword, and returns the tokens that are an expression.
fn tag<'t, 's>(tokens: &'t [Token<'s>], edits: &mut Edits<'_>) -> Result<&'t [Token<'s>], Refused> {
    let Some(keyword) = tokens.first() else {
        return Ok(tokens);
    };
    let rest = &tokens[1..];
    match keyword.text {
        "else" if rest.first().is_some_and(|t| t.is_name("if")) => {
            edits.push((keyword.start, rest[0].end(), "elif"));
            if rest.get(1).is_some_and(|t| t.is_name("let")) {
                return Err((keyword.start, "`else if let`".into()));
            }
            Ok(&rest[1..])
        }
        "if" | "elif" if rest.first().is_some_and(|t| t.is_name("let")) => {
            Err((keyword.start, format!("`{} let`", keyword.text)))
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
            Ok(&rest[k + 1..])
        }
        "block" | "endblock" | "include" | "extends" | "raw" | "endraw" | "else" | "endif"
        | "endfor" => Ok(if keyword.text == "include" || keyword.text == "extends" {
            rest
        } else {
            &[]
        }),
        word if TAGS.contains(&word) => Ok(rest),
        word => Err((keyword.start, format!("the tag `{{% {word} %}}`"))),
    }
}

/// Checks an expression's tokens, translating what has a Jinja spelling.
fn expression(tokens: &[Token<'_>], edits: &mut Edits<'_>) -> Result<(), Refused> {
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
                    edits.push((token.start, next.expect("checked").end(), ""));
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
                "&&" => edits.push((token.start, token.end(), "and")),
                "||" => edits.push((token.start, token.end(), "or")),
                "!" => edits.push((token.start, token.end(), "not ")),
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
        assert_eq!(to_jinja(src).unwrap(), src);
    }

    #[test]
    fn translates_rust_operators_else_if_and_self() {
        assert_eq!(
            to_jinja("{% if !a || b && c != 1 %}{{ self.x }}{% else if d %}{% endif %}").unwrap(),
            "{% if not a or b and c != 1 %}{{ x }}{% elif d %}{% endif %}"
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
            ("{{ a as i64 }}", "the keyword `as` at line 1"),
            (
                "\n\n{% match x %}{% when Some with (v) %}{% endmatch %}",
                "the tag `{% match %}` at line 3",
            ),
            ("{% let x = 1 %}", "the tag `{% let %}` at line 1"),
            ("{% if let Some(x) = y %}{% endif %}", "`if let` at line 1"),
            (
                "{% macro m() %}{% endmacro %}",
                "the tag `{% macro %}` at line 1",
            ),
            ("{{ x|fmt(\"{:?}\") }}", "the filter `|fmt` at line 1"),
            ("{{ 'c' }}", "the char literal 'c' at line 1"),
            ("{{~ x ~}}", "the whitespace control `~` at line 1"),
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
