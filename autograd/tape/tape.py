"""The Tape: a traced graph replayed without building nodes, per sample or over whole batches."""

from __future__ import annotations

import numbers
import sys
from functools import partial
from typing import Any, Callable

from ..errors import names
from ..modes import OWN_WORK, refuse_in_own_work
from .codegen import generate
from .forward import check_tangents, generate_jvp, replay_jvp
from .schedule import layer_sides
from .trace import MATH_ERRORS, Recording, TraceMismatch, describe_difference, record, replay_floats, structure

__all__ = ["Tape", "trace"]


def trace(fn: Callable, *example_inputs: float, check: bool = False, mode: str = "auto",
          has_aux: bool = False) -> Tape:
    """Run ``fn`` once on Values made from the example inputs and return its replayable :class:`Tape`.

    Values that existed before the call (model parameters) are read live from ``.data`` at every
    replay and receive gradients in ``.grad``; numbers become constants.  Python control flow on
    ``.data`` is fixed to the example's branch, as in ``jax.jit``; ``check=True`` re-runs ``fn``
    eagerly at every call and raises :class:`TraceMismatch` if the graph changed.  With
    ``has_aux=True`` ``fn`` returns ``(output, aux)`` and only ``output`` is differentiated.

    >>> from autograd import Value, trace
    >>> w = Value(3.0, label="w")
    >>> tape = trace(lambda x: (w * x).tanh(), 0.5)
    >>> round(tape(0.1), 6)
    0.291313
    """
    if mode not in ("auto", "python", "numpy"):
        raise ValueError(f"trace: mode must be 'auto', 'python' or 'numpy', got {mode!r}")
    refuse_in_own_work("trace")
    return Tape(fn, record(fn, example_inputs, has_aux=has_aux), check=check, mode=mode)


