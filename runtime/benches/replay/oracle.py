#!/usr/bin/env python3
"""The edit-replay benchmark's oracle: what each edit of a replay file needs, decided on
Jinja2's own parser, independently of Shipwright's lexer and planner.

    python3 runtime/benches/replay/oracle.py target/shipwright-replay/replay.json
    # writes target/shipwright-replay/replay.oracle.json next to it

For every edit (version k -> k+1 of a template set) and every entry template of version k (a
template no other template references; the templates an app would bind to a struct), the oracle
decides REBUILD or HOT RELOAD (or UNCHANGED when nothing the entry renders changed):

    REBUILD iff, with the tree as it is after the edit,
      - the entry template is gone, or
      - a template of its closure does not parse and did not fail in the build's closure, or
      - a static reference of its closure names no template and did not in the build, or
      - its closure has a reference cycle through a template that was on none in the build, or
      - rendering it now reads a root variable that is not a field of its struct,
    where the struct's fields are the root variables the BUILD's closure read (the oracle's own
    result on version k: the struct provides what the build's templates read).

The closure of a template is what it extends, includes, imports, and so on, transitively.

A "root variable read" is a name the render looks up in the context the app passes, i.e. none
of: a name the templates define before the read on the same path (set, for targets, macro and
call arguments, imports, with), one the including template has in scope, an environment global,
or an optional read. It is computed by walking Jinja2's AST (`Environment.parse`) as a renderer
would, following extends, blocks, includes, imports and macro calls. Judgment calls, each
checked against Jinja2 3.1 where it renders:

- Order and flow. A `set` defines a name from that point on; `{{ x }}{% set x = 1 %}` reads the
  context's `x`. After an `if`, a name counts as defined only if every branch (or the absent
  else) defined it: Jinja reads the context when the branch was not taken. `for`, `with`,
  `filter`, `autoescape`, `set` blocks, block bodies and macro bodies keep their own sets; a
  top-level `if` does not.
- `for`: the targets and `loop` exist in the body and the `if` filter; the iterable and `else`
  are outside. `{% set x = x + 1 %}` reads the outer `x`. `set ns.attr` reads `ns`.
- Optional reads: `x|default(...)` / `x|d(...)`, `x is defined` / `x is undefined`, only when
  `x` is the operand itself (`x.y|default` fails on an undefined `x` in Jinja, so it reads `x`).
  A guard makes reads optional where it holds: the body of `if x is defined` (the else of
  `if x is undefined` / `if not x is defined`), the right side of `x is defined and ...`, the
  true branch of `... if x is defined else ...`.
- Globals: Jinja's (`range`, `dict`, `lipsum`, `cycler`, `joiner`, `namespace`), `self`, and per
  package the names its renderer puts in `Environment.globals` (see PROFILES, read from each
  package's source). Names the renderer passes in each render's context (mkdocs' `config`,
  Sphinx's `pathto`, Flask-Admin's `admin_view`) are context: they are the struct's fields.
- `loop`, `caller`, `varargs`, `kwargs`, `super` are context reads where Jinja does not define
  them (outside a loop / a macro / a block).
- Includes pass the context and every name in scope at the include (not `loop`), unless
  `without context`. Imports pass nothing unless `with context`; what a template imported
  without context reads can never come from the struct, so it is not required (it renders as
  undefined whatever the struct holds; a rebuild would not help).
- Extends: the child's top level runs first (its sets and imports are in the context of the
  parent's blocks); its output after `extends` is not rendered; the parent then renders, and
  each block renders its most derived definition, with the context's names but not the
  surrounding locals unless `scoped`; `super()` renders the next definition. A block defined
  only in a child and never rendered is not read.
- Macros are read when called (or passed as a value), with their arguments, `varargs`,
  `kwargs`, `caller`, and the names of their template's top level at the call; a call block's
  body is assumed to be called (`caller()`), in the scope of the call.
- Dynamic references: a list of names includes the first that exists; `"a/" ~ x ~ ".html"`
  may render every template matching `a/*.html`; a name the package always binds to the same
  template (PROFILES `dynamic`, e.g. Flask-Admin's `admin_base_template`) is that template;
  `a if c else b` either. Any other expression is unknown: nothing is followed (counted in
  the output as `unknown_dynamic`).
- A module imported with context gets the context as it is at the import: imported at a
  child's top level, it does not see what the parent's top level sets later (Jinja2 renders
  such a macro's read of it from the app's context).
- Strict reading: every read that can reach the app's context counts, also where a template
  relies on an undefined value rendering empty under Jinja's default `Undefined` (a name set
  in one branch only, `{% if x %}`): the promise is judged as with strict undefined values.
- Structural problems count only when new for the entry: a build that already had them was
  built and runs; the rebuild would not change them.
- A template that does not parse is left out of the variable walk.
- Entry templates are those of the build no template of the build references (through any
  reference above, dynamic ones resolved as above); a file present only to be reachable under
  a second name (an alias, see fetch.py) is never one, and it counts as referenced when its
  alias is. An entry is affected by an edit when a changed file is in its closure before or
  after the edit.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from jinja2 import nodes

JINJA_GLOBALS = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"})
# What `jinja2.ext.i18n` adds to `Environment.globals` (install_*_translations).
I18N_GLOBALS = frozenset({"_", "gettext", "ngettext", "pgettext", "npgettext"})


@dataclass
class Profile:
    """How a package's renderer sets up Jinja, read from its source."""

    extensions: list[str]
    globals: frozenset[str]
    # Names of dynamic references that the renderer always binds to the same templates.
    dynamic: dict[str, list[str]] = field(default_factory=dict)


