"""A model's structure: its modules, a fingerprint of them, and what fit has already learned from it.

fit asks two things of a model's structure before training: does it take samples of this width and
how many outputs does it give (one eager forward pass of sample 0, :func:`nn.checks.model_output`),
and does the loss take that output with this target.  Compiled training asks a third: is the traced
graph still this model's.  All three are answered again only when the structure changed.  The
fingerprint is every module's state (:func:`state`): what the user can change between two fits and
that changes ``model(x)`` (an activation's ``alpha``, ``Dropout.p``, ``BatchNorm.eps``, a parameter
replaced by another Value) makes it differ, while training (new ``.data`` of the same Values) does not.

>>> import nn
>>> model = nn.MLP(2, [3, 1], activation="leaky_relu", seed=0)
>>> a = fingerprint(modules_of(model))
>>> a == fingerprint(modules_of(model))
True
>>> model.layers[0].neurons[0].activation.hyper["alpha"] = 0.9
>>> a == fingerprint(modules_of(model))
False
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import weakref
from typing import Any, Callable

from autograd import Value

from .module import Module

__all__ = ["modules_of", "fingerprint", "state", "modes", "target_key", "weak", "same_loss", "of_nn_layers", "Probed",
           "probed", "remember_probe"]

# The mode is compared on its own (modes); Dropout's mask hook is transient
_NOT_STRUCTURE = frozenset(("training", "_masks"))


def modules_of(model: Any) -> list:
    """The model's modules, parents first (``[model]`` for a model that is not an ``nn.Module``)."""
    return list(model.modules()) if callable(getattr(model, "modules", None)) else [model]


def fingerprint(modules: list) -> tuple:
    """Every module's :func:`state`, in order: equal fingerprints, the same graph for every input
    (given the same modes).  TypeError for an object without attributes (``vars``)."""
    out: list = []
    seen: dict[int, tuple[int, Any]] = {}  # an object shared by many neurons (a layer's Activation) is read once
    for m in modules:  # read here, attribute by attribute: met again inside another one, by its place
        seen.setdefault(id(m), (len(seen), m))
    add = out.append
    for m in modules:
        add(id(m))
        t = type(m)
        if _own(t.__module__):
            _add_state(t, out, seen)
        else:
            add(id(t))  # what _add_state adds for a library's class, without its set-up
        for k, v in vars(m).items():
            if k not in _NOT_STRUCTURE:
                add(k)
                t = type(v)
                if t in _DATA:  # what _add_state adds for the most common attributes, inline (no stack):
                    add(t)  # numbers and strings,
                    add(v)
                elif t is Value:  # a Value,
                    add(id(v))
                elif id(v) in seen:  # an object met before (a layer's Activation),
                    add(("seen", seen[id(v)][0]))
                elif t is list and _VALUES_BY_IDENTITY and set(map(type, v)) <= _VALUES:  # a neuron's weights
                    seen[id(v)] = (len(seen), v)
                    out.extend((list, len(v), tuple(v)))
                else:
                    _add_state(v, out, seen)
    return tuple(out)


_LIBRARIES = frozenset(sys.stdlib_module_names) | {"nn", "autograd", "numpy"}


def _own(module: Any) -> bool:
    """Whether a module name is the user's own code (a notebook, a script, their package), not Python's,
    numpy's or chalkgrad's: only the user's own classes and functions hold state a user edits between
    fits (a class attribute, a global an own function reads); a library's by identity alone."""
    if not isinstance(module, str):
        return False
    own = _OWN.get(module)
    if own is None:
        own = _OWN[module] = module.partition(".")[0] not in _LIBRARIES
    return own


_OWN: dict[str, bool] = {}  # module name -> _own: a few names, asked once per class per fingerprint


def _own_class(obj: Any) -> bool:
    """Whether ``obj`` is a class of the user's own: its body (class attributes, methods) is state."""
    return isinstance(obj, type) and _own(obj.__module__)


