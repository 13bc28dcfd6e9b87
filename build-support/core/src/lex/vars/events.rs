//! Pass 1: the template's tags and expressions, in source order, as the events of nested
//! frames (Jinja's scopes): what each frame reads, defines and references, where its `if`
//! branches are, and where its nested frames start.
//!
//! Frames follow Jinja2's compiler: the template's top level is one frame; the body of a `for`
//! (and, apart, its `else`), of a `macro`, of a `call` block, of a `filter` block, of a block
//! `set`, of `with` and of `autoescape` are frames nested in the frame around them; a `block` is
//! a frame that sees nothing around it (Jinja2 renders it as a function of the context), unless
//! it is `scoped`. An `if` stays in its frame, each branch in turn. What a tag evaluates before
//! its body (a loop's sequence, a call's arguments, `with` values) is read in the outer frame.

use super::super::refs::{RefKind, RefTag};
use super::super::{Delimited, Lexed, Part, Token, TokenKind, reuse, top_level, work};
use super::Positions;
use super::expr::{self, Read, condition_guards, is_keyword};

/// What kind of scope a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameKind {
    /// The template's top level.
    Root,
    /// A scope that sees the frames around it.
    Nested,
    /// A `block`: sees only the context (and what the top level put in it).
    Block,
    /// A `block … scoped`: sees the context and the names defined around it.
    ScopedBlock,
}

/// One frame.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    pub(super) kind: FrameKind,
    /// 0 for the top level, its parent's plus one otherwise.
    pub(super) level: u32,
    /// The macro of the template's top level whose body holds it, if one does.
    pub(super) in_macro: Option<Name>,
    /// Its `{{ … }}` output goes to the template's output: Jinja2 drops it after a top-level
    /// `extends` (it never evaluates it). Not in a body rendered apart or captured: a block, a
    /// macro, a `call` body, a block `set`.
    pub(super) output: bool,
}

/// A name, as its index in [`Program::names`].
pub(super) type Name = u32;

/// One thing a frame does, in source order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    /// A name read.
    Read {
        name: Name,
        /// Byte offset of the name.
        offset: usize,
        /// Guarded: a missing value is no error.
        optional: bool,
    },
    /// A name assigned (`set`, `macro`, `import … as`, `from … import`), with the offset of
    /// the name.
    Store(Name, usize),
    /// A name bound on entry (loop targets, macro and call arguments, `with` names).
    Param(Name),
    /// An `if` starts its first branch.
    BranchOpen,
    /// `elif`: the next branch.
    BranchNext,
    /// `else`: the last branch (with it, every case runs one branch).
    BranchElse,
    /// `endif`.
    BranchClose,
    /// A nested frame starts here.
    Child(u32),
    /// A reference to another template, by the offset of its tag.
    Ref {
        /// Byte offset of the tag.
        offset: usize,
        /// `extends`: the template renders its parent after all of its top-level code.
        extends: bool,
    },
}

/// The frames of a template and their events, in source order.
#[derive(Debug, Default)]
pub(super) struct Program<'s> {
    pub(super) frames: Vec<Frame>,
    /// Each event with the frame it belongs to.
    pub(super) events: Vec<(u32, Event)>,
    /// Every name the events mention, once: a [`Name`] indexes this list.
    pub(super) names: Vec<&'s str>,
    /// The macros the top level defines, in source order (a name defined twice is listed
    /// twice).
    pub(super) macros: Vec<Name>,
    /// Every read of a name, in source order, wherever it is (also where the name is defined).
    pub(super) uses: Vec<Use<'s>>,
    /// The `import` and `from … import` tags, by the byte offset of the tag, in source order.
    pub(super) imports: Vec<(usize, Import<'s>)>,
    /// The names that output Jinja2 never evaluates would read (after a top-level `extends`),
    /// with their offsets.
    pub(super) unrendered: Vec<(&'s str, usize)>,
    /// The reference tags, in source order.
    pub(super) references: Vec<RefTag>,
}

/// One read of a name, as it matters for which macros are called.
#[derive(Debug, Clone, Copy)]
pub(super) struct Use<'s> {
    pub(super) name: Name,
    /// The attribute it takes at once (`m` of `lib.m(…)`).
    pub(super) member: Option<&'s str>,
    /// The top-level macro whose body holds the read, if one does.
    pub(super) in_macro: Option<Name>,
}

