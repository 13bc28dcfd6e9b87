//! The root names one expression reads, and which of those reads are optional.
//!
//! A name is read where it starts a value: not after `.` (an attribute) or `|` (a filter), not
//! as the test of `is` / `is not`, not as a keyword argument inside a call, not a keyword or
//! constant, not a name the engine provides ([`super::ENGINE_NAMES`]).
//!
//! A read is optional when a missing value cannot break the render:
//!
//! - `x|default(…)` and `x|d(…)`: the filter replaces an undefined `x`;
//! - `x is defined`, `x is undefined`, `x is not defined`: the test is the read;
//! - a read of `x` later in the same `and` chain as a `x is defined` term
//!   (`x is defined and x.y`), and in the value of a conditional expression whose condition is
//!   such a chain (`x.y if x is defined else z`).
//!
//! Only a bare name is optional: `x.y|default(1)` and `x.y is defined` fail when `x` is
//! undefined, so they read `x`.

use super::super::{Token, TokenKind, work};
use super::events::closing;
use super::{NameMap, is_engine_name};

/// Words that are operators or constants in an expression, never names.
const KEYWORDS: [&str; 13] = [
    "and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None",
];

/// Is `name` a keyword of Jinja's expression syntax?
pub(super) fn is_keyword(name: &str) -> bool {
    let found = matches!(
        name,
        "and"
            | "or"
            | "not"
            | "in"
            | "is"
            | "if"
            | "else"
            | "true"
            | "false"
            | "none"
            | "True"
            | "False"
            | "None"
    );
    debug_assert_eq!(found, KEYWORDS.contains(&name));
    found
}

/// One root name read by an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Read<'s> {
    /// The name.
    pub(super) name: &'s str,
    /// Byte offset of the name in the template.
    pub(super) offset: usize,
    /// Guarded: a missing value is not an error (see the module's documentation).
    pub(super) optional: bool,
    /// The attribute the read takes at once (`m` of `lib.m(…)`), if it does.
    pub(super) member: Option<&'s str>,
}

/// The reads of `tokens`, appended to `out` in token order. `after_pipe`: the first name is a
/// filter (`{% filter upper %}`).
pub(super) fn reads<'s>(tokens: &[Token<'s>], after_pipe: bool, out: &mut Vec<Read<'s>>) {
    // Guarded ranges need a definedness test; most expressions have none, and skip that work.
    let tests = tokens
        .iter()
        .any(|t| t.is_name("defined") || t.is_name("undefined"));
    let rust = rust_only(tokens);
    let rust = rust.as_deref();
    if !tests {
        return plain_reads(tokens, after_pipe, rust, out);
    }
    let first = out.len();
    let mut guards = Guards::default();
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        work::step();
        match token.kind {
            TokenKind::Op => match token.nesting() {
                1 => {
                    depth += 1;
                    guards.open(depth, i + 1);
                }
                -1 => {
                    guards.close_depth(depth, i);
                    depth = depth.saturating_sub(1);
                }
                _ if token.is_op(",") || token.is_op(":") || (depth > 0 && token.is_op("=")) => {
                    guards.boundary(depth, i, i + 1)
                }
                _ => {}
            },
            TokenKind::Name => match token.text {
                "or" => {
                    guards.end_chains(depth, i);
                    guards.or_in_condition(depth);
                }
                "if" => {
                    guards.end_chains(depth, i);
                    guards.condition(depth, i);
                }
                "else" => {
                    guards.end_chains(depth, i);
                    guards.end_condition(depth, i);
                    guards.segment(depth, i + 1);
                }
                _ => {
                    if !is_root(tokens, i, depth, after_pipe) || rust.is_some_and(|r| r[i]) {
                        continue;
                    }
                    let (optional, test_end) = direct_optional(tokens, i);
                    out.push(Read {
                        name: token.text,
                        offset: token.start,
                        optional,
                        member: member(tokens, i),
                    });
                    // `x is defined` as a term of an `and` chain guards what follows.
                    if let Some(end) = test_end.filter(|_| defines(tokens, i)) {
                        let negated = i > 0 && tokens[i - 1].is_name("not");
                        if !negated {
                            guards.term(depth, token.text, end, tokens.get(end));
                        }
                    }
                }
            },
            TokenKind::Str | TokenKind::Number => {}
        }
    }
    guards.close_depth(0, tokens.len());
    guards.apply(tokens, &mut out[first..]);
}