_DATA = frozenset((int, float, complex, str, bytes, bool, type(None)))  # a set: one hash, not seven comparisons
_VALUES = {Value}
_VALUES_BY_IDENTITY = Value.__eq__ is object.__eq__  # else a list of Values is read as their ids (slower)
_BY_IDENTITY = (type, types.ModuleType, types.BuiltinFunctionType, weakref.ref)


def state(obj: Any) -> tuple:
    """What ``obj`` computes with, by value, as a flat tuple that compares equal exactly when it is unchanged.

    Numbers and strings by value; lists, tuples and dicts item by item; a Value by identity (a tape
    reads its ``.data`` live, so training changes nothing here, while a Value replaced by another
    does); a Module by its attributes (in a fingerprint, the modules walked are read once, attribute
    by attribute, and by their place where met again); a function by its code,
    defaults, closure cells and, for a function of the user's own, the globals its code names (a
    lambda's ``margin`` or class weights set at the top of a notebook; not modules, nor library
    classes); a ``functools.partial`` by its function and arguments; a bound method by its function
    and its object; any other object (an ``Activation``) by its class and attributes; a class of the
    user's own (a Module subclass, a loss object's class) by its body too, the class attributes and
    methods.  No recursion: an explicit stack; each object is read once."""
    out: list = []
    _add_state(obj, out, {})
    return tuple(out)


def _add_state(obj: Any, out: list, seen: dict[int, tuple[int, Any]]) -> None:
    add = out.append
    stack = [obj]
    while stack:
        v = stack.pop()
        t = type(v)
        if t in _DATA:
            add(t)
            add(v)
            continue
        if t is Value or (isinstance(v, _BY_IDENTITY) and not _own_class(v)):
            add(id(v))  # a Value a tape read stays alive in the tape, so its id is not reused meanwhile
            continue
        first = seen.get(id(v))
        if first is not None:
            add(("seen", first[0]))  # the order it was first met in: the same in every fingerprint
            continue
        seen[id(v)] = (len(seen), v)  # held: an id is not reused while the walk runs
        if t is list or t is tuple:
            add(t)
            add(len(v))  # before the items: a str key can never be read as one of them
            if set(map(type, v)) <= _VALUES:  # a neuron's weights: in C, no stack
                if _VALUES_BY_IDENTITY:  # the Values themselves as one entry, compared by identity: no id() each
                    add(tuple(v))
                else:
                    out.extend(map(id, v))
            else:
                stack.extend(reversed(v))
        elif t is dict:
            add(dict)
            add(len(v))
            for k, x in reversed(list(v.items())):
                stack.append(x)
                stack.append(k)
        elif t is types.FunctionType:
            code = v.__code__
            add(code)  # code objects compare by their instructions and constants
            stack.append((v.__defaults__, v.__kwdefaults__,
                          tuple(c.cell_contents for c in v.__closure__ or () if _filled(c)),
                          _named_globals(code, v.__globals__) if _own(v.__module__) else ()))
        elif t is types.MethodType:
            add(t)
            stack.append(v.__self__)
            stack.append(v.__func__)
        elif t is functools.partial:
            add(t)
            stack.append((v.func, v.args, v.keywords))
        elif isinstance(v, Module):  # one the walk of modules did not reach (in a dict, a '_' attribute, a closure)
            add(t)
            stack.append(t)
            stack.append({k: x for k, x in vars(v).items() if k != "_masks"})  # its mode too: fit does not set it
        elif isinstance(v, type):  # a class of the user's own: its body and its own bases
            add(v)
            stack.extend(k for k in v.__mro__[1:] if _own_class(k))
            stack.append(dict(vars(v)))
        elif hasattr(v, "shape") and hasattr(v, "tobytes"):  # a numpy array
            add((t, v.shape, str(v.dtype), v.tobytes()))
        elif hasattr(v, "__dict__"):
            add(t)
            stack.append(vars(v))
            if _own_class(t):
                stack.append(t)
        else:
            add(id(v))


