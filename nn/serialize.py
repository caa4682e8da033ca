"""Saving and loading models as JSON: the architecture plus every weight, nothing executable.

The file is plain JSON::

    {"format": "chalkgrad.nn", "version": 1,
     "architecture": {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], ...},
     "training": true,
     "state": {"layers.0.neurons.0.w[0]": 0.94171540468066, ...}}

Python's ``json`` writes floats with ``repr``, the shortest text that reads back as the same
double, so weights round-trip bit for bit.  ``load`` only ever calls the constructors of the five
known module types with checked arguments: no pickle, no eval, nothing from the file is run.

>>> import nn, tempfile, os
>>> model = nn.MLP(2, [3, 1], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> nn.save(model, path)
>>> nn.load(path).state_dict() == model.state_dict()
True
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from .layers import MLP, BatchNorm, Dropout, Layer, Neuron
from .module import Module

__all__ = ["save", "load", "ModelFileError", "FORMAT", "FORMAT_VERSION"]

FORMAT = "chalkgrad.nn"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file that is not a readable chalkgrad model (corrupt, foreign or of a wrong shape)."""


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model`` (architecture and weights) to ``path`` as JSON.

    The file is written to a temporary name and renamed, so a failure never leaves half a file.
    Models with custom callables (activations, module types) cannot be saved: ``ValueError``.
    """
    if not hasattr(model, "config"):
        raise ValueError(f"nn.save: cannot save a {type(model).__name__}; only Neuron, Layer, MLP, "
                         "Dropout and BatchNorm have a saved form")
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "architecture": model.config(),
        "training": bool(model.training),
        "state": model.state_dict(),
    }
    text = json.dumps(doc, indent=1, allow_nan=False)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".chalkgrad-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved model is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(path: str | os.PathLike, into: Module | None = None) -> Module:
    """Rebuild the model saved at ``path``; with ``into``, load the weights into that model instead.

    A missing file raises ``FileNotFoundError``; a file that is not JSON, not a chalkgrad model,
    of an unknown version or with inconsistent weights raises ``ModelFileError`` saying why.  With
    ``into`` the architecture must match and, on any error, ``into`` is left exactly as it was.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ModelFileError(
            f"nn.load: {os.fspath(path)!r} is not a chalkgrad model (not UTF-8 text)"
        ) from None
    where = f"nn.load: {os.fspath(path)!r}"
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:  # '[' * 10**5: json's parser recurses once per level
        raise ModelFileError(f"{where} is not a chalkgrad model (JSON nested too deeply)") from None
    except (json.JSONDecodeError, ValueError) as e:
        raise ModelFileError(f"{where} is not valid JSON ({e})") from None
    if _depth(doc) > _MAX_DEPTH:  # the checks below repr and compare values, which recurse too
        raise ModelFileError(f"{where} is not a chalkgrad model (JSON nested more than {_MAX_DEPTH} levels)")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{where} is not a chalkgrad model file (no \"format\": \"{FORMAT}\")")
    if doc.get("version") != FORMAT_VERSION:
        raise ModelFileError(f"{where}: unsupported format version {doc.get('version')!r} "
                             f"(this chalkgrad reads version {FORMAT_VERSION})")
    arch, state, training = doc.get("architecture"), doc.get("state"), doc.get("training", True)
    if not isinstance(arch, dict):
        raise ModelFileError(f"{where}: \"architecture\" must be an object, got {arch!r:.60}")
    if not isinstance(state, dict):
        raise ModelFileError(f"{where}: \"state\" must be an object name -> number, got {state!r:.60}")
    if not isinstance(training, bool):
        raise ModelFileError(f"{where}: \"training\" must be true or false, got {training!r:.60}")
    if into is not None:
        try:
            mine = into.config()  # type: ignore[attr-defined]  # AttributeError is caught
        except (AttributeError, ValueError) as e:
            raise ModelFileError(f"{where}: cannot check the target model's architecture ({e})") from None
        if _canonical(mine) != _canonical(arch):
            raise ModelFileError(f"{where}: architecture {arch} does not match the model's {mine}")
        model = into
    else:
        model = _build(arch, len(state), where)
    try:
        model.load_state_dict(state, strict=True)
    except ValueError as e:
        raise ModelFileError(f"{where}: {e}") from None
    model.train(training)
    return model


_MAX_DEPTH = 8  # a model file is 3 levels deep: document, architecture, activation spec


def _depth(doc: Any) -> int:
    """How deeply lists and objects nest in ``doc`` (iterative: a forged file must not recurse)."""
    deepest, stack = 0, [(doc, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, (dict, list)):
            level += 1
            deepest = max(deepest, level)
            if level <= _MAX_DEPTH:
                stack.extend((v, level) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _canonical(cfg: dict) -> dict:
    # The initialiser only matters before weights are loaded, so it is no part of the match.
    return {k: v for k, v in cfg.items() if k not in ("init", "seed")}


# Arguments a saved architecture must give: the constructors have no default for them.
_REQUIRED = {"Neuron": ("nin",), "Layer": ("nin", "nout"), "MLP": ("nin", "nouts"), "BatchNorm": ("n",)}

_BUILDERS: dict[str, tuple[type, dict[str, tuple[type, ...]]]] = {
    "Neuron": (Neuron, {"nin": (int,), "activation": (dict,), "init": (str, type(None)), "bias": (bool,)}),
    "Layer": (Layer, {"nin": (int,), "nout": (int,), "activation": (dict,), "init": (str, type(None)),
                      "bias": (bool,)}),
    "MLP": (MLP, {"nin": (int,), "nouts": (list,), "activation": (dict,), "output_activation": (dict,),
                  "init": (str, type(None)), "dropout": (int, float), "batchnorm": (bool,),
                  "seed": (int, type(None)), "bn_momentum": (int, float), "bn_eps": (int, float)}),
    "Dropout": (Dropout, {"p": (int, float)}),
    "BatchNorm": (BatchNorm, {"n": (int,), "momentum": (int, float), "eps": (int, float)}),
}


def _build(arch: dict, n_state: int, where: str) -> Module:
    kind = arch.get("type")
    if kind not in _BUILDERS:
        raise ModelFileError(f"{where}: unknown module type {kind!r}; known: {', '.join(_BUILDERS)}")
    cls, allowed = _BUILDERS[kind]
    kwargs = {k: v for k, v in arch.items() if k != "type"}
    for key, value in kwargs.items():
        if key not in allowed:
            raise ModelFileError(f"{where}: {kind} has no argument {key!r}")
        if isinstance(value, bool) and bool not in allowed[key] or not isinstance(value, allowed[key]):
            raise ModelFileError(f"{where}: {kind} argument {key!r} has the wrong type: {value!r:.60}")
    for key in _REQUIRED.get(kind, ()):
        if key not in kwargs:
            raise ModelFileError(f"{where}: {kind} architecture has no {key!r} (needed to rebuild it)")
    _check_size(kind, kwargs, n_state, where)
    if kwargs.get("init") is None:
        kwargs.pop("init", None)
        if kind in ("Neuron", "Layer"):
            kwargs["init"] = "zeros"  # weights are overwritten by the state just after
    try:
        built: Module = cls(**kwargs)
        return built
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"{where}: cannot build {kind} from {kwargs} ({e})") from None


def _check_size(kind: str, kwargs: dict, n_state: int, where: str) -> None:
    # A forged architecture (nin = 10**9, maxout k = 10**7) must fail on its numbers, not by
    # exhausting memory: count every number the constructor would create before calling it.
    def ints(*keys: str) -> list[Any]:
        return [kwargs.get(k) for k in keys]

    if kind == "MLP":
        nouts = kwargs.get("nouts")
        sizes = ints("nin") + (nouts if isinstance(nouts, list) else [])
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
            raise ModelFileError(f"{where}: MLP layer sizes must be integers, got {sizes!r:.60}")
        weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
        hidden, last = sum(sizes[1:-1]), sizes[-1] if len(sizes) > 1 else 0
        weights += hidden * _activation_size(kwargs.get("activation", {"name": "relu"}))
        weights += last * _activation_size(kwargs.get("output_activation"))
    elif kind == "Layer":
        nin, nout = ints("nin", "nout")
        weights = nin * nout + nout * _activation_size(kwargs.get("activation"))
    elif kind == "Neuron":
        (nin,) = ints("nin")
        weights = nin + _activation_size(kwargs.get("activation"))
    elif kind == "BatchNorm":
        (weights,) = ints("n")
    else:
        weights = 0
    if weights > n_state:
        raise ModelFileError(
            f"{where}: the architecture needs at least {weights} weights but the state holds {n_state}"
        )


def _activation_size(spec: Any) -> int:
    """Trainable numbers per neuron of a saved activation (maxout: 2k, swish: 1)."""
    if not isinstance(spec, dict):
        return 0
    if spec.get("name") == "maxout":
        k = spec.get("k", 2)
        return 2 * k if isinstance(k, int) and not isinstance(k, bool) and k > 0 else 0
    return 1 if spec.get("name") == "swish" else 0
