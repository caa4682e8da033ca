"""``fit(compile=True)``: training through autograd's tape compiler.

The eager step builds a graph per batch; compiled training traces one sample's loss and replays
forward and backward over whole batches with numpy.  :class:`CompiledModel` holds the traced graph
of a model, loss and set of targets (cached per model, so a second fit does not re-trace) and
:func:`flat_trainer` builds fit's trainer on flat parameter arrays (:mod:`nn.flat`).  Dropout in
training mode takes its mask from tape inputs (``Dropout.masks_from``) that are drawn afresh for
every batch, from the layer's own generator in the eager order (layer by layer, sample by sample),
so compiled and eager training draw the same masks.  BatchNorm in training mode needs the statistics of the whole batch,
which a per-sample tape cannot see: such models train eagerly, with a warning when
``compile=True`` was asked for explicitly.

``compile=None`` (fit's default) compiles only what is known to give the eager numbers: nn's own
losses (pure Value arithmetic, no branch on the prediction), models made of ``nn.layers``, and at
most :data:`MAX_TAPES` distinct targets.  A custom loss may branch on ``prediction.data``, which a
tape would freeze at trace time, so it trains eagerly unless ``compile=True`` says otherwise.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import numpy as np

import autograd
from autograd import Tape, Value, no_grad, trace
from autograd.internal import OPS

from . import losses
from .layers import BatchNorm, Dropout
from .structure import fingerprint, modes, modules_of, of_nn_layers, same_loss, state, target_key, weak

if TYPE_CHECKING:
    from .flat import FlatTrainer

__all__ = ["why_not_compiled", "flat_trainer", "still_traced", "CompiledModel", "MAX_TAPES", "MAX_MASKED"]

MAX_TAPES = 64  # distinct targets, one tape each; past that fit trains eagerly
MAX_MASKED = 16  # up to this many distinct targets, fit traces one tape with the target as 0/1 mask inputs


def why_not_compiled(
    model: Any, explicit: bool, loss: Callable | None = None, targets: Sequence[Any] | None = None,
    modules: list | None = None,
) -> str:
    """Why this model (and loss, and targets) cannot train through the tape ("" when it can).

    With ``explicit=False`` (``compile=None``) only the safe cases compile: nn's own losses, models
    of ``nn.layers`` modules, at most ``MAX_TAPES`` distinct targets.
    """
    modules = modules_of(model) if modules is None else modules
    if any(isinstance(m, BatchNorm) and m.training for m in modules):
        return ("BatchNorm in training mode normalises with the statistics of the whole batch, which a "
                "per-sample tape cannot see")
    if explicit:
        return ""
    if not all(type(m).__module__ == "nn.layers" for m in modules):
        return "it has modules outside nn.layers (their Python control flow could differ per sample)"
    if loss is not None and not _is_nn_loss(loss):
        return ("the loss is a custom function: traced once per target, a branch on the prediction would be "
                "frozen (pass compile=True if it has none)")
    if targets is not None and len({target_key(y) for y in targets}) > MAX_TAPES:
        return f"more than {MAX_TAPES} distinct targets (one tape each)"
    return ""


def _is_nn_loss(loss: Callable) -> bool:
    from .losses import LOSSES

    return any(loss is fn for fn in LOSSES.values())


@contextlib.contextmanager
def _dropout_masks(model: Any, source: Callable[[Dropout, int], Sequence[Any]]) -> Iterator[None]:
    """Within the block, every Dropout of the model takes its mask from ``source(dropout, width)``."""
    with contextlib.ExitStack() as stack:
        for d in model.modules():
            if isinstance(d, Dropout):
                stack.enter_context(d.masks_from(functools.partial(source, d)))
        yield


# --- fit's compiled training: one traced graph per model, loss and targets, cached ----------------
class CompiledModel:
    """The traced training graph of one model with one loss and one set of targets.

    With at most :data:`MAX_MASKED` distinct targets, one tape computes ``sum_k m_k loss(out, y_k)``
    with ``m`` a one-hot mask of the sample's target among the distinct ones (``y_k``): the model
    is traced once, every batch replays in one call, and a 0 mask times a finite loss adds exactly
    0 to the value and the gradients, so each sample gets its own target's loss and gradient.  With
    more targets there is one tape per target (the target a constant of its tape), traced when it
    first appears.  Tape inputs: the sample's features, then dropout masks, then the target masks.
    """

    def __init__(self, model: Any, loss: Callable, targets: Sequence[Any], keys: Sequence[Any], nin: int,
                 masked: bool, modules: list) -> None:
        first = dict(zip(reversed(keys), reversed(targets)))  # each key's target (its first)
        try:  # in order where they have one (class numbers): target mask k is then output k's
            order = sorted(first)
        except TypeError:
            order = list(dict.fromkeys(keys))  # in order of appearance
        self.keys: list[Any] = order
        self.targets: list[Any] = [first[k] for k in order]
        self.position = {k: i for i, k in enumerate(order)}
        self.nin, self.masked = nin, masked
        self.key: tuple | None = None  # what it was traced from (graph_key), when known
        self._loss = weak(loss)  # the cache must not keep a loss alive (model.loss, a bound method, holds the model)
        self._model = weakref.ref(model)  # a cached graph must not keep its model alive
        self.widths = _dropout_widths(model, modules, nin)  # (position in model.modules(), inputs)
        self.n_noise = sum(n for _, n in self.widths)
        self.n_inputs = nin + self.n_noise + (len(self.keys) if masked else 0)
        self._tapes: dict[int, Tape] = {}  # target position -> tape (-1: the masked tape)
        self.listed = False  # whether the model's output is a list (of one, too), as the trace saw it
        self.nn_layers = of_nn_layers(modules)  # only nn's own layers: eval mode is the tape with dropout masks 1
        self._all: np.ndarray | None = None  # a whole data set's input columns, a row per sample (see inputs)
        self._owner: weakref.ref | None = None  # who filled them last (weakly: the cache must not keep a fit alive)
        self._eye = np.eye(len(self.keys))  # row k: the target masks of a sample whose target is keys[k]
        if masked:
            self._tapes[-1] = self._trace(None)

    def trace_with(self, loss: Callable) -> None:
        """Trace later targets with ``loss``: one whose :func:`nn.structure.state` equals the traced one's
        (the same lambda written again in the next fit's call) computes the same graph."""
        if not same_loss(self._loss, loss):
            self._loss = weak(loss)

    # --- tracing ------------------------------------------------------------------------------------
    def _trace(self, k: int | None) -> Tape:
        nin, n_noise, loss_ref, model_ref = self.nin, self.n_noise, self._loss, self._model
        targets = self.targets
        spec = losses.spec(loss_ref())
        picked = spec.picked if spec is not None else None

        def sample(*args: Value) -> tuple[Value, Any]:  # kept by the tape: it refers to model and loss weakly
            model, loss = model_ref(), loss_ref()
            assert model is not None and loss is not None, "traced while fit holds the model and the loss"
            feed = iter(args[nin:nin + n_noise])
            with _dropout_masks(model, lambda d, n: [next(feed) for _ in range(n)]):
                out = model(list(args[:nin]))
            self.listed = isinstance(out, (list, tuple))
            if k is not None:
                return loss(out, targets[k]), out
            masks = args[nin + n_noise:]
            if picked is not None:  # nn's own loss, written for a one-hot mask (losses.LossSpec.picked)
                return picked(out, masks, targets), out
            # sum_k m_k loss(out, y_k) as one dot node: the batch replay contracts masks and losses in one call
            return autograd.dot(masks, [loss(out, y) for y in targets]), out

        example = [0.0] * nin + [1.0] * n_noise
        if k is None:
            example += [1.0] + [0.0] * (len(targets) - 1)
        return trace(sample, *example, has_aux=True)

    def tapes(self) -> list[Tape]:
        """The tapes traced so far."""
        return list(self._tapes.values())

    # --- batches ------------------------------------------------------------------------------------
    def codes(self, keys: TargetKeys) -> np.ndarray:
        """Each target's position among :attr:`keys` (KeyError for a target never seen)."""
        position = self.position
        if keys.inverse is not None:  # numbers: one sort, not a loop
            return np.array([position[k] for k in keys.distinct], dtype=np.intp)[keys.inverse]
        return np.fromiter((position[k] for k in keys.keys), dtype=np.intp, count=len(keys.keys))

    def dropouts(self, modules: list) -> list[tuple[Dropout, int]]:
        """The dropout layers among the model's ``modules`` and their widths, in the order the tape
        takes their masks."""
        return [(modules[i], n) for i, n in self.widths]

    def inputs(self, X: np.ndarray, idx: np.ndarray | None, codes: np.ndarray, dropouts: list,
               owner: Any = None) -> Any:
        """The tape's inputs for the samples ``idx`` (rows of ``X``; None: all of them, in order) with
        targets ``codes``, made a row per sample: the samples' rows of ``X``, each dropout layer's masks,
        the target masks (rows of an identity matrix, one row per target).

        For a mini-batch they are given to :meth:`autograd.Tape.replay` as blocks of rows, each of these
        transposed (the batch's rows of ``X`` gathered once, like ``X[idx]`` by hand; the first layer's
        matrix product reads their transpose in place).  For all samples they are copied into one array
        (n_inputs, B), the transpose of an array with a row per sample; with an ``owner`` that array is
        this graph's own, refilled on each call and marked as ``owner``'s (:meth:`filled_by`), kept for
        the next fit (:meth:`free_inputs`)."""
        rows = [X if idx is None else X[idx]]
        B = len(rows[0])
        for d, n in dropouts:
            # The eager loop draws layer by layer, then sample by sample: the same numbers here.
            rows.append(np.array([d.draw(n) for _ in range(B)], dtype=float).reshape(B, n))
        if self.masked:
            rows.append(self._eye[codes])
        if idx is not None:
            return [r.T for r in rows]
        if owner is not None:
            if self._all is None or self._all.shape[0] != B:
                self._all = np.empty((B, self.n_inputs))
            R, self._owner = self._all, weakref.ref(owner)
        else:
            R = np.empty((B, self.n_inputs))
        np.concatenate(rows, axis=1, out=R)
        return R.T

    def free_inputs(self, min_bytes: int = 0) -> None:
        """Drop the whole data set's input columns when they take at least ``min_bytes``."""
        if self._all is not None and self._all.nbytes >= min_bytes:
            self._all, self._owner = None, None

    def filled_by(self, owner: Any) -> bool:
        """Whether the whole-data-set input columns are still the ones ``owner`` asked :meth:`inputs` for."""
        return self._owner is not None and self._owner() is owner

    def eval_inputs(self, X: np.ndarray) -> np.ndarray:
        """The tape's input columns for predicting the rows of ``X`` in eval mode: every dropout mask 1
        (the identity, as Dropout in eval mode) and every target mask 0 (no target: only the model's
        outputs are read, not the loss row)."""
        R = np.zeros((len(X), self.n_inputs))
        R[:, :self.nin] = X
        R[:, self.nin:self.nin + self.n_noise] = 1.0
        return R.T

    def batches(self, codes: np.ndarray) -> list[tuple[Tape, np.ndarray | None]]:
        """(tape, the batch's columns it takes, None for all) for a batch of targets ``codes``."""
        if self.masked:
            return [(self._tapes[-1], None)]
        present = np.unique(codes)
        out = []
        for k in present.tolist():
            tape = self._tapes.get(k)
            if tape is None:
                tape = self._tapes[k] = self._trace(k)
            out.append((tape, None if len(present) == 1 else np.flatnonzero(codes == k)))
        return out


def _dropout_widths(model: Any, modules: list, nin: int) -> list[tuple[int, int]]:
    """(position in ``modules``, number of inputs) of each dropout call in one forward pass."""
    if not any(isinstance(m, Dropout) for m in modules):
        return []
    where = {id(m): i for i, m in enumerate(modules)}
    widths: list[tuple[int, int]] = []

    def probe(d: Dropout, n: int) -> list[float]:
        widths.append((where[id(d)], n))
        return [1.0] * n

    with no_grad(), _dropout_masks(model, probe):
        model([0.0] * nin)
    return widths


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> CompiledModel (traced from its .key)


class TargetKeys:
    """The training targets as hashable keys (:func:`nn.structure.target_key`): ``keys`` one per target,
    ``distinct`` each key once; for numbers (the common case) found by one sort of ``array`` (the same
    targets as an array: ``FitPlan.y``; ``distinct``: its ``np.unique`` when known), ``inverse`` then
    holding each target's position in ``distinct``."""

    def __init__(self, targets: Sequence[Any], array: np.ndarray, distinct: np.ndarray | None = None) -> None:
        self.inverse: np.ndarray | None = None
        self.distinct: list[Any]
        if array.ndim == 1 and array.dtype.kind in "fiu":
            self.keys: Sequence[Any] = targets  # numbers are their own keys (1 and 1.0 are one key)
            distinct = np.unique(array) if distinct is None else distinct
            self.distinct = distinct.tolist()
            self.inverse = np.searchsorted(distinct, array)  # finite numbers: each one's place among them
        else:  # rows and arrays become tuples
            self.keys = [target_key(y) for y in targets]
            self.distinct = list(dict.fromkeys(self.keys))


def compiled_model(model: Any, loss: Callable, targets: Sequence[Any], keys: TargetKeys, nin: int,
                   modules: list | None = None, structure: tuple | None = None) -> CompiledModel:
    """The model's traced training graph, from the cache when this model, an equal loss (by its state,
    so a lambda written anew in each fit's call) and these targets were traced before and neither the
    model's nor the loss's state changed since (:func:`nn.structure.state`; a
    second ``fit`` on the same model does not re-trace); ``keys``: the targets' keys;
    ``structure``: :func:`nn.structure.fingerprint` of ``modules`` when the caller has it."""
    distinct = set(keys.distinct)
    masked = len(distinct) <= MAX_MASKED
    modules = modules_of(model) if modules is None else modules
    try:
        # the modules' and the loss's state by value: what a user changes between fits (an alpha, a
        # lambda's margin) is traced anew, as model(x) and eager training see it
        # and the op table: an op replaced by defop(..., replace=True) changes what model(x) makes
        key = graph_key(modules, loss, structure)
        cached: CompiledModel | None = _CACHE.get(model)
    except TypeError:  # a model that cannot be weakly referenced or has no attributes: not cached
        return CompiledModel(model, loss, targets, keys.keys, nin, masked, modules)
    if cached is not None and cached.key == key and cached.masked == masked and distinct <= cached.position.keys():
        cached.trace_with(loss)  # the key holds the loss's state: an equal loss, another object, is the same graph
        return cached
    compiled = CompiledModel(model, loss, targets, keys.keys, nin, masked, modules)
    compiled.key = key
    _CACHE[model] = compiled
    return compiled


def graph_key(modules: list, loss: Any, structure: tuple | None = None) -> tuple:
    """What a traced graph of the model and the loss depends on: the modules' modes and :func:`fingerprint`
    (``structure`` when the caller has it), the loss's :func:`state` and the op table."""
    return (modes(modules), fingerprint(modules) if structure is None else structure, state(loss), tuple(OPS.values()))


def still_traced(model: Any, loss: Any, compiled: CompiledModel) -> bool:
    """Whether ``compiled`` is still the graph ``model`` and ``loss`` make as they are now: False once user code
    (a callback) changed an activation, replaced a parameter by another Value or switched a mode; True when
    that cannot be told (a model whose state cannot be read)."""
    if compiled.key is None:
        return True
    try:
        return bool(graph_key(modules_of(model), loss) == compiled.key)
    except TypeError:
        return True


def flat_trainer(plan: Any, explicit: bool) -> FlatTrainer | None:
    """fit's compiled training (:class:`nn.flat.FlatTrainer`), or None when the model cannot train
    through the tape (with a warning when ``explicit``)."""
    from .flat import FlatTrainer

    model = plan.model
    labels, distinct = plan.task.labels  # np.unique of the labels the task checked: plan.y unless some are held out
    keys = TargetKeys(plan.ys, plan.y, distinct if labels is plan.y else None)
    walked = plan.modules_in_training()
    modules = modules_of(model) if walked is None else walked
    reason = why_not_compiled(model, explicit, plan.loss, modules=modules)
    nin = getattr(model, "nin", None)
    if not reason and not isinstance(nin, int):
        reason = "the model has no .nin"
    if not reason and len(keys.distinct) > MAX_TAPES:
        reason = f"more than {MAX_TAPES} distinct targets (one tape each)"
    if reason:
        if explicit:
            warnings.warn(f"fit(compile=True): training eagerly because {reason}", stacklevel=3)
        return None
    assert isinstance(nin, int)
    compiled = compiled_model(model, plan.loss, plan.ys, keys, nin, modules, None if walked is None else plan.structure)
    return FlatTrainer(plan, compiled, compiled.codes(keys), compiled.dropouts(modules))