/// [`reads`] of an expression without a definedness test: no guarded range. `rust`: the
/// tokens [`rust_only`] marked.
fn plain_reads<'s>(
    tokens: &[Token<'s>],
    after_pipe: bool,
    rust: Option<&[bool]>,
    out: &mut Vec<Read<'s>>,
) {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        work::step();
        match token.nesting() {
            1 => depth += 1,
            -1 => depth = depth.saturating_sub(1),
            _ => {}
        }
        if token.kind == TokenKind::Name
            && is_root(tokens, i, depth, after_pipe)
            && !rust.is_some_and(|r| r[i])
        {
            out.push(Read {
                name: token.text,
                offset: token.start,
                optional: direct_optional(tokens, i).0,
                member: member(tokens, i),
            });
        }
    }
}

/// Is the name at `i` a root read?
fn is_root(tokens: &[Token<'_>], i: usize, depth: usize, after_pipe: bool) -> bool {
    let token = &tokens[i];
    if is_keyword(token.text) || is_engine_name(token.text) || (after_pipe && i == 0) {
        return false;
    }
    let prev = i.checked_sub(1).map(|p| &tokens[p]);
    let before = i.checked_sub(2).map(|p| &tokens[p]);
    let member = prev.is_some_and(|p| p.is_op(".") || p.is_op("|"));
    let test = prev.is_some_and(|p| p.is_name("is"))
        || (prev.is_some_and(|p| p.is_name("not")) && before.is_some_and(|b| b.is_name("is")));
    let keyword_argument = depth > 0 && tokens.get(i + 1).is_some_and(|n| n.is_op("="));
    // askama's Rust: a segment of a path (`crate::NAME`, `Kind::A`) and the type of a cast
    // (`n as i64`) are no variables.
    let path = path_separator(tokens, i.wrapping_sub(2)) || path_separator(tokens, i + 1);
    let cast = (prev.is_some_and(|p| p.is_name("as")) && is_primitive(token.text))
        || (token.is_name("as") && tokens.get(i + 1).is_some_and(|n| is_primitive(n.text)));
    // askama's word operators (`a bitand b`), where an operator stands: after an operand.
    let operator = matches!(token.text, "bitand" | "bitor" | "xor")
        && prev.is_some_and(|p| ends_operand(p))
        && tokens.get(i + 1).is_some();
    // askama reads a name that does not start with a lower-case letter or `_` as a path, not
    // a variable; such a name called or built (`Some(1)`, `Cell { n: 1 }`) is a constructor
    // in any engine's reading.
    let next = tokens.get(i + 1);
    let constructor =
        !starts_lower(token.text) && next.is_some_and(|n| n.is_op("(") || n.is_op("{"));
    !(member || test || keyword_argument || path || cast || operator || constructor)
}

/// Does `name` start with a lower-case letter or `_` (a variable, for askama)?
fn starts_lower(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_lowercase())
}

/// Can `token` end an operand (a name, a literal, a closing bracket)?
fn ends_operand(token: &Token<'_>) -> bool {
    match token.kind {
        TokenKind::Name => !is_keyword(token.text),
        TokenKind::Str | TokenKind::Number => true,
        TokenKind::Op => token.nesting() == -1,
    }
}

