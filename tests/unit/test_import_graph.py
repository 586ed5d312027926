"""The import graph of ``videogen/``: no cycle, and the layers point one way (serve -> video core -> base).

Every import counts: top level, inside functions, under ``TYPE_CHECKING``, and
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name.

What an import depends on:

- ``import a.b.c`` depends on ``a.b.c`` and on the packages ``a`` and ``a.b`` (their
  ``__init__`` runs first);
- ``from a.b import c`` depends on ``a.b.c`` when that is a module, and on ``a.b`` itself
  when ``c`` is a name defined in ``a/b/__init__.py``; the packages above count as
  for ``import``;
- a module's *own* enclosing packages are not counted as packages passed through:
  Python always runs them before the module, so ``families/wan/adapter.py`` writing
  ``from videogen.video.families.wan.spec import SPEC`` does not make it depend on
  ``videogen.video.families`` (whose ``__init__`` lists the families). Importing a
  *name* from an enclosing package (``from videogen.video.families import get_spec``)
  does count: that is the real cycle.

For the layering checks, "what importing X executes" also includes X's enclosing
packages, since their ``__init__`` runs whenever X is imported.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "videogen"

BASE_LAYER = {"videogen.errors", "videogen.paths", "videogen.rocm_env"}
TOP_LAYER_PREFIXES = ("videogen.serve", "videogen.cli")


# -- building the graph ---------------------------------------------------------------------------


def discover_modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root/package``."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _ancestors(name: str) -> list[str]:
    """``"a.b.c"`` -> ``["a", "a.b"]``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _dynamic_import_target(node: ast.Call) -> str | None:
    """The literal module name of ``importlib.import_module("x")`` / ``import_module("x")`` / ``__import__("x")``."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and not first.value.startswith("."):
        return first.value
    return None


def imports_of(name: str, path: Path, modules: Iterable[str]) -> set[str]:
    """The modules (among ``modules``) that module ``name`` depends on, per the rules in this file's docstring."""
    known = set(modules)
    is_package = path.name == "__init__.py"
    own_package = name if is_package else name.rpartition(".")[0]
    enclosing = set(_ancestors(name))
    deps: set[str] = set()

    def passed_through(target: str) -> None:
        deps.update(p for p in _ancestors(target) if p not in enclosing)

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                deps.add(alias.name)
                passed_through(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = own_package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: -(node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            submodules = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known}
            deps.update(submodules)
            names_from_base = len(submodules) < len(node.names)  # includes "import *"
            if names_from_base or base not in enclosing:
                deps.add(base)
            passed_through(base)
        elif isinstance(node, ast.Call):
            target = _dynamic_import_target(node)
            if target:
                deps.add(target)
                passed_through(target)
    deps.discard(name)
    return deps & known


def build_graph(root: Path, package: str) -> dict[str, set[str]]:
    modules = discover_modules(root, package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


# -- cycles ---------------------------------------------------------------------------------------


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, as ``[a, b, ..., a]``."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {component}")  # pragma: no cover


def find_cycles(graph: dict[str, set[str]]) -> list[str]:
    """One readable cycle per strongly connected component, e.g. ``"a -> b -> a"``."""
    return [" -> ".join(cycle_path(graph, component)) for component in strongly_connected(graph)]


# -- layering -------------------------------------------------------------------------------------


def executed_on_import(graph: dict[str, set[str]], name: str) -> set[str]:
    """Every module importing ``name`` runs: its imports, transitively, and every enclosing package."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(graph.get(node, ()))
        todo.extend(p for p in _ancestors(node) if p in graph)
    seen.discard(name)
    return seen


def _in(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    core = [m for m in graph if _in(m, ("videogen.video",)) or m in BASE_LAYER]
    for module in sorted(core):
        reached = sorted(m for m in executed_on_import(graph, module) if _in(m, TOP_LAYER_PREFIXES))
        if reached:
            problems.append(f"{module} imports (directly or not) {', '.join(reached)}")
    for module in sorted(BASE_LAYER & set(graph)):
        allowed = {"videogen.errors", "videogen.paths"} if module != "videogen.rocm_env" else BASE_LAYER
        extra = sorted(m for m in graph[module] if m not in allowed)
        if extra:
            problems.append(f"{module} is a base module but imports {', '.join(extra)}")
    return problems


# -- the real tree --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return build_graph(REPO, PACKAGE)


def test_videogen_has_no_import_cycle(graph):
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in videogen/:\n  " + "\n  ".join(cycles)


def test_layers_point_one_way(graph):
    problems = layering_violations(graph)
    assert not problems, "layering violations:\n  " + "\n  ".join(problems)


def test_graph_sees_the_real_tree(graph):
    # Guards against a silently empty graph (wrong root) making the checks above vacuous.
    assert "videogen.video.hardware" in graph and "videogen.serve" in graph
    assert "videogen.video.hardware" in graph["videogen.video.policy"]


# -- the checks themselves, on planted packages ---------------------------------------------------


def write_package(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def test_planted_cycle_through_function_import_is_found(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "from pkg import c\nthing = 1\n",
            "pkg/c.py": "def late():\n    import pkg.a\n",
            "pkg/d.py": "import pkg.a\n",
        },
    )
    cycles = find_cycles(build_graph(tmp_path, "pkg"))
    assert cycles == ["pkg.a -> pkg.b -> pkg.c -> pkg.a"]


def test_planted_cycle_under_type_checking_and_relative_import_is_found(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/x.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from ..y import Y
        """,
            "pkg/y.py": "from .sub import x\n",
        },
    )
    assert find_cycles(build_graph(tmp_path, "pkg")) == ["pkg.sub.x -> pkg.y -> pkg.sub.x"]


