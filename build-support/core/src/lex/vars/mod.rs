//! The root variables a template reads from its context: the names the struct bound to it (or
//! a declared global) must provide.
//!
//! ```
//! use shipwright_core::lex::{lex, vars::root_variables};
//!
//! let src = "{% set title = page.title %}{% for item in items %}{{ item.name|upper }}\
//!            {{ loop.index }}{% endfor %}{{ title }}\n{{ user.name }}{{ note|default('') }}";
//! let vars = root_variables(src, &lex(src).unwrap());
//! let names: Vec<(&str, u32)> = vars.iter().map(|v| (v.name.as_str(), v.line)).collect();
//! assert_eq!(names, [("items", 1), ("page", 1), ("user", 2)]);
//! ```
//!
//! # Rules
//!
//! The scoping is Jinja2's, as its compiler implements it; [`variables`] reads it from the
//! tokens in two linear passes (see `events.rs` and `frames.rs` beside this file for the
//! details).
//!
//! - A name is read where it starts a value: not after `.` (an attribute) or `|` (a filter),
//!   not as the test after `is`, not as a keyword argument, not a keyword, and not one of the
//!   [`ENGINE_NAMES`] (`range`, `loop`, `super`, the i18n functions…).
//! - A name the template defines (`set`, including `set (a, b) = …`, `for` targets, `macro`
//!   names and arguments, `call` arguments, `with` names, `import … as`, `from … import`) is
//!   not read from the context after its definition, in its scope. A read before the
//!   definition, and a read of the outer value in the definition itself
//!   (`{% set copyright = copyright|e %}`), is a context read.
//! - Scopes end: `for` targets at `endfor` (the loop's `else` does not see them), macro
//!   arguments at `endmacro`, `call` arguments at `endcall`, `with` names at `endwith`; a `set`
//!   inside a loop or a macro does not outlive it. A name assigned in some branch of an `if` is
//!   read from the context after the `if` (the branch may not have run), unless the `if` has
//!   an `else` and every branch assigns it.
//! - In a nested scope (a loop, a macro body), a name that the scopes around it assign anywhere
//!   is their variable, not the context's (Jinja2 reads it undefined until it is assigned); it
//!   is the context's value only where the scope around had not assigned it for sure when the
//!   nested scope started.
//! - `{{ … }}` at the top level of a template that extends another, after its `extends` (also
//!   in a loop, an `if`, a `with` there), reads nothing: Jinja2 never evaluates that output.
//!   Tags there run, and so do macro bodies, `call` bodies and block `set`s.
//! - A read in the body of a macro of the top level is recorded with the macro
//!   ([`Var::macros`]); [`Variables::macros`] and [`Variables::imports`] say which macros are
//!   called, for [`crate::context`] to count such reads only when the macro runs.
//! - A `{% block %}` body is rendered with the context only: it does not see the loop or macro
//!   around it. It does see what the template's top level assigned before it (Jinja2 puts
//!   top-level assignments in the context), and, in a template that extends another, everything
//!   its top level assigns (that code runs before the parent renders). A `scoped` block also
//!   sees the names defined around it.
//! - `{% trans %}` (Jinja2's i18n extension): `trimmed` / `notrimmed` are modifiers; the
//!   declared names (`count=n`, `user`) are the body's own, their values are read; other
//!   `{{ name }}` in the body and the name after `pluralize` are read.
//! - Optional reads never make a struct lack a variable, so they are left out of
//!   [`Variables::reads`]: `x|default(…)`, `x|d(…)`,
//!   `x is defined`, `x is undefined`, `x` after `x is defined and`, in `x if x is defined
//!   else …`, and inside the branch of `{% if x is defined %}` (the `else` of
//!   `{% if x is undefined %}`). Only a bare name is optional: `x.y|default(1)` fails when `x`
//!   is undefined.
//!
//! [`Variables::not_needed`] lists what the template reads that Jinja2 counts as context
//! reads and these rules do not, with why ([`NotNeeded`]). Where this differs from `jinja2.meta.find_undeclared_variables`, it is on purpose and listed
//! in `tests/jinja2_differential/main.rs`, which checks it on real-world template sets.

mod events;
mod expr;
mod frames;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::format::{Macro, Var};

use super::refs::RefTag;
use super::{Lexed, Lines, reuse, work};