class Tape:
    """A flat recording of one graph: ``tape(*inputs)``, ``value_and_grad``, ``batch``, ``source``.

    Single-sample calls run :attr:`source`, straight-line Python generated from the op table
    (mode ``"python"``); a graph of many similar nodes can instead replay through the grouped numpy
    evaluator with a batch of one (mode ``"numpy"``; ``"auto"`` picks numpy for graphs of over
    5,000 nodes that form at least 8 times fewer groups of same-op, same-depth nodes).
    """

    def __init__(self, fn: Callable, rec: Recording, check: bool = False, mode: str = "auto") -> None:
        self.fn = fn
        self.recording = rec
        self._check_mode = check
        self.mode = mode if mode != "auto" else _auto_mode(rec)
        self._n = rec.n_inputs
        self._forward: Callable[..., Any] | None = None
        self._vg: Callable[..., Any] | None = None
        self._jvp: Callable[..., tuple] | None = None
        self._plans: dict[bool, Any] = {}
        self._structure = structure(rec) if check else None

    # --- what the tape holds --------------------------------------------------------------------
    @property
    def check(self) -> bool:
        """True when every call re-runs ``fn`` eagerly and compares graphs (fixed at trace time)."""
        return self._check_mode

    @property
    def input_names(self) -> list[str]:
        """Names of the inputs, in call order (the traced function's parameter names)."""
        return list(self.recording.input_names)

    @property
    def params(self) -> list:
        """Captured Values (parameters), read live and given gradients, in tape order."""
        return list(self.recording.params)

    @property
    def n_nodes(self) -> int:
        """Number of op nodes recorded."""
        return self.recording.n_nodes

    @property
    def source(self) -> str:
        """Straight-line Python of the forward pass and of forward + backward (what replay runs)."""
        return generate(self.recording)[0]  # regenerated on demand: only the compiled code is kept

    @property
    def jvp_source(self) -> str:
        """Straight-line Python of forward mode: each node's value, then its tangent (what ``jvp`` runs)."""
        return generate_jvp(self.recording)[0]

    def __repr__(self) -> str:
        r = self.recording
        return (f"<Tape of {getattr(self.fn, '__name__', 'fn')}: {r.n_inputs} inputs, {len(r.params)} "
                f"parameters, {len(r.consts)} constants, {r.n_nodes} nodes, {len(r.outputs)} outputs>")

    def nbytes(self) -> int:
        """Bytes held by the recording's arrays (the tape proper, without generated code)."""
        r = self.recording
        return sum(map(sys.getsizeof, (r.consts, r.codes, r.offsets, r.args, r.outputs, r.params, r.ops, r.labels)))

    def numpy_calls(self) -> int:
        """Number of op-rule evaluations (numpy groups) of one batch replay: nodes -> groups."""
        return len(self._plan(True).groups)

    def batch_groups(self) -> list[tuple[str, int, str]]:
        """What one batch replay evaluates, in order: ``(op, nodes, how)`` per group of same-op,
        same-depth nodes, ``how`` being ``"matrix product"`` for a layer's ``dot`` nodes (weights the
        same for every sample times one shared input row: one matmul) and ``"array op"`` otherwise.
        Identical nodes (the same op of the same inputs) are evaluated once and counted once."""
        plan = self._plan(True)
        return [(g.op.name, g.k, "matrix product" if layer_sides(g) is not None else "array op")
                for g in plan.groups]

    def batch_source(self, input_grads: bool = False) -> str:
        """The batch program as Python/numpy source: forward and backward over B samples at once, the
        program :meth:`replay` (and so ``nn.fit(compile=True)``) runs.  ``X`` holds the inputs, a row
        each; ``theta`` the parameters; arrays are named after what they hold (``W_layers_0``, ``z1``,
        ``h1``, their gradients ``dW_layers_0``, ``dz1`` ...).  ``input_grads=True`` shows the program
        :meth:`batch_value_and_grad` runs, which also returns each input's gradient (``dX``)."""
        source: str = self._plan(input_grads).source()
        return source

    # --- single sample ------------------------------------------------------------------------
    def _compile(self, which: str) -> None:
        # Each function is compiled when first needed, and its source text is not kept.  No
        # reference cycles: a generated function is popped from its own globals, and the fast
        # entry holds the recording, never the tape, so dropping a tape frees it (and releases its
        # captured Values) by reference counting alone.
        rec = self.recording
        src, namespace = generate(rec, which)
        code = compile(src, f"<tape of {getattr(self.fn, '__name__', 'fn')}>", "exec")
        exec(code, namespace)  # our own generated code, built from the op table
        if which == "forward":
            self._forward = namespace.pop("forward")
            return
        self._vg = vg = namespace.pop("value_and_grad")
        if not (self.check or rec.has_aux):
            # The hot path: an entry with the inputs' own names shadows the method, so a replay on
            # floats is one type check and the generated function; anything else takes the slow
            # path (input conversion, then the same function).
            names = [f"_x{i}" for i in range(self._n)]
            args = ", ".join(names)
            guard = " and ".join([f"type({x}) is float" for x in names] + ["not _rest", "not _own[0]"])
            given = f"({args}{',' if len(names) == 1 else ''})"  # the inputs as a tuple
            entry = (f"def _entry({''.join(x + '=_missing, ' for x in names)}*_rest):\n"
                     f"    if {guard}:\n        try:\n"
                     f"            return value_and_grad({args})\n        except _errors:\n"
                     f"            _fail({given})\n"
                     f"    return _slow(*[x for x in {given} if x is not _missing], *_rest)\n")
            name = getattr(self.fn, "__name__", "fn")
            scope = dict(value_and_grad=vg, _errors=MATH_ERRORS, _slow=partial(_replay_vg, rec, name, vg),
                         _fail=partial(_fail, rec), _missing=object(), _own=OWN_WORK)
            exec(compile(entry, "<tape entry>", "exec"), scope)
            self.value_and_grad = scope.pop("_entry")  # type: ignore[method-assign]  # a faster entry, per tape

    def _inputs(self, inputs: tuple) -> tuple:
        return _inputs(self.recording, getattr(self.fn, "__name__", "fn"), inputs)

    def __call__(self, *inputs: float) -> float | tuple[float, ...]:
        """The outputs for these inputs, as floats (a tuple when ``fn`` returned several)."""
        inputs = self._inputs(inputs)
        if self.check:
            self._check(inputs)
        result: float | tuple[float, ...]
        if self.mode == "numpy":
            try:
                out, _, _ = self._batch_run([[x] for x in inputs], grad=False)
            except MATH_ERRORS:
                replay_floats(self.recording, inputs, grad=False)  # the error python mode gives, naming the node
                raise
            result = self._shape(tuple(float(o[0]) for o in out))
            return result
        if self._forward is None:
            self._compile("forward")
        assert self._forward is not None
        try:
            out = self._forward(*inputs)
            result = self._shape(out) if self.recording.has_aux else out
            return result
        except MATH_ERRORS:
            replay_floats(self.recording, inputs, grad=False)
            raise

    def value_and_grad(self, *inputs: float) -> tuple[Any, tuple[float, ...]]:
        """(outputs, d(sum of outputs)/d(each input)); parameters' ``.grad`` accumulate, as eager.

        >>> from autograd import trace
        >>> tape = trace(lambda a, b: a * b + b ** 3, -41.0, 2.0)
        >>> tape.value_and_grad(-41.0, 2.0)
        (-74.0, (2.0, -29.0))
        """
        refuse_in_own_work("a tape's value_and_grad")
        inputs = self._inputs(inputs)
        if self.check:
            self._check(inputs)
        if self.mode == "numpy":
            try:
                out, gin, _ = self._batch_run([[x] for x in inputs], grad=True, accumulate=True)
            except MATH_ERRORS:
                replay_floats(self.recording, inputs, grad=True)
                raise
            return self._shape(tuple(float(o[0]) for o in out)), tuple(float(g[0]) for g in gin)
        if self._vg is None:
            self._compile("value_and_grad")
        assert self._vg is not None
        try:
            out, grads = self._vg(*inputs)
            return (self._shape(out) if self.recording.has_aux else out), grads
        except MATH_ERRORS:
            replay_floats(self.recording, inputs, grad=True)
            raise

    def jvp(self, *args: Any, tangents: Any = None) -> tuple[Any, Any]:
        """(outputs, their derivatives in the direction ``tangents``): forward mode over the recording.

        Called as ``tape.jvp(*inputs, tangents)`` (or ``tangents=`` by keyword), one tangent per
        input; outputs and tangents come shaped as ``tape(*inputs)`` returns them.  Captured
        parameters are held fixed (tangent 0).  Equal to :func:`autograd.jvp` on the traced function.

        >>> from autograd import trace
        >>> tape = trace(lambda a, b: a * b + b ** 3, -41.0, 2.0)
        >>> tape.jvp(-41.0, 2.0, [1.0, 0.0])
        (-74.0, 2.0)
        """
        refuse_in_own_work("a tape's jvp")
        name = getattr(self.fn, "__name__", "fn")
        if tangents is None:
            if len(args) != self._n + 1:
                raise TypeError(f"tape.jvp of {name}: expected {self._n} input(s) ({names(self.input_names)}) "
                                f"and then the tangents, got {len(args)} argument(s)")
            args, tangents = args[:-1], args[-1]
        inputs = self._inputs(args)
        ts = check_tangents(self.recording, name, tangents)
        if self.check:
            self._check(inputs)
        if self.mode == "numpy":  # a graph too large to be worth compiling: interpret it
            outs, touts = replay_jvp(self.recording, inputs, ts)
            return self._shape(outs), self._shape(touts)
        if self._jvp is None:
            src, namespace = generate_jvp(self.recording)
            exec(compile(src, f"<tape jvp of {name}>", "exec"), namespace)  # our own code, from the op table
            self._jvp = namespace.pop("jvp")
        try:
            outs, touts = self._jvp(*inputs, *ts)
        except MATH_ERRORS:
            replay_jvp(self.recording, inputs, ts)  # names the node where it failed
            raise
        return self._shape(outs), self._shape(touts)

    def _shape(self, outs: Any) -> Any:
        """Outputs as fn returned them: one, a tuple, or (output, aux tuple)."""
        if self.recording.has_aux:
            return outs[0], tuple(outs[1:])
        return outs[0] if self.recording.single else tuple(outs)

    # --- batches ----------------------------------------------------------------------------------
    def _plan(self, input_grads: bool) -> Any:
        plan = self._plans.get(input_grads)
        if plan is None:
            from .batch import BatchPlan

            plan = self._plans[input_grads] = BatchPlan(self.recording, input_grads)
        return plan

    def _columns(self, columns: tuple) -> list:
        import numpy as np

        name = getattr(self.fn, "__name__", "fn")
        if len(columns) != self._n:
            raise TypeError(f"tape of {name}: expected {self._n} column(s) ({', '.join(self.recording.input_names)}), "
                            f"got {len(columns)}")
        cols = []
        for c, nm in zip(columns, self.recording.input_names):
            a = _column(np, c, f"tape of {name}: input {nm!r}")
            if a.ndim != 1:
                raise ValueError(f"tape of {name}: input {nm!r} must be a 1-D array of shape (B,), "
                                 f"got shape {a.shape}")
            cols.append(a)
        if cols and len({len(a) for a in cols}) > 1:
            shapes = ", ".join(f"{nm}: {a.shape}" for nm, a in zip(self.recording.input_names, cols))
            raise ValueError(f"tape of {name}: all inputs need the same batch size B, got {shapes}")
        if cols and len(cols[0]) == 0:
            raise ValueError(f"tape of {name}: empty batch (B = 0)")
        if self.check:  # every sample's graph compared with the traced one
            for b in range(len(cols[0]) if cols else 0):
                self._check(tuple(float(c[b]) for c in cols))
        return cols

    def _batch_run(self, cols: list[Any], grad: bool, reduce: str = "sum", input_grads: bool = True,
                   accumulate: bool = True) -> Any:
        out, gin, pg = self._plan(input_grads or not grad).run(cols, grad, reduce)
        if grad and accumulate:
            for p, g in zip(self.recording.params, pg.tolist()):
                p.grad += g
        return out, gin, pg

    def batch(self, *columns: Any) -> Any:
        """Outputs for B samples at once: one array of shape (B,) per input, one per output."""
        out, _, _ = self._batch_run(self._columns(columns), grad=False)
        return self._shape(out)

    def batch_value_and_grad(self, *columns: Any, reduce: str = "sum", input_grads: bool = True) -> tuple:
        """(outputs per sample, input gradients per sample, parameter gradients over the batch).

        Parameter gradients are summed over the samples (``reduce="sum"``, what B eager
        ``backward`` calls accumulate) or averaged (``reduce="mean"``), added to each parameter's
        ``.grad`` and returned as an array in :attr:`params` order.  ``input_grads=False`` skips
        the per-sample input gradients (returned as ``None``).
        """
        if reduce not in ("sum", "mean"):
            raise ValueError(f"batch_value_and_grad: reduce must be 'sum' or 'mean', got {reduce!r}")
        refuse_in_own_work("a tape's batch_value_and_grad")
        out, gin, pg = self._batch_run(self._columns(columns), grad=True, reduce=reduce, input_grads=input_grads)
        return self._shape(out), tuple(gin) if input_grads else None, pg

    def replay(self, columns: Any, params: Any, grad: bool = True, finite: bool = False,
               input_grads: bool = False, scale: float = 1.0) -> tuple[Any, ...]:
        """``(outputs, parameter gradients)`` of a batch, the parameters' values given as an array.

        ``columns``: an array of shape (n_inputs, B), or a list of 2-D blocks of rows (k_i, B) whose
        rows, stacked, are the inputs (sum k_i == n_inputs, one B): the program reads a row range
        inside one block as a view of it, so inputs from different places (fit's pixels and target
        masks) need not be copied into one array first; ``params``: one value per entry of
        :attr:`params`, in that order.  Returns the outputs, shape (n_outputs, B) (aux outputs
        included), and d(sum over the batch of the differentiated outputs)/d(each parameter) as an
        array (None with ``grad=False``).  No Value is read or written and nothing is checked
        beyond what numpy checks: the fast path of a training loop that keeps its parameters in
        one flat array (``nn.fit(compile=True)``), running the program :meth:`batch_source` shows.
        Numeric failures raise the eager engine's error for the first failing sample, as
        :meth:`batch_value_and_grad` does.  The columns may be in any memory order (the transpose
        of an array with a row per sample is read without a copy); ``finite=True`` says the caller
        has checked that every column and every parameter value is finite (fit checks its data once
        and keeps its parameters finite), so the replay does not check them again.  Nothing is kept
        from one replay to the next.  ``input_grads=True`` returns
        ``(outputs, input gradients, parameter gradients)``, the input gradients of shape
        (n_inputs, B): one sample's d(differentiated outputs)/d(each input) per column.  ``scale``
        multiplies every gradient returned, as the seed of the backward pass (``1 / B``: the
        gradients of the batch's mean, summed over the samples as eager backward sums them).
        """
        refuse_in_own_work("a tape's replay")
        out, gin, pg = self._plan(input_grads).run(columns, grad, "sum", params=params, finite=finite, scale=scale)
        return (out, gin, pg) if input_grads else (out, pg)

    # --- checks and errors --------------------------------------------------------------------
    def _check(self, inputs: tuple) -> None:
        now = record(self.fn, inputs, self.recording.input_names, self.recording.has_aux)
        if structure(now) != self._structure:
            raise TraceMismatch(
                f"tape of {getattr(self.fn, '__name__', 'fn')}: on inputs {inputs} the function builds a "
                f"different graph than when traced: {describe_difference(self.recording, now)}. Python "
                "control flow on .data is fixed at trace time; use ops (relu, abs, maximum) or re-trace."
            )


