//! References to other templates: `extends`, `include`, `import`, `from … import`.
//!
//! ```
//! use shipwright_core::lex::{lex, refs::{references, RefKind, Target}};
//!
//! let src = "{% extends 'base.html' %}\n{% include ['a.html', 'b.html'] ignore missing %}\n\
//!            {% include 'icons/' ~ name %}";
//! let found = references(src, &lex(src).unwrap()).unwrap();
//! assert_eq!(found[0].kind, RefKind::Extends);
//! assert_eq!(found[0].target, Target::Static("base.html".into()));
//! assert_eq!(found[2].target, Target::Static("b.html".into()));
//! assert_eq!(found[3].target, Target::Dynamic("'icons/' ~ name".into()));
//! assert_eq!(found[3].line, 3);
//! ```
//!
//! A name that is a string literal (adjacent literals are joined, parentheses are allowed) is
//! static. A list or tuple of names gives one reference per item: string items are static,
//! other constants are ignored, anything else is dynamic. Every other expression is dynamic.
//! These are the rules of Jinja2's `jinja2.meta.find_referenced_templates`. The modifiers after
//! an include's name are not part of it: Jinja2's `ignore missing`, `with context` and
//! `without context`, and Django's `with name=value …` and `only`.

use std::borrow::Cow;
use std::ops::Range;

use super::{Delimited, LexError, Lexed, Lines, Token, TokenKind, top_level, unquote, work};

/// Which tag holds the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// `{% extends … %}`
    Extends,
    /// `{% include … %}`
    Include,
    /// `{% import … as … %}`
    Import,
    /// `{% from … import … %}`
    FromImport,
}

/// The name a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A name known before rendering.
    Static(String),
    /// An expression, as written, whose value is only known while rendering.
    Dynamic(String),
}

/// One reference to another template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The tag it sits in.
    pub kind: RefKind,
    /// 1-based line of the tag.
    pub line: u32,
    /// Byte offset of the tag (one tag can hold several references: a list of names).
    pub offset: usize,
    /// What it names.
    pub target: Target,
    /// Whether the referenced template is rendered with the referencing one's context, as
    /// Jinja2 does it: `extends` always; `include` unless `without context`; `import` and
    /// `from … import` only `with context`.
    pub context: bool,
}

/// Every reference of a lexed template, in source order.
pub fn references(src: &str, lexed: &Lexed<'_>) -> Result<Vec<Reference>, LexError> {
    let mut found = Vec::new();
    references_into(src, lexed, &mut found)?;
    Ok(found.iter().map(Found::to_reference).collect())
}

/// A [`Reference`] as found, its name borrowed from the template where it is written as is:
/// the record copies only the names it keeps.
#[derive(Debug)]
pub(crate) struct Found<'s> {
    pub(crate) kind: RefKind,
    pub(crate) line: u32,
    pub(crate) offset: usize,
    pub(crate) target: FoundTarget<'s>,
    pub(crate) context: bool,
}

/// A [`Target`], borrowed where it can be.
#[derive(Debug)]
pub(crate) enum FoundTarget<'s> {
    Static(Cow<'s, str>),
    Dynamic(&'s str),
}

impl Found<'_> {
    /// The [`Reference`], owning its name.
    pub(crate) fn to_reference(&self) -> Reference {
        Reference {
            kind: self.kind,
            line: self.line,
            offset: self.offset,
            target: match &self.target {
                FoundTarget::Static(name) => Target::Static(name.to_string()),
                FoundTarget::Dynamic(expr) => Target::Dynamic(expr.to_string()),
            },
            context: self.context,
        }
    }
}

/// A reference tag: the tag, its kind, and how many tokens its name has (they follow the
/// keyword).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefTag {
    tag: Delimited,
    kind: RefKind,
    name: u32,
}

impl RefTag {
    /// The reference tag `tag` is, if it is one.
    pub(crate) fn of(tag: &Delimited, tokens: &[Token<'_>]) -> Option<RefTag> {
        let (kind, name) = reference_tokens(tokens)?;
        debug_assert!(std::ptr::eq(name.as_ptr(), tokens[1..].as_ptr()));
        Some(RefTag {
            tag: *tag,
            kind,
            name: name.len() as u32,
        })
    }

    pub(crate) fn kind(&self) -> RefKind {
        self.kind
    }

    /// The tokens of its name, of `tokens`, the tag's.
    pub(crate) fn name<'t, 's>(&self, tokens: &'t [Token<'s>]) -> &'t [Token<'s>] {
        &tokens[1..1 + self.name as usize]
    }
}

