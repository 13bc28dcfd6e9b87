//! Pass 2: which reads reach the context, frame by frame, as Jinja2's compiler decides it
//! (`jinja2/idtracking.py`), and which names are defined where a template references another.
//!
//! Every frame is worked through in source order, after the frames around it (as Jinja2 does:
//! it analyses a whole frame before the frames nested in it). In a frame, a name is:
//!
//! - defined from the point where it is assigned or bound: a read after that is local;
//! - read from the context when it is read before anything defines it in the frame or the frames
//!   around it; Jinja2 then loads it from the context on entry to the frame, so a later read of
//!   it in a nested frame is a context read too;
//! - after an `if`, a name that some branch assigned and that was not assigned before: Jinja2
//!   loads it from the context (the branch may not run), so a read after the `if` is a context
//!   read;
//! - in a nested frame, a name that the frames around it assign anywhere (even after) is theirs,
//!   not the context's: Jinja2 reads their variable (undefined until assigned).
//!
//! A `block` frame sees none of that: it reads the context, into which the top level has put
//! what it assigned before the block (everything it assigns, when the template extends another:
//! its whole top level runs before the parent renders). A `scoped` block also sees the names
//! defined around it at that point.
//!
//! The names defined at a reference (an include inside a loop sees the loop's variable) are the
//! names assigned or bound for sure at that point: in the frame and in the frames around it, up
//! to where the nested frame started.

use super::super::{reuse, work};
use super::events::{Event, FrameKind, Name, Program};
use super::{NameMap, NotNeeded};

/// "Never" for positions, "none" for links.
const NEVER: u32 = u32::MAX;

/// What a frame around the current one knows of a name (the nearest one that has it).
#[derive(Debug, Clone, Copy)]
struct Entry {
    level: u32,
    /// Loaded from the context on entry to that frame.
    resolve: bool,
    /// The event at which the frame assigned it for sure, outside any `if` ([`NEVER`] if none).
    since: u32,
    /// The entry of the next frame further out that has the name ([`NEVER`] if none).
    outer: u32,
    /// `since` of the top level's entry for the name, if it has one ([`NEVER`] if not).
    root_since: u32,
    /// Where the frame has it defined for sure: a range of [`Tables::spans`].
    spans: (u32, u32),
}

/// A frame's own knowledge of a name.
#[derive(Debug, Clone, Copy)]
struct Own {
    /// The frame has the name at all.
    present: bool,
    /// Loaded from the context on entry.
    resolve: bool,
    /// Assigned here while a frame around has it: starts as that frame's value.
    alias: bool,
    /// Assigned somewhere so far (in any branch).
    stored: bool,
    /// Assigned for sure at this point.
    definite: bool,
    since: u32,
    /// The span of [`Tables::open_spans`] that is open for it ([`NEVER`] if none), while the
    /// frame is worked through; then its range of [`Tables::spans`].
    span: u32,
    spans: (u32, u32),
}

const ABSENT: Own = Own {
    present: false,
    resolve: false,
    alias: false,
    stored: false,
    definite: false,
    since: NEVER,
    span: NEVER,
    spans: (0, 0),
};

/// Where a frame stands when its turn comes.
#[derive(Debug, Clone, Copy)]
struct Start {
    /// The event (in its parent) that starts it.
    event: u32,
    /// The names defined for sure there: a node of [`Tables::chain`].
    head: u32,
    /// The top level's `head` where the chain of frames leaves the top level.
    root_head: u32,
    /// Frames at this level or below are hidden (inside a block).
    barrier: Option<u32>,
    /// The innermost block around (or this frame): its level and whether it is scoped.
    block: Option<(u32, bool)>,
}

