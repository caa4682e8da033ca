"""The op table itself: op name -> :class:`~autograd.ops.Op`.

It sits in a module of its own so that value.py can look ops up by name (``OPS["tanh"]``) without
importing their declarations: ops.py imports value.py, which makes its ops callable.  Only
:func:`put` writes here (:func:`autograd.ops.defop` calls it); a Value method reads its op at each
call, so an op replaced with ``defop(..., replace=True)`` changes the method too (``put`` tells the
watchers: fastpath.py puts value.py's method back in place of the one it generated).

``BUILTINS`` keeps the built-in ops as ops.py declared them, for the backends: a backend function
that is itself an op (``m.sigmoid``, ``m.exp`` on Values, ``m.sumprod`` on Values) calls the
built-in one, so a rule keeps the rules it was written with after a name is replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .ops import Op

__all__ = ["OPS", "BUILTINS", "WATCHERS", "get", "put"]

OPS: dict[str, Op] = {}
BUILTINS: dict[str, Op] = {}  # filled once, at the end of ops.py; never replaced
WATCHERS: list[Callable[[str], None]] = []  # called with the name after each put


def put(op: Op) -> None:
    """``OPS[op.name] = op``, and tell the watchers."""
    OPS[op.name] = op
    for watcher in WATCHERS:
        watcher(op.name)


def get(name: str) -> Op:
    """Look up an op by name; unknown names raise ``KeyError`` listing the known ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(OPS))}") from None
