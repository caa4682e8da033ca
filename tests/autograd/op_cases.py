"""How to call each primitive of the op table, and where its derivative is smooth (for the tests).

Each case: (chalkgrad function of Values, PyTorch function of float64 tensors, one (lo, hi) interval
per input, points to keep away from because the derivative jumps there).
"""

import math

import autograd as ag

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the parity tests skip; the finite-difference tests do not need torch
    torch = F = None

WIDE = (-4.0, 4.0)
POS = (0.05, 5.0)

CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [WIDE, WIDE], ()),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [WIDE, WIDE], ()),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [WIDE, WIDE], ()),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [WIDE, (0.2, 4.0)], ()),
    "neg": (lambda x: -x, lambda x: -x, [WIDE], ()),
    "pow_const": (lambda x: x ** 3, lambda x: x ** 3, [WIDE], ()),
    "pow_const_frac": (lambda x: x ** 0.5, lambda x: x ** 0.5, [POS], ()),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, [POS, (-2.0, 2.0)], ()),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, [WIDE], ()),
    "exp": (lambda x: x.exp(), lambda x: x.exp(), [WIDE], ()),
    "log": (lambda x: x.log(), lambda x: x.log(), [POS], ()),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), [POS], ()),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), [WIDE], (0.0,)),
    "sin": (lambda x: x.sin(), lambda x: x.sin(), [WIDE], ()),
    "cos": (lambda x: x.cos(), lambda x: x.cos(), [WIDE], ()),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh(), [WIDE], ()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid(), [(-30.0, 30.0)], ()),
    "relu": (lambda x: x.relu(), lambda x: x.relu(), [WIDE], (0.0,)),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: F.leaky_relu(x, 0.1), [WIDE], (0.0,)),
    "elu": (lambda x: x.elu(0.7), lambda x: F.elu(x, 0.7), [WIDE], (0.0,)),
    "selu": (lambda x: x.selu(), lambda x: F.selu(x), [WIDE], (0.0,)),
    "softplus": (lambda x: x.softplus(), lambda x: F.softplus(x, threshold=1000.0), [(-30.0, 30.0)], ()),
    "swish": (lambda x, beta: x.swish(beta), lambda x, beta: x * torch.sigmoid(beta * x), [WIDE, (-2.0, 2.0)], ()),
    "maximum": (ag.maximum, lambda a, b: torch.maximum(a, b), [WIDE, WIDE], ()),
    "minimum": (ag.minimum, lambda a, b: torch.minimum(a, b), [WIDE, WIDE], ()),
    "sum": (lambda a, b, c: ag.sum([a, b, c]), lambda a, b, c: a + b + c, [WIDE] * 3, ()),
    "dot": (lambda a, b, c, d, e: ag.dot([a, b], [c, d], e), lambda a, b, c, d, e: a * c + b * d + e,
            [WIDE] * 5, ()),
    "logsumexp": (lambda a, b, c: ag.logsumexp([a, b, c]),
                  lambda a, b, c: torch.logsumexp(torch.stack([a, b, c]), 0), [WIDE] * 3, ()),
    "softmax": (lambda a, b, c: ag.softmax([a, b, c])[1],
                lambda a, b, c: torch.softmax(torch.stack([a, b, c]), 0)[1], [WIDE] * 3, ()),
    "log_softmax": (lambda a, b, c: ag.log_softmax([a, b, c])[0],
                    lambda a, b, c: torch.log_softmax(torch.stack([a, b, c]), 0)[0], [WIDE] * 3, ()),
}


def too_close_to_a_kink(xs, kinks, case, margin=1e-3):
    """True where a finite difference would straddle a jump of the derivative."""
    if any(abs(x - k) < margin for x in xs for k in kinks):
        return True
    if case in ("maximum", "minimum") and abs(xs[0] - xs[1]) < margin:
        return True
    return False


def central_difference(f, xs, i, eps=1e-6):
    hi = list(xs)
    lo = list(xs)
    hi[i] += eps
    lo[i] -= eps
    return (f(*hi) - f(*lo)) / (2 * eps)


def is_close(a, b, rel=1e-5, abs_=1e-6):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