PROFILES = {
    # mkdocs/theme.py `Theme.get_env`: filters only; localization.install_translations adds
    # jinja2.ext.i18n (or a stand-in with the same globals) and installs translations.
    "mkdocs": Profile(["jinja2.ext.i18n"], I18N_GLOBALS),
    # A theme of mkdocs: the same environment.
    "mkdocs-material": Profile(["jinja2.ext.i18n"], I18N_GLOBALS),
    # nbconvert/exporters/templateexporter.py `_create_environment`: extensions
    # ["jinja2.ext.loopcontrols"], globals["uuid4"].
    "nbconvert": Profile(["jinja2.ext.loopcontrols"], frozenset({"uuid4"})),
    # sphinx/jinja2glue.py `BuiltinTemplateLoader.init`: jinja2.ext.i18n; globals debug,
    # warning, accesskey, idgen. The default `html_sidebars` are what `include sidebartemplate`
    # renders (sphinx/builders/html/__init__.py).
    "sphinx": Profile(
        ["jinja2.ext.i18n"],
        I18N_GLOBALS | {"debug", "warning", "accesskey", "idgen"},
        {
            "sidebartemplate": [
                "localtoc.html",
                "relations.html",
                "sourcelink.html",
                "searchbox.html",
            ]
        },
    ),
    # Flask's `create_jinja_environment`: no extension but `do` (jinja2.ext.do, for `{% do %}`);
    # globals url_for, get_flashed_messages, config, request, session, g. flask_admin/base.py
    # `BaseView.render` passes `admin_base_template` = the theme's base template,
    # `admin/base.html`, which `admin/master.html` extends.
    "flask-admin": Profile(
        [],
        frozenset({"url_for", "get_flashed_messages", "config", "request", "session", "g"}),
        {"admin_base_template": ["admin/base.html"]},
    ),
    # jupyter_server/serverapp.py `init_webapp`: jinja2.ext.i18n with gettext translations.
    "jupyter-server": Profile(["jinja2.ext.i18n"], I18N_GLOBALS),
    # The committed minimal repros (repros.json): an environment with jinja2.ext.i18n, as
    # mkdocs, Sphinx and Jupyter Server set up.
    "repros": Profile(["jinja2.ext.i18n"], I18N_GLOBALS),
}
DEFAULT_PROFILE = Profile([], frozenset())


# --- references -----------------------------------------------------------------------------


def normalize(name: str) -> str | None:
    """A loader name as FileSystemLoader splits it: `.` and empty pieces dropped, `..` refused."""
    parts = []
    for piece in name.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            return None
        parts.append(piece)
    return "/".join(parts) or None


@dataclass
class Ref:
    kind: str  # extends, include, import, from
    line: int
    names: list[str]  # candidate template names (existing ones for patterns)
    written: list[str]  # static names as written (for unresolved references)
    first_only: bool  # a list: the first existing one is used
    ignore_missing: bool
    unknown: str | None  # the expression, when nothing could be resolved


