"""chalkgrad's nn: PyTorch-style modules, losses, optimisers and training on top of autograd.

>>> from nn import MLP
>>> model = MLP(2, [16, 16, 1], seed=0)
>>> out = model([0.5, -0.2])          # one Value
"""

# Each submodule lists its public names in __all__; this package re-exports them.
from . import activations, datasets, init, losses, optim, plot, train  # noqa: F401
from .activations import *  # noqa: F401,F403
from .evaluate import *  # noqa: F401,F403
from .history import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .prepare import *  # noqa: F401,F403
from .regularizers import *  # noqa: F401,F403
from .serialize import *  # noqa: F401,F403
from .torch_bridge import *  # noqa: F401,F403
from .train import *  # noqa: F401,F403