/// What an import tag binds.
#[derive(Debug, Clone)]
pub(super) enum Import<'s> {
    /// `import … as alias`: the module.
    Module(Name),
    /// `from … import a, b as c`: the macros `a` and `b`.
    Names(Vec<&'s str>),
}

/// The tags that open a body closed by an `end…` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    For,
    If,
    Macro,
    Call,
    Filter,
    Set,
    With,
    Autoescape,
    Block,
    Trans,
}

impl Body {
    const ALL: [Body; 10] = [
        Body::For,
        Body::If,
        Body::Macro,
        Body::Call,
        Body::Filter,
        Body::Set,
        Body::With,
        Body::Autoescape,
        Body::Block,
        Body::Trans,
    ];

    fn closed_by(end: &str) -> Option<Body> {
        let name = end.strip_prefix("end")?;
        Body::ALL.into_iter().find(|b| b.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Body::For => "for",
            Body::If => "if",
            Body::Macro => "macro",
            Body::Call => "call",
            Body::Filter => "filter",
            Body::Set => "set",
            Body::With => "with",
            Body::Autoescape => "autoescape",
            Body::Block => "block",
            Body::Trans => "trans",
        }
    }
}

/// A body that is open.
struct Open<'s> {
    body: Body,
    /// The frame to return to when it closes (its own frame's parent, or the same frame for
    /// `if` and `trans`).
    outer: u32,
    /// The guards this branch's condition switched on (`if`, `elif`).
    guards: Vec<&'s str>,
    /// The guards switched on because the earlier conditions were false (`elif`, `else`).
    earlier_false: Vec<&'s str>,
    /// What the current condition guarantees when it is false: the next branch's guards.
    if_false: Vec<&'s str>,
}

/// The lists of the last template's program and of its [`Builder`], kept empty so that their
/// memory is reused.
#[derive(Default)]
struct Spare {
    program: Program<'static>,
    open: Vec<Open<'static>>,
    guards: Vec<u32>,
    scratch: Vec<Read<'static>>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Spare> = std::cell::RefCell::new(Spare::default());
}

impl<'s> Program<'s> {
    /// Hands the lists' memory over to the next [`program`] on this thread.
    pub(super) fn recycle(self) {
        SPARE.with_borrow_mut(|spare| {
            spare.program = Program {
                frames: reuse(self.frames),
                events: reuse(self.events),
                names: reuse(self.names),
                macros: reuse(self.macros),
                uses: reuse(self.uses),
                imports: reuse(self.imports),
                unrendered: reuse(self.unrendered),
                references: reuse(self.references),
            }
        });
    }
}

/// Hands a list of [`Program::references`] taken out of its program back, for its memory to
/// be reused by the next [`program`] on this thread.
pub(super) fn give_back_references(references: Vec<RefTag>) {
    SPARE.with_borrow_mut(|spare| spare.program.references = reuse(references));
}

/// Builds the [`Program`] of a lexed template.
pub(super) fn program<'s>(lexed: &Lexed<'s>) -> Program<'s> {
    // About one event per two tokens: grown once rather than step by step.
    let tokens = lexed.tokens.len();
    let Spare {
        program: spare,
        open,
        guards,
        scratch,
    } = SPARE.with_borrow_mut(std::mem::take);
    let mut events = reuse(spare.events);
    events.reserve(tokens / 2);
    let mut frames = reuse(spare.frames);
    frames.push(Frame {
        kind: FrameKind::Root,
        level: 0,
        in_macro: None,
        output: true,
    });
    let mut b = Builder {
        program: Program {
            frames,
            events,
            names: reuse(spare.names),
            macros: reuse(spare.macros),
            uses: reuse(spare.uses),
            imports: reuse(spare.imports),
            unrendered: reuse(spare.unrendered),
            references: reuse(spare.references),
        },
        ids: Positions::default(),
        current: 0,
        open: reuse(open),
        open_count: [0; Body::ALL.len()],
        guards: reuse(guards),
        trans: None,
        scratch: reuse(scratch),
        known_extends: false,
        dead: None,
        blocks: 0,
    };
    for part in &lexed.parts {
        match part {
            Part::Tag(tag) => b.tag(tag, lexed.tokens(tag)),
            Part::Expr(e) => b.expression(lexed.tokens(e)),
            Part::Text { .. } | Part::Comment(_) => {}
        }
    }
    while let Some(open) = b.open.pop() {
        b.finish(open);
    }
    // The program's lists come back with `recycle`; the builder's go back now.
    SPARE.with_borrow_mut(|spare| {
        spare.open = reuse(b.open);
        spare.guards = reuse(b.guards);
        spare.scratch = reuse(b.scratch);
    });
    b.program
}