/// The tokens of askama's Rust that read no variable, where an expression has any (else
/// `None`, the common case, at the cost of one pass): a macro call's name and arguments
/// (`matches!(v, x if *x > 9)`: Rust tokens, not an expression of the template), a turbofish's
/// types (`f::<Vec<u32>>(…)`), and a struct literal's field names (`Cell { number: n }`).
fn rust_only(tokens: &[Token<'_>]) -> Option<Vec<bool>> {
    let turbofish = |i: usize| tokens[i].is_op("<") && path_separator(tokens, i.wrapping_sub(2));
    let literal = |i: usize| {
        tokens[i].is_op("{")
            && i > 0
            && tokens[i - 1].kind == TokenKind::Name
            && !starts_lower(tokens[i - 1].text)
    };
    let any = (0..tokens.len()).any(|i| tokens[i].is_op("!") || turbofish(i) || literal(i));
    if !any {
        return None;
    }
    let mut skip = vec![false; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        work::step();
        let macro_call = tokens[i].kind == TokenKind::Name
            && tokens.get(i + 1).is_some_and(|t| t.is_op("!"))
            && tokens.get(i + 2).is_some_and(|t| t.nesting() == 1);
        if macro_call {
            let end = i + 2 + closing(&tokens[i + 2..]);
            skip[i..end].fill(true);
            i = end;
        } else if turbofish(i) {
            let mut depth = 0isize;
            let mut j = i;
            while j < tokens.len() {
                depth += match tokens[j].text {
                    "<" if tokens[j].kind == TokenKind::Op => 1,
                    ">" if tokens[j].kind == TokenKind::Op => -1,
                    _ => 0,
                };
                skip[j] = true;
                if depth <= 0 {
                    break;
                }
                j += 1;
            }
            i = j + 1;
        } else {
            if literal(i) {
                let end = i + closing(&tokens[i..]);
                let mut depth = 0isize;
                for j in i..end {
                    depth += tokens[j].nesting();
                    let field = depth == 1
                        && tokens[j].kind == TokenKind::Name
                        && tokens.get(j + 1).is_some_and(|c| c.is_op(":"))
                        && !path_separator(tokens, j + 1);
                    skip[j] |= field;
                }
            }
            i += 1;
        }
    }
    Some(skip)
}

/// Is `name` a Rust primitive type, the target of an askama cast (`n as i64`)?
fn is_primitive(name: &str) -> bool {
    matches!(
        name,
        "i8" | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "f32"
            | "f64"
            | "bool"
            | "char"
    )
}

/// Are the tokens at `at` and `at + 1` the two adjacent colons of a Rust path's `::`?
fn path_separator(tokens: &[Token<'_>], at: usize) -> bool {
    match (tokens.get(at), tokens.get(at.wrapping_add(1))) {
        (Some(a), Some(b)) => a.is_op(":") && b.is_op(":") && a.start + 1 == b.start,
        _ => false,
    }
}

/// The attribute taken of the name at `i` (`.name` right after it).
fn member<'s>(tokens: &[Token<'s>], i: usize) -> Option<&'s str> {
    match tokens.get(i + 1..i + 3) {
        Some([dot, name]) if dot.is_op(".") && name.kind == TokenKind::Name => Some(name.text),
        _ => None,
    }
}

