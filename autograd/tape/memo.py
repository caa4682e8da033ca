"""The memo of backend calls: a group's partials rule gets back what its forward rule computed.

Used by the fast replay (:mod:`autograd.tape.bound`), one per batch size; apart from it because it
knows nothing of plans or rows, only of calls on the numpy backend and the identity of their arguments.
"""

from __future__ import annotations

from types import FunctionType
from typing import Any

from ..backends import Stack

__all__ = ["Memo"]


def _identity(a: Any) -> Any:
    """What a remembered call's argument is compared by: the object itself (by identity, held by the
    memo so that the identity stays its own); a plain tuple or list by its items; a function (the
    ``f`` of ``each``) by its code and the objects its closure and defaults hold."""
    t = type(a)
    if t is tuple or t is list:
        return (t, *map(id, a))
    if t is FunctionType:
        try:
            cells = tuple(id(c.cell_contents) for c in a.__closure__ or ())
        except ValueError:  # an empty cell: never the same
            return id(a)
        return (a.__code__, cells, tuple(map(id, a.__defaults__ or ())), id(a.__kwdefaults__))
    return id(a)


def _freeze(r: Any) -> None:
    # a remembered result is shared by the forward and partials rules: neither may change it in place
    if type(r) is Stack:
        r.array.flags.writeable = False
        for row in r:
            row.flags.writeable = False
    elif hasattr(r, "flags"):
        r.flags.writeable = False


class Memo:
    """The numpy backend, remembering what a group's forward rule computed for its partials rule,
    which often starts by computing the same (logsumexp's shifted exps): a call of the same function on
    the same objects returns the result it gave (read-only) instead of computing it again.  Rules are
    pure functions of their arguments and the arrays do not change within a replay, so a hit is the
    same result; a rule that changes a result in place (``s += ...``) fails on the read-only array on
    the group's first replay, which then turns remembering off for that group."""

    def __init__(self, nb: Any) -> None:
        self.cache: dict | None = None
        self.hits = 0
        self._depth = 0  # calls made from inside a remembered call (each's f) are not remembered
        for name, fn in vars(nb).items():
            setattr(self, name, self._remember(name, fn))

    def _remember(self, name: str, fn: Any) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            cache = self.cache
            if cache is None or self._depth or kw:
                return fn(*args, **kw)
            key = (name, *map(_identity, args))
            hit = cache.get(key)
            if hit is not None:
                self.hits += 1
                return hit[0]
            self._depth += 1
            try:
                r = fn(*args)
            finally:
                self._depth -= 1
            _freeze(r)
            cache[key] = (r, args)  # the arguments are kept: their identities stay unique
            return r
        return call

