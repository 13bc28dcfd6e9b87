//! The lexer for the Jinja family (Jinja2, minijinja, askama, Tera, Django share the syntax).
//!
//! ```
//! use shipwright_core::lex::{lex, Part, TokenKind};
//!
//! let lexed = lex("Hi {{ user.name }}!{# note #}{% include 'nav.html' %}").unwrap();
//! assert!(matches!(lexed.parts[0], Part::Text { text: "Hi ", .. }));
//! let Part::Expr(expr) = &lexed.parts[1] else { panic!() };
//! let words: Vec<&str> = lexed.tokens(expr).iter().map(|t| t.text).collect();
//! assert_eq!(words, ["user", ".", "name"]);
//! let Part::Tag(tag) = &lexed.parts[4] else { panic!() };
//! assert_eq!(lexed.tokens(tag)[1].kind, TokenKind::Str);
//! ```
//!
//! A template is split into [`Part`]s: literal text (raw blocks included), comments, `{{ … }}`
//! expressions and `{% … %}` tags. The inside of an expression or a tag is split into
//! [`Token`]s the way Jinja2's lexer does it: names, strings in both quote styles with escapes,
//! numbers and operators, with brackets balanced so that `{{ {'a': 1} }}` ends at the right `}}`.
//! Whitespace control (`{%-`, `-%}`, `{%+`, `+%}`, and likewise for `{{` and `{#`) is kept on the
//! part so that it can be hashed with the interface.

pub mod refs;
pub mod vars;

/// A lexed template: its parts and, in one flat list, the tokens of every expression and tag.
#[derive(Debug, Clone, Default)]
pub struct Lexed<'s> {
    /// The template's parts, in order.
    pub parts: Vec<Part<'s>>,
    tokens: Vec<Token<'s>>,
    /// The closers of the brackets open in the code being lexed: a working list, kept from
    /// part to part and template to template.
    brackets: Vec<u8>,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'s> {
    /// Literal text, including the body of a `{% raw %}` block.
    Text {
        /// The text as written.
        text: &'s str,
        /// Byte offset in the template.
        start: usize,
    },
    /// A `{# … #}` comment.
    Comment(Delimited),
    /// A `{{ … }}` expression.
    Expr(Delimited),
    /// A `{% … %}` tag (`raw` and `endraw` tags included).
    Tag(Delimited),
}

/// An expression, tag or comment: where it is and which tokens it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimited {
    /// Byte offset of the opening `{`.
    pub start: usize,
    /// Byte offset just past the closing `}`.
    pub end: usize,
    /// The whitespace-control sign after the opening delimiter: `b'-'`, `b'+'`, askama's `b'~'`,
    /// or 0.
    pub open_trim: u8,
    /// The whitespace-control sign before the closing delimiter: `b'-'`, `b'+'`, askama's `b'~'`,
    /// or 0.
    pub close_trim: u8,
    first_token: u32,
    token_count: u32,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// An identifier or keyword: `user`, `include`, `not`.
    Name,
    /// A string literal, quotes included in [`Token::text`].
    Str,
    /// An integer or float literal.
    Number,
    /// Punctuation or an operator: `.`, `|`, `~`, `(`, `==`, `//`.
    Op,
}

/// One token inside an expression or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'s> {
    /// What it is.
    pub kind: TokenKind,
    /// The source text (a string keeps its quotes and escapes).
    pub text: &'s str,
    /// Byte offset in the template.
    pub start: usize,
}

impl Token<'_> {
    /// Is this the name `word`?
    #[inline]
    pub fn is_name(&self, word: &str) -> bool {
        self.kind == TokenKind::Name && self.text == word
    }

    /// Is this the operator `op`?
    #[inline]
    pub fn is_op(&self, op: &str) -> bool {
        self.kind == TokenKind::Op && self.text == op
    }

    /// +1 for an opening bracket, -1 for a closing one, 0 for anything else.
    #[inline]
    pub fn nesting(&self) -> isize {
        match (self.kind, self.text) {
            (TokenKind::Op, "(" | "[" | "{") => 1,
            (TokenKind::Op, ")" | "]" | "}") => -1,
            _ => 0,
        }
    }

    /// Byte offset just past the token.
    #[inline]
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// Why a template could not be lexed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LexError {
    /// 1-based line where the problem starts.
    pub line: u32,
    /// Byte offset where the problem starts.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// The 1-based line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> u32 {
    let end = offset.min(src.len());
    memchr::memchr_iter(b'\n', &src.as_bytes()[..end]).count() as u32 + 1
}

