"""Per-sample losses ``loss(prediction, target) -> Value`` and a batch average.

Every loss is built from Value operations only, so its derivative comes from autograd's op table
(nothing here knows a derivative formula).  The classification losses work from *logits* (raw
scores) through ``softplus`` and ``logsumexp``, which never overflow: logits of +-1000 give finite
losses and gradients.

Regression and binary losses accept one prediction or a sequence of them (a model with several
outputs); a sequence gives the *sum* of the per-output losses, as in the lectures
(``l = sum_i l_i``).

>>> from autograd import Value
>>> f = Value(0.875)
>>> half_squared_error(f, 2.0).data          # Imperial College ML part 4.2's worked example: 0.63
0.6328125
>>> mean_loss(cross_entropy, [[2.0, 0.5], [0.1, 0.3]], [0, 1]).data > 0
True

``nn.losses.get(name)`` looks a loss up by name (it is not re-exported as ``nn.get``); each loss is
declared once in :data:`REGISTRY` (its aliases, the labels it trains on, how to read its output).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import autograd
from autograd import Value

from . import validate

__all__ = [
    "squared_error",
    "half_squared_error",
    "absolute_error",
    "hinge",
    "perceptron",
    "multiclass_hinge",
    "multiclass_perceptron",
    "binary_cross_entropy",
    "cross_entropy",
    "mean_loss",
    "LossSpec",
]

Number = float | int
Loss = Callable[[Any, Any], Value]


# --- regression -------------------------------------------------------------------------------------
def squared_error(prediction: Value | Number | Sequence, target: Value | Number | Sequence) -> Value:
    """(y - f)^2, summed over outputs when given sequences.

    >>> squared_error(Value(3.0), 1.0).data
    4.0
    """
    return _per_output("squared_error", prediction, target, lambda f, y: (f - y) ** 2)


def half_squared_error(prediction: Value | Number | Sequence, target: Value | Number | Sequence) -> Value:
    """1/2 (f - y)^2 (its derivative is simply f - y), summed over outputs when given sequences."""
    return _per_output("half_squared_error", prediction, target, lambda f, y: 0.5 * (f - y) ** 2)


def absolute_error(prediction: Value | Number | Sequence, target: Value | Number | Sequence) -> Value:
    """|f - y| (derivative 0 at f = y), summed over outputs when given sequences."""
    return _per_output("absolute_error", prediction, target, lambda f, y: (f - y).abs())


# --- binary classification with labels -1 / +1 ----------------------------------------------------
# max(0, .) is autograd.maximum, which gives each side half the gradient at the kink. For the
# perceptron this matters: with relu'(0) = 0 a perceptron started at w = 0 (f = 0) would never move.
def hinge(prediction: Value | Number | Sequence, target: Number | Sequence) -> Value:
    """max(0, 1 - y f) for a label y in {-1, +1} and a score f.

    >>> hinge(Value(0.25), 1).data
    0.75
    """
    def one(f: Value, y: float) -> Value:
        return autograd.maximum(0.0, 1.0 - y * f)

    return _per_output("hinge", prediction, target, one, check=_pm_one)


def perceptron(prediction: Value | Number | Sequence, target: Number | Sequence) -> Value:
    """max(0, -y f) for a label y in {-1, +1}: zero exactly when the sign is right.

    At f = 0 the gradient is -y/2 (half of each side of the kink), so training from zero weights works.
    """
    return _per_output("perceptron", prediction, target, lambda f, y: autograd.maximum(0.0, -y * f),
                       check=_pm_one)


# --- binary classification from a logit, labels 0 / 1 ----------------------------------------------
def binary_cross_entropy(logit: Value | Number | Sequence, target: Number | Sequence) -> Value:
    """-[y log s(z) + (1-y) log(1 - s(z))] for a logit z and a target y in [0, 1] (s = sigmoid).

    Computed as ``y softplus(-z) + (1-y) softplus(z)``, which is finite for any z (even +-1000)
    and accurate when the loss is tiny; its gradient is sigmoid(z) - y.  Matches PyTorch's
    ``binary_cross_entropy_with_logits``.

    >>> round(binary_cross_entropy(Value(0.0), 1).data, 6)     # log 2
    0.693147
    """
    def one(z: Value, y: float) -> Value:
        if y == 1.0:
            return (-z).softplus()
        if y == 0.0:
            return z.softplus()
        return y * (-z).softplus() + (1.0 - y) * z.softplus()

    return _per_output("binary_cross_entropy", logit, target, one, check=_unit_interval)


# --- multi-class from a list of scores and a class index ------------------------------------------
def cross_entropy(logits: Sequence[Value | Number], target: int) -> Value:
    """-log softmax(z)_y = logsumexp(z) - z_y, for logits z (any size >= 1) and a class index y.

    Stable for logits of any size (logsumexp shifts by the maximum); the gradient is
    softmax(z) - onehot(y).  Matches PyTorch's ``cross_entropy`` on one sample.

    >>> round(cross_entropy([Value(0.0), Value(0.0)], 1).data, 6)
    0.693147
    """
    z = _scores("cross_entropy", logits)
    y = _class_index("cross_entropy", target, len(z))
    return autograd.logsumexp(z) - z[y]


def _cross_entropy_picked(logits: Sequence[Value | Number], masks: Sequence[Any], targets: Sequence[Any]) -> Value:
    """cross_entropy against the class whose mask is 1: logsumexp(z) - sum_k m_k z_(y_k), one logsumexp and
    one dot (the logit it picks is exact: the other terms are 0 * z, exactly 0)."""
    z = _scores("cross_entropy", logits)
    picked = [z[_class_index("cross_entropy", t, len(z))] for t in targets]
    return autograd.logsumexp(z) - autograd.dot(masks, picked)


def multiclass_hinge(scores: Sequence[Value | Number], target: int, margin: float = 1.0) -> Value:
    """max(0, margin + max_{j != y} s_j - s_y): the multi-class hinge loss of the lectures.

    This is the Crammer-Singer form (the largest wrong score counts).  PyTorch's
    ``multi_margin_loss`` is a different variant (the Weston-Watkins *sum* over wrong classes,
    divided by the number of classes).
    """
    margin = validate.real("multiclass_hinge", "margin", margin)
    s = _scores("multiclass_hinge", scores, minimum=2)
    y = _class_index("multiclass_hinge", target, len(s))
    best_wrong = reduce(autograd.maximum, [v for j, v in enumerate(s) if j != y])
    return autograd.maximum(0.0, margin + best_wrong - s[y])


def multiclass_perceptron(scores: Sequence[Value | Number], target: int) -> Value:
    """max(0, max_{j != y} s_j - s_y): zero exactly when the right class has the top score."""
    return multiclass_hinge(scores, target, margin=0.0)


# --- batches and lookup --------------------------------------------------------------------------
def mean_loss(
    loss: Loss | str, predictions: Sequence, targets: Sequence, reduction: str = "mean"
) -> Value:
    """Average (or, with ``reduction="sum"``, total) of ``loss(p, t)`` over a batch, as one sum node.

    ``loss`` is a function such as :func:`cross_entropy` or its name.

    >>> mean_loss("squared_error", [Value(1.0), Value(3.0)], [0.0, 0.0]).data
    5.0
    """
    fn = get(loss, "mean_loss")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"mean_loss: reduction must be 'mean' or 'sum', got {reduction!r}")
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ValueError(
            f"mean_loss: {len(predictions)} predictions but {len(targets)} targets; they must match"
        )
    if not predictions:
        raise ValueError("mean_loss: the batch is empty (no predictions and no targets)")
    total = autograd.sum([fn(p, t) for p, t in zip(predictions, targets)])
    return total if reduction == "sum" else total * (1.0 / len(predictions))


# --- the registry: each loss declared once ---------------------------------------------------------
@dataclass(frozen=True)
class LossSpec:
    """What nn knows about a loss, declared once and read by fit, evaluate, ``datasets.labels_for``
    and the command line.

    - ``labels``: the label form it trains on: ``"sign"`` (-1/+1), ``"01"`` (0/1 or probabilities),
      ``"index"`` (class indices 0..k-1, one model output per class) or ``"real"`` (any numbers).
    - ``output``: how to read the model's output: ``"score"`` (its sign, or the largest score, is the
      class), ``"logits"`` (a logit per output: positive means class 1, the largest wins) or
      ``"value"`` (an estimate of the target itself; on 0/1 labels it is read at 0.5).
    - ``aliases``: other names the loss is looked up by.
    - ``picked``: optional, ``picked(output, masks, targets)``: the loss against the one target of
      ``targets`` whose 0/1 mask is 1, written so that compiled training (which traces the loss once
      for all targets) computes it cheaply; it must equal ``fn(output, targets[k])`` for that k.
      Without it, compiled training computes ``sum_k masks[k] * fn(output, targets[k])``.
    """

    name: str
    fn: Loss
    labels: str
    output: str
    aliases: tuple[str, ...] = ()
    picked: Callable[[Any, Sequence[Any], Sequence[Any]], Value] | None = None


REGISTRY: dict[str, LossSpec] = {spec.name: spec for spec in (
    LossSpec("squared_error", squared_error, labels="real", output="value", aliases=("mse",)),
    LossSpec("half_squared_error", half_squared_error, labels="real", output="value"),
    LossSpec("absolute_error", absolute_error, labels="real", output="value", aliases=("mae",)),
    LossSpec("hinge", hinge, labels="sign", output="score"),
    LossSpec("perceptron", perceptron, labels="sign", output="score"),
    LossSpec("multiclass_hinge", multiclass_hinge, labels="index", output="score"),
    LossSpec("multiclass_perceptron", multiclass_perceptron, labels="index", output="score"),
    LossSpec("binary_cross_entropy", binary_cross_entropy, labels="01", output="logits", aliases=("bce",)),
    LossSpec("cross_entropy", cross_entropy, labels="index", output="logits", aliases=("ce",),
             picked=_cross_entropy_picked),
)}
LOSSES: dict[str, Loss] = {name: spec.fn for name, spec in REGISTRY.items()}
ALIASES: dict[str, str] = {alias: spec.name for spec in REGISTRY.values() for alias in spec.aliases}


def names() -> list[str]:
    """Every name a loss is looked up by (names and aliases), sorted."""
    return sorted([*REGISTRY, *ALIASES])


def spec(loss: str | Loss, caller: str = "losses.spec") -> LossSpec | None:
    """The declaration of a loss given by name (UnknownNameError, a KeyError and a ValueError, naming
    ``caller`` when there is none) or as a function (None for a function nn does not declare)."""
    if callable(loss):
        return next((s for s in REGISTRY.values() if s.fn is loss), None)
    return validate.lookup(caller, "loss", loss, REGISTRY, ALIASES)


def get(name: str | Loss, caller: str = "losses.get") -> Loss:
    """The loss called ``name`` (also ``mse``, ``mae``, ``bce``, ``ce``); a callable is returned as is."""
    if callable(name):
        return name
    if not isinstance(name, str):
        raise validate.fail(caller, "loss", "a loss name or a function", name, TypeError)
    found = spec(name, caller)
    assert found is not None
    return found.fn


# --- helpers ---------------------------------------------------------------------------------------
def _per_output(
    name: str, prediction: Any, target: Any, one: Callable, check: Callable | None = None
) -> Value:
    preds = _as_list(prediction)
    targets = _as_list(target)
    if len(preds) != len(targets):
        raise ValueError(
            f"{name}: {len(preds)} prediction(s) but {len(targets)} target(s); they must match"
        )
    if not preds:
        raise ValueError(f"{name}: got an empty prediction")
    preds = [_as_value(name, "prediction", p) for p in preds]
    if check is None:
        targets = [t if isinstance(t, Value) else validate.real(name, "target", t) for t in targets]
    else:
        targets = [check(name, t) for t in targets]
    terms = [one(f, y) for f, y in zip(preds, targets)]
    return terms[0] if len(terms) == 1 else autograd.sum(terms)


def _as_list(x: Any) -> list:
    if isinstance(x, (Value, numbers.Real)):
        return [x]
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        return [x]  # rejected with a precise message by the element checks
    return list(x)


def _as_value(name: str, what: str, x: Any) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(f"{name}: {what} must be a Value or a real number, got {type(x).__name__} {x!r}")


def _pm_one(name: str, target: Any) -> float:
    y = validate.real(name, "target", target)
    if y not in (-1.0, 1.0):
        raise ValueError(f"{name}: target must be -1 or +1, got {y!r}")
    return y


def _unit_interval(name: str, target: Any) -> float:
    y = validate.real(name, "target", target)
    if not 0.0 <= y <= 1.0:
        hint = " (labels -1/+1 belong to hinge or perceptron; map them with (y + 1) / 2)" if y == -1 else ""
        raise ValueError(f"{name}: target must be in [0, 1] (a class 0/1 or a probability), got {y!r}{hint}")
    return y


def _scores(name: str, scores: Any, minimum: int = 1) -> list[Value]:
    if isinstance(scores, (Value, numbers.Real)) or not hasattr(scores, "__len__"):
        raise TypeError(
            f"{name}: expected a sequence of scores (one per class), got {type(scores).__name__} {scores!r}"
        )
    values = [_as_value(name, "each score", s) for s in scores]
    if len(values) < minimum:
        raise ValueError(f"{name}: needs at least {minimum} class score(s), got {len(values)}")
    return values


def _class_index(name: str, target: Any, n: int) -> int:
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        raise TypeError(
            f"{name}: target must be an int class index in [0, {n - 1}], "
            f"got {type(target).__name__} {target!r}"
        )
    index = int(target)
    if not 0 <= index < n:
        raise ValueError(
            f"{name}: target class index {target!r} is out of range for {n} classes (0..{n - 1})"
        )
    return index
