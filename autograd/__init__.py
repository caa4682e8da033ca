"""chalkgrad's autograd: a scalar reverse-mode automatic differentiation engine.

>>> from autograd import Value
>>> x = Value(2.0, label="x")
>>> y = (x * x).tanh()
>>> y.backward()
>>> round(x.grad, 6)
0.005363

Add your own primitive with ``defop`` (see docs/custom_ops.md):

>>> from autograd import defop
>>> softsign = defop("softsign", forward=lambda m, x: x / (1 + m.abs(x)),
...                  partials=lambda m, out, x: (1 / (1 + m.abs(x)) ** 2,))
>>> softsign(Value(1.0)).data
0.5
"""

from . import fastpath, ops  # noqa: F401  (fastpath puts on Value the methods it generates from the op table)
from .forward import jacfwd, jvp
from .functional import grad, hessian, hvp, jacobian, jacrev, value_and_grad
from .functions import dot, log_softmax, logsumexp, maximum, minimum, softmax, sum
from .graph import topological_order
from .modes import AnomalyError, cycle_collector_paused, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .ops import defop
from .tape import Tape, TraceMismatch, trace
from .value import Value, apply
from .viz import draw_dot

__version__ = "0.1.0"
__chalkgrad__ = True  # nn checks this: PyPI's HIPS autograd installs a package of the same name

__all__ = [
    "Value",
    "apply",
    "defop",
    "draw_dot",
    "ops",
    "maximum",
    "minimum",
    "sum",
    "dot",
    "logsumexp",
    "softmax",
    "log_softmax",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "AnomalyError",
    "cycle_collector_paused",
    "topological_order",
    "grad",
    "value_and_grad",
    "jacobian",
    "jacrev",
    "jacfwd",
    "jvp",
    "hessian",
    "hvp",
    "trace",
    "Tape",
    "TraceMismatch",
]
