"""nn's structure rules, checked on the source: what modules share is public, no import circle between
compiled training and fit, no class swapping of live objects; Dropout takes its mask as an input."""

import ast
import pathlib

import pytest

import nn
from autograd import Value
from nn import Dropout

NN = pathlib.Path(nn.__file__).parent
SOURCES = {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in NN.glob("*.py")}


def _relative_imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            yield node


def test_no_module_imports_another_modules_underscore_names():
    found = [f"nn/{name}.py: from .{node.module} import {alias.name}"
             for name, tree in SOURCES.items() for node in _relative_imports(tree)
             for alias in node.names if alias.name.startswith("_") and node.module is not None]
    assert found == []  # `from . import _module` imports a private *module*, which is allowed


def test_compiled_training_does_not_import_fit():
    imported = {node.module for node in _relative_imports(SOURCES["compiled"])}
    assert "train" not in imported and "prepare" not in imported


def test_no_class_of_a_live_object_is_swapped():
    swaps = [f"nn/{name}.py:{node.lineno}" for name, tree in SOURCES.items() for node in ast.walk(tree)
             if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "__class__"
                                                     for t in node.targets)]
    assert swaps == []


def test_dropout_takes_a_mask_as_an_input():
    d = Dropout(0.5, seed=0)
    x = [Value(1.0), Value(2.0), Value(3.0)]
    assert [v.data for v in d(x, mask=[0.0, 2.0, 2.0])] == [0.0, 4.0, 6.0]
    masks = []
    with d.masks_from(lambda n: masks.append(n) or [2.0] * n):
        assert [v.data for v in d(x)] == [2.0, 4.0, 6.0]
    assert masks == [3]
    drawn = Dropout(0.5, seed=0).draw(3)
    assert [v.data for v in d(x)] == [a * b for a, b in zip([1.0, 2.0, 3.0], drawn)]  # drawing again after
    with pytest.raises(ValueError, match="^Dropout: the mask has 2 entries for 3 inputs$"):
        d(x, mask=[1.0, 1.0])
    d.eval()
    assert d(x, mask=[0.0, 0.0, 0.0]) == x  # eval: the identity, whatever the mask


def test_compiled_training_with_dropout_leaves_the_layers_as_they_were():
    X, y = nn.datasets.xor(labels="sign")
    runs = []
    for compile in (True, False):
        model = nn.MLP(2, [8, 1], dropout=0.25, seed=3)
        seen = []
        nn.fit(model, X, y, loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=3,
               progress=False, compile=compile,
               callbacks=[lambda epoch, logs, m=model, s=seen: s.append([type(d) for d in m.dropouts])])
        assert seen == [[Dropout]] * 3 and all(d._masks is None for d in model.dropouts)
        runs.append(model.state_dict())
    compiled, eager = runs
    assert compiled.keys() == eager.keys()
    assert all(abs(compiled[k] - eager[k]) < 1e-12 for k in compiled)  # the same masks drawn either way
