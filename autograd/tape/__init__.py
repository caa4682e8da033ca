"""The compiler: trace a function once, replay it fast, over whole batches, and show the code.

>>> from autograd import trace
>>> tape = trace(lambda a, b: (a * b).tanh(), 0.5, -1.0)
>>> print(tape.source.splitlines()[1])
    t0 = a * b
"""

from .tape import Tape, trace
from .trace import TraceMismatch

__all__ = ["trace", "Tape", "TraceMismatch"]
