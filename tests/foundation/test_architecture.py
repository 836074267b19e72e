"""The architecture contract (issue #9): one house with one-way stairs.

Layers, each importing only those below it (``|``: independent siblings)::

    hpgeo (shell) → api → maps → products | simulator → ingest → geo | registry → base

- ``lint-imports`` (import-linter, configured in pyproject.toml) checks the layers and that the domain
  packages import neither fastapi/starlette nor the shell;
- :func:`scan` (AST, here) checks that no module imports a ``_private`` name of another module and that
  the import graph of the top-level packages has no cycle at all (lazy imports inside functions count);
- the last tests copy the packages, plant one violation of each kind and assert that each is reported,
  so the checks can fail.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hpgeo", "api", "maps", "products", "simulator", "ingest", "geo", "registry", "base")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _modules(root: Path):
    for pkg in PACKAGES:
        for py in sorted((root / pkg).rglob("*.py")):
            rel = py.relative_to(root)
            if "migrations" in rel.parts:
                continue
            parts = rel.with_suffix("").parts
            mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield py, rel, mod, parts[-1] == "__init__"


def _absolute(node: ast.ImportFrom, mod: str, is_pkg: bool) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def scan(root: Path) -> tuple[list[str], dict[str, set[str]]]:
    """(private-import violations, {top-level package: top-level packages it imports}) of the tree at ``root``."""
    private: list[str] = []
    graph: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for py, rel, mod, is_pkg in _modules(root):
        top = rel.parts[0]
        tree = ast.parse(py.read_text(encoding="utf-8"), filename=str(rel))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [(a.name, []) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = [(_absolute(node, mod, is_pkg), [a.name for a in node.names])]
            else:
                continue
            for target, members in targets:
                ttop = target.split(".")[0]
                if ttop in graph and ttop != top:
                    graph[top].add(ttop)
                if ttop not in graph or target == mod:
                    continue
                for name in members:
                    if not name.startswith("_") or name.startswith("__"):
                        continue
                    sub = root.joinpath(*target.split("."), name)
                    if not (sub.with_suffix(".py").exists() or sub.is_dir()):  # a _submodule imported as a module is fine
                        private.append(f"{rel}:{node.lineno} imports private {target}.{name}")
    return private, graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle of the package graph, each once, as [a, b, …, a] starting at its smallest name."""
    found: set[tuple[str, ...]] = set()

    def walk(path: list[str]) -> None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == path[0]:
                i = path.index(min(path))
                found.add(tuple(path[i:] + path[:i]))
            elif nxt not in path and nxt > path[0]:
                walk(path + [nxt])

    for start in sorted(graph):
        walk([start])
    return [[*c, c[0]] for c in sorted(found)]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300)


# --- the repository keeps the contract -----------------------------------------------------------------


def test_lint_imports_keeps_both_contracts():
    r = lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 2 kept, 0 broken." in r.stdout


def test_no_cross_module_private_imports():
    private, _ = scan(ROOT)
    assert private == []


def test_no_import_cycle_between_top_level_packages():
    _, graph = scan(ROOT)
    assert cycles(graph) == []
    assert "geo" in graph["ingest"] and "base" in graph["geo"]  # the scan sees the real imports


def module_graph(root: Path, package: str) -> dict[str, set[str]]:
    """{module: modules of ``package`` it imports (lazy and TYPE_CHECKING imports included)} for one package."""
    graph: dict[str, set[str]] = {}
    for py, rel, mod, is_pkg in _modules(root):
        if rel.parts[0] != package:
            continue
        deps = graph.setdefault(mod, set())
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, mod, is_pkg)
                names = [f"{base}.{a.name}" if (root.joinpath(*base.split("."), a.name).with_suffix(".py")).exists() else base for a in node.names]
            else:
                continue
            deps.update(n for n in names if n.split(".")[0] == package and n != mod and n != package)
    return graph


def test_no_import_cycle_between_registry_modules():
    """The registry's store, reports and template import each other one way only (no lazy-import loop)."""
    graph = module_graph(ROOT, "registry")
    assert "registry.template" in graph["registry.store"] and "registry.rows" in graph["registry.reports"]
    assert cycles(graph) == []


def test_scan_resolves_relative_and_lazy_imports(tmp_path):
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "__init__.py").write_text("")
    (tmp_path / "geo" / "_hidden.py").write_text("")
    (tmp_path / "geo" / "a.py").write_text("def _p():\n    pass\n")
    (tmp_path / "geo" / "b.py").write_text(
        "from . import _hidden\nfrom .a import _p\n\ndef f():\n    from base.x import _q\n    import ingest\n"
    )
    for pkg in set(PACKAGES) - {"geo"}:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "ingest" / "__init__.py").write_text("import geo\n")
    private, graph = scan(tmp_path)
    assert private == ["geo/b.py:2 imports private geo.a._p", "geo/b.py:5 imports private base.x._q"]
    assert graph["geo"] == {"base", "ingest"}
    assert cycles(graph) == [["geo", "ingest", "geo"]]


# --- the checks can fail: plant one violation of each kind in a copy -------------------------------------


@pytest.fixture(scope="module")
def broken_copy(tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("broken-house")
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, dst / pkg, ignore=shutil.ignore_patterns("__pycache__", "data", "*.tif"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")

    def append(rel: str, line: str) -> None:
        p = dst / rel
        p.write_text(p.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")

    append("geo/crs.py", "import products.build  # planted: geo → products, against the layers")
    append("maps/render.py", "from products.flood import _threshold  # planted: a private name of another module")
    append("products/oil.py", "import fastapi  # planted: a domain package → the web framework")
    append("registry/vocab.py", "def _planted():\n    from hpgeo.cli import app  # planted: a domain package → the shell (lazy)")
    return dst


def test_lint_imports_reports_planted_layer_and_forbidden_imports(broken_copy):
    r = lint_imports(broken_copy)
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert "Contracts: 0 kept, 2 broken." in out
    assert "geo.crs -> products.build (l." in out
    assert "products.oil -> fastapi (l." in out
    assert "registry.vocab -> hpgeo.cli (l." in out


def test_scan_reports_planted_private_import_and_cycle(broken_copy):
    private, graph = scan(broken_copy)
    assert len(private) == 1 and private[0].startswith("maps/render.py:") and private[0].endswith("imports private products.flood._threshold")
    found = cycles(graph)
    assert ["geo", "products", "geo"] in found  # geo → products → … → geo