def _inputs(rec: Recording, name: str, inputs: tuple) -> tuple:
    """The inputs as floats, checked against the recording (count, real numbers)."""
    if len(inputs) != rec.n_inputs:
        raise TypeError(f"tape of {name}: expected {rec.n_inputs} input(s) ({names(rec.input_names)}), "
                        f"got {len(inputs)}")
    for x in inputs:
        if type(x) is not float:
            return tuple(_number(x, nm) for x, nm in zip(inputs, rec.input_names))
    return inputs


def _replay_vg(rec: Recording, name: str, vg: Callable[..., tuple[Any, ...]], *inputs: Any) -> tuple[Any, ...]:
    """The fast entry's slow path: convert the inputs, then run the generated ``value_and_grad``."""
    refuse_in_own_work("a tape's value_and_grad")
    inputs = _inputs(rec, name, inputs)
    try:
        return vg(*inputs)
    except MATH_ERRORS:
        replay_floats(rec, inputs, grad=True)
        raise


def _fail(rec: Recording, inputs: tuple) -> None:
    replay_floats(rec, inputs, grad=True)
    raise  # noqa: PLE0704 - re-raised inside the entry's except block when no node is blamed


def _auto_mode(rec: Recording) -> str:
    if rec.n_nodes <= 5000:
        return "python"
    first = rec.first_node
    depth = [0] * rec.n_slots
    keys = set()
    for i in range(rec.n_nodes):
        d = 1 + max((depth[p] for p in rec.parents(i)), default=0)
        depth[first + i] = d
        keys.add((d, rec.codes[i]))
    return "numpy" if rec.n_nodes >= 8 * len(keys) else "python"


def _column(np: Any, c: Any, where: str) -> Any:
    """``c`` as a float array; like single-sample inputs, only real numbers (not bools) are accepted."""
    a = np.asarray(c)
    kind = a.dtype.kind
    if kind == "O" or (a.ndim == 1 and not isinstance(c, np.ndarray) and kind in "iuf"):
        # Elements as given (a list may mix in bools that numpy would quietly turn into floats).
        for x in a.ravel() if kind == "O" else c:
            if not isinstance(x, numbers.Real) or isinstance(x, (bool, np.bool_)):
                raise TypeError(f"{where} must hold real numbers, got {type(x).__name__} {x!r:.60}")
    elif kind not in "iuf":
        raise TypeError(f"{where} must hold real numbers, got an array of dtype {a.dtype}")
    return a.astype(float, copy=False)


def _number(x: Any, name: str) -> float:
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"tape: input {name!r} must be a real number, got {type(x).__name__} {x!r:.60}")

