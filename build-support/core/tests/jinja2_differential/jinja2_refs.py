#!/usr/bin/env python3
"""Jinja2's own answer to "which templates does this template reference?".

Usage:
    jinja2_refs.py PATH...            every file under each PATH (a directory or a file)
    jinja2_refs.py --files-from -     the paths listed on standard input, one per line
    jinja2_refs.py --locate MODULE... where installed packages keep their templates

Prints one JSON object on standard output. For the first two forms it maps each file (its path
relative to the directory it was found under, or as given for a file) to
    {"deps": [sorted unique static names], "dynamic": true|false,
     "vars": null|[sorted names], "error": null|"message"}
where `deps` and `dynamic` come from `jinja2.meta.find_referenced_templates(env.parse(source))`
(a `None` in its answer means a dynamic reference), `vars` from
`jinja2.meta.find_undeclared_variables` on the same tree (the names the template may read from
its context; null when Jinja2 cannot compile the tree), and `error` is set when Jinja2 cannot read or parse the file. The environment has
Jinja2's default syntax plus the i18n, do and loopcontrols extensions, which real-world template
sets rely on; none of them adds a reference. Its null translations are installed, so that
`gettext`, `ngettext`, `pgettext`, `npgettext` and `_` are globals (as in an application that
uses the i18n extension), not variables of every `{% trans %}` block.

`--locate` maps each importable MODULE to the list of existing directories that hold its
templates (the package directory; for nbconvert, the Jupyter data directories), and leaves
out a module that is not installed.

The Rust test build-support/tests/jinja2_differential/main.rs runs this once per corpus.
"""

import json
import os
import sys

import jinja2
import jinja2.meta


def environment():
    env = jinja2.Environment(
        extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"]
    )
    env.install_null_translations()
    return env


def answer(env, path):
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return failed(f"unreadable: {e}")
    try:
        tree = env.parse(source)
        found = list(jinja2.meta.find_referenced_templates(tree))
    except jinja2.TemplateSyntaxError as e:
        return failed(f"line {e.lineno}: {e.message}")
    except Exception as e:  # a Jinja2 crash on odd input is still "cannot parse"
        return failed(f"{type(e).__name__}: {e}")
    try:
        # This one compiles the template: a tree can parse and not compile (`extends` inside a
        # block, say), and then Jinja2 has no answer.
        variables = sorted(jinja2.meta.find_undeclared_variables(tree))
    except Exception:
        variables = None
    names = sorted({name for name in found if name is not None})
    return {
        "deps": names,
        "dynamic": any(name is None for name in found),
        "vars": variables,
        "error": None,
    }


def failed(message):
    return {"deps": [], "dynamic": False, "vars": None, "error": message}


def files_under(path):
    if os.path.isfile(path):
        yield path, path
        return
    for root, dirs, names in os.walk(path):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            yield os.path.relpath(full, path).replace(os.sep, "/"), full


def locate(modules):
    import importlib

    found = {}
    for module in modules:
        try:
            package = importlib.import_module(module)
        except Exception:
            continue
        dirs = [os.path.dirname(package.__file__)]
        if module == "nbconvert":
            from jupyter_core.paths import jupyter_path

            dirs = jupyter_path("nbconvert", "templates")
        found[module] = sorted({os.path.realpath(d) for d in dirs if os.path.isdir(d)})
    return found


def main(argv):
    if argv[:1] == ["--locate"]:
        json.dump(locate(argv[1:]), sys.stdout, indent=1, sort_keys=True)
        return 0
    if argv[:2] == ["--files-from", "-"]:
        paths = [(line, line) for line in sys.stdin.read().splitlines() if line]
    elif argv and not argv[0].startswith("--"):
        paths = [pair for path in argv for pair in files_under(path)]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    env = environment()
    out = {key: answer(env, full) for key, full in paths}
    json.dump(out, sys.stdout, ensure_ascii=False, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