/// Names the engine provides, never read from the struct: Jinja2's globals (`range`, `dict`,
/// `lipsum`, `cycler`, `joiner`, `namespace`), minijinja's `debug`, the i18n extension's
/// functions (`_`, `gettext`, `ngettext`, `pgettext`, `npgettext`), and the names Jinja2 binds
/// in loops, macros and blocks (`loop`, `caller`, `varargs`, `kwargs`, `super`, `self`).
pub const ENGINE_NAMES: [&str; 18] = [
    "range",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "debug",
    "_",
    "gettext",
    "ngettext",
    "pgettext",
    "npgettext",
    "loop",
    "caller",
    "varargs",
    "kwargs",
    "super",
    "self",
];

/// Is `name` one of the [`ENGINE_NAMES`]?
pub fn is_engine_name(name: &str) -> bool {
    // A match, not a search of the list: it runs for every name of every template.
    let found = matches!(
        name,
        "range"
            | "dict"
            | "lipsum"
            | "cycler"
            | "joiner"
            | "namespace"
            | "debug"
            | "_"
            | "gettext"
            | "ngettext"
            | "pgettext"
            | "npgettext"
            | "loop"
            | "caller"
            | "varargs"
            | "kwargs"
            | "super"
            | "self"
    );
    debug_assert_eq!(found, ENGINE_NAMES.contains(&name));
    found
}

/// What a template reads from its context and defines where it references other templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    /// The names read from the context, not optionally: sorted by name, each with the line of
    /// its first such read. This is [`TemplateRecord::vars`](crate::format::TemplateRecord).
    pub reads: Vec<Var>,
    /// The names Jinja2's compiler loads from the context (`jinja2.meta` reports them) that
    /// the struct need not provide, each with why and the line of the first such read: not
    /// recorded, listed so that the difference can be checked. Sorted by name, then why; a
    /// name in [`reads`](Self::reads) is left out.
    pub not_needed: Vec<(Var, NotNeeded)>,
    /// Per reference tag (`extends`, `include`, `import`, `from`), by the byte offset of the
    /// tag, in source order: the names defined for sure at that point, which the referenced
    /// template sees when the tag passes the context (sorted).
    pub scopes: Vec<Scope>,
    /// The macros of the template's top level, sorted by name: which its own code calls, and
    /// which each calls ([`TemplateRecord::macros`](crate::format::TemplateRecord)).
    pub macros: Vec<Macro>,
    /// Per `import` / `from … import` tag, by the byte offset of the tag, in source order: the
    /// macros of the imported template this one may call through it, `None` for any
    /// ([`Dep::calls`](crate::format::Dep)).
    pub imports: Vec<ImportCalls>,
}

/// One `import` / `from … import` tag and the macros of the imported template that the
/// template may call through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCalls {
    /// Byte offset of the tag.
    pub offset: usize,
    /// The macros, sorted; `None` for any.
    pub calls: Option<Vec<String>>,
}

/// Why a name that Jinja2 loads from the context is no variable the struct must provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum NotNeeded {
    /// Every read of it is optional: `x|default(…)`, `x is defined`, a read guarded by
    /// `x is defined`.
    Optional,
    /// Read in a block, which renders after the template's own top level assigned it (and
    /// put it in the context).
    OwnTopLevel,
    /// Read in a `scoped` block, inside the scope that defines it.
    AroundScopedBlock,
    /// Assigned in some branch of an `if` (the line is the assignment's), and read only after
    /// the assignment, or after an `if` with an `else` whose every branch assigns it: Jinja2
    /// loads it from the context on entry to the scope (the branch may not run), but no read
    /// sees that value.
    BranchAssigned,
    /// Read only in output that Jinja2 never evaluates: `{{ … }}` at a child's top level
    /// after its `extends` (also in a loop, an `if` or a `with` there).
    NotRendered,
}

/// The names defined at one reference tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Byte offset of the tag.
    pub offset: usize,
    /// The names, sorted, unique.
    pub names: Vec<String>,
}

/// The root variables that `lexed` (the tokens of `src`) reads from its context, not
/// optionally, sorted by name, each with the line of its first read: [`Variables::reads`].
pub fn root_variables(src: &str, lexed: &Lexed<'_>) -> Vec<Var> {
    analysed(src, lexed, false).0.reads
}

