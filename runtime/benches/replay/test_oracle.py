#!/usr/bin/env python3
"""The oracle's variable rules on small template sets, each also rendered by Jinja2 itself.

    python3 runtime/benches/replay/test_oracle.py

Each case states the root variables the oracle must find. Where Jinja2 renders the case with an
empty context, the test also records every name Jinja2 looked up in the context and did not
find (a `Context` subclass): each required variable must be one of those, so that the oracle
never requires a name Jinja2 would not have asked the context for.
"""

import sys
import unittest
from pathlib import Path

import jinja2
from jinja2.runtime import Context, missing

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle  # noqa: E402

CASES = [
    # (label, files, entry, required[, context for Jinja's render])
    ("set in one branch", {"t": "{% if c %}{% set x = 1 %}{% endif %}{{ x }}"}, "t", {"c", "x"}),
    ("read before set", {"t": "{{ x }}{% set x = 1 %}{{ x }}"}, "t", {"x"}),
    ("set then read", {"t": "{% set x = 1 %}{{ x }}"}, "t", set()),
    (
        "for scope",
        {"t": "{% for i in items %}{{ i }}{{ loop.index }}{% endfor %}{{ i }}"},
        "t",
        {"items", "i"},
    ),
    (
        "include sees the loop target, not loop",
        {"t": "{% for item in items %}{% include 'p' %}{% endfor %}", "p": "{{ item }}{{ loop }}"},
        "t",
        {"items", "loop"},
        {"items": [1]},
    ),
    (
        "include without context",
        {"t": "{% set a = 1 %}{% include 'q' without context %}", "q": "{{ a }}{{ b }}"},
        "t",
        set(),
    ),
    (
        "import with context",
        {
            "t": "{% import 'm' as m with context %}{{ m.f() }}",
            "m": "{% macro f() %}{{ z }}{% endmacro %}",
        },
        "t",
        {"z"},
    ),
    (
        "import without context",
        {"t": "{% import 'm' as m %}{{ m.f() }}", "m": "{% macro f() %}{{ z }}{% endmacro %}"},
        "t",
        set(),
    ),
    ("uncalled macro", {"t": "{% macro f() %}{{ z }}{% endmacro %}"}, "t", set()),
    (
        "macro arguments",
        {"t": "{% macro f(a) %}{{ a }}{{ b }}{{ varargs }}{% endmacro %}{{ f(1) }}"},
        "t",
        {"b"},
    ),
    (
        "from import with context",
        {
            "t": "{% from 'm' import g with context %}{{ g(1) }}",
            "m": "{% macro g(x) %}{{ x }}{{ w }}{% endmacro %}",
        },
        "t",
        {"w"},
    ),
    (
        "extends: blocks, child sets, output after extends",
        {
            "base": "{% for item in items %}{% block b %}{% endblock %}{% endfor %}"
            "{% block unused %}{{ u }}{% endblock %}",
            "t": "{% extends 'base' %}{% set t = 1 %}{% block b %}{{ item }}{{ t }}{% endblock %}"
            "{% block extra %}{{ never }}{% endblock %}after{{ gone }}",
        },
        "t",
        {"items", "item", "u"},
        {"items": [1]},
    ),
    (
        "super",
        {
            "base": "{% block b %}{{ p }}{% endblock %}",
            "t": "{% extends 'base' %}{% block b %}{{ super() }}{{ c }}{% endblock %}",
        },
        "t",
        {"c", "p"},
    ),
    (
        "scoped block",
        {
            "base": "{% for item in items %}{% block b scoped %}{% endblock %}{% endfor %}",
            "t": "{% extends 'base' %}{% block b %}{{ item }}{% endblock %}",
        },
        "t",
        {"items"},
        {"items": [1]},
    ),
    (
        "optional reads",
        {
            "t": "{{ x|default('a') }}{{ y.z|default('b') }}{% if w is defined %}{{ w.q }}{% endif %}"
            "{{ v if v is defined else 1 }}{{ s is defined and s.t }}"
        },
        "t",
        {"y"},
    ),
    ("guard in elif", {"t": "{% if x is undefined %}{% elif x.y %}{{ x }}{% endif %}"}, "t", set()),
    ("set reads the outer value", {"t": "{% set x = x + 1 %}{{ x }}"}, "t", {"x"}),
    ("tuple set", {"t": "{% set a, b = pair %}{{ a }}{{ b }}"}, "t", {"pair"}),
    ("namespace", {"t": "{% set ns = namespace(n=0) %}{% set ns.n = 1 %}{{ ns.n }}"}, "t", set()),
    ("with", {"t": "{% with a = q %}{{ a }}{% endwith %}{{ a }}"}, "t", {"q", "a"}),
    (
        "call block body",
        {
            "t": "{% macro m() %}{{ caller() }}{% endmacro %}{% set k = 1 %}{% call m() %}{{ o }}{{ k }}{% endcall %}"
        },
        "t",
        {"o"},
    ),
    (
        "trans",
        {
            "t": "{% trans user=u.name %}Hi {{ user }}{% endtrans %}{% trans %}Hello {{ name }}{% endtrans %}"
        },
        "t",
        {"u", "name"},
    ),
    ("loop outside a loop", {"t": "{{ loop }}"}, "t", {"loop"}),
    (
        "block sets are local",
        {"t": "{% block b %}{% set w = 1 %}{% endblock %}{{ w }}"},
        "t",
        {"w"},
    ),
    ("self", {"t": "{% block b %}{{ q }}{% endblock %}{{ self.b() }}"}, "t", {"q"}),
    (
        "parent's set after the block",
        {
            "base": "{% block b %}{% endblock %}{% set late = 1 %}",
            "t": "{% extends 'base' %}{% block b %}{{ late }}{% endblock %}",
        },
        "t",
        {"late"},
    ),
    (
        "filter block scope",
        {"t": "{% filter upper %}{% set q = 1 %}{% endfilter %}{{ q }}"},
        "t",
        {"q"},
    ),
    (
        "include pattern",
        {
            "t": "{% include 'parts/' ~ kind ~ '.html' %}",
            "parts/a.html": "{{ pa }}",
            "parts/b.html": "{{ pb }}",
        },
        "t",
        {"kind", "pa", "pb"},
    ),
    (
        "include list",
        {"t": "{% include ['missing.html', 'parts/a.html'] %}", "parts/a.html": "{{ pa }}"},
        "t",
        {"pa"},
    ),
    (
        "globals",
        {"t": "{% for i in range(3) %}{{ cycler(1, 2).next() }}{% endfor %}{{ lipsum() }}"},
        "t",
        set(),
    ),
    ("recursive include", {"t": "{% if n %}{% include 't' %}{% endif %}"}, "t", {"n"}),
    (
        "a child's import used in its block",
        {
            "base": "{% block b %}{% endblock %}",
            "t": "{% extends 'base' %}{% import 'm' as m with context %}{% block b %}{{ m.f() }}{% endblock %}",
            "m": "{% macro f() %}{{ z }}{% endmacro %}",
        },
        "t",
        {"z"},
    ),
    (
        "a module's macro calls its sibling and its own import",
        {
            "t": "{% import 'm' as m with context %}{{ m.f() }}",
            "m": "{% import 'n' as n with context %}{% macro g() %}{{ y }}{{ n.h() }}{% endmacro %}"
            "{% macro f() %}{{ g() }}{% endmacro %}",
            "n": "{% macro h() %}{{ x }}{% endmacro %}",
        },
        "t",
        {"x", "y"},
    ),
    (
        "a child's import sees the context before the parent's sets",
        {
            "t": "{% extends 'base' %}{% import 'm' as m with context %}{% block b %}{{ m.f() }}{% endblock %}",
            "base": "{% set feat = 1 %}{% block b %}{% endblock %}",
            "m": "{% macro f() %}{{ feat }}{% endmacro %}",
        },
        "t",
        {"feat"},
    ),
    (
        "an include calls the includer's macro",
        {
            "t": "{% macro f() %}{{ q }}{% endmacro %}{% include 'p' %}",
            "p": "{{ f() }}",
        },
        "t",
        {"q"},
    ),
]