/// The tokens outside any bracket, with their index (the brackets themselves are left out).
pub(crate) fn top_level<'t, 's>(
    tokens: &'t [Token<'s>],
) -> impl Iterator<Item = (usize, &'t Token<'s>)> {
    let mut depth = 0isize;
    tokens.iter().enumerate().filter(move |(_, t)| {
        work::step();
        let outside = depth == 0;
        depth += t.nesting();
        outside && depth == 0
    })
}

/// A count of the tokens the reference passes look at, so that tests can check that the work
/// grows in proportion to the input (a count holds on any machine; a time does not). Outside
/// tests `step` is empty.
pub(crate) mod work {
    #[cfg(test)]
    thread_local! {
        static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// One token looked at.
    #[inline(always)]
    pub(crate) fn step() {
        #[cfg(test)]
        STEPS.with(|s| s.set(s.get() + 1));
    }

    /// The steps of this thread since the last call.
    #[cfg(test)]
    pub(crate) fn take() -> u64 {
        STEPS.with(|s| s.replace(0))
    }
}

/// Turns increasing byte offsets into 1-based lines without rescanning from the start.
#[derive(Debug, Clone, Copy)]
pub struct Lines {
    offset: usize,
    line: u32,
}

impl Default for Lines {
    fn default() -> Self {
        Lines { offset: 0, line: 1 }
    }
}

impl Lines {
    /// The line of `offset`; offsets must not decrease between calls (a smaller one restarts).
    pub fn line(&mut self, src: &str, offset: usize) -> u32 {
        if offset < self.offset {
            *self = Lines::default();
        }
        let end = offset.min(src.len());
        self.line += memchr::memchr_iter(b'\n', &src.as_bytes()[self.offset..end]).count() as u32;
        self.offset = end;
        self.line
    }
}

#[cold]
fn error(src: &str, offset: usize, message: String) -> LexError {
    LexError {
        line: line_of(src, offset),
        offset,
        message,
    }
}

/// `items` emptied, as a vector of another lifetime, for the next template: collected in place,
/// the same allocation (the closure never runs); a huge template's is let go.
pub(crate) fn reuse<T, U>(mut items: Vec<T>) -> Vec<U> {
    items.clear();
    if items.capacity() > 1 << 16 {
        return Vec::new();
    }
    items
        .into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

impl<'s> Lexed<'s> {
    /// Empties the lists and hands their memory over for another template (a huge template's is
    /// let go).
    pub(crate) fn recycle<'t>(self) -> Lexed<'t> {
        Lexed {
            parts: reuse(self.parts),
            tokens: reuse(self.tokens),
            brackets: self.brackets,
        }
    }

    /// The tokens of an expression, tag or comment (a comment has none).
    #[inline]
    pub fn tokens(&self, part: &Delimited) -> &[Token<'s>] {
        let first = part.first_token as usize;
        &self.tokens[first..first + part.token_count as usize]
    }

    /// Every expression and tag with its tokens, in order.
    pub fn code(&self) -> impl Iterator<Item = (&Delimited, &[Token<'s>])> {
        self.parts.iter().filter_map(move |part| match part {
            Part::Expr(d) | Part::Tag(d) => Some((d, self.tokens(d))),
            _ => None,
        })
    }

    /// Every tag with its tokens, in order.
    pub fn tags(&self) -> impl Iterator<Item = (&Delimited, &[Token<'s>])> {
        self.parts.iter().filter_map(move |part| match part {
            Part::Tag(d) => Some((d, self.tokens(d))),
            _ => None,
        })
    }
}

/// Lexes a whole template.
pub fn lex(src: &str) -> Result<Lexed<'_>, LexError> {
    let mut out = Lexed::default();
    lex_into(src, &mut out)?;
    Ok(out)
}

/// Lexes a whole template into `out`, reusing its allocations.
pub(crate) fn lex_into<'s>(src: &'s str, out: &mut Lexed<'s>) -> Result<(), LexError> {
    out.parts.clear();
    out.tokens.clear();
    let bytes = src.as_bytes();
    let mut pos = 0;
    let mut text_start = 0;
    while let Some(found) = memchr::memchr(b'{', &bytes[pos..]) {
        let open = pos + found;
        let kind = match bytes.get(open + 1) {
            Some(&k @ (b'{' | b'%' | b'#')) => k,
            _ => {
                pos = open + 1;
                continue;
            }
        };
        if open > text_start {
            out.parts.push(Part::Text {
                text: &src[text_start..open],
                start: text_start,
            });
        }
        let mut inner = open + 2;
        let open_trim = match bytes.get(inner) {
            Some(&sign @ (b'-' | b'+' | b'~')) => {
                inner += 1;
                sign
            }
            _ => 0,
        };
        pos = match kind {
            b'#' => lex_comment(src, open, inner, open_trim, out)?,
            b'{' => lex_code(src, open, inner, open_trim, b'}', out)?,
            _ => {
                let end = lex_code(src, open, inner, open_trim, b'%', out)?;
                match out.parts.last() {
                    Some(Part::Tag(tag)) if is_raw_tag(out.tokens(tag)) => {
                        lex_raw(src, open, end, out)?
                    }
                    _ => end,
                }
            }
        };
        text_start = pos;
    }
    if text_start < src.len() {
        out.parts.push(Part::Text {
            text: &src[text_start..],
            start: text_start,
        });
    }
    Ok(())
}

fn is_raw_tag(tokens: &[Token<'_>]) -> bool {
    tokens.len() == 1 && tokens[0].is_name("raw")
}

/// A comment: everything up to the first `#}`.
fn lex_comment<'s>(
    src: &'s str,
    open: usize,
    inner: usize,
    open_trim: u8,
    out: &mut Lexed<'s>,
) -> Result<usize, LexError> {
    let Some(found) = memchr::memmem::find(&src.as_bytes()[inner..], b"#}") else {
        return Err(error(
            src,
            open,
            "unterminated comment: `{#` has no closing `#}`".into(),
        ));
    };
    let close = inner + found;
    let close_trim = trim_sign_before(src.as_bytes(), close, inner);
    out.parts.push(Part::Comment(Delimited {
        start: open,
        end: close + 2,
        open_trim,
        close_trim,
        first_token: out.tokens.len() as u32,
        token_count: 0,
    }));
    Ok(close + 2)
}

fn trim_sign_before(bytes: &[u8], close: usize, inner: usize) -> u8 {
    match bytes.get(close.wrapping_sub(1)) {
        Some(&sign @ (b'-' | b'+' | b'~')) if close > inner => sign,
        _ => 0,
    }
}

/// The body of a raw block, up to `{% endraw %}` (any whitespace control), as literal text.
fn lex_raw<'s>(
    src: &'s str,
    open: usize,
    body: usize,
    out: &mut Lexed<'s>,
) -> Result<usize, LexError> {
    let bytes = src.as_bytes();
    let mut from = body;
    while let Some(found) = memchr::memmem::find(&bytes[from..], b"{%") {
        let tag = from + found;
        if is_endraw(src, tag) {
            if tag > body {
                out.parts.push(Part::Text {
                    text: &src[body..tag],
                    start: body,
                });
            }
            let (open_trim, inner) = match bytes[tag + 2] {
                sign @ (b'-' | b'+' | b'~') => (sign, tag + 3),
                _ => (0, tag + 2),
            };
            return lex_code(src, tag, inner, open_trim, b'%', out);
        }
        from = tag + 2;
    }
    Err(error(
        src,
        open,
        "unterminated raw block: `{% raw %}` has no `{% endraw %}`".into(),
    ))
}

/// Does `{%[-+]? endraw [-+]?%}` start at `at`?
fn is_endraw(src: &str, at: usize) -> bool {
    let bytes = src.as_bytes();
    let mut i = at + 2;
    if matches!(bytes.get(i), Some(b'-' | b'+' | b'~')) {
        i += 1;
    }
    i = skip_blanks(src, i);
    if !bytes[i..].starts_with(b"endraw") {
        return false;
    }
    i = skip_blanks(src, i + 6);
    if matches!(bytes.get(i), Some(b'-' | b'+' | b'~')) {
        i += 1;
    }
    bytes[i..].starts_with(b"%}")
}

/// Length in bytes of the blank character at `i`, 0 if there is none. Blanks are what Python's
/// `\s` matches in Jinja2's lexer: the ASCII ones with `\v` and the separators `\x1c`..`\x1f`,
/// and Unicode's (no-break space, ideographic space and the like), so `{% include\u{a0}'a' %}`
/// names `a` as it does in Jinja2.
#[inline]
fn blank_len(src: &str, i: usize) -> usize {
    match src.as_bytes().get(i) {
        Some(b' ' | b'\t'..=b'\r' | 0x1c..=0x1f) => 1,
        Some(0x80..) => match src.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) if c.is_whitespace() => c.len_utf8(),
            _ => 0,
        },
        _ => 0,
    }
}

