"""The op table itself: op name -> :class:`~autograd.ops.Op`.

It sits in a module of its own so that value.py can look ops up by name (``OPS["tanh"]``) without
importing their declarations: ops.py imports value.py, which makes its ops callable.  Only
:func:`autograd.ops.defop` writes here; a Value method reads its op at each call, so an op
replaced with ``defop(..., replace=True)`` changes the method too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .ops import Op

__all__ = ["OPS", "get"]

OPS: dict[str, Op] = {}


def get(name: str) -> Op:
    """Look up an op by name; unknown names raise ``KeyError`` listing the known ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(OPS))}") from None