class Tree:
    """One version of a template set, parsed."""

    def __init__(self, files: dict[str, str], profile: Profile):
        self.files = files
        self.profile = profile
        self.env = jinja2.Environment(extensions=profile.extensions)
        self.globals = JINJA_GLOBALS | profile.globals
        self._ast: dict[str, nodes.Template | None] = {}
        self.errors: dict[str, str] = {}
        self._refs: dict[str, list[Ref]] = {}
        self._blocks: dict[str, dict[str, nodes.Block]] = {}
        self._macros: dict[str, dict[str, nodes.Macro]] = {}

    def ast(self, name: str) -> nodes.Template | None:
        if name not in self._ast:
            try:
                self._ast[name] = self.env.parse(self.files[name], name=name)
            except jinja2.TemplateSyntaxError as e:
                self._ast[name] = None
                self.errors[name] = f"line {e.lineno}: {e.message}"
        return self._ast[name]

    def exists(self, name: str) -> bool:
        return name in self.files

    def resolve(self, expr: nodes.Expr) -> tuple[list[str], list[str], bool, str | None]:
        """(candidate names, static names as written, first_only, unknown expression)."""
        if isinstance(expr, nodes.Const) and isinstance(expr.value, str):
            name = normalize(expr.value) or expr.value
            return [name], [name], False, None
        if isinstance(expr, (nodes.List, nodes.Tuple)) and all(
            isinstance(i, nodes.Const) and isinstance(i.value, str) for i in expr.items
        ):
            names = [normalize(i.value) or i.value for i in expr.items]
            return names, names, True, None
        if isinstance(expr, nodes.CondExpr) and expr.expr2 is not None:
            a = self.resolve(expr.expr1)
            b = self.resolve(expr.expr2)
            unknown = a[3] or b[3]
            return a[0] + b[0], a[1] + b[1], False, unknown
        if isinstance(expr, nodes.Name) and expr.name in self.profile.dynamic:
            names = self.profile.dynamic[expr.name]
            return list(names), list(names), False, None
        pieces = concat_pieces(expr)
        if pieces is not None and any(isinstance(p, str) for p in pieces):
            prefix = ""
            for p in pieces:
                if not isinstance(p, str):
                    break
                prefix += p
            suffix = ""
            for p in reversed(pieces):
                if not isinstance(p, str):
                    break
                suffix = p + suffix
            pattern = re.compile(re.escape(prefix) + ".*" + re.escape(suffix) + r"\Z", re.S)
            matches = sorted(n for n in self.files if pattern.match(n))
            return matches, [], False, None
        return [], [], False, source_of(expr)

    def refs(self, name: str) -> list[Ref]:
        if name in self._refs:
            return self._refs[name]
        out = []
        ast = self.ast(name) if self.exists(name) else None
        if ast is not None:
            for node in ast.find_all(
                (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)
            ):
                kind = {
                    nodes.Extends: "extends",
                    nodes.Include: "include",
                    nodes.Import: "import",
                    nodes.FromImport: "from",
                }[type(node)]
                names, written, first_only, unknown = self.resolve(node.template)
                out.append(
                    Ref(
                        kind,
                        node.lineno,
                        names,
                        written,
                        first_only,
                        kind == "include" and node.ignore_missing,
                        unknown,
                    )
                )
        self._refs[name] = out
        return out

    def targets(self, ref: Ref) -> list[str]:
        """The existing templates a reference may render."""
        present = [n for n in ref.names if self.exists(n)]
        return present[:1] if ref.first_only else present

    def unresolved(self, name: str) -> list[tuple[str, str]]:
        """(template, name as written) of the static references that name no template."""
        out = []
        for ref in self.refs(name):
            if ref.ignore_missing or not ref.written:
                continue
            missing = [w for w in ref.written if not self.exists(w)]
            if ref.first_only:
                if len(missing) == len(ref.written):
                    out.append((name, " or ".join(ref.written)))
            else:
                out.extend((name, w) for w in missing)
        return out

    def closure(self, entry: str) -> list[str]:
        """The entry and every template it may render, breadth first."""
        seen = [entry]
        at = 0
        while at < len(seen):
            for ref in self.refs(seen[at]):
                for target in self.targets(ref):
                    if target not in seen:
                        seen.append(target)
            at += 1
        return seen

    def on_cycles(self, names: list[str]) -> set[str]:
        """The templates of `names` that lie on a reference cycle (Tarjan, iterative)."""
        edges = {n: [t for r in self.refs(n) for t in self.targets(r)] for n in names}
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        result: set[str] = set()
        counter = 0
        for root in names:
            if root in index:
                continue
            work = [(root, 0)]
            while work:
                node, i = work.pop()
                if i == 0:
                    index[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                succ = edges.get(node, [])
                if i < len(succ):
                    work.append((node, i + 1))
                    nxt = succ[i]
                    if nxt not in edges:
                        continue
                    if nxt not in index:
                        work.append((nxt, 0))
                    elif nxt in on_stack:
                        low[node] = min(low[node], index[nxt])
                    continue
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1 or node in edges[node]:
                        result.update(component)
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
        return result

    def blocks(self, name: str) -> dict[str, nodes.Block]:
        if name not in self._blocks:
            ast = self.ast(name)
            found: dict[str, nodes.Block] = {}
            if ast is not None:
                for block in ast.find_all(nodes.Block):
                    found.setdefault(block.name, block)
            self._blocks[name] = found
        return self._blocks[name]

    def macros(self, name: str) -> dict[str, nodes.Macro]:
        """The top-level macros of a template (what an import exposes)."""
        if name not in self._macros:
            ast = self.ast(name)
            found = {}
            if ast is not None:
                for node in top_level(ast.body):
                    if isinstance(node, nodes.Macro):
                        found[node.name] = node
            self._macros[name] = found
        return self._macros[name]


def top_level(body):
    """The statements at a template's top level, through `if` (which does not scope)."""
    for node in body:
        yield node
        if isinstance(node, nodes.If):
            yield from top_level(node.body)
            for elif_ in node.elif_:
                yield from top_level(elif_.body)
            yield from top_level(node.else_)


def concat_pieces(expr):
    """`"a/" ~ x ~ ".html"` as ["a/", None, ".html"], or None if not such a chain."""
    if isinstance(expr, nodes.Const) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, nodes.Concat):
        out = []
        for item in expr.nodes:
            sub = concat_pieces(item)
            out.extend(sub if sub is not None else [None])
        return out
    if isinstance(expr, nodes.Add):
        left, right = concat_pieces(expr.left), concat_pieces(expr.right)
        return (left if left is not None else [None]) + (right if right is not None else [None])
    return None


def source_of(expr) -> str:
    if isinstance(expr, nodes.Name):
        return expr.name
    if isinstance(expr, nodes.Getattr):
        return f"{source_of(expr.node)}.{expr.attr}"
    return type(expr).__name__


# --- the walk -------------------------------------------------------------------------------


class Reads:
    """What a walk found: required root variables (name -> (template, line)), excused reads
    (name -> kinds), unknown dynamic references, and the Name nodes it visited."""

    def __init__(self):
        self.required: dict[str, tuple[str, int]] = {}
        self.excused: dict[str, set[str]] = {}
        self.unknown: set[tuple[str, int, str]] = set()
        self.visited: set[int] = set()

    def merge(self, other: Reads) -> None:
        for name, where in other.required.items():
            self.required.setdefault(name, where)
        for name, kinds in other.excused.items():
            self.excused.setdefault(name, set()).update(kinds)
        self.unknown |= other.unknown
        self.visited |= other.visited

    def excuse(self, name: str, kind: str) -> None:
        self.excused.setdefault(name, set()).add(kind)