/// Whether the bare name at `i` is read optionally on its own (`x|default`, `x is defined`),
/// and, for a definedness test, the index just past it.
fn direct_optional(tokens: &[Token<'_>], i: usize) -> (bool, Option<usize>) {
    let at = |k: usize| tokens.get(i + k);
    if at(1).is_some_and(|t| t.is_op("|"))
        && at(2).is_some_and(|t| t.is_name("default") || t.is_name("d"))
    {
        return (true, None);
    }
    if !at(1).is_some_and(|t| t.is_name("is")) {
        return (false, None);
    }
    let test =
        |t: Option<&Token<'_>>| t.is_some_and(|t| t.is_name("defined") || t.is_name("undefined"));
    if test(at(2)) {
        (true, Some(i + 3))
    } else if at(2).is_some_and(|t| t.is_name("not")) && test(at(3)) {
        (true, Some(i + 4))
    } else {
        (false, None)
    }
}

/// Does the test at `i` say that the name is defined when it holds (`x is defined`,
/// `x is not undefined`)?
fn defines(tokens: &[Token<'_>], i: usize) -> bool {
    match (tokens.get(i + 2), tokens.get(i + 3)) {
        (Some(t), _) if t.is_name("defined") => true,
        (Some(n), Some(t)) => n.is_name("not") && t.is_name("undefined"),
        _ => false,
    }
}

/// What a condition guarantees: the names defined when it holds (the `x is defined` terms of a
/// top-level `and` chain) and when it does not (the `x is undefined` terms of a top-level `or`
/// chain).
pub(super) fn condition_guards<'s>(tokens: &[Token<'s>]) -> (Vec<&'s str>, Vec<&'s str>) {
    let (mut and, mut or, mut conditional) = (false, false, false);
    let mut depth = 0isize;
    for t in tokens {
        work::step();
        if depth == 0 {
            and |= t.is_name("and");
            or |= t.is_name("or");
            conditional |= t.is_name("if") || t.is_name("else");
        }
        depth += t.nesting();
    }
    let (mut if_true, mut if_false) = (Vec::new(), Vec::new());
    if conditional || (and && or) {
        return (if_true, if_false);
    }
    let separator = if or { "or" } else { "and" };
    let mut depth = 0isize;
    let mut from = 0;
    for i in 0..=tokens.len() {
        let end = i == tokens.len();
        if !end {
            depth += tokens[i].nesting();
        }
        if end || (depth == 0 && tokens[i].is_name(separator)) {
            match definedness(&tokens[from..i]) {
                Some((name, true)) if !or => if_true.push(name),
                Some((name, false)) if !and => if_false.push(name),
                _ => {}
            }
            from = i + 1;
        }
    }
    if_true.retain(|name| !is_keyword(name));
    if_false.retain(|name| !is_keyword(name));
    (if_true, if_false)
}

/// A term that tests a bare name's definedness: the name, and whether the term holding means
/// that it is defined (`x is defined`, `x is not undefined`) or not (`x is undefined`,
/// `x is not defined`, `not x is defined`).
fn definedness<'s>(term: &[Token<'s>]) -> Option<(&'s str, bool)> {
    let (x, holds) = match term {
        [x, is, t] if is.is_name("is") => (
            x,
            t.is_name("defined")
                .then_some(true)
                .or(t.is_name("undefined").then_some(false))?,
        ),
        [x, is, not, t] if is.is_name("is") && not.is_name("not") => (
            x,
            t.is_name("undefined")
                .then_some(true)
                .or(t.is_name("defined").then_some(false))?,
        ),
        [not, x, is, t] if not.is_name("not") && is.is_name("is") && t.is_name("defined") => {
            (x, false)
        }
        _ => return None,
    };
    (x.kind == TokenKind::Name).then_some((x.text, holds))
}