/// [`references`] appended to `out`, borrowed.
pub(crate) fn references_into<'s>(
    src: &'s str,
    lexed: &Lexed<'s>,
    out: &mut Vec<Found<'s>>,
) -> Result<(), LexError> {
    let tags = lexed
        .tags()
        .filter_map(|(tag, tokens)| RefTag::of(tag, tokens));
    references_at(src, lexed, tags, out)
}

/// The references of the reference tags `tags` of `lexed`, in order, appended to `out`.
pub(crate) fn references_at<'s>(
    src: &'s str,
    lexed: &Lexed<'s>,
    tags: impl IntoIterator<Item = RefTag>,
    out: &mut Vec<Found<'s>>,
) -> Result<(), LexError> {
    let mut lines = Lines::default();
    for reference in tags {
        let (tag, kind) = (reference.tag, reference.kind);
        let tokens = lexed.tokens(&tag);
        let name = reference.name(tokens);
        let context = passes_context(kind, tokens);
        let line = lines.line(src, tag.start);
        if name.is_empty() {
            return Err(LexError {
                line,
                offset: tag.start,
                message: format!("`{}` needs a template name", tokens[0].text),
            });
        }
        classify(src, name, &mut |target| {
            out.push(Found {
                kind,
                line,
                offset: tag.start,
                target,
                context,
            })
        });
    }
    Ok(())
}

/// Does a reference tag of this kind pass the context (see [`Reference::context`])?
fn passes_context(kind: RefKind, tokens: &[Token<'_>]) -> bool {
    let modifier = match tokens {
        [.., with, context] if context.is_name("context") => {
            Some(with.is_name("with")).filter(|_| with.is_name("with") || with.is_name("without"))
        }
        _ => None,
    };
    match kind {
        RefKind::Extends => true,
        RefKind::Include => modifier != Some(false),
        RefKind::Import | RefKind::FromImport => modifier == Some(true),
    }
}

/// The kind of a reference tag and the tokens of its name expression, which follow the keyword
/// ([`RefTag`] keeps their count).
pub(crate) fn reference_tokens<'t, 's>(
    tokens: &'t [Token<'s>],
) -> Option<(RefKind, &'t [Token<'s>])> {
    let (first, rest) = tokens.split_first()?;
    if first.kind != TokenKind::Name {
        return None;
    }
    match first.text {
        "extends" => Some((RefKind::Extends, rest)),
        "include" => Some((
            RefKind::Include,
            strip_django_options(strip_suffix(strip_context(rest), &["ignore", "missing"])),
        )),
        "import" => {
            // `import NAME as ALIAS`: the alias is one name at the end (it may be `as` itself).
            let rest = strip_context(rest);
            let name = match rest {
                [name @ .., as_, alias] if as_.is_name("as") && alias.kind == TokenKind::Name => {
                    name
                }
                _ => {
                    &rest[..rest
                        .iter()
                        .rposition(|t| t.is_name("as"))
                        .unwrap_or(rest.len())]
                }
            };
            Some((RefKind::Import, name))
        }
        "from" => {
            // The keyword `import` is the first one where the name expression can end: not the
            // name's first token, and not right after an operator (`x.import`, `x|import`).
            let import = top_level(rest)
                .find(|&(i, t)| t.is_name("import") && i > 0 && ends_operand(&rest[i - 1]))
                .map_or(rest.len(), |(i, _)| i);
            Some((RefKind::FromImport, &rest[..import]))
        }
        _ => None,
    }
}

/// Without a final `with context` or `without context`.
fn strip_context<'t, 's>(tokens: &'t [Token<'s>]) -> &'t [Token<'s>] {
    strip_suffix(
        strip_suffix(tokens, &["with", "context"]),
        &["without", "context"],
    )
}

/// Without Django's include options, `with name=value …` and `only` (either order, each once):
/// they start at the first `with` or `only` outside brackets that follows a whole operand, when
/// all that follows is options. Jinja2 has no such syntax, so no Jinja2 template loses anything.
fn strip_django_options<'t, 's>(tokens: &'t [Token<'s>]) -> &'t [Token<'s>] {
    let start = top_level(tokens).find(|&(i, t)| {
        i > 0 && (t.is_name("with") || t.is_name("only")) && ends_operand(&tokens[i - 1])
    });
    match start {
        Some((i, _)) if django_options(&tokens[i..]) => &tokens[..i],
        _ => tokens,
    }
}