@dataclass(frozen=True)
class Module:
    """An imported template: the names its top level left, and its own imports."""

    template: str
    ctx: frozenset[str]
    mode: str
    modules: tuple = ()  # (alias, Module) of its top-level imports
    macros: tuple = ()  # (alias, MacroRef) of its top-level `from ... import`


@dataclass(frozen=True)
class MacroRef:
    template: str
    name: str
    module: Module | None  # an imported macro's module; None: a macro of the render's templates
    mode: str


@dataclass(frozen=True)
class Scope:
    """What a template's top level leaves: context names, macros and modules in scope."""

    ctx: frozenset[str]
    macros: tuple = ()  # (name, MacroRef)
    modules: tuple = ()  # (alias, Module)

    @staticmethod
    def of(env) -> "Scope":
        return Scope(
            env.ctx,
            tuple(sorted(env.macros.items(), key=lambda i: i[0])),
            tuple(sorted(env.modules.items(), key=lambda i: i[0])),
        )


class Env:
    """The walk's state at one point of a template."""

    __slots__ = (
        "tpl",
        "ctx",
        "loc",
        "guard",
        "passed",
        "mode",
        "chain",
        "block",
        "in_macro",
        "top",
        "after_extends",
        "macros",
        "modules",
        "parents",
        "caller",
    )

    def __init__(self, tpl, ctx, passed, mode, chain):
        self.tpl = tpl
        self.ctx = frozenset(ctx)  # context names: passed in, or set at the top level so far
        self.loc = frozenset()  # names local to the current scope
        self.guard = frozenset()  # names a `defined` test holds for here
        self.passed = frozenset(passed)  # names the including template passed
        self.mode = mode  # "context", or "isolated" (rendered without the app's context)
        self.chain = chain  # extends chain, most derived first, ending with tpl
        self.block: tuple[str, int] | None = None  # (block name, its definition's chain index)
        self.in_macro = False
        self.top = True
        self.after_extends = False
        self.macros: dict[str, MacroRef] = {}
        self.modules: dict[str, Module] = {}
        self.parents: list[str] = []
        self.caller = None

    def copy(self) -> Env:
        other = Env.__new__(Env)
        for slot in Env.__slots__:
            setattr(other, slot, getattr(self, slot))
        other.macros = dict(self.macros)
        other.modules = dict(self.modules)
        return other

    def scoped(self) -> Env:
        """A new scope: sets stay in it."""
        inner = self.copy()
        inner.top = False
        return inner

    def defined(self) -> frozenset[str]:
        return self.ctx | self.loc

    def bind(self, names) -> None:
        if self.top:
            self.ctx = self.ctx | set(names)
        else:
            self.loc = self.loc | set(names)


def target_names(target) -> list[str]:
    if isinstance(target, nodes.Name):
        return [target.name]
    if isinstance(target, (nodes.Tuple, nodes.List)):
        return [n for item in target.items for n in target_names(item)]
    return []


def guards(expr, when: bool) -> frozenset[str]:
    """Names that are defined when `expr` evaluates to `when`."""
    if isinstance(expr, nodes.Test) and isinstance(expr.node, nodes.Name):
        if expr.name == "defined" and when or expr.name == "undefined" and not when:
            return frozenset({expr.node.name})
        return frozenset()
    if isinstance(expr, nodes.Not):
        return guards(expr.node, not when)
    if isinstance(expr, nodes.And):
        if when:
            return guards(expr.left, True) | guards(expr.right, True)
        return guards(expr.left, False) & guards(expr.right, False)
    if isinstance(expr, nodes.Or):
        if when:
            return guards(expr.left, True) & guards(expr.right, True)
        return guards(expr.left, False) | guards(expr.right, False)
    return frozenset()