/// What the analysis found.
#[derive(Debug, Default)]
pub(super) struct Found<'s> {
    /// Context reads outside the macros of the top level: each name with the offset of its
    /// first one.
    pub(super) reads: Vec<(&'s str, usize)>,
    /// Context reads in the body of a macro of the top level: (name, macro, offset), in the
    /// order the frames are worked through.
    pub(super) macro_reads: Vec<(&'s str, &'s str, usize)>,
    /// Names Jinja2 loads from the context that the struct need not provide (and does not
    /// read otherwise), why, and the first offset.
    pub(super) not_needed: Vec<(&'s str, NotNeeded, usize)>,
    /// Per reference tag, in offset order: its offset and where in
    /// [`scope_names`](Self::scope_names) the names defined for sure there lie.
    pub(super) scopes: Vec<(usize, std::ops::Range<usize>)>,
    /// The names of every scope of [`scopes`](Self::scopes) end to end, each scope's sorted
    /// and unique: one list for the template instead of one per reference tag.
    pub(super) scope_names: Vec<&'s str>,
}

impl Found<'_> {
    /// Empties the lists and hands their memory over for another template (a huge template's
    /// is let go).
    fn recycle<'t>(self) -> Found<'t> {
        Found {
            reads: reuse(self.reads),
            macro_reads: reuse(self.macro_reads),
            not_needed: reuse(self.not_needed),
            scopes: reuse(self.scopes),
            scope_names: reuse(self.scope_names),
        }
    }
}

/// Hands what [`analyse`] found back, for its lists' memory to be reused by the next template
/// of this thread.
pub(super) fn give_back(found: Found<'_>) {
    BUFFERS.with_borrow_mut(|b| b.found = found.recycle());
}

/// The working lists of pass 2, kept per thread between templates so that their memory is
/// reused: about thirty allocations a template otherwise, a good share of a scan's time.
#[derive(Default)]
struct Buffers {
    tables: Tables,
    start: Vec<u32>,
    fill: Vec<u32>,
    order: Vec<u32>,
    steps: Vec<Step>,
    published: Vec<Name>,
    published_at: Vec<usize>,
    children: Vec<u32>,
    in_macro: Vec<bool>,
    scopes: Vec<(usize, std::ops::Range<usize>)>,
    /// The lists of the last [`Found`] handed back ([`give_back`]), empty.
    found: Found<'static>,
}

thread_local! {
    static BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::new(Buffers::default());
}

/// `list` emptied (its memory kept), then `len` times `value`.
fn filled<T: Clone>(list: &mut Vec<T>, len: usize, value: T) -> Vec<T> {
    let mut list = std::mem::take(list);
    list.clear();
    list.resize(len, value);
    list
}

/// `list`, emptied, its memory kept.
fn emptied<T>(list: &mut Vec<T>) -> Vec<T> {
    let mut list = std::mem::take(list);
    list.clear();
    list
}

/// A step of the depth-first walk over the frames.
enum Step {
    Enter(u32),
    Exit,
}

/// Runs pass 2 over `program`; [`Found::not_needed`] is left empty unless `not_needed`.
pub(super) fn analyse<'s>(program: &Program<'s>, not_needed: bool) -> Found<'s> {
    // Borrowed where they are, not moved out and back: the lists are a few hundred bytes.
    BUFFERS.with_borrow_mut(|b| {
        let found = analyse_with(program, b, not_needed);
        // A huge template's lists are not kept for the next one.
        if b.order.capacity() + b.tables.own.capacity() >= 1 << 16 {
            *b = Buffers::default();
        }
        found
    })
}

