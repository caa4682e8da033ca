"""Weight initialisers (seed 004): each draws one weight for a unit with ``fan_in`` inputs.

Every initialiser has the signature ``init(fan_in, fan_out, rng) -> float`` where ``rng`` is a
``random.Random`` instance: randomness always comes from an explicit generator, never from the
global ``random`` module, so seeding a model cannot disturb (or be disturbed by) other code.

The variance argument of seed 004: with z = sum_j w_j v_j, independent zero-mean weights of
variance s^2 give Var(z) = n_in s^2 Var(v).  A ReLU halves the second moment, so s^2 = 2/n_in
(He) keeps Var(z) constant from layer to layer; s^2 = 1/n_in (LeCun / "Glorot" on the slide) does
so for tanh-like units near 0; 2/(n_in + n_out) (Glorot) averages the forward and backward views.

>>> import random
>>> w = he_normal(4, 1, random.Random(0))    # one draw from N(0, 2/4)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from . import validate

__all__ = [
    "Initializer",
    "uniform",
    "lecun_normal",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "zeros",
    "constant",
    "get_init",
    "INITIALIZERS",
]

Initializer = Callable[[int, int, random.Random], float]


def _check(fan_in: int, fan_out: int, name: str) -> None:
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"init.{name}: fan_in and fan_out must be >= 1, got {fan_in} and {fan_out}")


def uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(-1, 1), micrograd's initialiser, whatever the fan-in (it explodes in deep ReLU nets)."""
    return rng.uniform(-1.0, 1.0)


def lecun_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """N(0, 1/fan_in): seed 004's "Glorot (tanh)" variant; also the right choice for SELU."""
    _check(fan_in, fan_out, "lecun_normal")
    return rng.gauss(0.0, math.sqrt(1.0 / fan_in))


def glorot_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """N(0, 2/(fan_in + fan_out)) (Glorot and Bengio 2010)."""
    _check(fan_in, fan_out, "glorot_normal")
    return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def glorot_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(-a, a) with a = sqrt(6/(fan_in + fan_out)): the same variance as glorot_normal."""
    _check(fan_in, fan_out, "glorot_uniform")
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a)


def he_normal(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """N(0, 2/fan_in) (He et al. 2015): keeps the pre-activation variance constant through ReLUs."""
    _check(fan_in, fan_out, "he_normal")
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


def he_uniform(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """U(-a, a) with a = sqrt(6/fan_in): the same variance 2/fan_in as he_normal."""
    _check(fan_in, fan_out, "he_uniform")
    a = math.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a)


def zeros(fan_in: int, fan_out: int, rng: random.Random) -> float:
    """0 (fine for biases; for weights every unit of a layer would stay identical)."""
    return 0.0


def constant(value: float) -> Initializer:
    """An initialiser that always returns ``value``: ``Neuron(3, init=constant(0.5))``."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"init.constant: value must be finite, got {value!r}")

    def constant_init(fan_in: int, fan_out: int, rng: random.Random) -> float:
        return value

    constant_init.__name__ = f"constant({value!r})"
    return constant_init


INITIALIZERS: dict[str, Initializer] = {
    "uniform": uniform,
    "lecun_normal": lecun_normal,
    "glorot_normal": glorot_normal,
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


def get_init(init: str | Initializer, caller: str = "get_init") -> Initializer:
    """Resolve an initialiser given by name (see ``INITIALIZERS``) or as a callable; errors start
    with ``caller`` (the function the user called, e.g. ``MLP``)."""
    if isinstance(init, str):
        return validate.lookup(caller, "initialiser", init, INITIALIZERS)
    if callable(init):
        return init
    raise validate.fail(caller, "init", "a name or a callable (fan_in, fan_out, rng) -> float", init, TypeError)
