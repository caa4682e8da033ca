"""The optimisers' update rules, each written once on a backend ``m`` (floats or numpy arrays).

``rule(m, w, g, state, h) -> (new_w, new_state)``: ``w`` a parameter's value (or all of them as an
array), ``g`` its gradient, ``state`` the optimiser's per-parameter state in the order of its
``_slots``, ``h`` the hyperparameters and ``h.t``, the number of the step being taken.
:meth:`nn.optimizer.Optimizer.step` evaluates a rule on floats, one parameter at a time;
:meth:`~nn.optimizer.Optimizer.step_arrays` on numpy arrays, all parameters at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["sgd_rule", "adagrad_rule", "rmsprop_rule", "adam_rule"]


def sgd_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """SGD (lecture form of momentum, see :class:`SGD`); state: (velocity,)."""
    (a,) = state
    if h.weight_decay:
        g = g + h.weight_decay * w
    if not h.momentum:
        return w - h.lr * g, (a,)
    a = h.momentum * a + h.lr * g
    if h.nesterov:
        return w - (h.momentum * a + h.lr * g), (a,)
    return w - a, (a,)


def adagrad_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """Adagrad; state: (sum of squared gradients,)."""
    (s,) = state
    if h.weight_decay:
        g = g + h.weight_decay * w
    clr = h.lr / (1.0 + (h.t - 1) * h.lr_decay)
    s = s + g * g
    return w - clr * g / (m.sqrt(s) + h.eps), (s,)


def rmsprop_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """RMSprop; state: (square_avg, grad_avg, momentum_buffer)."""
    v, gbar, b = state
    if h.weight_decay:
        g = g + h.weight_decay * w
    v = h.alpha * v + (1.0 - h.alpha) * g * g
    if h.centered:
        gbar = gbar + (1.0 - h.alpha) * (g - gbar)
        avg = m.sqrt(m.maximum(v - gbar * gbar, 0.0)) + h.eps
    else:
        avg = m.sqrt(v) + h.eps
    if h.momentum:
        b = h.momentum * b + g / avg
        return w - h.lr * b, (v, gbar, b)
    return w - h.lr * g / avg, (v, gbar, b)


def adam_rule(m: Any, w: Any, g: Any, state: Sequence, h: Any) -> tuple[Any, tuple]:
    """Adam, and AdamW when ``h.decoupled``; state: (m, v, v_max)."""
    mean, v, v_max = state
    b1, b2 = h.betas
    if h.weight_decay:
        if h.decoupled:
            w = w * (1.0 - h.lr * h.weight_decay)
        else:
            g = g + h.weight_decay * w
    mean = mean + (1.0 - b1) * (g - mean)  # PyTorch's lerp form of b1 m + (1-b1) g
    v = b2 * v + (1.0 - b2) * g * g
    step_size = h.lr / (1.0 - b1 ** h.t)
    root_bc2 = math.sqrt(1.0 - b2 ** h.t)
    if h.amsgrad:
        v_max = m.maximum(v_max, v)
        denom = m.sqrt(v_max) / root_bc2 + h.eps
    else:
        denom = m.sqrt(v) / root_bc2 + h.eps
    return w - step_size * mean / denom, (mean, v, v_max)