/// Everything [`Variables`] holds, in time linear in the template (plus the size of the
/// scopes it lists).
pub fn variables(src: &str, lexed: &Lexed<'_>) -> Variables {
    let (mut variables, scopes) = analysed(src, lexed, true);
    variables.scopes = scopes
        .iter()
        .map(|(offset, names)| Scope {
            offset,
            names: names.iter().map(|name| name.to_string()).collect(),
        })
        .collect();
    variables
}

/// The names defined at each reference tag ([`Variables::scopes`]), borrowed from the template
/// and end to end in one list: the record copies only what it keeps. With them, the reference
/// tags, as pass 1 found them: the references need not walk every tag again.
#[derive(Debug)]
pub(crate) struct Scopes<'s> {
    found: frames::Found<'s>,
    tags: Vec<RefTag>,
}

impl<'s> Scopes<'s> {
    /// The names defined for sure at the reference tag at `offset` (sorted), if it is one.
    pub(crate) fn of(&self, offset: usize) -> &[&'s str] {
        let found = &self.found;
        match found.scopes.binary_search_by_key(&offset, |(at, _)| *at) {
            Ok(i) => &found.scope_names[found.scopes[i].1.clone()],
            Err(_) => &[],
        }
    }

    /// Per reference tag, in offset order: its offset and its names.
    fn iter(&self) -> impl Iterator<Item = (usize, &[&'s str])> {
        let found = &self.found;
        found
            .scopes
            .iter()
            .map(|(offset, names)| (*offset, &found.scope_names[names.clone()]))
    }

    /// The reference tags, in source order.
    pub(crate) fn reference_tags(&self) -> &[RefTag] {
        &self.tags
    }

    /// Hands the lists back, with `variables`' import list, for their memory to be reused by
    /// the next template of this thread.
    pub(crate) fn recycle(self, variables: &mut Variables) {
        frames::give_back(self.found);
        events::give_back_references(self.tags);
        give_back_imports(std::mem::take(&mut variables.imports));
    }
}

/// [`variables`] with its [`Variables::scopes`] left empty and given apart, borrowed, and
/// [`Variables::not_needed`] left empty unless `not_needed` (a record has no use for it: it
/// only explains the difference with Jinja2).
pub(crate) fn analysed<'s>(
    src: &'s str,
    lexed: &Lexed<'s>,
    not_needed: bool,
) -> (Variables, Scopes<'s>) {
    let mut program = events::program(lexed);
    let mut found = frames::analyse(&program, not_needed);
    let (macros, imports) = calls(&program);
    let not_needed = if not_needed {
        explained(src, &program, &mut found)
    } else {
        Vec::new()
    };
    let tags = std::mem::take(&mut program.references);
    program.recycle();
    let variables = Variables {
        not_needed,
        reads: with_lines(src, &mut found.reads, &found.macro_reads),
        macros,
        imports,
        scopes: Vec::new(),
    };
    (variables, Scopes { found, tags })
}

/// [`Variables::not_needed`]: what pass 2 found not needed, and the reads of output that is
/// never rendered that no other read makes needed.
fn explained(
    src: &str,
    program: &events::Program<'_>,
    found: &mut frames::Found<'_>,
) -> Vec<(Var, NotNeeded)> {
    let mut not_needed = std::mem::take(&mut found.not_needed);
    let read: NameMap<&str, ()> = found
        .reads
        .iter()
        .map(|&(name, _)| (name, ()))
        .chain(found.macro_reads.iter().map(|&(name, _, _)| (name, ())))
        .collect();
    let mut unrendered: NameMap<&str, usize> = NameMap::default();
    for &(name, offset) in &program.unrendered {
        if !read.contains_key(name) {
            unrendered.entry(name).or_insert(offset);
        }
    }
    not_needed.extend(
        unrendered
            .into_iter()
            .map(|(name, offset)| (name, NotNeeded::NotRendered, offset)),
    );
    not_needed.sort_unstable_by_key(|&(_, _, offset)| offset);
    let mut lines = Lines::default();
    let mut not_needed: Vec<(Var, NotNeeded)> = not_needed
        .into_iter()
        .map(|(name, why, offset)| {
            let var = Var {
                name: name.to_string(),
                line: lines.line(src, offset),
                macros: Vec::new(),
            };
            (var, why)
        })
        .collect();
    not_needed.sort_unstable_by(|(a, x), (b, y)| (&a.name, x).cmp(&(&b.name, y)));
    not_needed
}