class Walker:
    """Renders a template abstractly and collects the root variables it reads."""

    def __init__(self, tree: Tree):
        self.tree = tree
        self.memo: dict[tuple, tuple[Reads, Scope]] = {}
        self.active: set[tuple] = set()

    # templates ------------------------------------------------------------------------------

    def render(
        self, name: str, scope: Scope, passed: frozenset[str], mode: str, chain=()
    ) -> tuple[Reads, Scope]:
        """Renders `name` (below `chain`, the templates that extend it) with `scope` (the
        context's names, and the macros and modules the includer or the child has); returns the
        reads and what its top level leaves in scope."""
        key = (name, scope, passed, mode, chain)
        if key in self.memo:
            return self.memo[key]
        reads = Reads()
        if key in self.active or name in chain:
            return reads, scope
        ast = self.tree.ast(name) if self.tree.exists(name) else None
        if ast is None:
            return reads, scope
        self.active.add(key)
        env = Env(name, scope.ctx, passed, mode, chain + (name,))
        env.macros = dict(scope.macros)
        env.modules = dict(scope.modules)
        self.stmts(ast.body, env, reads)
        final = Scope.of(env)
        for parent in env.parents:
            if parent in env.chain:
                continue
            sub, _ = self.render(parent, final, passed, mode, env.chain)
            reads.merge(sub)
        self.active.discard(key)
        self.memo[key] = (reads, final)
        return reads, final

    def block_body(self, block_name: str, start: int, env: Env, reads: Reads, scoped=False) -> None:
        """Renders the most derived definition of a block from chain index `start` on; with the
        surrounding locals if the block is placed `scoped`."""
        for at in range(start, len(env.chain)):
            template = env.chain[at]
            block = self.tree.blocks(template).get(block_name)
            if block is None:
                continue
            key = ("block", template, block_name, env.ctx, env.passed, env.mode, env.chain)
            if key in self.active:
                return
            self.active.add(key)
            inner = env.copy()
            inner.tpl = template
            inner.top = False
            inner.after_extends = False
            inner.block = (block_name, at)
            inner.in_macro = False
            if not scoped:
                inner.loc = frozenset()
            self.stmts(block.body, inner, reads)
            self.active.discard(key)
            return

    def call_macro(self, ref: MacroRef, env: Env, reads: Reads) -> None:
        ast_macros = self.tree.macros(ref.template)
        macro = ast_macros.get(ref.name)
        if macro is None:
            macro = (
                next(
                    (
                        m
                        for m in self.tree.ast(ref.template).find_all(nodes.Macro)
                        if m.name == ref.name
                    ),
                    None,
                )
                if self.tree.ast(ref.template) is not None
                else None
            )
        if macro is None:
            return
        module = ref.module
        ctx = module.ctx if module is not None else env.ctx
        key = ("macro", ref, ctx, env.passed)
        if key in self.active:
            return
        self.active.add(key)
        inner = Env(ref.template, ctx, env.passed, ref.mode, (ref.template,))
        if module is None:
            inner.chain = env.chain
            inner.macros = dict(env.macros)
            inner.modules = dict(env.modules)
        else:
            # A module's macros see its other macros and its own imports.
            inner.macros = {
                n: MacroRef(module.template, n, module, module.mode)
                for n in self.tree.macros(module.template)
            }
            inner.macros.update(dict(module.macros))
            inner.modules = dict(module.modules)
        inner.top = False
        inner.in_macro = True
        inner.loc = frozenset([a.name for a in macro.args] + ["varargs", "kwargs", "caller"])
        self.stmts(macro.body, inner, reads)
        self.active.discard(key)

    # statements -----------------------------------------------------------------------------

    def stmts(self, body, env: Env, reads: Reads) -> None:
        for node in body:
            self.stmt(node, env, reads)

    def stmt(self, node, env: Env, reads: Reads) -> None:
        if isinstance(node, nodes.Output):
            if env.after_extends:
                return
            for child in node.nodes:
                self.expr(child, env, reads)
        elif isinstance(node, nodes.Assign):
            self.expr(node.node, env, reads)
            if isinstance(node.target, nodes.NSRef):
                self.name(node.target.name, node.target.lineno, env, reads)
            else:
                env.bind(target_names(node.target))
        elif isinstance(node, nodes.AssignBlock):
            inner = env.scoped()
            self.stmts(node.body, inner, reads)
            if node.filter is not None:
                self.expr(node.filter, env, reads)
            if isinstance(node.target, nodes.NSRef):
                self.name(node.target.name, node.target.lineno, env, reads)
            else:
                env.bind(target_names(node.target))
        elif isinstance(node, nodes.For):
            self.expr(node.iter, env, reads)
            inner = env.scoped()
            inner.loc = inner.loc | set(target_names(node.target))
            if node.test is not None:
                self.expr(node.test, inner, reads)
            inner.loc = inner.loc | {"loop"}
            self.stmts(node.body, inner, reads)
            if node.else_:
                self.stmts(node.else_, env.scoped(), reads)
        elif isinstance(node, nodes.If):
            self.if_(node, env, reads)
        elif isinstance(node, nodes.With):
            for value in node.values:
                self.expr(value, env, reads)
            inner = env.scoped()
            inner.loc = inner.loc | {n for t in node.targets for n in target_names(t)}
            self.stmts(node.body, inner, reads)
        elif isinstance(node, nodes.FilterBlock):
            self.expr(node.filter, env, reads)
            self.stmts(node.body, env.scoped(), reads)
        elif isinstance(node, (nodes.Scope, nodes.OverlayScope)):
            if isinstance(node, nodes.OverlayScope):
                self.expr(node.context, env, reads)
            self.stmts(node.body, env.scoped(), reads)
        elif isinstance(node, nodes.ScopedEvalContextModifier):
            for option in node.options:
                self.expr(option.value, env, reads)
            self.stmts(node.body, env.scoped(), reads)
        elif isinstance(node, nodes.EvalContextModifier):
            for option in node.options:
                self.expr(option.value, env, reads)
        elif isinstance(node, nodes.Macro):
            for default in node.defaults:
                self.expr(default, env, reads)
            env.macros[node.name] = MacroRef(env.tpl, node.name, None, env.mode)
            env.modules.pop(node.name, None)
            env.bind([node.name])
        elif isinstance(node, nodes.CallBlock):
            for default in node.defaults:
                self.expr(default, env, reads)
            self.expr(node.call, env, reads)
            inner = env.scoped()
            inner.loc = inner.loc | {a.name for a in node.args}
            self.stmts(node.body, inner, reads)
        elif isinstance(node, nodes.Extends):
            self.reference_expr(node.template, env, reads)
            for target in self.targets(node.template, env, reads):
                if target not in env.parents:
                    env.parents.append(target)
            env.after_extends = True
        elif isinstance(node, nodes.Block):
            if env.after_extends and env.top:
                return
            # A block inside a block: the chain's definition renders in its place.
            self.block_body(node.name, 0, env, reads, node.scoped)
        elif isinstance(node, nodes.Include):
            self.reference_expr(node.template, env, reads)
            for target in self.targets(node.template, env, reads):
                if node.with_context:
                    names = env.defined() - {"loop"}
                    sub, _ = self.render(target, self.passing(env, names), names, env.mode)
                else:
                    sub, _ = self.render(target, Scope(frozenset()), frozenset(), "isolated")
                reads.merge(sub)
        elif isinstance(node, nodes.Import):
            self.reference_expr(node.template, env, reads)
            module = None
            for target in self.targets(node.template, env, reads):
                module = self.import_(target, node.with_context, env, reads)
            if module is not None:
                env.modules[node.target] = module
            env.macros.pop(node.target, None)
            env.bind([node.target])
        elif isinstance(node, nodes.FromImport):
            self.reference_expr(node.template, env, reads)
            for target in self.targets(node.template, env, reads):
                module = self.import_(target, node.with_context, env, reads)
                exported = self.tree.macros(target)
                for item in node.names:
                    name, alias = item if isinstance(item, tuple) else (item, item)
                    if name in exported:
                        env.macros[alias] = MacroRef(target, name, module, module.mode)
            env.bind([item[1] if isinstance(item, tuple) else item for item in node.names])
        elif isinstance(node, nodes.ExprStmt):
            self.expr(node.node, env, reads)
        elif isinstance(node, (nodes.Continue, nodes.Break)):
            pass
        else:
            # Any other statement (from an extension): its expressions, its bodies in order.
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Stmt):
                    self.stmt(child, env, reads)
                else:
                    self.expr(child, env, reads)

    def if_(self, node: nodes.If, env: Env, reads: Reads) -> None:
        self.expr(node.test, env, reads)
        branches = []
        holds_not = frozenset()
        tests = [(node.test, node.body)] + [(e.test, e.body) for e in node.elif_]
        for index, (test, body) in enumerate(tests):
            if index > 0:
                guarded = env.copy()
                guarded.guard = guarded.guard | holds_not
                self.expr(test, guarded, reads)
            branch = env.copy()
            branch.guard = branch.guard | holds_not | guards(test, True)
            self.stmts(body, branch, reads)
            branches.append(branch)
            holds_not = holds_not | guards(test, False)
        otherwise = env.copy()
        otherwise.guard = otherwise.guard | holds_not
        self.stmts(node.else_, otherwise, reads)
        branches.append(otherwise)
        env.ctx = frozenset.intersection(*(b.ctx for b in branches))
        env.loc = frozenset.intersection(*(b.loc for b in branches))
        for branch in branches:
            for name, ref in branch.macros.items():
                env.macros.setdefault(name, ref)
            for name, module in branch.modules.items():
                env.modules.setdefault(name, module)
            for parent in branch.parents:
                if parent not in env.parents:
                    env.parents.append(parent)
            env.after_extends = env.after_extends or branch.after_extends

    def import_(self, target: str, with_context: bool, env: Env, reads: Reads) -> Module:
        if with_context:
            names = env.defined() - {"loop"}
            sub, final = self.render(target, self.passing(env, names), names, env.mode)
            mode = env.mode
        else:
            sub, final = self.render(target, Scope(frozenset()), frozenset(), "isolated")
            mode = "isolated"
        own = set(self.tree.macros(target))
        macros = tuple((n, r) for n, r in final.macros if n not in own)
        module = Module(target, final.ctx, mode, final.modules, macros)
        reads.merge(sub)
        return module

    @staticmethod
    def passing(env: Env, names: frozenset[str]) -> Scope:
        """What an include or import with context passes: the names in scope, and the macros
        and modules among them."""
        macros = tuple(
            sorted(((n, r) for n, r in env.macros.items() if n in names), key=lambda i: i[0])
        )
        modules = tuple(
            sorted(((n, m) for n, m in env.modules.items() if n in names), key=lambda i: i[0])
        )
        return Scope(names, macros, modules)

    def targets(self, expr, env: Env, reads: Reads) -> list[str]:
        names, _, first_only, unknown = self.tree.resolve(expr)
        if unknown is not None:
            reads.unknown.add((env.tpl, expr.lineno, unknown))
        present = [n for n in names if self.tree.exists(n)]
        return present[:1] if first_only else present

    def reference_expr(self, expr, env: Env, reads: Reads) -> None:
        """The variables a dynamic reference's expression reads (a profile's bound names are
        still read: the renderer passes them)."""
        if not isinstance(expr, nodes.Const):
            self.expr(expr, env, reads)

    # expressions ----------------------------------------------------------------------------

    def name(self, name: str, line: int, env: Env, reads: Reads, optional=False) -> None:
        if name in env.loc or name in env.ctx:
            if name in env.passed and name not in env.loc:
                reads.excuse(name, "in scope where the template is included or imported")
            else:
                reads.excuse(name, "defined before the read")
        elif name in env.guard:
            reads.excuse(name, "optional (guarded by `is defined`)")
        elif name in self.tree.globals or name == "self":
            reads.excuse(name, "global")
        elif optional:
            reads.excuse(name, "optional (`default` or `is defined`)")
        elif env.mode == "isolated":
            reads.excuse(name, "read without the app's context (import or include without context)")
        else:
            reads.required.setdefault(name, (env.tpl, line))

    def expr(self, node, env: Env, reads: Reads) -> None:
        if node is None:
            return
        if isinstance(node, nodes.Name):
            reads.visited.add(id(node))
            if node.ctx != "load":
                return
            self.name(node.name, node.lineno, env, reads)
            if node.name in env.macros and node.name not in env.loc:
                self.call_macro(env.macros[node.name], env, reads)
            elif node.name in env.modules and node.name not in env.loc:
                module = env.modules[node.name]
                for macro in self.tree.macros(module.template):
                    self.call_macro(
                        MacroRef(module.template, macro, module, module.mode), env, reads
                    )
            return
        if (
            isinstance(node, nodes.Filter)
            and node.name in ("default", "d")
            and isinstance(node.node, nodes.Name)
        ):
            reads.visited.add(id(node.node))
            self.name(node.node.name, node.lineno, env, reads, optional=True)
            self.args(node, env, reads)
            return
        if (
            isinstance(node, nodes.Test)
            and node.name in ("defined", "undefined")
            and isinstance(node.node, nodes.Name)
        ):
            reads.visited.add(id(node.node))
            self.name(node.node.name, node.lineno, env, reads, optional=True)
            self.args(node, env, reads)
            return
        if isinstance(node, nodes.And):
            self.expr(node.left, env, reads)
            self.expr(node.right, self.guarded(env, guards(node.left, True)), reads)
            return
        if isinstance(node, nodes.Or):
            self.expr(node.left, env, reads)
            self.expr(node.right, self.guarded(env, guards(node.left, False)), reads)
            return
        if isinstance(node, nodes.CondExpr):
            self.expr(node.test, env, reads)
            self.expr(node.expr1, self.guarded(env, guards(node.test, True)), reads)
            self.expr(node.expr2, self.guarded(env, guards(node.test, False)), reads)
            return
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            holder = node.node.name
            if holder == "self" and holder not in env.defined():
                reads.visited.add(id(node.node))
                self.name(holder, node.lineno, env, reads)
                self.block_body(node.attr, 0, env, reads)
                return
            if holder in env.modules and holder not in env.loc:
                reads.visited.add(id(node.node))
                self.name(holder, node.lineno, env, reads)
                module = env.modules[holder]
                if node.attr in self.tree.macros(module.template):
                    self.call_macro(
                        MacroRef(module.template, node.attr, module, module.mode), env, reads
                    )
                return
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
            callee = node.node.name
            if callee == "super" and env.block is not None and callee not in env.defined():
                reads.visited.add(id(node.node))
                block_name, at = env.block
                self.block_body(block_name, at + 1, env, reads)
                self.args(node, env, reads)
                return
        for child in node.iter_child_nodes():
            self.expr(child, env, reads)

    def args(self, node, env: Env, reads: Reads) -> None:
        for arg in node.args:
            self.expr(arg, env, reads)
        for kwarg in node.kwargs:
            self.expr(kwarg.value, env, reads)
        self.expr(node.dyn_args, env, reads)
        self.expr(node.dyn_kwargs, env, reads)

    @staticmethod
    def guarded(env: Env, names: frozenset[str]) -> Env:
        if not names:
            return env
        inner = env.copy()
        inner.guard = inner.guard | names
        return inner


