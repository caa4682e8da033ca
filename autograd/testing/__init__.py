"""Tools for testing code built on chalkgrad: gradient checks and (in ``.strategies``) Hypothesis strategies.

>>> from autograd.testing import gradcheck, gradgradcheck
>>> gradcheck(lambda x: x.tanh() * x, [0.5]) and gradgradcheck(lambda x: x.tanh() * x, [0.5])
True

``autograd.testing.strategies`` needs Hypothesis (a development dependency) and is imported only
when asked for.
"""

from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