/// A map keyed by the names of one template: short strings, hashed by [`NameHasher`].
pub(crate) type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;

/// Up to this many names, [`Positions`] finds a name by a search of the list.
const FEW_NAMES: usize = 16;

/// Where each name first appeared among a template's names, in order of first appearance: a
/// search of the list while it has at most [`FEW_NAMES`] names, a map once it grows past that
/// (no map made for each of the many small templates; no quadratic search in a large one).
#[derive(Default)]
pub(crate) struct Positions<'n> {
    map: Option<NameMap<&'n str, usize>>,
}

impl<'n> Positions<'n> {
    /// The position of `name` among the `len` names so far (`name_at(i)` is the `i`-th), or
    /// `len` if it is new, which the caller then adds as the `len`-th.
    pub(crate) fn of(
        &mut self,
        name: &'n str,
        len: usize,
        name_at: impl Fn(usize) -> &'n str,
    ) -> usize {
        if let Some(map) = &mut self.map {
            return *map.entry(name).or_insert(len);
        }
        let at = (0..len).find(|&i| name_at(i) == name).unwrap_or(len);
        if at == len && len >= FEW_NAMES {
            let mut map: NameMap<&'n str, usize> = (0..len).map(|i| (name_at(i), i)).collect();
            map.insert(name, len);
            self.map = Some(map);
        }
        at
    }
}