/// The first offset from `i` on that is not blank.
#[inline]
fn skip_blanks(src: &str, mut i: usize) -> usize {
    loop {
        match blank_len(src, i) {
            0 => return i,
            n => i += n,
        }
    }
}

/// The ASCII bytes that continue a name: letters, digits and `_`.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 128 {
        table[c] = (c as u8).is_ascii_alphanumeric() || c == b'_' as usize;
        c += 1;
    }
    table
};

/// The tokens of an expression (`close` = `}`) or a tag (`close` = `%`), up to the closing
/// delimiter outside any bracket. Pushes the part; returns the offset past it.
fn lex_code<'s>(
    src: &'s str,
    open: usize,
    inner: usize,
    open_trim: u8,
    close: u8,
    out: &mut Lexed<'s>,
) -> Result<usize, LexError> {
    let bytes = src.as_bytes();
    let first_token = out.tokens.len();
    let mut brackets = std::mem::take(&mut out.brackets);
    brackets.clear();
    let mut i = inner;
    loop {
        i = skip_blanks(src, i);
        let Some(&b) = bytes.get(i) else {
            let what = if close == b'}' {
                "`{{` has no closing `}}`"
            } else {
                "`{%` has no closing `%}`"
            };
            return Err(error(
                src,
                open,
                format!(
                    "unterminated {}: {what}",
                    if close == b'}' { "expression" } else { "tag" }
                ),
            ));
        };
        if brackets.is_empty() {
            let (trim, len) = match b {
                b'-' | b'+' | b'~' => (b, 1),
                _ => (0, 0),
            };
            if bytes.get(i + len) == Some(&close) && bytes.get(i + len + 1) == Some(&b'}') {
                let code = Delimited {
                    start: open,
                    end: i + len + 2,
                    open_trim,
                    close_trim: trim,
                    first_token: first_token as u32,
                    token_count: (out.tokens.len() - first_token) as u32,
                };
                out.parts.push(if close == b'}' {
                    Part::Expr(code)
                } else {
                    Part::Tag(code)
                });
                out.brackets = brackets;
                return Ok(i + len + 2);
            }
        }
        let start = i;
        let kind = match b {
            b'\'' | b'"' => {
                i = end_of_string(src, i)?;
                TokenKind::Str
            }
            b'0'..=b'9' => {
                let after_dot = out
                    .tokens
                    .last()
                    .is_some_and(|t| t.is_op(".") && t.end() == start);
                i = end_of_number(bytes, i, after_dot);
                TokenKind::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | 0x80.. => {
                // Non-ASCII letters belong to names; a non-ASCII blank ends them.
                while let Some(&c) = bytes.get(i) {
                    if !(NAME_BYTE[usize::from(c)] || (c >= 0x80 && blank_len(src, i) == 0)) {
                        break;
                    }
                    i += 1;
                }
                TokenKind::Name
            }
            _ => {
                i += op_len(&bytes[i..]);
                match b {
                    b'(' => brackets.push(b')'),
                    b'[' => brackets.push(b']'),
                    b'{' => brackets.push(b'}'),
                    // A closer pops its opener in the guard; only a mismatch takes this arm.
                    b')' | b']' | b'}' if brackets.pop() != Some(b) => {
                        return Err(error(src, start, format!("unexpected `{}`", b as char)));
                    }
                    _ => {}
                }
                TokenKind::Op
            }
        };
        out.tokens.push(Token {
            kind,
            text: &src[start..i],
            start,
        });
    }
}

/// Operators of two characters first, then any single character (as Jinja2 does, an unknown
/// character is still one token: the parser, not the lexer, decides whether it makes sense).
fn op_len(rest: &[u8]) -> usize {
    const TWO: [&[u8]; 6] = [b"//", b"**", b"==", b"!=", b">=", b"<="];
    if TWO.iter().any(|op| rest.starts_with(op)) {
        2
    } else {
        // One whole UTF-8 character is never split here: the first byte is ASCII (< 0x80).
        1
    }
}

/// Offset past the closing quote of the string literal that starts at `start`.
fn end_of_string(src: &str, start: usize) -> Result<usize, LexError> {
    let bytes = src.as_bytes();
    let quote = bytes[start];
    let mut i = start + 1;
    while let Some(found) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(quote, b'\\', rest))
    {
        if bytes[i + found] != b'\\' {
            return Ok(i + found + 1);
        }
        i += found + 2;
    }
    Err(error(
        src,
        start,
        format!("unterminated string: `{}` is never closed", quote as char),
    ))
}