/// A guard in progress at one bracket depth.
#[derive(Default)]
struct Level<'s> {
    /// Where the operand a conditional expression would take as its value starts.
    segment: usize,
    /// `x is defined and …`: names guarded from the given token on, to the end of the chain.
    chains: Vec<(&'s str, usize)>,
    /// A conditional expression's condition being read: where `if` is, where its value
    /// started, the `x is defined` terms so far, and whether an `or` broke the chain.
    condition: Option<(usize, usize, Vec<&'s str>, bool)>,
}

/// The guarded ranges of one expression, found in one pass: each `(from, to, name)` makes the
/// reads of `name` in tokens `from..to` optional.
#[derive(Default)]
struct Guards<'s> {
    levels: Vec<Level<'s>>,
    ranges: Vec<(usize, usize, &'s str)>,
}

impl<'s> Guards<'s> {
    fn level(&mut self, depth: usize) -> &mut Level<'s> {
        if self.levels.len() <= depth {
            self.levels.resize_with(depth + 1, Level::default);
        }
        &mut self.levels[depth]
    }

    /// A bracket opened: a new operand starts inside it.
    fn open(&mut self, depth: usize, at: usize) {
        let level = self.level(depth);
        *level = Level {
            segment: at,
            ..Level::default()
        };
    }

    /// `,`, `:` or a keyword argument's `=`: chains and conditions at this depth end, a new
    /// operand starts.
    fn boundary(&mut self, depth: usize, at: usize, next: usize) {
        self.end_chains(depth, at);
        self.end_condition(depth, at);
        self.segment(depth, next);
    }

    fn segment(&mut self, depth: usize, at: usize) {
        self.level(depth).segment = at;
    }

    /// The end of the tokens at `depth` and deeper (a closing bracket, or the end at depth 0).
    fn close_depth(&mut self, depth: usize, at: usize) {
        for d in (depth..self.levels.len()).rev() {
            self.end_chains(d, at);
            self.end_condition(d, at);
        }
        self.levels.truncate(depth.max(1));
    }

    fn end_chains(&mut self, depth: usize, at: usize) {
        let chains = std::mem::take(&mut self.level(depth).chains);
        self.ranges
            .extend(chains.into_iter().map(|(name, from)| (from, at, name)));
    }

    /// A term `name is defined` ending before `after`.
    fn term(&mut self, depth: usize, name: &'s str, end: usize, after: Option<&Token<'_>>) {
        let level = self.level(depth);
        if let Some((_, _, names, _)) = &mut level.condition {
            names.push(name);
        }
        if after.is_some_and(|t| t.is_name("and")) {
            level.chains.push((name, end));
        }
    }

    fn or_in_condition(&mut self, depth: usize) {
        if let Some((_, _, _, broken)) = &mut self.level(depth).condition {
            *broken = true;
        }
    }

    /// `if` of a conditional expression: its value is the operand before it.
    fn condition(&mut self, depth: usize, at: usize) {
        let level = self.level(depth);
        level.condition = Some((at, level.segment, Vec::new(), false));
    }

    /// The condition ended (`else`, a boundary, the end): its guards cover the value.
    fn end_condition(&mut self, depth: usize, _at: usize) {
        if let Some((at, from, names, broken)) = self.level(depth).condition.take()
            && !broken
        {
            self.ranges
                .extend(names.into_iter().map(|name| (from, at, name)));
        }
    }

    /// Marks the reads (of this expression, in token order) that fall in a guarded range.
    fn apply(mut self, tokens: &[Token<'_>], reads: &mut [Read<'s>]) {
        if self.ranges.is_empty() {
            return;
        }
        // A sweep over the range ends and the reads, both by position.
        let offset = |i: usize| tokens.get(i).map_or(usize::MAX, |t| t.start);
        let mut edges: Vec<(usize, bool, &str)> = Vec::with_capacity(2 * self.ranges.len());
        for (from, to, name) in self.ranges.drain(..) {
            edges.push((offset(from), true, name));
            edges.push((offset(to), false, name));
        }
        // At one position a range that ends is closed before one that starts is opened.
        edges.sort_unstable_by_key(|&(at, opens, _)| (at, opens));
        let mut active: NameMap<&str, u32> = NameMap::default();
        let mut edges = edges.into_iter().peekable();
        for read in reads {
            work::step();
            while let Some(&(at, opens, name)) = edges.peek() {
                if at > read.offset {
                    break;
                }
                let count = active.entry(name).or_default();
                if opens {
                    *count += 1;
                } else {
                    *count = count.saturating_sub(1);
                }
                edges.next();
            }
            if active.get(read.name).is_some_and(|&n| n > 0) {
                read.optional = true;
            }
        }
    }
}