/// A multiply-and-rotate hash of a few bytes at a time: the names of a template are short and
/// come from the developer's own files, where a keyed hash (std's default) costs more than the
/// whole scan of a name.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl NameHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(K);
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The reads as [`Var`]s: a name read outside the top level's macros with the offset of that
/// read, any other with its first read and the macros that read it. Lines found in one pass
/// over the text, in offset order; then sorted by name.
fn with_lines<'s>(
    src: &str,
    outside: &mut [(&'s str, usize)],
    in_macros: &[(&'s str, &'s str, usize)],
) -> Vec<Var> {
    let mut macros: NameMap<&str, (usize, Vec<&str>)> = NameMap::default();
    for &(name, m, offset) in in_macros {
        work::step();
        let (first, list) = macros.entry(name).or_insert((offset, Vec::new()));
        *first = (*first).min(offset);
        list.push(m);
    }
    for (name, _) in outside.iter() {
        macros.remove(name);
    }
    let mut in_macros: Vec<(&str, usize, Vec<&str>)> = macros
        .into_iter()
        .map(|(name, (offset, mut list))| {
            list.sort_unstable();
            list.dedup();
            (name, offset, list)
        })
        .collect();
    in_macros.sort_unstable_by_key(|&(_, offset, _)| offset);
    outside.sort_unstable_by_key(|&(_, offset)| offset);
    // Both lists merged in offset order (no name is in both), straight into the records.
    let mut lines = Lines::default();
    let mut var = |name: &str, offset: usize, macros: Vec<&str>| Var {
        name: name.to_string(),
        line: lines.line(src, offset),
        macros: macros.into_iter().map(str::to_string).collect(),
    };
    let mut vars: Vec<Var> = Vec::with_capacity(outside.len() + in_macros.len());
    let mut in_macros = in_macros.into_iter().peekable();
    for &mut (name, offset) in outside {
        while let Some((m, at, list)) = in_macros.next_if(|&(_, at, _)| at < offset) {
            vars.push(var(m, at, list));
        }
        vars.push(var(name, offset, Vec::new()));
    }
    vars.extend(in_macros.map(|(m, at, list)| var(m, at, list)));
    vars.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    vars
}

/// The working lists of [`calls`], kept per thread between templates so that their memory is
/// reused.
#[derive(Default)]
struct CallLists {
    /// Per name: its entry in the macros if it is a macro of the top level.
    macro_at: Vec<u32>,
    /// Per name bound to a module by `import … as`: its module's number.
    module_at: Vec<u32>,
    /// Per module: whether it is read otherwise than by taking an attribute (any macro may be
    /// called through it).
    whole: Vec<bool>,
    /// The attributes taken of the modules: (module, attribute).
    members: Vec<(u32, &'static str)>,
    /// The list of [`Variables::imports`] handed back ([`give_back_imports`]), empty.
    imports: Vec<ImportCalls>,
}

thread_local! {
    static CALL_LISTS: std::cell::RefCell<CallLists> = std::cell::RefCell::new(CallLists::default());
}

/// Hands an import list back, for its memory to be reused by [`calls`] on this thread.
fn give_back_imports(mut imports: Vec<ImportCalls>) {
    imports.clear();
    if imports.capacity() <= 1 << 12 {
        CALL_LISTS.with_borrow_mut(|lists| lists.imports = imports);
    }
}

/// Which macros of the top level the template's own code calls and which each calls, and what
/// each import tag may call of the template it imports (see [`Variables::macros`] and
/// [`Variables::imports`]): from every read of a name, wherever it is.
fn calls(program: &events::Program<'_>) -> (Vec<Macro>, Vec<ImportCalls>) {
    if program.macros.is_empty() && program.imports.is_empty() {
        return (Vec::new(), Vec::new());
    }
    CALL_LISTS.with_borrow_mut(|lists| {
        let found = calls_with(program, lists);
        // A huge template's tables are not kept for the next one.
        if lists.macro_at.capacity() >= 1 << 16 {
            *lists = CallLists::default();
        }
        found
    })
}

fn calls_with(
    program: &events::Program<'_>,
    lists: &mut CallLists,
) -> (Vec<Macro>, Vec<ImportCalls>) {
    const NONE: u32 = u32::MAX;
    let names = program.names.len();
    let CallLists {
        macro_at,
        module_at,
        whole,
        ..
    } = lists;
    // Per name: its entry in `macros` if it is a macro of the top level.
    macro_at.clear();
    macro_at.resize(names, NONE);
    let mut macros: Vec<(&str, bool, Vec<&str>)> = Vec::new();
    for &m in &program.macros {
        if macro_at[m as usize] == NONE {
            macro_at[m as usize] = macros.len() as u32;
            macros.push((program.names[m as usize], false, Vec::new()));
        }
    }
    // Per name bound to a module by `import … as`: its module, whose attributes taken are
    // listed in `members` until it is read otherwise.
    module_at.clear();
    module_at.resize(names, NONE);
    whole.clear();
    let mut members = reuse(std::mem::take(&mut lists.members));
    for (_, import) in &program.imports {
        if let events::Import::Module(alias) = import
            && module_at[*alias as usize] == NONE
        {
            module_at[*alias as usize] = whole.len() as u32;
            whole.push(false);
        }
    }
    for u in &program.uses {
        work::step();
        if let Some(entry) = macros.get_mut(macro_at[u.name as usize] as usize) {
            match u.in_macro {
                None => entry.1 = true,
                Some(caller) => {
                    if caller != u.name
                        && let Some(from) = macros.get_mut(macro_at[caller as usize] as usize)
                    {
                        from.2.push(program.names[u.name as usize]);
                    }
                }
            }
        }
        let module = module_at[u.name as usize];
        if let Some(is_whole) = whole.get_mut(module as usize) {
            match u.member {
                Some(member) if !*is_whole => members.push((module, member)),
                _ => *is_whole = true,
            }
        }
    }
    members.sort_unstable();
    members.dedup();
    let owned = |list: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        let mut list: Vec<String> = list.map(str::to_string).collect();
        list.sort_unstable();
        list.dedup();
        list
    };
    let mut imports = std::mem::take(&mut lists.imports);
    imports.extend(program.imports.iter().map(|(offset, import)| {
        let calls = match import {
            events::Import::Module(alias) => {
                let module = lists.module_at[*alias as usize];
                (!lists.whole[module as usize]).then(|| {
                    let from = members.partition_point(|&(m, _)| m < module);
                    let to = members.partition_point(|&(m, _)| m <= module);
                    members[from..to]
                        .iter()
                        .map(|&(_, member)| member.to_string())
                        .collect()
                })
            }
            events::Import::Names(names) => Some(owned(&mut names.iter().copied())),
        };
        ImportCalls {
            offset: *offset,
            calls,
        }
    }));
    lists.members = reuse(members);
    let mut macros: Vec<Macro> = macros
        .into_iter()
        .map(|(name, called, calls)| Macro {
            name: name.to_string(),
            called,
            calls: owned(&mut calls.into_iter()),
        })
        .collect();
    macros.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    (macros, imports)
}

#[cfg(test)]
mod tests;
