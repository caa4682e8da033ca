"""nn.save / nn.load: exact JSON round trips, and a clear error for every bad file."""

from __future__ import annotations

import json
import pickle

import pytest

import nn
from nn import MLP, BatchNorm, Dropout, Layer, Neuron


def trained_like(model):
    """Give every parameter an awkward float (many digits, tiny, negative) and move running stats."""
    for i, p in enumerate(model.parameters()):
        p.data = (-1) ** i * (0.1 + i / 7) * 10.0 ** ((i % 9) - 4)
    if getattr(model, "norms", None):
        model.forward_batch([[0.1 * k + j for j in range(model.nin)] for k in range(3)])
    return model


MODELS = [
    lambda: MLP(2, [16, 16, 1], seed=0),
    lambda: MLP(3, [4, 4, 2], activation="swish", output_activation="sigmoid", dropout=0.3, seed=1),
    lambda: MLP(2, [3, 3, 1], activation=nn.get_activation("maxout", k=3), batchnorm=True, seed=2,
                bn_momentum=0.2, bn_eps=1e-3),
    lambda: MLP(2, [3, 1], activation=nn.get_activation("leaky_relu", alpha=0.2), init="uniform"),
    lambda: Layer(3, 2, activation="elu", bias=False, seed=0),
    lambda: Neuron(4, activation="selu", init="lecun_normal", seed=0),
    lambda: BatchNorm(3, momentum=0.3),
    lambda: Dropout(0.4),
]