fn analyse_with<'s>(program: &Program<'s>, b: &mut Buffers, not_needed: bool) -> Found<'s> {
    let frames = &program.frames;
    // Each frame's events, in source order, in one array (a counting sort by frame).
    let mut start = filled(&mut b.start, frames.len() + 1, 0u32);
    for &(frame, _) in &program.events {
        start[frame as usize + 1] += 1;
    }
    for i in 0..frames.len() {
        start[i + 1] += start[i];
    }
    let mut fill = emptied(&mut b.fill);
    fill.extend_from_slice(&start);
    let mut order = filled(&mut b.order, program.events.len(), 0u32);
    for (i, &(frame, _)) in program.events.iter().enumerate() {
        order[fill[frame as usize] as usize] = i as u32;
        fill[frame as usize] += 1;
    }

    let names = program.names.len();
    let t = &mut b.tables;
    t.reset(names, frames.len());
    let mut a = Analysis {
        program,
        scopes: emptied(&mut b.scopes),
        child_template: false,
        root_final: NEVER,
        t,
    };
    a.t.starts[0] = Some(Start {
        event: NEVER,
        head: NEVER,
        root_head: NEVER,
        barrier: None,
        block: None,
    });
    // Frames in depth-first order, each before the frames nested in it; what a frame publishes
    // to its nested frames is withdrawn when they are done.
    let mut steps = emptied(&mut b.steps);
    steps.push(Step::Enter(0));
    let mut published = emptied(&mut b.published);
    let mut published_at = emptied(&mut b.published_at);
    let mut children = emptied(&mut b.children);
    while let Some(step) = steps.pop() {
        match step {
            Step::Enter(frame) => {
                let range = start[frame as usize] as usize..start[frame as usize + 1] as usize;
                children.clear();
                a.frame(frame, &order[range], &mut children);
                a.file_spans();
                let level = frames[frame as usize].level;
                published_at.push(published.len());
                for i in 0..a.t.touched.len() {
                    work::step();
                    let name = a.t.touched[i];
                    let o = std::mem::replace(&mut a.t.own[name as usize], ABSENT);
                    if o.alias && !o.resolve {
                        continue;
                    }
                    let outer = a.t.nearest[name as usize];
                    let root_since = match a.t.entries.get(outer as usize) {
                        Some(e) => e.root_since,
                        None if level == 0 => o.since,
                        None => NEVER,
                    };
                    a.t.entries.push(Entry {
                        level,
                        resolve: o.resolve,
                        since: o.since,
                        outer,
                        root_since,
                        spans: o.spans,
                    });
                    a.t.nearest[name as usize] = a.t.entries.len() as u32 - 1;
                    published.push(name);
                }
                a.t.touched.clear();
                steps.push(Step::Exit);
                steps.extend(children.iter().rev().map(|&c| Step::Enter(c)));
            }
            Step::Exit => {
                let from = published_at.pop().expect("one mark per entered frame");
                for name in published.drain(from..) {
                    let top = a.t.nearest[name as usize];
                    a.t.nearest[name as usize] = a.t.entries[top as usize].outer;
                }
            }
        }
    }
    let name = |id: Name| program.names[id as usize];
    a.scopes.sort_unstable_by_key(|(offset, _)| *offset);
    let mut found: Found<'s> = std::mem::take(&mut b.found).recycle();
    for (offset, ids) in &a.scopes {
        let names = &mut found.scope_names;
        let from = names.len();
        names.extend(a.t.scope_names[ids.clone()].iter().map(|&id| name(id)));
        names[from..].sort_unstable();
        found.scopes.push((*offset, from..names.len()));
    }
    let mut in_macro = emptied(&mut b.in_macro);
    if not_needed {
        in_macro.resize(names, false);
        for &(id, _, _) in &a.t.macro_reads {
            in_macro[id as usize] = true;
        }
    }
    let read = |id: Name| a.t.reads[id as usize] != usize::MAX || in_macro[id as usize];
    found.macro_reads.extend(
        a.t.macro_reads
            .iter()
            .map(|&(id, m, offset)| (name(id), name(m), offset)),
    );
    found.not_needed.extend(
        a.t.not_needed
            .iter()
            .filter(|((id, _), _)| not_needed && !read(*id))
            .map(|(&(id, why), &offset)| (name(id), why, offset)),
    );
    found.reads.extend(
        a.t.reads
            .iter()
            .enumerate()
            .filter(|(_, offset)| **offset != usize::MAX)
            .map(|(id, &offset)| (name(id as Name), offset)),
    );
    b.scopes = a.scopes;
    b.start = start;
    b.fill = fill;
    b.order = order;
    b.steps = steps;
    b.published = published;
    b.published_at = published_at;
    b.children = children;
    b.in_macro = in_macro;
    found
}

struct Analysis<'p, 's, 't> {
    program: &'p Program<'s>,
    /// Per reference tag: its offset and where its names lie in [`Tables::scope_names`].
    scopes: Vec<(usize, std::ops::Range<usize>)>,
    /// The template extends another at its top level, outside any `if`.
    child_template: bool,
    /// The top level's `head` at its end.
    root_final: u32,
    /// The working lists, reused from template to template.
    t: &'t mut Tables,
}