/// Are `tokens` Django include options: `only`, and `with` before one or more `name=value`?
fn django_options(tokens: &[Token<'_>]) -> bool {
    let keyword = |i: usize| {
        tokens.get(i + 1).is_some_and(|t| t.is_op("="))
            && tokens.get(i).is_some_and(|t| t.kind == TokenKind::Name)
    };
    let (mut only, mut with) = (false, false);
    let mut i = 0;
    while let Some(t) = tokens.get(i) {
        if t.is_name("only") && !only {
            only = true;
            i += 1;
        } else if t.is_name("with") && !with && keyword(i + 1) {
            with = true;
            i += 1;
            while keyword(i) {
                // The value: at least one token, up to the next `name=` or option outside
                // brackets.
                i += 2;
                let (value, mut depth) = (i, 0isize);
                while let Some(v) = tokens.get(i) {
                    let next = depth == 0
                        && i > value
                        && (keyword(i) || v.is_name("only") || v.is_name("with"));
                    if next {
                        break;
                    }
                    depth += v.nesting();
                    i += 1;
                }
                if i == value {
                    return false;
                }
            }
        } else {
            return false;
        }
    }
    true
}

/// Can an expression end with this token? Names (but not the word operators), strings,
/// numbers and closing brackets can; other operators cannot.
fn ends_operand(token: &Token<'_>) -> bool {
    const WORD_OPERATORS: [&str; 7] = ["not", "and", "or", "in", "is", "if", "else"];
    match token.kind {
        TokenKind::Name => !WORD_OPERATORS.contains(&token.text),
        TokenKind::Str | TokenKind::Number => true,
        TokenKind::Op => token.nesting() < 0,
    }
}

fn strip_suffix<'t, 's>(tokens: &'t [Token<'s>], words: &[&str]) -> &'t [Token<'s>] {
    let n = words.len();
    if tokens.len() > n
        && tokens[tokens.len() - n..]
            .iter()
            .zip(words)
            .all(|(t, w)| t.is_name(w))
    {
        &tokens[..tokens.len() - n]
    } else {
        tokens
    }
}

/// The string value of an expression made of string literals only (`'a' "b"` is `"ab"`).
fn string_value<'s>(tokens: &[Token<'s>]) -> Option<Cow<'s, str>> {
    if tokens.is_empty()
        || tokens.iter().any(|t| {
            work::step();
            t.kind != TokenKind::Str
        })
    {
        return None;
    }
    match tokens {
        [one] => Some(unquote(one.text)),
        _ => Some(Cow::Owned(tokens.iter().map(|t| unquote(t.text)).collect())),
    }
}

