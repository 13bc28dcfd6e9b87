#!/usr/bin/env python3
"""Real template edit histories for the edit-replay benchmark (`runtime/benches/replay.rs`).

Downloads several released versions of Python packages that ship Jinja template sets (wheels,
through `pip download`), extracts each set's templates, and writes a replay file: per template
set, the tree of every version, and per pair of consecutive versions the files that changed
(edited, added, removed). One such pair is one "edit" of the benchmark.

    python3 runtime/benches/replay/fetch.py            # every package below
    python3 runtime/benches/replay/fetch.py --smoke    # two packages, 3-4 versions (CI)
    python3 runtime/benches/replay/fetch.py --packages nbconvert,mkdocs --versions 6

Everything downloaded stays under `target/shipwright-replay/cache/` (never committed) and is
reused: a second run asks PyPI nothing when the version list and the wheels are cached
(`--refresh` asks for the version lists again).

How a template set becomes one tree. A package's renderer loads templates through a search
path (a theme and its parent theme, an exporter and its base template...). The replay file has
one flat tree per set: each `Mount` copies a directory of the package under a name prefix, in
search-path order, and the first mount that provides a name wins, as with Jinja's
`FileSystemLoader([...])`. An "alias" mount makes the same files reachable under a second name
(nbconvert's `{% extends 'lab/base.html.j2' %}` next to `{% extends 'base.html.j2' %}`): its
files are never entry templates, they are there so that references resolve as the package's
loader resolves them. Only files the Shipwright scan treats as templates are kept (the default
extensions), and asset directories are left out (static, css, js, fonts, images, and dot
directories such as mkdocs-material's `.icons`, of which only the icons some template names
literally are kept).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

# The scan's default template extensions (shipwright_core::format::DEFAULT_EXTENSIONS): the
# replay trees hold exactly the files the Rust side will scan.
TEMPLATE_EXTENSIONS = {"html", "htm", "xml", "txt", "svg", "j2", "jinja", "jinja2"}
# Directories of assets, not templates.
ASSET_DIRS = {"static", "css", "js", "fonts", "img", "images", "webfonts", "assets", "vendor"}

WORKSPACE = Path(__file__).resolve().parents[3]
DEFAULT_DIR = WORKSPACE / "target" / "shipwright-replay"


@dataclass
class Mount:
    """A directory of the package (a path inside the wheel, matched at any depth so that
    `*.data/data/share/...` wheel directories work) copied under `prefix`."""

    path: str
    prefix: str = ""
    alias: bool = False


@dataclass
class TemplateSet:
    name: str
    mounts: list[Mount]


@dataclass
class Package:
    name: str
    # Oldest version considered, how many versions to keep, and every how many releases one is
    # taken (the newest is always kept): count 15, stride 3 spans the last 43 releases.
    minimum: str
    count: int
    stride: int
    sets: list[TemplateSet] = field(default_factory=list)


NB = "share/jupyter/nbconvert/templates"


def nbconvert_set(name: str, chain: list[str]) -> TemplateSet:
    """An nbconvert exporter: its template directory, then its `base_template` chain (from the
    directories' conf.json), then every directory of the chain again under its own name (the
    exporter's loader also searches the templates root)."""
    own = [Mount(f"{NB}/{d}") for d in [name, *chain]]
    rooted = [Mount(f"{NB}/{d}", f"{d}/", alias=True) for d in [name, *chain]]
    return TemplateSet(name, own + rooted)


PACKAGES = [
    Package(
        "mkdocs",
        "1.1",
        15,
        1,
        [
            TemplateSet("mkdocs", [Mount("mkdocs/themes/mkdocs"), Mount("mkdocs/templates")]),
            TemplateSet(
                "readthedocs", [Mount("mkdocs/themes/readthedocs"), Mount("mkdocs/templates")]
            ),
        ],
    ),
    Package(
        "mkdocs-material", "9.0.0", 15, 3, [TemplateSet("material", [Mount("material/templates")])]
    ),
    Package(
        "nbconvert",
        "7.0.0",
        15,
        2,
        [
            nbconvert_set("lab", ["base"]),
            nbconvert_set("classic", ["base"]),
            nbconvert_set("reveal", ["lab", "base"]),
            nbconvert_set("markdown", ["base"]),
            nbconvert_set("rst", ["base"]),
            nbconvert_set("asciidoc", ["base"]),
        ],
    ),
    Package("sphinx", "5.0.0", 15, 3, [TemplateSet("basic", [Mount("sphinx/themes/basic")])]),
    Package(
        "flask-admin",
        "1.5.0",
        15,
        1,
        [TemplateSet("bootstrap4", [Mount("flask_admin/templates/bootstrap4")])],
    ),
    Package(
        "jupyter-server",
        "2.0.0",
        15,
        3,
        [TemplateSet("server", [Mount("jupyter_server/templates")])],
    ),
]

# CI's quick run: small wheels, few versions.
SMOKE = {"nbconvert": (4, 1), "mkdocs": (3, 1)}


def log(message: str) -> None:
    print(f"fetch: {message}", file=sys.stderr, flush=True)


# --- versions -------------------------------------------------------------------------------


def version_key(text: str) -> tuple[int, ...] | None:
    """The release tuple of a final release (`1.6.1`, `2.0`), None for pre/dev/post releases
    and anything else."""
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        return None
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def available_versions(package: str, cache: Path, refresh: bool) -> list[str]:
    """Every final release on PyPI, oldest first (`pip index versions`), cached."""
    path = cache / "versions" / f"{package}.json"
    if path.exists() and not refresh:
        return json.loads(path.read_text())
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", package],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r"Available versions: (.*)", out.stdout)
    if out.returncode != 0 or not match:
        if path.exists():
            log(f"{package}: `pip index versions` failed, using the cached list")
            return json.loads(path.read_text())
        raise SystemExit(f"fetch: cannot list the versions of {package}: {out.stderr.strip()}")
    versions = [v.strip() for v in match.group(1).split(",")]
    finals = sorted((v for v in versions if version_key(v)), key=version_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(finals))
    return finals


def wheel_of(package: str, version: str, cache: Path) -> Path | None:
    """The wheel of `package==version`, downloaded once; None if PyPI has no wheel of it (the
    miss is remembered)."""
    folder = cache / "dists" / package
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[-_.]+", "_", package).lower()
    for found in folder.glob("*.whl"):
        parts = found.name.split("-")
        if parts[0].lower() == stem and parts[1] == version:
            return found
    missing = folder / f"{version}.no-wheel"
    if missing.exists():
        return None
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
            "--dest",
            str(folder),
            f"{package}=={version}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        if "No matching distribution" in out.stderr:
            missing.write_text(out.stderr)
            return None
        raise SystemExit(f"fetch: pip download {package}=={version} failed: {out.stderr.strip()}")
    return wheel_of(package, version, cache)


def chosen_versions(pkg: Package, cache: Path, refresh: bool) -> list[tuple[str, Path]]:
    """Up to `count` versions with a wheel, newest first in the walk, every `stride`-th release,
    returned oldest first."""
    minimum = version_key(pkg.minimum)
    candidates = [
        v for v in available_versions(pkg.name, cache, refresh) if version_key(v) >= minimum
    ]
    chosen = []
    for version in candidates[::-1][:: pkg.stride]:
        if len(chosen) == pkg.count:
            break
        wheel = wheel_of(pkg.name, version, cache)
        if wheel is None:
            log(f"{pkg.name} {version}: no wheel on PyPI, skipped")
            continue
        chosen.append((version, wheel))
    return chosen[::-1]


# --- trees ----------------------------------------------------------------------------------


def archive_members(path: Path) -> dict[str, bytes]:
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    with tarfile.open(path) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def is_template(name: str) -> bool:
    return "." in name and name.rsplit(".", 1)[1].lower() in TEMPLATE_EXTENSIONS


def tree_of(
    members: dict[str, bytes], tset: TemplateSet
) -> tuple[dict[str, str], dict[str, str | None], list[str]]:
    """(name -> text, alias name -> the same file's name under a search-path mount (or None),
    mounts not found in this version)."""
    files: dict[str, str] = {}
    origin: dict[str, str] = {}  # name -> archive member it was read from
    aliases: dict[str, str | None] = {}
    assets: dict[str, str] = {}
    absent = []
    for mount in tset.mounts:
        pattern = re.compile(r"(?:^|.*/)" + re.escape(mount.path.strip("/")) + r"/(.+)$")
        found = False
        for member, data in sorted(members.items()):
            match = pattern.match(member)
            if not match or not is_template(match.group(1)):
                continue
            found = True
            relative = match.group(1)
            parts = relative.split("/")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            name = mount.prefix + relative
            if any(p in ASSET_DIRS for p in parts[:-1]) or any(
                p.startswith(".") for p in parts[:-1]
            ):
                assets.setdefault(name, text)
                continue
            if name not in files:
                files[name] = text
                origin[name] = member
                if mount.alias:
                    aliases[name] = None
        if not found:
            absent.append(mount.path)
    # An alias and the name the same file has under a search-path mount are one template.
    primary = {member: name for name, member in origin.items() if name not in aliases}
    for name in aliases:
        aliases[name] = primary.get(origin[name])
    # Assets some template names literally (`{% include ".icons/material/github.svg" %}`).
    every = "\n".join(files.values())
    for name, text in assets.items():
        if name not in files and (f'"{name}"' in every or f"'{name}'" in every):
            files[name] = text
    return dict(sorted(files.items())), dict(sorted(aliases.items())), absent


def replay_of(pkg: Package, versions: list[tuple[str, Path]]) -> list[dict]:
    members = {version: archive_members(wheel) for version, wheel in versions}
    sets = []
    for tset in pkg.sets:
        trees = {}
        for version, _ in versions:
            files, aliases, absent = tree_of(members[version], tset)
            if absent and len(absent) == len(tset.mounts) or not files:
                log(f"{pkg.name} {version}: no templates for set {tset.name}, version skipped")
                continue
            trees[version] = {"files": files, "aliases": aliases}
        order = list(trees)
        edits = []
        for before, after in zip(order, order[1:]):
            old, new = trees[before]["files"], trees[after]["files"]
            changes = {
                n: new.get(n) for n in sorted(set(old) | set(new)) if old.get(n) != new.get(n)
            }
            edits.append({"from": before, "to": after, "changes": changes})
        changed = sum(1 for e in edits if e["changes"])
        log(
            f"{pkg.name}/{tset.name}: {len(order)} versions, {changed} of {len(edits)} pairs change templates"
        )
        sets.append(
            {
                "package": pkg.name,
                "set": tset.name,
                "mounts": [
                    {"path": m.path, "prefix": m.prefix, "alias": m.alias} for m in tset.mounts
                ],
                "versions": order,
                "trees": trees,
                "edits": edits,
            }
        )
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the small CI set")
    parser.add_argument("--packages", help="comma-separated package names (default: all)")
    parser.add_argument("--versions", type=int, help="versions per package (default: per package)")
    parser.add_argument("--stride", type=int, help="take every n-th release (default: per package)")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="cache and output directory")
    parser.add_argument("--out", type=Path, help="replay file (default: DIR/replay[-smoke].json)")
    parser.add_argument(
        "--refresh", action="store_true", help="ask PyPI for the version lists again"
    )
    args = parser.parse_args()

    cache = args.dir / "cache"
    out = args.out or args.dir / ("replay-smoke.json" if args.smoke else "replay.json")
    selected = PACKAGES
    if args.smoke:
        selected = [p for p in PACKAGES if p.name in SMOKE]
        for p in selected:
            p.count, p.stride = SMOKE[p.name]
    if args.packages:
        wanted = set(args.packages.split(","))
        unknown = wanted - {p.name for p in PACKAGES}
        if unknown:
            raise SystemExit(f"fetch: unknown packages {sorted(unknown)}")
        selected = [p for p in selected if p.name in wanted]
    sets = []
    for pkg in selected:
        if args.versions:
            pkg.count = args.versions
        if args.stride:
            pkg.stride = args.stride
        versions = chosen_versions(pkg, cache, args.refresh)
        log(f"{pkg.name}: {', '.join(v for v, _ in versions)}")
        sets.extend(replay_of(pkg, versions))
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": "shipwright-replay", "version": 1, "sets": sets}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=1, sort_keys=True))
    tmp.replace(out)
    edits = sum(1 for s in sets for e in s["edits"] if e["changes"])
    log(f"wrote {out} ({len(sets)} sets, {edits} edits that change templates)")


if __name__ == "__main__":
    main()