struct Builder<'s> {
    program: Program<'s>,
    /// Each name's [`Name`]: its position in [`Program::names`].
    ids: Positions<'s>,
    current: u32,
    open: Vec<Open<'s>>,
    open_count: [u32; Body::ALL.len()],
    /// Per name, how many `if` branches around this point guard it
    /// (`{% if x is defined %}`).
    guards: Vec<u32>,
    /// Inside `{% trans %}`: the names its tag declares.
    trans: Option<Vec<&'s str>>,
    scratch: Vec<Read<'s>>,
    /// An `extends` at the top level, outside any tag's body, has been seen.
    known_extends: bool,
    /// A second `extends` after a known one: Jinja2 stops compiling the body it is in there
    /// (the top level, or the branch of an `if`; the template fails when it renders), so the
    /// scopes nested in it after that point are never analysed (the top level's own reads
    /// still count, and blocks are compiled apart). The number of open bodies at that point.
    dead: Option<usize>,
    /// How many `block` bodies are open.
    blocks: u32,
}

impl<'s> Builder<'s> {
    fn id(&mut self, name: &'s str) -> Name {
        let names = &mut self.program.names;
        let next = names.len() as Name;
        let id = self.ids.of(name, names.len(), |i| names[i]) as Name;
        if id == next {
            names.push(name);
            self.guards.push(0);
        }
        id
    }

    fn store(&mut self, name: &Token<'s>) {
        let id = self.id(name.text);
        self.push(Event::Store(id, name.start));
    }

    fn param(&mut self, name: &'s str) {
        let id = self.id(name);
        self.push(Event::Param(id));
    }

    fn push(&mut self, event: Event) {
        if self.dead.is_some() && self.blocks == 0 && self.current != 0 {
            return;
        }
        self.program.events.push((self.current, event));
    }

