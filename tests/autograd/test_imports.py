"""autograd's import graph has no circles: read every module's imports (ast), at any depth."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autograd"


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: pathlib.Path, name: str | None = None) -> set[str]:
    """autograd modules imported by this file, at module level or inside functions; imports under
    ``if TYPE_CHECKING:`` are for the type checker only and never run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "autograd")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "autograd":
                continue
            for alias in node.names:  # `from . import ops` imports the module autograd.ops
                sub = f"{target}.{alias.name}"
                found.add(sub if (ROOT / (sub.replace(".", "/") + ".py")).exists() else target)
    return {m for m in found if m != name}


def graph() -> dict[str, set[str]]:
    edges = {module_name(p): runtime_imports(p) for p in PACKAGE.rglob("*.py")}
    # importing autograd.x.y runs autograd/__init__ and autograd/x/__init__ first: those are
    # package edges, not the module's own choice, and are left out
    return {m: {t for t in ts if t in edges} for m, ts in edges.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of modules, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges[child]))))
    return None


def test_autograd_has_no_import_cycles():
    edges = graph()
    assert len(edges) > 20 and "autograd.value" in edges["autograd.ops"]
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_graph_and_viz_do_not_import_value():
    edges = graph()
    assert "autograd.value" not in edges["autograd.graph"]
    assert not any("autograd.value" in edges[m] for m in edges if m.startswith("autograd.viz"))


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_lazy_imports_count_and_type_checking_imports_do_not(tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .ops import Op\n"
                    "def f():\n    from .value import Value\n    from . import graph\n    return Value\n")
    assert runtime_imports(fake, "autograd.fake") == {"autograd.value", "autograd.graph"}


@pytest.mark.parametrize("module", ["value", "ops", "backends", "errors", "table", "graph", "modes"])
def test_no_module_fills_another_modules_namespace(module):
    # e.g. value.py used to fill backends.VALUE in with VALUE.__dict__.update(...)
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    assert ".__dict__.update(" not in source