/// Is this a constant that is not a string: a number, `true`, `none` and the like?
fn other_constant(tokens: &[Token<'_>]) -> bool {
    const WORDS: [&str; 6] = ["true", "false", "none", "True", "False", "None"];
    match tokens {
        [t] => {
            t.kind == TokenKind::Number || (t.kind == TokenKind::Name && WORDS.contains(&t.text))
        }
        _ => false,
    }
}

/// For every opening bracket of `tokens`, the index of its closing one, matched in one pass
/// (`usize::MAX` for an opening bracket not closed in `tokens`, and for every other token): the
/// matching the reference names use, for the dynamic references' patterns too.
pub(crate) fn matching_brackets(tokens: &[Token<'_>]) -> Vec<usize> {
    Brackets::of(tokens).close
}

/// The brackets of a name expression, matched in one pass: peeling a group or splitting a list
/// then looks at no token twice, however deep the nesting (`((((…'a'…))))` used to rescan the
/// whole name at every level).
struct Brackets {
    /// For an opening bracket, the index of its closing one; [`Brackets::OPEN`] for an
    /// opening bracket that is not closed in the name, and for every other token.
    close: Vec<usize>,
    /// For an opening bracket, whether a comma sits directly inside it.
    comma: Vec<bool>,
}

thread_local! {
    // The lists of the last name expression's brackets, kept empty so that their memory is
    // reused (a template has a few reference tags, each with a handful of tokens).
    static SPARE: std::cell::Cell<(Vec<usize>, Vec<bool>, Vec<usize>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

impl Brackets {
    const OPEN: usize = usize::MAX;

    fn of(tokens: &[Token<'_>]) -> Brackets {
        let (mut close, mut comma, mut open) = SPARE.take();
        close.clear();
        close.resize(tokens.len(), Self::OPEN);
        comma.clear();
        comma.resize(tokens.len(), false);
        open.clear();
        for (i, t) in tokens.iter().enumerate() {
            work::step();
            match t.nesting() {
                1 => open.push(i),
                // A closer with no opener in the name (the name can be cut out of a tag
                // anywhere) closes nothing.
                -1 => {
                    if let Some(at) = open.pop() {
                        close[at] = i;
                    }
                }
                _ => {
                    if t.is_op(",")
                        && let Some(&at) = open.last()
                    {
                        comma[at] = true;
                    }
                }
            }
        }
        SPARE.set((Vec::new(), Vec::new(), open));
        Brackets { close, comma }
    }

    /// Hands the lists' memory over to the next [`Brackets::of`] on this thread (a long
    /// expression's is let go).
    fn recycle(self) {
        if self.close.capacity() <= 1 << 12 {
            SPARE.with(|spare| {
                let (_, _, open) = spare.take();
                spare.set((self.close, self.comma, open));
            });
        }
    }

    /// Is `tokens[range]` one pair of brackets `open … close` around everything? Then the
    /// range inside them.
    fn enclosed(
        &self,
        tokens: &[Token<'_>],
        range: Range<usize>,
        open: &str,
        close: &str,
    ) -> Option<Range<usize>> {
        let (lo, hi) = (range.start, range.end);
        (hi >= lo + 2
            && tokens[lo].is_op(open)
            && tokens[hi - 1].is_op(close)
            && self.close[lo] == hi - 1)
            .then(|| lo + 1..hi - 1)
    }

    /// Strips parentheses that only group (no comma directly inside).
    fn ungroup(&self, tokens: &[Token<'_>], mut range: Range<usize>) -> Range<usize> {
        while let Some(inner) = self.enclosed(tokens, range.clone(), "(", ")") {
            if inner.is_empty() || self.comma[range.start] {
                break;
            }
            range = inner;
        }
        range
    }

    /// Calls `item` with each item of a list or tuple literal, in order; false if the
    /// expression is not one.
    fn sequence_items(
        &self,
        tokens: &[Token<'_>],
        range: Range<usize>,
        mut item: impl FnMut(Range<usize>),
    ) -> bool {
        let inner = if let Some(inner) = self.enclosed(tokens, range.clone(), "[", "]") {
            inner
        } else if let Some(inner) = self.enclosed(tokens, range.clone(), "(", ")") {
            // `()` is the empty tuple; `(x)` groups; `(x,)` and `(x, y)` are tuples.
            if !inner.is_empty() && !self.comma[range.start] {
                return false;
            }
            inner
        } else {
            return false;
        };
        let (mut from, mut i) = (inner.start, inner.start);
        while i < inner.end {
            work::step();
            if tokens[i].is_op(",") {
                item(from..i);
                from = i + 1;
            }
            // Over a nested bracket in one step.
            i = match self.close[i] {
                Self::OPEN => i + 1,
                end => end + 1,
            };
        }
        if from < inner.end {
            item(from..inner.end);
        }
        true
    }
}

fn source_text<'s>(src: &'s str, tokens: &[Token<'_>]) -> &'s str {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => &src[first.start..last.end()],
        _ => "",
    }
}

/// Sorts a name expression into static names and dynamic references, Jinja2's way.
fn classify<'s>(src: &'s str, tokens: &[Token<'s>], emit: &mut impl FnMut(FoundTarget<'s>)) {
    // The common name, one string literal, needs no brackets matched.
    if let [name] = tokens
        && name.kind == TokenKind::Str
    {
        work::step();
        return emit(FoundTarget::Static(unquote(name.text)));
    }
    let brackets = Brackets::of(tokens);
    let whole = brackets.ungroup(tokens, 0..tokens.len());
    if let Some(name) = string_value(&tokens[whole.clone()]) {
        emit(FoundTarget::Static(name));
    } else {
        let sequence = brackets.sequence_items(tokens, whole.clone(), |item| {
            let item = &tokens[brackets.ungroup(tokens, item)];
            if let Some(name) = string_value(item) {
                emit(FoundTarget::Static(name));
            } else if !other_constant(item) {
                emit(FoundTarget::Dynamic(source_text(src, item)));
            }
        });
        if !sequence {
            emit(FoundTarget::Dynamic(source_text(src, &tokens[whole])));
        }
    }
    brackets.recycle();
}
