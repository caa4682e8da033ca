"""``Module``: the base class of every layer and model, in the style of ``torch.nn.Module``.

A module's parameters are found by looking at its attributes in the order they were set:
a ``Value`` is a parameter, a list of Values is a list of parameters (``w[0]``, ``w[1]``...),
a ``Module`` or a list of Modules is a child (``layers.0``...).  Attributes whose name starts with
``_`` are ignored.  Plain floats listed in ``_buffers`` (BatchNorm's running statistics) are state
too: they appear in ``state_dict`` but are not trained.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from autograd import Value

__all__ = ["Module", "LoadResult", "StateDictError"]


class StateDictError(ValueError):
    """A state dict that does not fit the model; the model was left unchanged."""


class LoadResult(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class: parameters, train/eval mode, state dicts and a readable tree ``repr``.

    Subclasses set their parameters and children as attributes and define ``__call__`` (one
    sample).  ``forward_batch(samples)`` runs a batch; the default calls the module per sample,
    modules that couple samples (BatchNorm) override it.
    """

    training: bool = True
    _buffers: tuple[str, ...] = ()

    # --- structure ---------------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names (``layers.0``...), in attribute order."""
        for name, value in self._child_attributes():
            if isinstance(value, Module):
                yield name, value
            else:
                for i, child in enumerate(value):
                    yield f"{name}.{i}", child

    def _child_attributes(self) -> Iterator[tuple[str, Module | Sequence[Module]]]:
        """(name, value) of each attribute holding child modules: a Module, or a list of them."""
        yield from _child_items(self)

    def children(self) -> list[Module]:
        """Direct sub-modules, in the order of ``named_children`` (as PyTorch's ``children()``)."""
        return _children_of(self)

    def named_modules(self) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ('') and every module below it, parents first, as in
        PyTorch (a module used twice appears under both names).  A stack, not recursion, so a chain of
        any depth works; a module that contains one of its own ancestors is a ValueError naming it."""
        yield from self._tree(named=True)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, parents first (``named_modules`` without the names)."""
        if type(self).named_modules is not Module.named_modules:  # a module that chooses its own
            return (module for _, module in self.named_modules())
        return iter([module for _, module in self._tree(named=False)])

    def _tree(self, named: bool) -> list[tuple[str, Module]]:
        """The walk behind ``named_modules`` and ``modules``; names are built only when ``named`` (else '')."""
        out: list[tuple[str, Module]] = []
        stack: list[tuple[str, Module, int]] = [("", self, 0)]
        path: list[int] = []  # ids of the modules from the root down to the one being visited
        on_path: set[int] = set()
        while stack:
            name, module, depth = stack.pop()
            while len(path) > depth:
                on_path.discard(path.pop())
            if id(module) in on_path:
                if not named:
                    self._tree(named=True)  # again with names, for the message
                raise ValueError(
                    f"{type(self).__name__}: {name!r} is a module that contains it (a cycle); keep a reference "
                    f"back to a parent in an attribute whose name starts with '_'"
                )
            path.append(id(module))
            on_path.add(id(module))
            out.append((name, module))
            if named:
                kids = [(f"{name}.{child_name}" if name else child_name, child, depth + 1)
                        for child_name, child in module.named_children()]
                stack.extend(reversed(kids))
            else:
                children = _children_of(module)
                if children:  # (a neuron has none)
                    stack.extend([("", child, depth + 1) for child in reversed(children)])
        return out

    def _own_attributes(self) -> Iterator[tuple[str, Value | Sequence[Value]]]:
        """(name, value) of each attribute holding this module's own parameters: a Value, or a list of them."""
        for name, value in vars(self).items():
            if not name.startswith("_") and (isinstance(value, Value) or _all_of(value, Value)):
                yield name, value

    def _own_parameters(self) -> Iterator[tuple[str, Value]]:
        for name, value in self._own_attributes():
            if isinstance(value, Value):
                yield name, value
            else:
                for i, v in enumerate(value):
                    yield f"{name}[{i}]", v

    def _own_values(self) -> list[Value]:
        """``_own_parameters`` without the names: what ``parameters()`` collects, a whole list at a time."""
        out: list[Value] = []
        for _, value in self._own_attributes():
            if isinstance(value, Value):
                out.append(value)
            else:
                out.extend(value)
        return out

    def _walk(self) -> Iterator[tuple[str, Value]]:
        for prefix, module in self.named_modules():
            for name, v in module._own_parameters():
                yield f"{prefix}.{name}" if prefix else name, v

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, Value) pairs in a fixed order; also sets each Value's label to its name.

        >>> from nn import MLP
        >>> MLP(2, [3, 1], seed=0).named_parameters()[1][0]
        'layers.0.neurons.0.w[1]'
        """
        pairs = list(self._walk())
        for name, v in pairs:
            v.label = name
        return pairs

    def parameters(self) -> list[Value]:
        """Every trainable Value, in the order of ``named_parameters`` (no duplicates)."""
        # modules() visits in _walk's order (own parameters, then each child's); a Value hashes by identity,
        # so dict.fromkeys drops repeats keeping the first place.  Called once per fit on 10^5 parameters.
        return list(dict.fromkeys(itertools.chain.from_iterable(m._own_values() for m in self.modules())))

    def num_parameters(self) -> int:
        """How many trainable numbers the module has."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    # --- modes -------------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch this module and all below it to training mode (dropout on, batch statistics)."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: dropout off, BatchNorm uses its running statistics."""
        return self.train(False)

    # --- running -----------------------------------------------------------------------------------
    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def forward_batch(self, samples: Sequence[Any]) -> list[Any]:
        """Run a batch (a sequence of samples); returns one output per sample."""
        return [self(x) for x in samples]

    # --- state -------------------------------------------------------------------------------------
    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, list[float], int]]:
        """(dotted name, list, index) of every buffer entry (BatchNorm's running statistics): the
        list is the module's own, so ``values[index] = x`` updates the module in place."""
        own = None  # the path of a module below that names its buffers its own way (and its subtree)
        for path, module in self.named_modules():
            if own is not None and path.startswith(own):
                continue
            dotted = f"{prefix}{path}." if path else prefix
            if module is not self and type(module).named_buffers is not Module.named_buffers:
                own = f"{path}."
                yield from module.named_buffers(dotted)
                continue
            for name in module._buffers:
                values = getattr(module, name)
                for i in range(len(values)):
                    yield f"{dotted}{name}[{i}]", values, i

    def state_dict(self) -> dict[str, float]:
        """Every parameter and buffer (running statistics) as name -> float: JSON-ready."""
        state = {name: v.data for name, v in self._walk()}
        for name, values, i in self.named_buffers():
            state[name] = float(values[i])
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy numbers from ``state`` into the parameters and buffers.

        Everything is checked first; a missing or unexpected name (with ``strict``) or a value that
        is not a finite real number raises ``StateDictError`` naming it, and the model is left
        exactly as it was.  Returns the names skipped (only non-empty with ``strict=False``).
        """
        if not isinstance(state, Mapping):
            raise StateDictError(f"load_state_dict: expected a mapping name -> number, got {type(state).__name__}")
        targets: dict[str, tuple[Any, Any]] = {name: (v, None) for name, v in self._walk()}
        targets.update((name, (values, i)) for name, values, i in self.named_buffers())
        # buffers that hold variances (BatchNorm's running_var): a negative one fails only later, in sqrt
        nonnegative = {id(getattr(m, b)) for m in self.modules() for b in getattr(m, "_nonnegative_buffers", ())}
        bad_keys = [k for k in state if not isinstance(k, str)]
        if bad_keys:
            raise StateDictError(f"load_state_dict: names must be strings, got {bad_keys[0]!r}")
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        for what, names in (("missing", missing), ("unexpected", unexpected)):
            if strict and names:
                raise StateDictError(f"load_state_dict: {what} {len(names)} entr{'y' if len(names) == 1 else 'ies'}: "
                                     f"{_names(names)} (model unchanged)")
        updates = [(target, index, _entry(name, state[name], index is not None and id(target) in nonnegative))
                   for name, (target, index) in targets.items() if name in state]
        for target, index, x in updates:  # nothing can fail from here on
            if index is None:
                target.data = x
            else:
                target[index] = x
        return LoadResult(missing, unexpected)

    # --- display -----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's ``repr`` line."""
        return ""

    def _show_children(self) -> bool:
        return True

    def __repr__(self) -> str:
        n = self.num_parameters()
        head = f"{type(self).__name__}({self.extra_repr()})"
        head += f"  [{n} parameter{'' if n == 1 else 's'}]"
        lines = [head]
        if self._show_children():
            for name, child in self.named_children():
                sub = repr(child).splitlines()
                lines.append(f"  ({name}): {sub[0]}")
                lines.extend("  " + line for line in sub[1:])
        return "\n".join(lines)


def _children_of(module: Module) -> list[Module]:
    """``module``'s direct sub-modules in ``named_children`` order, without building their names (the walk
    calls this rather than ``children()``, which an attribute of that name would hide)."""
    if type(module).named_children is not Module.named_children:  # a module that orders its own children
        return [child for _, child in module.named_children()]
    out: list[Module] = []
    for _, value in _child_items(module):
        if isinstance(value, Module):
            out.append(value)
        else:
            out.extend(value)
    return out


def _child_items(module: Module) -> list[tuple[str, Any]]:
    """(name, value) of each public attribute holding child modules: a Module, or a non-empty list or tuple
    of them.  The one rule for ``named_children`` and the module walk (which asks it of every module)."""
    out: list[tuple[str, Any]] = []
    for name, value in vars(module).items():
        if isinstance(value, Module):
            if not name.startswith("_"):
                out.append((name, value))
        elif isinstance(value, (list, tuple)) and value and isinstance(value[0], Module) and \
                not name.startswith("_") and _all_of(value, Module):  # value[0]: a list of Values fails at once
            out.append((name, value))
    return out


def _all_of(value: Any, kind: type) -> bool:
    """A non-empty list or tuple of ``kind``: a list of parameters (``w[0]``...) or of child modules."""
    return isinstance(value, (list, tuple)) and bool(value) and all(map(isinstance, value, itertools.repeat(kind)))


def _entry(name: str, x: Any, variance: bool = False) -> float:
    """One state entry as a finite float (>= 0 for a ``variance``), else a StateDictError naming it."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        problem = f"must be a real number, got {type(x).__name__} {x!r:.60}"
    else:
        try:
            number = float(x)
        except (OverflowError, ValueError):  # an int or Fraction beyond the float range
            problem = f"({type(x).__name__}) is beyond the float range (|x| > 1.8e308), not a finite number"
        else:
            if not math.isfinite(number):
                problem = f"is {number!r}, not a finite number"
            elif variance and number < 0:
                problem = f"is {number!r}, but a variance must be >= 0"
            else:
                return number
    raise StateDictError(f"load_state_dict: {name!r} {problem} (model unchanged)")


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