/// The per-name tables and working lists of [`Analysis`], kept per thread between templates
/// ([`Buffers`]).
#[derive(Default)]
struct Tables {
    /// Per name, the offset of its first context read outside the top level's macros
    /// (`usize::MAX`: none).
    reads: Vec<usize>,
    /// Context reads in a macro of the top level: (name, macro, offset).
    macro_reads: Vec<(Name, Name, usize)>,
    not_needed: NameMap<(Name, NotNeeded), usize>,
    /// Per name, the entry of the nearest frame around the current one that has it.
    nearest: Vec<u32>,
    entries: Vec<Entry>,
    /// Per name, what the frame being worked through knows of it; `touched` lists the names
    /// it has, so that the table is cleared for the next frame.
    own: Vec<Own>,
    touched: Vec<Name>,
    /// Nodes of the lists of names defined for sure: (name, previous node).
    chain: Vec<(Name, u32)>,
    starts: Vec<Option<Start>>,
    /// Per level on the way to the current frame, the event that leads down from it.
    path: Vec<u32>,
    /// `extends` references whose scope is the top level's final one.
    deferred: Vec<usize>,
    /// Per published entry, in a range: the events between which its frame has the name
    /// defined for sure, `[from, to)`, in order.
    spans: Vec<(u32, u32)>,
    /// The spans of the frame being worked through: (name, from, to).
    open_spans: Vec<(Name, u32, u32)>,
    /// The names each finished branch of the `if`s in progress defined for sure (and that
    /// were not before the `if`).
    ended: Vec<Name>,
    /// Per name, a count of the branches that defined it, while an `if` closes (0 otherwise).
    tally: Vec<u32>,
    /// The names of the scopes of [`Analysis::scopes`], end to end.
    scope_names: Vec<Name>,
}

impl Tables {
    /// Emptied (their memory kept) and sized for a program of `names` names and `frames`
    /// frames.
    fn reset(&mut self, names: usize, frames: usize) {
        self.reads = filled(&mut self.reads, names, usize::MAX);
        self.nearest = filled(&mut self.nearest, names, NEVER);
        self.own = filled(&mut self.own, names, ABSENT);
        self.tally = filled(&mut self.tally, names, 0);
        self.starts = filled(&mut self.starts, frames, None);
        self.macro_reads.clear();
        self.not_needed.clear();
        self.entries.clear();
        self.touched.clear();
        self.chain.clear();
        self.path.clear();
        self.deferred.clear();
        self.spans.clear();
        self.open_spans.clear();
        self.ended.clear();
        self.scope_names.clear();
    }
}

/// One `if` in progress in a frame.
struct Branching {
    head: u32,
    undo: usize,
    newly: usize,
    /// Where its finished branches start in [`Tables::ended`].
    ended: usize,
    /// The branches finished so far.
    branches: u32,
    /// It has an `else`: every case runs one of its branches.
    exhaustive: bool,
}