    fn reads(&mut self, tokens: &[Token<'s>], after_pipe: bool) {
        self.scratch.clear();
        expr::reads(tokens, after_pipe, &mut self.scratch);
        let in_macro = self.program.frames[self.current as usize].in_macro;
        for i in 0..self.scratch.len() {
            let read = self.scratch[i];
            let name = self.id(read.name);
            self.program.uses.push(Use {
                name,
                member: read.member,
                in_macro,
            });
            self.push(Event::Read {
                name,
                offset: read.offset,
                optional: read.optional || self.guards[name as usize] > 0,
            });
        }
    }

    /// Starts a frame nested in the current one and makes it current.
    fn enter(&mut self, kind: FrameKind) {
        let id = self.program.frames.len() as u32;
        let outer = self.program.frames[self.current as usize];
        let apart = matches!(kind, FrameKind::Block | FrameKind::ScopedBlock);
        self.program.frames.push(Frame {
            kind,
            level: outer.level + 1,
            in_macro: outer.in_macro,
            output: outer.output && !apart,
        });
        self.push(Event::Child(id));
        self.current = id;
    }

    /// Starts a nested frame whose output is captured, not written where it is (a macro, a
    /// `call` body, a block `set`).
    fn enter_apart(&mut self) {
        self.enter(FrameKind::Nested);
        self.program.frames[self.current as usize].output = false;
    }

    fn open(&mut self, body: Body, outer: u32) {
        self.open_count[body as usize] += 1;
        if body == Body::Block {
            self.blocks += 1;
        }
        self.open.push(Open {
            body,
            outer,
            guards: Vec::new(),
            earlier_false: Vec::new(),
            if_false: Vec::new(),
        });
    }

    /// `end…`: closes the innermost open body of that kind and every body opened inside it.
    fn close(&mut self, body: Body) {
        if self.open_count[body as usize] == 0 {
            return;
        }
        while let Some(open) = self.open.pop() {
            let found = open.body == body;
            self.finish(open);
            if found {
                break;
            }
        }
    }

    fn finish(&mut self, open: Open<'s>) {
        self.open_count[open.body as usize] -= 1;
        if open.body == Body::Block {
            self.blocks -= 1;
        }
        self.guard(&open.guards, false);
        self.guard(&open.earlier_false, false);
        match open.body {
            Body::If => self.push(Event::BranchClose),
            Body::Trans => self.trans = None,
            _ => {}
        }
        self.current = open.outer;
        if self.dead.is_some_and(|at| self.open.len() < at) {
            self.dead = None;
        }
    }

    fn guard(&mut self, names: &[&'s str], on: bool) {
        for &name in names {
            let id = self.id(name);
            let count = &mut self.guards[id as usize];
            if on {
                *count += 1;
            } else {
                *count = count.saturating_sub(1);
            }
        }
    }

    fn expression(&mut self, tokens: &[Token<'s>]) {
        if let (Some(declared), [name]) = (&self.trans, tokens)
            && declared.contains(&name.text)
        {
            return;
        }
        if self.known_extends && self.program.frames[self.current as usize].output {
            self.scratch.clear();
            expr::reads(tokens, false, &mut self.scratch);
            let unrendered = self.scratch.iter().map(|r| (r.name, r.offset));
            self.program.unrendered.extend(unrendered);
            return;
        }
        self.reads(tokens, false);
    }

    fn tag(&mut self, tag: &Delimited, tokens: &[Token<'s>]) {
        let Some((keyword, rest)) = tokens.split_first() else {
            return;
        };
        if keyword.kind != TokenKind::Name {
            return self.reads(tokens, false);
        }
        match keyword.text {
            "for" => self.for_tag(rest),
            // askama's `{% else if condition %}` is an `elif`.
            "else" => match rest.split_first() {
                Some((word, condition)) if word.is_name("if") => self.elif_tag(condition),
                _ => self.else_tag(),
            },
            "elif" => self.elif_tag(rest),
            "if" if rest.first().is_some_and(|t| t.is_name("let")) => {
                self.push(Event::BranchOpen);
                self.open(Body::If, self.current);
                self.if_let(rest);
            }
            "if" => {
                self.reads(rest, false);
                let (if_true, if_false) = condition_guards(rest);
                self.push(Event::BranchOpen);
                self.open(Body::If, self.current);
                self.guard(&if_true, true);
                let top = self.open.last_mut().expect("just opened");
                top.guards = if_true;
                top.if_false = if_false;
            }
            "macro" => {
                let outer = self.current;
                match rest.first() {
                    Some(name) if name.kind == TokenKind::Name => {
                        self.store(name);
                        self.enter_apart();
                        if outer == 0 {
                            let id = self.id(name.text);
                            self.program.macros.push(id);
                            self.program.frames[self.current as usize].in_macro = Some(id);
                        }
                        self.parameters(&rest[1..]);
                    }
                    _ => self.enter_apart(),
                }
                self.open(Body::Macro, outer);
            }
            "call" => {
                let outer = self.current;
                if rest.first().is_some_and(|t| t.is_op("(")) {
                    let close = closing(rest);
                    self.reads(&rest[close..], false);
                    self.enter_apart();
                    self.parameters(&rest[..close]);
                } else {
                    self.reads(rest, false);
                    self.enter_apart();
                }
                self.open(Body::Call, outer);
            }
            "filter" => {
                let outer = self.current;
                self.reads(rest, true);
                self.enter(FrameKind::Nested);
                self.open(Body::Filter, outer);
            }
            // askama spells `set` `let` too, and may declare a name without a value.
            "set" | "let" => match position(rest, |t| t.is_op("=")) {
                Some(k) => {
                    self.reads(&rest[k + 1..], false);
                    self.targets(&rest[..k], false);
                }
                None => {
                    // `{% set body %}…{% endset %}`, maybe with filters: `set body | trim`.
                    let outer = self.current;
                    if let Some(name) = rest.first().filter(|t| t.kind == TokenKind::Name) {
                        self.store(name);
                    }
                    self.reads(rest.get(1..).unwrap_or_default(), false);
                    self.enter_apart();
                    self.open(Body::Set, outer);
                }
            },
            // askama's `{% decl name %}`: a name declared, assigned later.
            "decl" => self.targets(rest, false),
            "with" => {
                let outer = self.current;
                // Every value is read outside, before any name is bound.
                for item in split_top(rest, ",") {
                    match position(item, |t| t.is_op("=")) {
                        Some(k) => self.reads(&item[k + 1..], false),
                        None => self.reads(item, false),
                    }
                }
                self.enter(FrameKind::Nested);
                for item in split_top(rest, ",") {
                    if let Some(k) = position(item, |t| t.is_op("=")) {
                        self.targets(&item[..k], true);
                    }
                }
                self.open(Body::With, outer);
            }
            "autoescape" => {
                let outer = self.current;
                self.enter(FrameKind::Nested);
                self.reads(rest, false);
                self.open(Body::Autoescape, outer);
            }
            "block" => {
                let outer = self.current;
                let scoped = rest.iter().skip(1).any(|t| t.is_name("scoped"));
                self.enter(if scoped {
                    FrameKind::ScopedBlock
                } else {
                    FrameKind::Block
                });
                self.open(Body::Block, outer);
            }
            "trans" => self.trans_tag(rest),
            "pluralize" => {
                if let (Some(declared), Some(name)) = (&self.trans, rest.first())
                    && name.kind == TokenKind::Name
                    && !declared.contains(&name.text)
                {
                    self.reads(&rest[..1], false);
                }
            }
            // askama's `{% when Some with (v) %}` / `{% when Point { x, y } %}`: the pattern's
            // names are bindings (or constructors), never reads from the context.
            "when" => {
                for name in rest.iter().filter(|t| t.kind == TokenKind::Name) {
                    if !is_keyword(name.text) && !name.is_name("with") {
                        self.store(name);
                    }
                }
            }
            "extends" | "include" | "import" | "from" => self.reference(tag, tokens),
            "raw" | "endraw" | "break" | "continue" | "debug" => {}
            end if end.starts_with("end") => {
                if let Some(body) = Body::closed_by(end) {
                    self.close(body);
                }
            }
            // A tag of another engine or extension: its names are read, except the words that
            // Jinja's own tags use as syntax.
            _ => {
                const SYNTAX: [&str; 10] = [
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
                let kept: Vec<Token<'s>> = rest
                    .iter()
                    .filter(|t| !SYNTAX.iter().any(|w| t.is_name(w)))
                    .copied()
                    .collect();
                self.reads(&kept, false);
            }
        }
    }

    /// `for TARGETS in ITER [if TEST] [recursive]`: the sequence is read outside, the targets
    /// and the test belong to the loop's frame.
    fn for_tag(&mut self, rest: &[Token<'s>]) {
        let outer = self.current;
        let Some(k) = position(rest, |t| t.is_name("in")) else {
            self.reads(rest, false);
            self.enter(FrameKind::Nested);
            return self.open(Body::For, outer);
        };
        let mut after = &rest[k + 1..];
        if let [init @ .., last] = after
            && last.is_name("recursive")
        {
            after = init;
        }
        let (iter, test) = match position(after, |t| t.is_name("if")) {
            Some(i) => (&after[..i], &after[i + 1..]),
            None => (after, &[][..]),
        };
        self.reads(iter, false);
        self.enter(FrameKind::Nested);
        self.targets(&rest[..k], true);
        self.reads(test, false);
        self.open(Body::For, outer);
    }

    /// `else` of a `for` (a frame of its own, without the targets) or of an `if`.
    fn else_tag(&mut self) {
        match self.open.last().map(|o| o.body) {
            Some(Body::For) => {
                let open = self.open.pop().expect("checked");
                let outer = open.outer;
                self.open_count[Body::For as usize] -= 1;
                self.current = outer;
                self.enter(FrameKind::Nested);
                self.open(Body::For, outer);
            }
            Some(Body::If) => {
                self.push(Event::BranchElse);
                self.next_branch();
            }
            _ => {}
        }
    }

    /// `elif` / `else`: the guards of the branch that ends go off; what its condition
    /// guarantees when false goes on, for every later branch.
    fn next_branch(&mut self) {
        if self.dead == Some(self.open.len()) {
            self.dead = None;
        }
        let Some(top) = self.open.last_mut() else {
            return;
        };
        let off = std::mem::take(&mut top.guards);
        let on = std::mem::take(&mut top.if_false);
        top.earlier_false.extend_from_slice(&on);
        self.guard(&off, false);
        self.guard(&on, true);
    }

    /// askama's `if let PATTERN = value` (after `if`, `elif` or `else if`): the value is read,
    /// the pattern's names are bound in the branch.
    fn if_let(&mut self, rest: &[Token<'s>]) {
        let k = position(rest, |t| t.is_op("=")).unwrap_or(rest.len());
        self.reads(rest.get(k + 1..).unwrap_or_default(), false);
        for name in rest[1..k].iter().filter(|t| t.kind == TokenKind::Name) {
            if !is_keyword(name.text) {
                self.store(name);
            }
        }
    }

    fn elif_tag(&mut self, condition: &[Token<'s>]) {
        if self.open.last().map(|o| o.body) != Some(Body::If) {
            return self.reads(condition, false);
        }
        self.push(Event::BranchNext);
        self.next_branch();
        if condition.first().is_some_and(|t| t.is_name("let")) {
            return self.if_let(condition);
        }
        self.reads(condition, false);
        let (if_true, if_false) = condition_guards(condition);
        self.guard(&if_true, true);
        let top = self.open.last_mut().expect("checked");
        top.guards = if_true;
        top.if_false = if_false;
    }

    /// `trans [trimmed|notrimmed] [name[=value], …]`: the values are read here; the names are
    /// the body's own (`{{ name }}` in the body reads nothing). Jinja2's i18n extension.
    fn trans_tag(&mut self, rest: &[Token<'s>]) {
        if rest.first().is_some_and(|t| t.kind == TokenKind::Str) {
            // Django's one-tag `{% trans "text" %}`: no body.
            return self.reads(rest, false);
        }
        let mut declared = Vec::new();
        let mut modifier_seen = false;
        for item in split_top(rest, ",") {
            let mut item = item;
            // `trimmed` / `notrimmed` before the first name, without a comma after it.
            if !modifier_seen
                && declared.is_empty()
                && let [first, tail @ ..] = item
                && (first.is_name("trimmed") || first.is_name("notrimmed"))
                && !tail.first().is_some_and(|t| t.is_op("="))
            {
                modifier_seen = true;
                item = tail;
            }
            let value = match item {
                [] => &[][..],
                [name, eq, value @ ..] if name.kind == TokenKind::Name && eq.is_op("=") => {
                    declared.push(name.text);
                    value
                }
                [name] if name.kind == TokenKind::Name => {
                    declared.push(name.text);
                    item
                }
                other => other,
            };
            self.reads(value, false);
        }
        self.open(Body::Trans, self.current);
        self.trans = Some(declared);
    }

    /// `extends`, `include`, `import … as`, `from … import`: the name expression is read, the
    /// reference is marked, imported names are assigned.
    fn reference(&mut self, tag: &Delimited, tokens: &[Token<'s>]) {
        let Some(reference) = RefTag::of(tag, tokens) else {
            return;
        };
        self.program.references.push(reference);
        let (kind, name) = (reference.kind(), reference.name(tokens));
        if kind == RefKind::Extends {
            if self.known_extends && self.blocks == 0 {
                self.dead.get_or_insert(self.open.len());
            } else if self.current == 0 && self.open.is_empty() {
                self.known_extends = true;
            }
        }
        self.reads(name, false);
        self.push(Event::Ref {
            offset: tag.start,
            extends: kind == RefKind::Extends,
        });
        let rest = strip_context(&tokens[1..]);
        match kind {
            RefKind::Import => {
                if let [.., as_, alias] = rest
                    && as_.is_name("as")
                    && alias.kind == TokenKind::Name
                {
                    self.store(alias);
                    let module = self.id(alias.text);
                    self.program
                        .imports
                        .push((tag.start, Import::Module(module)));
                }
            }
            RefKind::FromImport => {
                // What follows the name expression and the keyword `import`.
                let names = rest.get(name.len() + 1..).unwrap_or_default();
                let mut imported = Vec::new();
                // `name` or `name as alias`; either may be the word `as` itself.
                for item in split_top(names, ",") {
                    let bound = match item {
                        [_, as_, alias, ..] if as_.is_name("as") => Some(alias),
                        [name, ..] => Some(name),
                        [] => None,
                    };
                    if let Some(t) = bound.filter(|t| t.kind == TokenKind::Name) {
                        self.store(t);
                    }
                    if let Some(first) = item.first().filter(|t| t.kind == TokenKind::Name) {
                        imported.push(first.text);
                    }
                }
                self.program
                    .imports
                    .push((tag.start, Import::Names(imported)));
            }
            RefKind::Extends | RefKind::Include => {}
        }
    }

    /// Assignment targets: names (in tuples, with or without parentheses) are assigned or
    /// bound; `ns.attr` reads `ns`.
    fn targets(&mut self, tokens: &[Token<'s>], param: bool) {
        for target in split_top(tokens, ",") {
            work::step();
            // askama's binding modes: `let mut x`, `(ref a, mut b)`.
            let target = match target {
                [mode, rest @ ..] if mode.is_name("mut") || mode.is_name("ref") => rest,
                _ => target,
            };
            match target {
                [name] if name.kind == TokenKind::Name && !is_keyword(name.text) => {
                    if param {
                        self.param(name.text);
                    } else {
                        self.store(name);
                    }
                }
                [open, inner @ .., close] if open.is_op("(") && close.is_op(")") => {
                    self.targets(inner, param)
                }
                _ => self.reads(target, false),
            }
        }
    }

    /// `(a, b=default, *args)`: every name is bound first, then the defaults are read (in the
    /// new frame, so a default may use an earlier argument).
    fn parameters(&mut self, tokens: &[Token<'s>]) {
        let inner = match tokens {
            [open, inner @ .., close] if open.is_op("(") && close.is_op(")") => inner,
            _ => return self.reads(tokens, false),
        };
        for param in split_top(inner, ",") {
            let end = position(param, |t| t.is_op("=")).unwrap_or(param.len());
            for t in param[..end]
                .iter()
                .filter(|t| t.kind == TokenKind::Name && !is_keyword(t.text))
            {
                self.param(t.text);
            }
        }
        for param in split_top(inner, ",") {
            if let Some(k) = position(param, |t| t.is_op("=")) {
                self.reads(&param[k + 1..], false);
            }
        }
    }
}

/// Without a final `with context` or `without context`.
fn strip_context<'t, 's>(tokens: &'t [Token<'s>]) -> &'t [Token<'s>] {
    match tokens {
        [init @ .., w, c]
            if (w.is_name("with") || w.is_name("without")) && c.is_name("context") =>
        {
            init
        }
        _ => tokens,
    }
}

/// The index of the first top-level token that matches.
fn position(tokens: &[Token<'_>], mut want: impl FnMut(&Token<'_>) -> bool) -> Option<usize> {
    top_level(tokens).find(|(_, t)| want(t)).map(|(i, _)| i)
}

/// The length of the bracketed group that opens `tokens`, closing bracket included.
pub(super) fn closing(tokens: &[Token<'_>]) -> usize {
    let mut depth = 0isize;
    for (i, t) in tokens.iter().enumerate() {
        work::step();
        depth += t.nesting();
        if depth <= 0 {
            return i + 1;
        }
    }
    tokens.len()
}

/// The pieces of `tokens` between top-level `sep` operators (a trailing empty piece left out).
fn split_top<'t, 's>(tokens: &'t [Token<'s>], sep: &'static str) -> SplitTop<'t, 's> {
    SplitTop {
        tokens,
        sep,
        from: 0,
        at: 0,
        depth: 0,
    }
}

/// The iterator of [`split_top`]: one pass over the tokens, no allocation.
struct SplitTop<'t, 's> {
    tokens: &'t [Token<'s>],
    sep: &'static str,
    from: usize,
    at: usize,
    depth: isize,
}

impl<'t, 's> Iterator for SplitTop<'t, 's> {
    type Item = &'t [Token<'s>];

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(t) = self.tokens.get(self.at) {
            work::step();
            self.at += 1;
            let outside = self.depth == 0;
            self.depth += t.nesting();
            if outside && self.depth == 0 && t.is_op(self.sep) {
                let piece = &self.tokens[self.from..self.at - 1];
                self.from = self.at;
                return Some(piece);
            }
        }
        if self.from < self.tokens.len() {
            let piece = &self.tokens[self.from..];
            self.from = self.tokens.len();
            return Some(piece);
        }
        None
    }
}