def test_dynamic_import_with_literal_name_counts(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import importlib\ndef f():\n    return importlib.import_module('pkg.b')\n",
            "pkg/b.py": "import pkg.a\n",
        },
    )
    assert find_cycles(build_graph(tmp_path, "pkg")) == ["pkg.a -> pkg.b -> pkg.a"]


def test_passing_through_a_package_whose_init_imports_back_is_a_cycle(tmp_path):
    # Importing tools.parts runs tools/__init__.py, which imports the importer back.
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/tools/__init__.py": "from pkg.user import helper\n",
            "pkg/tools/parts.py": "",
            "pkg/user.py": "import pkg.tools.parts\nhelper = 1\n",
        },
    )
    assert find_cycles(build_graph(tmp_path, "pkg")) == ["pkg.tools -> pkg.user -> pkg.tools"]


def test_package_listing_its_children_is_not_a_cycle(tmp_path):
    # families/__init__ imports each family; a family's modules import siblings by absolute name.
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/families/__init__.py": "from pkg.families import wan\nfrom pkg.families.wan import SPEC\n",
            "pkg/families/wan/__init__.py": "from pkg.families.wan.spec import SPEC\nfrom .adapter import Adapter\n",
            "pkg/families/wan/spec.py": "SPEC = 1\n",
            "pkg/families/wan/adapter.py": "from pkg.families.wan.spec import SPEC\nfrom pkg.families.wan import spec\n",
        },
    )
    graph = build_graph(tmp_path, "pkg")
    assert find_cycles(graph) == []
    assert graph["pkg.families.wan.adapter"] == {"pkg.families.wan.spec"}
    assert graph["pkg.families"] == {"pkg.families.wan"}


def test_child_taking_a_name_from_its_listing_package_is_a_cycle(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/families/__init__.py": "from pkg.families import wan\ndef get_spec(): ...\n",
            "pkg/families/wan.py": "def f():\n    from pkg.families import get_spec\n",
        },
    )
    assert find_cycles(build_graph(tmp_path, "pkg")) == ["pkg.families -> pkg.families.wan -> pkg.families"]


def test_layering_violations_are_reported(tmp_path):
    write_package(
        tmp_path,
        {
            "videogen/__init__.py": "",
            "videogen/errors.py": "from videogen.paths import x\n",
            "videogen/paths.py": "import videogen.video.hardware\nx = 1\n",
            "videogen/rocm_env.py": "from videogen import paths\n",
            "videogen/cli.py": "",
            "videogen/serve/__init__.py": "",
            "videogen/serve/app.py": "import videogen.video.worker\n",
            "videogen/video/__init__.py": "",
            "videogen/video/hardware.py": "def f():\n    import videogen.cli\n",
            "videogen/video/worker.py": "def f():\n    from videogen.video import helper\n",
            "videogen/video/helper.py": "from videogen.serve.app import thing\n",
        },
    )
    problems = layering_violations(build_graph(tmp_path, "videogen"))
    assert problems == [
        # errors -> paths -> video.hardware -> cli (inside a function)
        "videogen.errors imports (directly or not) videogen.cli",
        "videogen.paths imports (directly or not) videogen.cli",
        "videogen.rocm_env imports (directly or not) videogen.cli",
        "videogen.video.hardware imports (directly or not) videogen.cli",
        # importing serve.app runs serve/__init__ too
        "videogen.video.helper imports (directly or not) videogen.serve, videogen.serve.app",
        "videogen.video.worker imports (directly or not) videogen.serve, videogen.serve.app",
        "videogen.paths is a base module but imports videogen.video, videogen.video.hardware",
    ]


def test_enclosing_package_init_counts_for_layering(tmp_path):
    # Importing videogen.video.x runs videogen/video/__init__.py, which here pulls in serve.
    write_package(
        tmp_path,
        {
            "videogen/__init__.py": "",
            "videogen/serve/__init__.py": "",
            "videogen/video/__init__.py": "import videogen.serve\n",
            "videogen/video/x.py": "",
        },
    )
    problems = layering_violations(build_graph(tmp_path, "videogen"))
    assert "videogen.video.x imports (directly or not) videogen.serve" in problems