# --- per entry ------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the oracle knows about one entry template in one tree."""

    exists: bool
    required: dict[str, tuple[str, int]]
    excused: dict[str, set[str]]
    closure: list[str]
    parse_errors: dict[str, str]
    unresolved: set[tuple[str, str]]
    cycles: set[str]
    unknown: set[tuple[str, int, str]]


def facts(tree: Tree, entry: str) -> Facts:
    if not tree.exists(entry):
        return Facts(False, {}, {}, [], {}, set(), set(), set())
    closure = tree.closure(entry)
    errors = {n: tree.errors[n] for n in closure if tree.ast(n) is None}
    unresolved = {u for n in closure for u in tree.unresolved(n)}
    cycles = tree.on_cycles(closure)
    walker = Walker(tree)
    reads, _ = walker.render(entry, Scope(frozenset()), frozenset(), "context")
    excused = {k: set(v) for k, v in reads.excused.items() if k not in reads.required}
    # Reads the render never reaches: say where, for the benchmark's breakdown.
    for name in closure:
        ast = tree.ast(name)
        if ast is None:
            continue
        for node, where in unreached(ast.body, "top", False):
            if id(node) not in reads.visited and node.name not in reads.required:
                excused.setdefault(node.name, set()).add(where)
    return Facts(True, reads.required, excused, closure, errors, unresolved, cycles, reads.unknown)


