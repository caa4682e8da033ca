"""chalkgrad's nn: PyTorch-style modules, losses, optimisers and training on top of autograd.

>>> from nn import MLP
>>> model = MLP(2, [16, 16, 1], seed=0)
>>> out = model([0.5, -0.2])          # one Value
"""

# First: importing _clash checks that `autograd` is chalkgrad's (not PyPI's HIPS autograd), naming the clash.
from ._clash import AutogradClashError  # noqa: F401

# isort: split

import importlib as _importlib
import pkgutil as _pkgutil
from typing import TYPE_CHECKING as _TYPE_CHECKING

# Each submodule lists its public names in __all__; this package re-exports them (listed in __all__ below).
# Building and training models (modules, losses, optimisers) needs only autograd and the standard
# library, so it runs where numpy is missing (Pyodide in the browser, docs/browser.md); the parts that
# need numpy (datasets, fit, plots, compiled training) are imported on first use.
from . import activations, init, losses, optim  # noqa: F401
from .activations import *  # noqa: F401,F403
from .history import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .regularizers import *  # noqa: F401,F403
from .serialize import *  # noqa: F401,F403
from .step import *  # noqa: F401,F403
from .torch_bridge import *  # noqa: F401,F403

# nn.evaluate is the function, which shares its name with its submodule: imported here when numpy is
# there, so that no later import of the submodule (plot does one) rebinds the name to the module.
try:
    from .evaluate import *  # noqa: F401,F403
except ModuleNotFoundError as _e:
    if _e.name != "numpy":
        raise

# name -> submodule it is re-exported from (tests/system/test_browser.py checks this against their __all__)
_LAZY_NAMES = {
    "fit": "train", "DivergenceError": "train",
    "evaluate": "evaluate", "predict": "evaluate", "predict_classes": "evaluate",
    "prepare_fit": "prepare", "FitPlan": "prepare", "FitOptions": "prepare",
}
if _TYPE_CHECKING:  # what the lazy names are, for type checkers (at run time: __getattr__ below)
    from .prepare import FitOptions, FitPlan, prepare_fit  # noqa: F401
    from .train import DivergenceError, fit  # noqa: F401
_SUBMODULES = {m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")}  # noqa: F405


def __getattr__(name: str) -> object:
    if name in _LAZY_NAMES:
        return getattr(_importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
    if name in _SUBMODULES:  # nn.datasets, nn.plot, nn.train ...: imported on first use
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES) | _SUBMODULES)


# What ``from nn import *`` gives: the public names of the submodules above, the lazy ones, and the
# submodules a user reaches as ``nn.<name>``.  Internal modules (checks, outputs, validate) are not in it.
__all__ = [
    # modules, layers, activations
    "Module", "StateDictError", "Layer", "Neuron", "MLP", "BatchNorm", "Dropout",
    "ACTIVATIONS", "Activation", "ActivationLike", "get_activation", "identity", "relu", "leaky_relu", "tanh",
    "sigmoid", "softplus", "elu", "selu", "swish", "maxout",
    # losses and penalties
    "LossSpec", "mean_loss", "hinge", "perceptron", "multiclass_hinge", "multiclass_perceptron",
    "squared_error", "half_squared_error", "absolute_error", "binary_cross_entropy", "cross_entropy",
    "Penalty", "l1", "l2", "elastic_net", "array_form",
    # training
    "train_step", "loss_and_grads", "StepResult", "SampleTapes",
    "fit", "DivergenceError", "prepare_fit", "FitPlan", "FitOptions", "History", "EarlyStopping",
    "evaluate", "predict", "predict_classes",
    # files and PyTorch
    "save", "load", "LoadResult", "ModelFileError", "FORMAT", "FORMAT_VERSION",
    "from_torch", "to_torch", "torch_modules",
    "AutogradClashError",
    # submodules
    "activations", "init", "default_init", "losses", "optim", "schedules", "regularizers", "layers", "module",
    "history", "serialize", "torch_bridge", "step",
]
