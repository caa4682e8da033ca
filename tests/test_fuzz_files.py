"""Tampered model files: every key of a saved model removed, retyped, negated or nested deeply.

``nn.load`` must either rebuild a working model (some changes are harmless: a negated weight, a
missing optional argument) or raise ``nn.ModelFileError`` in one bounded line that names the key;
``nn.load(path, into=model)`` must leave ``model`` exactly as it was whenever it raises.  Every key
of each model kind is tried with every tampering, so the suite covers the family, not listed cases.

(Optimiser state dicts, ``load_state_dict`` of nn/optim.py, are fuzzed by their owner's tests.)
"""

from __future__ import annotations

import copy
import json

import pytest

import nn

MODELS = {
    "mlp_batchnorm_dropout": lambda: nn.MLP(2, [2, 1], batchnorm=True, dropout=0.2, seed=0),
    "mlp_swish": lambda: nn.MLP(2, [2, 1], activation="swish", seed=0),
    "mlp_maxout": lambda: nn.MLP(1, [2, 1], activation={"name": "maxout", "k": 2}, seed=0),
    "layer": lambda: nn.Layer(2, 2, seed=0),
    "neuron_elu": lambda: nn.Neuron(2, activation="elu", seed=0),
    "batchnorm": lambda: nn.BatchNorm(2),
    "dropout": lambda: nn.Dropout(0.1),
}

DEEP = 40  # deeper than any model file, shallower than json's recursion limit


def _paths(doc, prefix=()):
    """Every key path of the document (objects' keys and lists' indices), parents before children."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


def _tamperings(value):
    """(name, change) pairs: None as change means remove the key."""
    yield "removed", None
    for retyped in ("0.5", None, [1], {}, True, 10 ** 400, -(10 ** 400), 1e308, "", []):
        if type(retyped) is not type(value) or retyped != value:
            yield f"retyped to {retyped!r:.20}", retyped
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value:
        yield "negated", -value
    deep = value
    for _ in range(DEEP):
        deep = [deep]
    yield "nested deeply", deep


def _tampered(doc, path, change):
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if change is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = change
    return doc


def _sample(model):
    n = getattr(model, "nin", None) or getattr(model, "n", None) or 2
    return [0.5 * (i + 1) for i in range(n)]


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_key_tampered_gives_a_working_model_or_a_model_file_error_naming_it(kind, tmp_path):
    model = MODELS[kind]()
    path = tmp_path / "model.json"
    nn.save(model, path)
    doc = json.loads(path.read_text())
    tried = 0
    for key_path in _paths(doc):
        parent = doc
        for key in key_path[:-1]:
            parent = parent[key]
        if isinstance(parent, list) and len(parent) > 1 and key_path[-1] != len(parent) - 1:
            pass  # a list item: removing it shifts the rest (a shorter list), also a fine tampering
        for how, change in _tamperings(parent[key_path[-1]]):
            bad = _tampered(doc, key_path, change)
            path.write_text(json.dumps(bad))
            where = f"{kind}: {'.'.join(map(str, key_path))} {how}"
            target = MODELS[kind]()
            before = (target.state_dict(), target.training)
            for into in (None, target):
                try:
                    loaded = nn.load(path, into=into)
                except nn.ModelFileError as e:
                    message = str(e)
                    assert "\n" not in message and len(message) < 1000, f"{where}: {message[:300]}"
                    named = [str(k) for k in key_path if isinstance(k, str)]
                    assert any(k in message for k in named), f"{where}: {message} names none of {named}"
                    assert (target.state_dict(), target.training) == before, f"{where}: target changed"
                    continue
                except Exception as e:  # noqa: BLE001 - anything else is the defect under test
                    pytest.fail(f"{where}: {type(e).__name__}: {e}"[:500])
                loaded.eval()  # a model that loads must run
                out = loaded.forward_batch([_sample(loaded)] * 2)
                assert len(out) == 2, where
            tried += 1
    assert tried >= 40


def test_a_model_file_nested_100000_levels_is_a_model_file_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "chalkgrad.nn", "version": 1, "architecture": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(nn.ModelFileError, match="nested too deeply"):
        nn.load(path)