def unreached(body, where: str, extended: bool):
    """Every Name read in `body`, with what its read depends on to happen: a macro call, a
    block rendered by the extends chain, or (at a child's top level) nothing: never rendered."""
    for node in body:
        if isinstance(node, nodes.Extends):
            extended = True
        if isinstance(node, nodes.Macro):
            inner = "not rendered: in a macro nothing calls"
        elif isinstance(node, nodes.Block):
            inner = "not rendered: in a block no template of the chain renders"
        elif extended and where == "top" and isinstance(node, nodes.Output):
            inner = "not rendered: output after `extends`"
        else:
            inner = where
        label = inner if inner != "top" else "not rendered (guarded or unreachable)"
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Stmt):
                yield from unreached([child], inner, extended)
            else:
                for name in (
                    child.find_all(nodes.Name) if not isinstance(child, nodes.Name) else [child]
                ):
                    if name.ctx == "load":
                        yield name, label


def entries_of(tree: Tree, aliases: dict[str, str | None]) -> list[str]:
    """Templates no other template references. An alias (the same file under a second name,
    see fetch.py) is never an entry, and a file whose alias is referenced is referenced."""
    referenced = set()
    for name in tree.files:
        for ref in tree.refs(name):
            for target in tree.targets(ref):
                if target != name:
                    referenced.add(target)
                    referenced.add(aliases.get(target))
    return sorted(n for n in tree.files if n not in referenced and n not in aliases)


