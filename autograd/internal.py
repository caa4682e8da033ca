"""The engine's internal API for libraries built on it (``nn``): one module, one list.

Beyond :mod:`autograd`'s public names, a library that trains and draws models needs a few of the
engine's parts: the op table, the float and numpy backends its optimiser rules run on, the walk over
a graph.  They are named here, and only here; code outside ``autograd`` imports them from this
module, never from the module that defines them (tests/nn/test_boundaries.py checks nn).  They may change
with the engine, more freely than the public API.
"""

from .backends import FLOAT, NAMES
from .graph import reachable
from .table import BUILTINS, OPS
from .tape.arrays import numpy_backend

__all__ = [
    "OPS",  # the op table, by name (replaced ops included): nn.compiled's check that a graph is of table ops
    "BUILTINS",  # the built-in ops, never replaced: nn.loss_graph recognises the built-in dot
    "FLOAT",  # the float backend: optimiser rules evaluated per parameter
    "NAMES",  # the backend interface (every backend provides exactly these)
    "numpy_backend",  # the numpy backend (imports numpy on first call): optimiser rules on flat arrays
    "reachable",  # every Value a graph reaches, without recursion: nn.checks finds unused parameters
]