impl Analysis<'_, '_, '_> {
    /// The nearest frame around (not hidden by a block) that has `name`.
    fn around(&self, name: Name, barrier: Option<u32>) -> Option<Entry> {
        let at = self.t.nearest[name as usize];
        let entry = *self.t.entries.get(at as usize)?;
        match barrier {
            Some(b) if entry.level <= b => None,
            _ => Some(entry),
        }
    }

    /// In a block, when nothing around has `name`: does the nearest frame around a scoped
    /// block, or else the top level, define it for sure before the block runs?
    fn provided_to_block(&self, name: Name, block: Option<(u32, bool)>) -> Option<NotNeeded> {
        let (_, scoped) = block?;
        let nearest = *self.t.entries.get(self.t.nearest[name as usize] as usize)?;
        if scoped
            && nearest.since != NEVER
            && self
                .t
                .path
                .get(nearest.level as usize)
                .is_some_and(|&at| nearest.since < at)
        {
            return Some(NotNeeded::AroundScopedBlock);
        }
        let since = nearest.root_since;
        let provided = since != NEVER
            && (self.child_template || self.t.path.first().is_some_and(|&at| since < at));
        provided.then_some(NotNeeded::OwnTopLevel)
    }

    fn not_needed(&mut self, name: Name, why: NotNeeded, offset: usize) {
        let first = self.t.not_needed.entry((name, why)).or_insert(offset);
        *first = (*first).min(offset);
    }

    /// Lists the names defined for sure at `head` (unique) at the end of
    /// [`Tables::scope_names`], and says where.
    fn scope_of(&mut self, mut head: u32) -> std::ops::Range<usize> {
        let names = &mut self.t.scope_names;
        let from = names.len();
        while head != NEVER {
            work::step();
            let (name, prev) = self.t.chain[head as usize];
            names.push(name);
            head = prev;
        }
        names[from..].sort_unstable();
        let mut end = from;
        for at in from..names.len() {
            if end == from || names[end - 1] != names[at] {
                names[end] = names[at];
                end += 1;
            }
        }
        names.truncate(end);
        from..end
    }

    fn own(&mut self, name: Name) -> &mut Own {
        let o = &mut self.t.own[name as usize];
        if !o.present {
            o.present = true;
            self.t.touched.push(name);
        }
        o
    }

    /// `name` is defined for sure from event `at` on (`at_top`: outside any `if` of the
    /// frame); `head` and `undo` follow.
    fn define(&mut self, name: Name, at: u32, at_top: bool, head: &mut u32, undo: &mut Vec<Name>) {
        let o = &mut self.t.own[name as usize];
        if o.definite {
            return;
        }
        o.definite = true;
        if at_top && o.since == NEVER {
            o.since = at;
        }
        o.span = self.t.open_spans.len() as u32;
        self.t.open_spans.push((name, at, NEVER));
        if !at_top {
            undo.push(name);
        }
        self.t.chain.push((name, *head));
        *head = self.t.chain.len() as u32 - 1;
    }

    /// The names that every branch of a closed `if` defined for sure, if it has an `else`
    /// (then one branch runs, whichever it is); [`Tables::ended`] is cleared of its
    /// branches.
    fn every_branch(&mut self, branching: &Branching) -> Vec<Name> {
        let ended: Vec<Name> = self.t.ended.drain(branching.ended..).collect();
        if !branching.exhaustive {
            return Vec::new();
        }
        let mut all = Vec::new();
        for &name in &ended {
            work::step();
            let count = &mut self.t.tally[name as usize];
            *count += 1;
            if *count == branching.branches {
                all.push(name);
            }
        }
        for &name in &ended {
            self.t.tally[name as usize] = 0;
        }
        all
    }

    /// Moves the spans of the frame just worked through to [`Tables::spans`], each name's
    /// together, in order, and gives each name its range.
    fn file_spans(&mut self) {
        self.t
            .open_spans
            .sort_unstable_by_key(|&(name, from, _)| (name, from));
        let mut previous = None;
        for &(name, from, to) in &self.t.open_spans {
            work::step();
            let at = self.t.spans.len() as u32;
            let o = &mut self.t.own[name as usize];
            if previous != Some(name) {
                previous = Some(name);
                o.spans.0 = at;
            }
            o.spans.1 = at + 1;
            self.t.spans.push((from, to));
        }
        self.t.open_spans.clear();
    }

    /// Does the frame of `entry` have the name defined for sure where the way to the
    /// current frame leaves it (the nested frame's start)?
    fn defined_on_the_way(&self, entry: Entry) -> bool {
        let Some(&at) = self.t.path.get(entry.level as usize) else {
            return false;
        };
        let spans = &self.t.spans[entry.spans.0 as usize..entry.spans.1 as usize];
        let before = spans.partition_point(|&(from, _)| from < at);
        before > 0 && at < spans[before - 1].1
    }

    /// Works through one frame's events, appending its nested frames, in order, to
    /// `children`; what it knows of each name is left in `own` (the names in `touched`).
    fn frame(&mut self, frame: u32, events: &[u32], children: &mut Vec<u32>) {
        let info = self.program.frames[frame as usize];
        let mut start = self.t.starts[frame as usize].expect("a frame starts before its turn");
        if info.level > 0 {
            self.t.path.truncate(info.level as usize - 1);
            self.t.path.push(start.event);
        }
        if info.kind == FrameKind::Block && self.child_template {
            start.head = self.root_final;
        }
        let (barrier, block) = (start.barrier, start.block);
        let mut head = start.head;
        let mut ifs: Vec<Branching> = Vec::new();
        let mut undo: Vec<Name> = Vec::new();
        // Names first assigned in a branch of the `if`s in progress, with where.
        let mut newly: Vec<(Name, usize)> = Vec::new();
        for &at in events {
            work::step();
            let (_, event) = self.program.events[at as usize];
            match event {
                Event::Read {
                    name,
                    offset,
                    optional,
                } => {
                    let o = self.t.own[name as usize];
                    let context = if o.present && o.definite {
                        false
                    } else if o.present && o.resolve {
                        true
                    } else {
                        match self.around(name, barrier) {
                            Some(entry) => entry.resolve && !self.defined_on_the_way(entry),
                            None => match self.provided_to_block(name, block) {
                                Some(why) => {
                                    self.not_needed(name, why, offset);
                                    false
                                }
                                None => {
                                    self.own(name).resolve = true;
                                    true
                                }
                            },
                        }
                    };
                    if context && optional {
                        self.not_needed(name, NotNeeded::Optional, offset);
                    } else if context {
                        match info.in_macro {
                            None => {
                                let first = &mut self.t.reads[name as usize];
                                *first = (*first).min(offset);
                            }
                            Some(m) => self.t.macro_reads.push((name, m, offset)),
                        }
                    }
                }
                Event::Store(name, _) | Event::Param(name) => {
                    let around = self.around(name, barrier).is_some();
                    let fresh = !self.t.own[name as usize].present;
                    let o = self.own(name);
                    if fresh {
                        o.alias = around;
                    }
                    let first_store = !o.stored;
                    o.stored = true;
                    if !ifs.is_empty() && first_store {
                        let offset = match event {
                            Event::Store(_, offset) => offset,
                            _ => usize::MAX,
                        };
                        newly.push((name, offset));
                    }
                    let at_top = ifs.is_empty();
                    self.define(name, at, at_top, &mut head, &mut undo);
                }
                Event::BranchOpen => ifs.push(Branching {
                    head,
                    undo: undo.len(),
                    newly: newly.len(),
                    ended: self.t.ended.len(),
                    branches: 0,
                    exhaustive: false,
                }),
                Event::BranchNext | Event::BranchElse | Event::BranchClose => {
                    let Some(branching) = ifs.last_mut() else {
                        continue;
                    };
                    branching.branches += 1;
                    branching.exhaustive |= event == Event::BranchElse;
                    for name in undo.drain(branching.undo..) {
                        let o = &mut self.t.own[name as usize];
                        o.definite = false;
                        self.t.open_spans[o.span as usize].2 = at;
                        o.span = NEVER;
                        self.t.ended.push(name);
                    }
                    head = branching.head;
                    if event == Event::BranchClose {
                        let branching = ifs.pop().expect("checked");
                        let at_top = ifs.is_empty();
                        for name in self.every_branch(&branching) {
                            self.define(name, at, at_top, &mut head, &mut undo);
                        }
                        for (name, offset) in newly.drain(branching.newly..) {
                            let around = self.around(name, barrier).is_some();
                            let o = &mut self.t.own[name as usize];
                            if o.resolve {
                                continue;
                            }
                            if around {
                                o.alias = true;
                            } else {
                                o.resolve = true;
                                self.not_needed(name, NotNeeded::BranchAssigned, offset);
                            }
                        }
                    }
                }
                Event::Child(child) => {
                    let kind = self.program.frames[child as usize].kind;
                    let root_head = if frame == 0 { head } else { start.root_head };
                    let level = info.level + 1;
                    let (child_barrier, child_block, child_head) = match kind {
                        FrameKind::Block => (Some(level - 1), Some((level, false)), root_head),
                        FrameKind::ScopedBlock => (Some(level - 1), Some((level, true)), head),
                        FrameKind::Nested | FrameKind::Root => (barrier, block, head),
                    };
                    self.t.starts[child as usize] = Some(Start {
                        event: at,
                        head: child_head,
                        root_head,
                        barrier: child_barrier,
                        block: child_block,
                    });
                    children.push(child);
                }
                Event::Ref { offset, extends } => {
                    if extends {
                        if frame == 0 && ifs.is_empty() {
                            self.child_template = true;
                        }
                        self.t.deferred.push(offset);
                    } else {
                        let names = self.scope_of(head);
                        self.scopes.push((offset, names));
                    }
                }
            }
        }
        // What an `if` left open (no `endif`) counts for nothing.
        self.t.ended.clear();
        if frame == 0 {
            self.root_final = head;
        }
        // The parent of an `extends` renders after the whole top level (Jinja2 also allows the
        // tag in a branch or a loop).
        for i in 0..self.t.deferred.len() {
            let names = self.scope_of(self.root_final);
            self.scopes.push((self.t.deferred[i], names));
        }
        self.t.deferred.clear();
    }
}