@pytest.mark.parametrize("make", MODELS)
def test_round_trip_is_exact(make, tmp_path):
    model = trained_like(make())
    if isinstance(model, BatchNorm):
        model.forward_batch([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    model.eval()
    path = tmp_path / "model.json"
    nn.save(model, path)
    loaded = nn.load(path)
    assert type(loaded) is type(model)
    assert loaded.state_dict() == model.state_dict()  # bit for bit: == on floats
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert repr(loaded) == repr(model) and loaded.training is False
    if isinstance(model, MLP):
        x = [0.25 * j - 0.3 for j in range(model.nin)]
        a, b = model(x), loaded(x)
        assert [v.data for v in (a if isinstance(a, list) else [a])] == [
            v.data for v in (b if isinstance(b, list) else [b])
        ]
    doc = json.loads(path.read_text())
    assert doc["format"] == "chalkgrad.nn" and doc["version"] == 1
    nn.save(loaded, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == path.read_text()


def test_training_mode_and_into(tmp_path):
    model = trained_like(MLP(2, [3, 1], dropout=0.5, seed=0))
    nn.save(model, tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json").training is True
    target = MLP(2, [3, 1], dropout=0.5, seed=123).eval()
    assert nn.load(tmp_path / "m.json", into=target) is target
    assert target.state_dict() == model.state_dict() and target.training


def test_custom_activation_cannot_be_saved_and_no_file_is_left(tmp_path):
    path = tmp_path / "m.json"
    nn.save(MLP(2, [2, 1], seed=0), path)
    before = path.read_text()
    with pytest.raises(ValueError, match="custom callable and cannot be saved"):
        nn.save(MLP(2, [2, 1], activation=lambda v: v * v, seed=0), path)
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]  # no temporary file left


def test_unsaveable_module(tmp_path):
    class Custom(nn.Module):
        pass

    with pytest.raises(ValueError, match="cannot save a Custom"):
        nn.save(Custom(), tmp_path / "c.json")


def _good_doc():
    model = trained_like(MLP(2, [3, 1], seed=0))
    return {
        "format": "chalkgrad.nn", "version": 1, "architecture": model.config(),
        "training": True, "state": model.state_dict(),
    }


def _edit(change):
    doc = _good_doc()
    change(doc)
    return json.dumps(doc)


BAD_FILES = [
    ("not json {", "not valid JSON"),
    ("", "not valid JSON"),
    (pickle.dumps({"a": 1}), "not a chalkgrad model \\(not UTF-8"),
    ("[1, 2, 3]", "not a chalkgrad model file"),
    ('{"weights": [1, 2]}', "not a chalkgrad model file"),
    (_edit(lambda d: d.update(format="keras")), "not a chalkgrad model file"),
    (_edit(lambda d: d.update(version=2)), "unsupported format version 2"),
    (_edit(lambda d: d.pop("version")), "unsupported format version None"),
    (_edit(lambda d: d.update(architecture=[1])), '"architecture" must be an object'),
    (_edit(lambda d: d.update(state=[1.0])), '"state" must be an object'),
    (_edit(lambda d: d.update(training="yes")), '"training" must be true or false'),
    (_edit(lambda d: d["architecture"].update(type="Transformer")), "unknown module type 'Transformer'"),
    (_edit(lambda d: d["architecture"].update(type="__import__")), "unknown module type"),
    (_edit(lambda d: d["architecture"].update(evil="os.system")), "MLP has no argument 'evil'"),
    (_edit(lambda d: d["architecture"].update(nin="2")), "argument 'nin' has the wrong type"),
    (_edit(lambda d: d["architecture"].update(batchnorm=1)), "argument 'batchnorm' has the wrong type"),
    (_edit(lambda d: d["architecture"].update(nouts=[3, 0])), "cannot build MLP"),
    (_edit(lambda d: d["architecture"].update(nin=10**9)), "needs at least 3000000003 weights"),
    (_edit(lambda d: d["architecture"].update(activation={"name": "os.system"})), "no activation named 'os.system'"),
    # maxout's k trainable slopes and intercepts per neuron count too: 9 weights + 2 * 300000.
    (_edit(lambda d: d["architecture"].update(output_activation={"name": "maxout", "k": 300000})),
     "needs at least 600009 weights but the state holds 13"),
    (_edit(lambda d: d["architecture"].update(activation={"name": "maxout", "k": 50000})),
     "needs at least 300009 weights"),
    pytest.param("[" * 200_000 + "]" * 200_000, "JSON nested too deeply", id="200000-nested-lists"),
    (_edit(lambda d: d["architecture"].update(activation=json.loads("[" * 500 + "]" * 500))),
     "nested more than 8 levels"),
    (_edit(lambda d: d["state"].pop("layers.1.neurons.0.b")), "missing 1 entry"),
    (_edit(lambda d: d["state"].update(extra=1.0)), "unexpected 1 entry: 'extra'"),
    (_edit(lambda d: d["state"].update({"layers.1.neurons.0.b": "1.5"})), "must be a real number"),
    (_edit(lambda d: d["state"].update({"layers.1.neurons.0.b": None})), "must be a real number"),
    (_edit(lambda d: d["state"].update({"layers.1.neurons.0.b": 1e300})).replace("1e+300", "1e400"),
     "is inf, not a finite"),
    (_edit(lambda d: d["state"].update({"layers.1.neurons.0.b": float("inf")})), "Infinity is not a finite"),
    (_edit(lambda d: d["state"].update({"layers.1.neurons.0.b": 10**400})), "\\(int\\) is beyond the float range"),
    (json.dumps(_good_doc()).replace(json.dumps(_good_doc()["state"]["layers.1.neurons.0.b"]), "NaN", 1),
     "NaN is not a finite number"),
]


@pytest.mark.parametrize("content, message", BAD_FILES)
def test_bad_files_raise_and_leave_the_model_untouched(content, message, tmp_path):
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(nn.ModelFileError, match=message):
        nn.load(path)
    target = MLP(2, [3, 1], seed=5)
    before = target.state_dict()
    with pytest.raises(nn.ModelFileError):
        nn.load(path, into=target)
    assert target.state_dict() == before and target.training


def test_architecture_mismatch_with_into(tmp_path):
    nn.save(trained_like(MLP(2, [3, 1], seed=0)), tmp_path / "m.json")
    for other in (MLP(2, [4, 1], seed=0), MLP(2, [3, 1], activation="tanh", seed=0), Layer(2, 3)):
        before = other.state_dict()
        with pytest.raises(nn.ModelFileError, match="does not match"):
            nn.load(tmp_path / "m.json", into=other)
        assert other.state_dict() == before


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        nn.load("/nonexistent/dir/model.json")


def test_the_good_document_itself_loads(tmp_path):
    # Guards the bad-file table: each failure comes from its one edit, not from a broken base.
    (tmp_path / "ok.json").write_text(json.dumps(_good_doc()))
    assert nn.load(tmp_path / "ok.json").state_dict() == _good_doc()["state"]


def test_saved_file_has_ordinary_permissions(tmp_path):
    import os
    import stat

    import nn

    path = tmp_path / "m.json"
    nn.save(nn.MLP(2, [3, 1], seed=0), path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask
