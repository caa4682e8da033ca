"""Activation functions, by name or callable, for neurons and layers.

Every function here calls ``Value`` methods or ``autograd`` functions, so each derivative comes
from the op table (``autograd/ops.py``); no derivative formula is written in ``nn``.

Two activations carry trainable parameters of their own, one set per neuron:

* ``swish``: x * sigmoid(beta x) with a trainable ``beta`` (seed 003), initialised to 1;
* ``maxout``: max_j (a_j z + c_j) over ``k`` linear pieces of the neuron's weighted sum z
  (seed 002's max{a_1 s + b_1, a_2 s + b_2}), with trainable slopes ``a`` and intercepts ``c``.

>>> from autograd import Value
>>> get_activation("leaky_relu", alpha=0.1)(Value(-2.0)).data
-0.2
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import autograd
from autograd import Value

from . import validate

__all__ = [
    "Activation",
    "ActivationLike",
    "ACTIVATIONS",
    "get_activation",
    "identity",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "sigmoid",
    "tanh",
    "softplus",
    "swish",
    "maxout",
]


# --- the functions on one Value --------------------------------------------------------------------
def identity(x: Value) -> Value:
    """x (a linear unit)."""
    return x


def relu(x: Value) -> Value:
    """max(x, 0)."""
    return x.relu()


def leaky_relu(x: Value, alpha: float = 0.01) -> Value:
    """x for x > 0, alpha x otherwise."""
    return x.leaky_relu(alpha)


def elu(x: Value, alpha: float = 1.0) -> Value:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return x.elu(alpha)


def selu(x: Value) -> Value:
    """Scaled ELU with the self-normalising constants (seed 003)."""
    return x.selu()


def sigmoid(x: Value) -> Value:
    """1 / (1 + e^-x)."""
    return x.sigmoid()


def tanh(x: Value) -> Value:
    """tanh(x)."""
    return x.tanh()


def softplus(x: Value) -> Value:
    """log(1 + e^x)."""
    return x.softplus()


def swish(x: Value, beta: Value | float = 1.0) -> Value:
    """x * sigmoid(beta x); pass a Value as beta to train it."""
    return x.swish(beta)


def maxout(x: Value, slopes: Sequence[Value | float], intercepts: Sequence[Value | float]) -> Value:
    """max_j (slopes[j] x + intercepts[j]); at a tie the gradient is shared (autograd.maximum)."""
    if len(slopes) != len(intercepts) or not slopes:
        raise ValueError(
            f"maxout: needs as many slopes as intercepts (at least one), "
            f"got {len(slopes)} and {len(intercepts)}"
        )
    out = slopes[0] * x + intercepts[0]
    for a, c in zip(slopes[1:], intercepts[1:]):
        out = autograd.maximum(out, a * x + c)
    return out


# --- the Activation object neurons hold ------------------------------------------------------------
class Activation:
    """A named activation with its hyper-parameters and the trainable parameters it needs per neuron.

    ``param_shapes`` maps each trainable parameter's attribute name to its length (``None`` for a
    single Value); ``initial_params()`` gives their starting values; ``act(z, params)`` applies it,
    ``params`` being a dict name -> Value or list of Values.  ``spec()`` is a JSON-ready
    description from which ``get_activation`` rebuilds it (not available for custom callables).
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., Value],
        hyper: dict[str, Any] | None = None,
        param_shapes: dict[str, int | None] | None = None,
        builtin: bool = True,
    ) -> None:
        self.name = name
        self.fn = fn
        self.hyper = dict(hyper or {})
        self.param_shapes = dict(param_shapes or {})
        self.builtin = builtin

    def initial_params(self) -> dict[str, float | list[float]]:
        """Starting values of this activation's trainable parameters for one neuron."""
        if self.name == "swish":
            return {"beta": 1.0}
        if self.name == "maxout":
            k = self.hyper["k"]
            # Slopes evenly spread over [0, 1] with intercepts a(1-a)/2, strictly concave in the
            # slope, so every piece is the maximum somewhere (none starts dead); k=2 is exactly relu.
            slopes = [j / (k - 1) for j in range(k)] if k > 1 else [1.0]
            return {"slopes": slopes, "intercepts": [a * (1.0 - a) / 2.0 for a in slopes]}
        return {}

    def __call__(self, z: Value, params: dict[str, Any] | None = None) -> Value:
        """Apply to one pre-activation ``z`` (with this neuron's trainable parameters, if any)."""
        if self.name == "swish":
            return swish(z, params["beta"] if params else self.hyper.get("beta", 1.0))
        if self.name == "maxout":
            if params:
                return maxout(z, params["slopes"], params["intercepts"])
            init = self.initial_params()
            slopes, intercepts = init["slopes"], init["intercepts"]
            assert isinstance(slopes, list) and isinstance(intercepts, list)
            return maxout(z, slopes, intercepts)
        return self.fn(z, **self.hyper)

    def spec(self) -> dict[str, Any]:
        """JSON-ready description: ``{"name": ..., **hyper}``."""
        if not self.builtin:
            raise ValueError(
                f"activation {self.name!r} is a custom callable and cannot be saved; "
                f"use one of {', '.join(ACTIVATIONS)}"
            )
        return {"name": self.name, **self.hyper}

    def __repr__(self) -> str:
        if not self.hyper:
            return self.name
        return f"{self.name}(" + ", ".join(f"{k}={v!r}" for k, v in self.hyper.items()) + ")"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Activation)
            and (self.name, self.hyper, self.builtin) == (other.name, other.hyper, other.builtin)
            and (self.builtin or self.fn is other.fn)
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.hyper.items()))))