def _filled(cell: Any) -> bool:
    try:
        return cell.cell_contents is not _MISSING
    except ValueError:  # a cell not assigned yet
        return False


def _named_globals(code: Any, namespace: dict) -> tuple:
    """(name, value) of the globals ``code`` and the code nested in it name: numbers, strings, functions,
    lists, arrays, objects and the user's own classes (a loss's class weights ``W = np.array(...)``);
    not modules nor Python's or nn's classes, which are not state a user edits between fits."""
    names: list = []
    codes = [code]
    while codes:
        c = codes.pop()
        names.extend(c.co_names)
        codes.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    out = []
    for name in dict.fromkeys(names):
        v = namespace.get(name, _MISSING)
        if v is not _MISSING and not isinstance(v, types.ModuleType) and (not isinstance(v, type) or _own_class(v)):
            out.append((name, v))
    return tuple(out)


_MISSING = object()


def modes(modules: list) -> tuple:
    """Each module's train/eval mode (what the fingerprint leaves out: fit switches it)."""
    return tuple(getattr(m, "training", None) for m in modules)


def target_key(y: Any) -> Any:
    """A target as a hashable key: numbers as they are, rows and arrays as tuples."""
    if isinstance(y, (list, tuple)):
        return tuple(target_key(v) for v in y)
    return y.tolist() if hasattr(y, "tolist") else y


def weak(fn: Any) -> Callable[[], Any]:
    """A reference to a loss that does not keep it (and the model a bound method or closure holds) alive:
    ``weak(fn)()`` is ``fn``, or an equal bound method, or None once it is gone.  Objects that cannot be
    weakly referenced are held."""
    try:
        return weakref.WeakMethod(fn) if inspect.ismethod(fn) else weakref.ref(fn)
    except TypeError:
        return lambda: fn


def same_loss(ref: Callable[[], Any], loss: Any) -> bool:
    """Whether the loss :func:`weak` refers to is ``loss``, or an equal bound method (``model.loss`` is a new
    object at each access)."""
    kept = ref()
    return kept is loss or (kept is not None and inspect.ismethod(loss) and kept == loss)


def of_nn_layers(modules: list) -> bool:
    """Whether every module is one of ``nn.layers``': their outputs, parameters and modes depend only on
    the attributes the fingerprint covers, so what fit learned about them can be remembered."""
    return all(type(m).__module__ == "nn.layers" for m in modules)


class Probed:
    """What one eager probe of a model structure established: the sample width it takes, its number of
    outputs, and the last (loss, first target) that ran on its output."""

    def __init__(self, structure: tuple, width: int, n_out: int) -> None:
        self.structure, self.width, self.n_out = structure, width, n_out
        self._last: tuple[Callable[[], Any], str] | None = None  # (the loss, weakly: it may hold the model; target)
        self.params: list | None = None  # model.parameters(): the same list while the structure is the same

    def took(self, loss: Any, target: Any) -> bool:
        """Whether ``loss`` last ran on this structure's output with ``target`` (0 and 0.0 differ)."""
        return self._last is not None and same_loss(self._last[0], loss) and self._last[1] == repr(target)

    def ran(self, loss: Any, target: Any) -> None:
        """Remember that ``loss`` ran with ``target``."""
        self._last = (weak(loss), repr(target))


_PROBED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> Probed (a model can be freed)


def probed(model: Any, structure: tuple | None, width: int) -> Probed | None:
    """What an earlier probe of this model learned, when its structure and the width are the same."""
    if structure is None:
        return None
    try:
        known = _PROBED.get(model)
    except TypeError:  # not weakly referenceable: never remembered
        return None
    return known if known is not None and known.structure == structure and known.width == width else None


def remember_probe(model: Any, known: Probed) -> None:
    """Keep ``known`` for the next fit on this model (silently not, for a model that cannot be weakly referenced)."""
    try:
        _PROBED[model] = known
    except TypeError:
        pass