def decide(entry: str, fields: list[str], before: Facts, now: Facts, changed: set[str]) -> dict:
    def out(decision, cause, reason, **extra):
        return {"entry": entry, "decision": decision, "cause": cause, "reason": reason, **extra}

    if not now.exists:
        return out("rebuild", "bound template removed", f"{entry} is gone")
    new_errors = {n: e for n, e in now.parse_errors.items() if n not in before.parse_errors}
    if new_errors:
        name, error = sorted(new_errors.items())[0]
        return out("rebuild", "does not parse", f"{name} does not parse: {error}")
    new_unresolved = now.unresolved - before.unresolved
    if new_unresolved:
        template, written = sorted(new_unresolved)[0]
        return out(
            "rebuild",
            "unresolved reference",
            f"{template} references {written}, which is not a template",
        )
    new_cycles = now.cycles - before.cycles
    if new_cycles:
        return out("rebuild", "cycle", f"reference cycle through {', '.join(sorted(new_cycles))}")
    missing = sorted(set(now.required) - set(fields))
    if missing:
        name = missing[0]
        template, line = now.required[name]
        return out(
            "rebuild",
            "missing variable",
            f"new variable `{name}` (read in {template}:{line}) is not a field",
            missing=[
                {
                    "variable": v,
                    "template": now.required[v][0],
                    "line": now.required[v][1],
                    # Why the build's render did not require it (empty: it did not read it).
                    "build": sorted(before.excused.get(v, ())),
                }
                for v in missing
            ],
        )
    touched = changed & (set(now.closure) | set(before.closure))
    if touched:
        return out(
            "hot_reload", "renders changed templates", f"renders {', '.join(sorted(touched)[:3])}"
        )
    return out("unchanged", "nothing it renders changed", "")


def judge(document: dict) -> dict:
    sets_out = []
    for tset in document["sets"]:
        profile = PROFILES.get(tset["package"], DEFAULT_PROFILE)
        trees = {}
        cache: dict[tuple[str, str], Facts] = {}

        def tree_of(version):
            if version not in trees:
                trees[version] = Tree(tset["trees"][version]["files"], profile)
            return trees[version]

        edits_out = []
        for edit in tset["edits"]:
            if not edit["changes"]:
                continue
            base = tree_of(edit["from"])
            files = dict(base.files)
            for name, text in edit["changes"].items():
                if text is None:
                    files.pop(name, None)
                else:
                    files[name] = text
            now = Tree(files, profile)
            changed = set(edit["changes"])
            aliases = tset["trees"][edit["from"]]["aliases"]
            entries = []
            for entry in entries_of(base, aliases):
                key = (edit["from"], entry)
                if key not in cache:
                    cache[key] = facts(base, entry)
                before = cache[key]
                fields = sorted(before.required)
                after = facts(now, entry)
                verdict = decide(entry, fields, before, after, changed)
                verdict["fields"] = fields
                if verdict["decision"] != "unchanged":
                    verdict["excused"] = {k: sorted(v) for k, v in sorted(after.excused.items())}
                    verdict["unknown_dynamic"] = sorted(
                        f"{t}:{line}: {e}" for t, line, e in after.unknown
                    )
                entries.append(verdict)
            edits_out.append(
                {
                    "from": edit["from"],
                    "to": edit["to"],
                    "changed": sorted(changed),
                    "entries": entries,
                }
            )
        sets_out.append(
            {
                "package": tset["package"],
                "set": tset["set"],
                "globals": sorted(JINJA_GLOBALS | profile.globals),
                "extensions": profile.extensions,
                "edits": edits_out,
            }
        )
    return {
        "format": "shipwright-replay-oracle",
        "version": 1,
        "jinja2": jinja2.__version__,
        "sets": sets_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("replay", type=Path, help="a replay file written by fetch.py")
    parser.add_argument("--out", type=Path, help="default: REPLAY with .oracle.json")
    args = parser.parse_args()
    document = json.loads(args.replay.read_text())
    if document.get("format") != "shipwright-replay" or document.get("version") != 1:
        raise SystemExit(f"oracle: {args.replay} is not a version 1 replay file")
    result = judge(document)
    out = args.out or args.replay.with_suffix(".oracle.json")
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=True))
    tmp.replace(out)
    pairs = [
        e
        for s in result["sets"]
        for ed in s["edits"]
        for e in ed["entries"]
        if e["decision"] != "unchanged"
    ]
    rebuilds = sum(1 for e in pairs if e["decision"] == "rebuild")
    edits = sum(len(s["edits"]) for s in result["sets"])
    print(
        f"oracle: {edits} edits, {len(pairs)} affected (edit, entry) pairs, {rebuilds} need a rebuild; wrote {out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