ACTIVATIONS: dict[str, Callable[..., Value]] = {
    "identity": identity,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "swish": swish,
    "maxout": maxout,
}

_HYPER: dict[str, dict[str, float]] = {"leaky_relu": {"alpha": 0.01}, "elu": {"alpha": 1.0}, "maxout": {"k": 2}}

ActivationLike = Union[str, Callable[[Value], Value], Activation, dict, None]  # noqa: UP007 - runtime alias


def get_activation(activation: ActivationLike, *, caller: str = "get_activation", **hyper: Any) -> Activation:
    """Resolve an activation: a name (with hyper-parameters such as ``alpha=0.1`` or ``k=3``),
    an ``Activation``, a saved ``spec()`` dict, ``None`` (identity) or any callable Value -> Value.
    Errors start with ``caller`` (the function the user called, e.g. ``MLP``)."""
    if activation is None:
        activation = "identity"
    if isinstance(activation, Activation):
        if hyper:
            raise TypeError(f"{caller}: hyper-parameters go with an activation name, not an Activation")
        return activation
    if isinstance(activation, dict):
        spec = dict(activation)
        name = spec.pop("name", None)
        if not isinstance(name, str):
            raise validate.fail(caller, "an activation spec", "a dict with a 'name' string", activation)
        return get_activation(name, caller=caller, **spec, **hyper)
    if isinstance(activation, str):
        validate.lookup(caller, "activation", activation, ACTIVATIONS)
        key = validate.normal_name(activation)
        defaults = _HYPER.get(key, {})
        unknown = set(hyper) - set(defaults)
        if unknown:
            raise TypeError(f"{caller}: unknown hyper-parameter(s) {sorted(unknown)} for activation {key!r}")
        values = {**defaults, **hyper}
        for param, v in values.items():
            if param == "k":
                values[param] = validate.positive_int(caller, f"{key}'s k", v)
            else:
                values[param] = validate.real(caller, f"{key}'s {param}", v)
        shapes: dict[str, int | None] = {}
        if key == "swish":
            shapes = {"beta": None}
        elif key == "maxout":
            shapes = {"slopes": values["k"], "intercepts": values["k"]}
        return Activation(key, ACTIVATIONS[key], values, shapes)
    if callable(activation):
        if hyper:
            raise TypeError(f"{caller}: hyper-parameters go with an activation name, not a callable")
        name = getattr(activation, "__name__", type(activation).__name__)
        return Activation(name, activation, {}, {}, builtin=False)
    raise validate.fail(caller, "activation", "a name, a callable or an Activation", activation, TypeError)