/// Offset past an integer or float literal (`1_000`, `0x1f`, `1.5e-3`). After a `.` (as in
/// `items.0.name`) a number never takes a fraction.
fn end_of_number(bytes: &[u8], start: usize, after_dot: bool) -> usize {
    let word = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
    };
    let mut i = start;
    while word(i) {
        if matches!(bytes[i], b'e' | b'E')
            && matches!(bytes.get(i + 1), Some(b'+' | b'-'))
            && bytes[start] != b'0'
        {
            i += 1;
        }
        i += 1;
    }
    if !after_dot && bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        i += 1;
        while word(i) {
            if matches!(bytes[i], b'e' | b'E') && matches!(bytes.get(i + 1), Some(b'+' | b'-')) {
                i += 1;
            }
            i += 1;
        }
    }
    i
}

/// The value of a string literal token, resolved the way Jinja2 resolves it: line breaks
/// (`\r\n`, `\r`) become `\n`, then Python's `unicode-escape` rules apply: `\n`, `\t`, `\r`,
/// `\a`, `\b`, `\f`, `\v`, `\\`, `\'`, `\"`, octal `\0`..`\777`, `\xHH`, `\uHHHH`,
/// `\UHHHHHHHH`, and a backslash before a line break drops both. An unknown escape (`\q`) stays
/// as written. Jinja2 writes non-ASCII characters as `\xe9`-style escapes before resolving, so a
/// backslash right before one escapes that escape's backslash: `'\é'` is the text `\xe9`.
/// Not resolved: `\N{name}` (Unicode names), kept as written; an invalid `\x`, `\u` or `\U`
/// escape, which Jinja2 rejects, is kept as written too. A literal with no escape and no
/// carriage return is its own text, borrowed.
pub(crate) fn unquote(literal: &str) -> std::borrow::Cow<'_, str> {
    let body = &literal[1..literal.len() - 1];
    if memchr::memchr2(b'\\', b'\r', body.as_bytes()).is_none() {
        return std::borrow::Cow::Borrowed(body);
    }
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<char> {
            let digits: String = chars.clone().take(n).collect();
            let value = u32::from_str_radix(&digits, 16)
                .ok()
                .filter(|_| digits.len() == n)?;
            chars.nth(n - 1);
            char::from_u32(value)
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' | '\'' | '"' => out.push(e),
            '\n' => {}
            '0'..='7' => {
                let mut value = e as u32 - '0' as u32;
                for _ in 0..2 {
                    match chars.clone().next().and_then(|d| d.to_digit(8)) {
                        Some(digit) => {
                            value = value * 8 + digit;
                            chars.next();
                        }
                        None => break,
                    }
                }
                // At most 0o777: always a valid character.
                out.extend(char::from_u32(value));
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                match hex(&mut chars, n) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            _ if !e.is_ascii() => {
                let code = e as u32;
                out.push('\\');
                out.push_str(&if code <= 0xff {
                    format!("x{code:02x}")
                } else if code <= 0xffff {
                    format!("u{code:04x}")
                } else {
                    format!("U{code:08x}")
                });
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out.into()
}

#[cfg(test)]
mod tests;