class Recording(Context):
    """A context that remembers the names it was asked for and did not have."""

    misses: set = set()

    def resolve_or_missing(self, key):
        value = super().resolve_or_missing(key)
        if value is missing:
            Recording.misses.add(key)
        return value


def jinja_misses(files, entry, context):
    env = jinja2.Environment(loader=jinja2.DictLoader(files), extensions=["jinja2.ext.i18n"])
    env.install_null_translations()
    env.context_class = Recording
    Recording.misses = set()
    try:
        env.get_template(entry).render(context)
    except Exception:  # a case may not render with an empty context
        return None
    return set(Recording.misses)


class OracleRules(unittest.TestCase):
    def test_cases(self):
        profile = oracle.Profile(["jinja2.ext.i18n"], oracle.I18N_GLOBALS)
        for label, files, entry, expected, *context in CASES:
            with self.subTest(label):
                found = oracle.facts(oracle.Tree(files, profile), entry)
                self.assertEqual(set(found.required), expected)
                given = context[0] if context else {}
                misses = jinja_misses(files, entry, given)
                if misses is not None:
                    self.assertLessEqual(set(found.required) - set(given), misses)

    def test_structure(self):
        profile = oracle.Profile([], frozenset())
        tree = oracle.Tree(
            {"t": "{% include 'u' %}{% include 'gone' %}", "u": "{% include 't' %}"}, profile
        )
        found = oracle.facts(tree, "t")
        self.assertEqual(found.cycles, {"t", "u"})
        self.assertEqual(found.unresolved, {("t", "gone")})
        broken = oracle.facts(
            oracle.Tree({"t": "{% include 'u' %}", "u": "{% if %}"}, profile), "t"
        )
        self.assertEqual(set(broken.parse_errors), {"u"})

    def test_decisions(self):
        profile = oracle.Profile([], frozenset())
        before = oracle.facts(oracle.Tree({"t": "{% include 'p' %}", "p": "{{ a }}"}, profile), "t")
        fields = sorted(before.required)
        now = oracle.facts(
            oracle.Tree({"t": "{% include 'p' %}", "p": "{{ a }}{{ b }}"}, profile), "t"
        )
        verdict = oracle.decide("t", fields, before, now, {"p"})
        self.assertEqual(verdict["decision"], "rebuild")
        self.assertEqual([m["variable"] for m in verdict["missing"]], ["b"])
        same = oracle.facts(
            oracle.Tree({"t": "{% include 'p' %}", "p": "<b>{{ a }}</b>"}, profile), "t"
        )
        self.assertEqual(oracle.decide("t", fields, before, same, {"p"})["decision"], "hot_reload")
        self.assertEqual(oracle.decide("t", fields, before, before, {"x"})["decision"], "unchanged")
        entries = oracle.entries_of(
            oracle.Tree({"t": "{% include 'p' %}", "p": "", "q": ""}, profile), {}
        )
        self.assertEqual(entries, ["q", "t"])


if __name__ == "__main__":
    unittest.main()
