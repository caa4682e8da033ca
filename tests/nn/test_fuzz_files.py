"""Tampered model files: every key of a saved model removed, retyped, negated or nested deeply.

``nn.load`` must either rebuild a working model (some changes are harmless: a negated weight, a
missing optional argument) or raise ``nn.ModelFileError`` in one bounded line that names the key;
``nn.load(path, into=model)`` must leave ``model`` exactly as it was whenever it raises.  Every key
of each model kind is tried with every tampering, so the suite covers the family, not listed cases.

(Optimiser state dicts, ``load_state_dict`` of nn/optimizer.py, are fuzzed by their owner's tests.)
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


# --- IDX files of every type code, shape and size ------------------------------------------------------
# read_idx returns exactly the declared array or raises nn.idx.IdxError naming the file in one line;
# fashion_mnist(path=...) returns (n x 784 floats in [0, 1], n classes 0..9) only from n >= 1 28x28
# unsigned-byte images and n unsigned-byte labels 0..9, and otherwise an IdxError naming the file at fault.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
UNKNOWN_TYPES = (0x00, 0x0A, 0x0F, 0xFF)
SMALL_SHAPES = [(), (0,), (3,), (1, 1), (2, 28), (28, 28), (0, 28, 28), (1, 28, 28), (3, 28, 28), (3, 2, 3),
                (2, 28, 27), (2, 28, 28, 1), (1, 1, 1, 1, 1)]
HUGE_SHAPES = [(2**32 - 1,) * 3, (2**31, 2**31, 4), (2**32 - 1, 2**32 - 1), (1, 2**32 - 1), (2**16, 2**16, 2**16)]


def _idx(code, shape, payload):
    import struct

    return bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape) + payload


def _values(code, shape):
    import numpy as np

    values = (np.arange(int(np.prod(shape, dtype=np.int64))) % 10).astype(IDX_TYPES[code])
    if values.size and values.dtype.kind == "f":
        values[-1] = np.nan  # a NaN among float values (labels must refuse it, by their type)
    return values.reshape(shape)


def _files():
    """(name, bytes, expected array or None for an IdxError): every type code, shape and size."""
    for code in list(IDX_TYPES) + list(UNKNOWN_TYPES):
        for shape in SMALL_SHAPES + HUGE_SHAPES:
            small = shape in SMALL_SHAPES
            good = _values(code, shape) if small and code in IDX_TYPES else None
            payload = good.tobytes() if good is not None else bytes(6)
            yield f"{code:02x}-{shape}-exact", _idx(code, shape, payload), good if shape else None
            if payload:
                yield f"{code:02x}-{shape}-short", _idx(code, shape, payload[:-1]), None
            yield f"{code:02x}-{shape}-long", _idx(code, shape, payload + b"\0"), None
    yield "header-cut", bytes([0, 0, 0x08, 3, 0, 0]), None
    yield "empty", b"", None


@pytest.mark.parametrize("compress", [False, True])
def test_every_idx_type_shape_and_size_reads_as_declared_or_is_an_idx_error_naming_the_file(tmp_path, compress):
    import gzip

    from nn.idx import IdxError, read_idx

    tried = 0
    for name, raw, expected in _files():
        path = tmp_path / f"file-{tried}.idx"
        path.write_bytes(gzip.compress(raw) if compress else raw)
        try:
            got = read_idx(path)
        except IdxError as e:
            message = str(e)
            assert expected is None, f"{name}: {message}"
            assert f"file-{tried}.idx" in message and "\n" not in message and len(message) < 400, (name, message)
        else:
            assert expected is not None, f"{name}: read as {got.shape} {got.dtype}"
            assert got.shape == expected.shape and got.dtype == expected.dtype.newbyteorder("="), name
            assert got.tobytes() == expected.astype(got.dtype).tobytes(), name
        tried += 1
    assert tried > 500


def _fashion_candidates():
    """(shape, code) of image and label files worth pairing with a good counterpart."""
    shapes = [s for s in SMALL_SHAPES if s] + HUGE_SHAPES[:2]
    return [(code, shape) for code in IDX_TYPES for shape in shapes]


def test_fashion_mnist_loads_only_28x28_byte_images_and_byte_labels_else_names_the_file(tmp_path):
    import numpy as np

    from nn import datasets
    from nn.idx import IdxError

    good_images, good_labels = _values(0x08, (3, 28, 28)), _values(0x08, (3,))
    loaded = 0
    for role in ("images", "labels"):
        for code, shape in _fashion_candidates():
            small = shape in SMALL_SHAPES
            payload = _values(code, shape).tobytes() if small else bytes(4)
            bad = _idx(code, shape, payload)
            images = bad if role == "images" else _idx(0x08, good_images.shape, good_images.tobytes())
            labels = bad if role == "labels" else _idx(0x08, good_labels.shape, good_labels.tobytes())
            (tmp_path / "train-images-idx3-ubyte").write_bytes(images)
            (tmp_path / "train-labels-idx1-ubyte").write_bytes(labels)
            n = shape[0] if small else -1
            fine = code == 0x08 and small and (
                (role == "images" and shape[1:] == (28, 28) and len(shape) == 3 and n == 3)
                or (role == "labels" and len(shape) == 1 and n == 3))
            where = f"{role} of type 0x{code:02x}, shape {shape}"
            try:
                X, y = datasets.fashion_mnist(path=tmp_path)
            except IdxError as e:
                message = str(e)
                assert not fine, f"{where}: {message}"
                at_fault = "train-images" if role == "images" else "train-labels"
                # a count that differs from the good counterpart names both files; otherwise the one at fault
                assert at_fault in message and "\n" not in message and len(message) < 400, (where, message)
                continue
            assert fine, f"{where}: loaded X {X.shape}"
            assert X.shape == (3, 784) and X.dtype == np.float64 and 0.0 <= X.min() and X.max() <= 1.0, where
            assert y.tolist() == [0, 1, 2] and y.dtype == np.int64, where
            loaded += 1
    assert loaded == 2  # the good images with good labels, reached from each side
