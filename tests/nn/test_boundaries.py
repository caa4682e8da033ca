"""nn uses autograd's public API, or the internal API autograd names in one module (autograd.internal)."""

import ast
import pathlib

import autograd
import autograd.internal
import autograd.viz

NN = pathlib.Path(__file__).resolve().parents[2] / "nn"
ALLOWED = {"autograd": set(autograd.__all__), "autograd.internal": set(autograd.internal.__all__),
           "autograd.viz": set(autograd.viz.__all__)}


def _uses(tree: ast.AST):
    """(module, name) for each name nn takes from autograd: imports and attributes of ``autograd``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "autograd":
            yield from ((node.module, a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (("import", a.name) for a in node.names if a.name.startswith("autograd."))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "autograd":
            yield "autograd", node.attr


def test_nn_takes_from_autograd_only_what_autograd_exports():
    wrong = []
    for path in sorted(NN.rglob("*.py")):
        for module, name in _uses(ast.parse(path.read_text(encoding="utf-8"))):
            if name not in ALLOWED.get(module, set()) and not (module == "autograd" and name.startswith("__")):
                wrong.append(f"{path.name}: {module} {name}")
    assert wrong == []


def test_the_internal_api_names_what_it_defines():
    assert all(hasattr(autograd.internal, name) for name in autograd.internal.__all__)
    assert not {name for name in vars(autograd.internal) if not name.startswith("_")} - \
        set(autograd.internal.__all__) - {"annotations"}
