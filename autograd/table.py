"""The op table itself: op name -> :class:`~autograd.ops.Op`.

It sits in a module of its own so that value.py can look ops up by name (``OPS["tanh"]``) without
importing their declarations: ops.py imports value.py, which makes its ops callable.
:func:`autograd.ops.defop` writes here; a Value method reads its op at each call, so an op replaced
with ``defop(..., replace=True)`` changes the method too.  ``OPS`` is a dict that tells its watchers
each name written or removed, however it is written (``defop``, ``OPS[name] = op``, ``update``, ``pop``,
``clear``): fastpath.py puts value.py's method back in place of the one it generated.

``BUILTINS`` keeps the built-in ops as ops.py declared them, for the backends: a backend function
that is itself an op (``m.sigmoid``, ``m.exp`` on Values, ``m.sumprod`` on Values) calls the
built-in one, so a rule keeps the rules it was written with after a name is replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from .ops import Op

__all__ = ["OPS", "BUILTINS", "WATCHERS", "Table", "get"]

WATCHERS: list[Callable[[str], None]] = []  # called with each name written to or removed from OPS


class Table(dict[str, "Op"]):
    """A dict of ops whose every write tells the watchers the names it changed; reads are dict's own."""

    def __setitem__(self, name: str, op: Op) -> None:
        super().__setitem__(name, op)
        _tell((name,))

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        _tell((name,))

    def pop(self, name: str, *default: Any) -> Any:
        try:
            return super().pop(name, *default)
        finally:
            _tell((name,))

    def popitem(self) -> tuple[str, Op]:
        item = super().popitem()
        _tell((item[0],))
        return item

    def setdefault(self, name: str, op: Op) -> Op:
        try:
            return super().setdefault(name, op)
        finally:
            _tell((name,))

    def update(self, *others: Any, **ops: Op) -> None:
        changed = dict(*others, **ops)
        super().update(changed)
        _tell(changed)

    def __ior__(self, other: Any) -> Table:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        names = list(self)
        super().clear()
        _tell(names)


def _tell(names: Iterable[str]) -> None:
    for name in names:
        for watcher in WATCHERS:
            watcher(name)


OPS: Table = Table()
BUILTINS: dict[str, Op] = {}  # filled once, at the end of ops.py; never replaced


def get(name: str) -> Op:
    """Look up an op by name; unknown names raise ``KeyError`` listing the known ones."""
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(OPS))}") from None
