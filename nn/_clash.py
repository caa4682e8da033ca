"""Fail early, and say why, when ``import autograd`` finds another project of that name.

chalkgrad installs the top-level packages ``autograd`` and ``nn``; PyPI's ``autograd`` (HIPS) installs
a package of the same name, and whichever comes first on ``sys.path`` wins.  Without this check the
first sign would be a puzzling ``cannot import name 'Value' from 'autograd'``.
"""

from __future__ import annotations

import importlib
import sys


class AutogradClashError(ImportError):
    """``import autograd`` found a package that is not chalkgrad's (e.g. PyPI's HIPS autograd)."""


def check_autograd() -> None:
    """Raise :class:`AutogradClashError` unless ``import autograd`` is chalkgrad's own package."""
    try:
        autograd = importlib.import_module("autograd")
    except ImportError:
        return  # the import in nn's modules reports it
    if getattr(autograd, "__chalkgrad__", False):
        return
    where = getattr(autograd, "__file__", None) or "an unknown location"
    version = getattr(autograd, "__version__", "?")
    message = (
        f"'import autograd' found another project's autograd (version {version} at {where}), not chalkgrad's: "
        "chalkgrad installs the top-level packages 'autograd' and 'nn', so it cannot share an environment with "
        "PyPI's autograd (HIPS). Fix: install chalkgrad in a separate virtual environment "
        "(python -m venv .venv, activate it, pip install -e .) or 'pip uninstall autograd' in this one."
    )
    if sys.argv[:1] == ["-m"]:  # `python -m nn` is importing the package: one line, no traceback
        raise SystemExit(f"python -m nn: error: {message}")
    raise AutogradClashError(f"import nn: {message}")


check_autograd()
