"""Batch evaluation: a tape over B samples at once, run as a generated numpy program.

The tape's nodes are grouped (:mod:`~autograd.tape.schedule`) and the groups written as
straight-line numpy source (:mod:`~autograd.tape.batchgen`), compiled once per plan.  A replay
runs that program with numpy's floating-point errors raised; at the first inf or NaN (or with
non-finite inputs) it runs the careful variant instead: errors ignored, and every non-finite number
checked against the float rule, which raises where eager raises (exp overflow, log of 0) and agrees
where eager gives inf or NaN (1e305 * 1e4, inf - inf).  Each sample thus gets what the eager engine
gives it: its numbers, or its error, naming the sample.
"""

from __future__ import annotations

import math
from typing import Any

from .batchgen import generate_batch
from .rowblocks import RowBlocks
from .schedule import Group, Schedule
from .trace import MATH_ERRORS, Recording, replay_floats

__all__ = ["BatchPlan"]


class BatchPlan:
    """The grouped schedule of one recording and its generated program (built once, any batch size)."""

    def __init__(self, rec: Recording, input_grads: bool = True) -> None:
        self.rec = rec
        self.schedule = Schedule(rec, input_grads)
        self.groups = self.schedule.groups
        self._programs: dict[bool, Any] = {}
        self._consts_finite = all(math.isfinite(c) for c in rec.consts)
        self._rows_only: bool | None = None  # whether the fast program reads X only by rows (found when needed)
        self._failed: int | None = None  # the sample of the careful variant's last eager error

    def source(self, careful: bool = False) -> str:
        """The program's source (``careful``: the variant that checks every group's values)."""
        return generate_batch(self.schedule, careful)[0]

    def _by_rows(self) -> bool:
        """Whether the fast program reads its inputs only by rows (its generator says so)."""
        if self._rows_only is None:
            self._program(False)
        return bool(self._rows_only)

    def _program(self, careful: bool) -> Any:
        fn = self._programs.get(careful)
        if fn is None:
            src, namespace, x_whole = generate_batch(self.schedule, careful)
            if careful:
                namespace["_check"] = self._check
            else:
                self._rows_only = not x_whole
            exec(compile(src, "<batch program>", "exec"), namespace)  # our own code, from the op table
            fn = self._programs[careful] = namespace.pop("program")
        return fn

    def run(self, columns: Any, grad: bool, reduce: str = "sum", params: Any = None,
            finite: bool = False, scale: float = 1.0) -> tuple[Any, Any, Any]:
        """Evaluate B samples: (outputs (n_out, B), input grads (n_in, B) or None, param grads).

        ``columns`` is a sequence of n_in arrays of shape (B,), one array (n_in, B) in any memory
        order, or a sequence of 2-D blocks of rows (k_i, B) whose rows, stacked, are the inputs
        (:class:`~autograd.tape.rowblocks.RowBlocks`: the program reads them without stacking them;
        the careful variant stacks them); ``params`` the parameters' values in ``rec.params`` order,
        or None to read each Value's ``.data``; ``finite``: the caller has checked that every column
        and parameter is finite; ``scale``: the gradients are those of ``scale`` times the outputs' sum
        (the backward pass's seed).
        """
        import numpy as np

        rec = self.rec
        X = columns if type(columns) is np.ndarray and columns.ndim == 2 and columns.dtype == np.float64 \
            else self._inputs(columns)
        theta = params if type(params) is np.ndarray and params.dtype == np.float64 else \
            np.asarray(params if params is not None else [p.data for p in rec.params], dtype=float)
        B = X.shape[1]
        if self._consts_finite and (finite or ((X.finite() if type(X) is RowBlocks else np.isfinite(X).all())
                                               and np.isfinite(theta).all())):
            fast = self._programs.get(False) or self._program(False)
            try:
                with np.errstate(divide="raise", over="raise", invalid="raise"):
                    out, gin, pg = fast(X, theta, grad, scale)
                return out, gin, (pg / B if reduce == "mean" and pg is not None else pg)
            except FloatingPointError:
                pass  # an inf or NaN appeared: eager may raise there, or carry it on
        if type(X) is RowBlocks:
            X = X.stacked()  # the careful variant and its messages read samples as columns of one array
        out, gin, pg = self._careful(X, theta, grad, scale)
        return out, gin, (pg / B if reduce == "mean" and pg is not None else pg)

    def _inputs(self, columns: Any) -> Any:
        """``columns`` as what the program reads as ``X``: one array (n_in, B), or :class:`RowBlocks`."""
        import numpy as np

        if type(columns) in (list, tuple) and columns and getattr(columns[0], "ndim", 1) == 2:  # blocks of rows
            X = RowBlocks(columns, self.rec.n_inputs, "Tape.replay: columns")
            if len(X.blocks) == 1:
                return X.blocks[0]
            return X if self._by_rows() else X.stacked()  # X read whole (a matrix product's operand): one array
        if len(columns):
            return np.asarray(columns, dtype=float).reshape(self.rec.n_inputs, -1)
        return np.empty((0, 1))

    def _careful(self, X: Any, theta: Any, grad: bool, scale: float) -> tuple[Any, Any, Any]:
        """The careful variant.  It stops at the first error in group order, which may be a later
        sample's; the samples before that one are then run again, so the error raised is the first
        failing sample's, the one a loop of eager calls over the samples meets first."""
        import numpy as np

        error: Exception | None = None
        every = X
        while X.shape[1]:
            self._failed = None
            try:
                with np.errstate(all="ignore"):
                    try:
                        result: tuple[Any, Any, Any] = self._program(True)(X, theta, grad, scale)
                    except FloatingPointError as e:  # raised by a rule itself (pow of a negative base)
                        raise self._explain(e) from None
            except MATH_ERRORS as e:
                if self._failed is None:  # not one sample's eager error
                    raise
                error, X = e, X[:, :self._failed]
                continue
            if error is None:
                return result
            break
        assert error is not None
        # Within that sample, the careful pass met the first failing group, not necessarily the
        # first failing node: the sample replayed node by node on floats raises eager's error.
        b = X.shape[1]
        replay_floats(self.rec, every[:, b].tolist(), grad, theta.tolist(), where=f"batch sample {b}")
        raise error

    # --- the careful variant's checks -------------------------------------------------------------
    def _check(self, gi: int, env: dict, ds: Any = None) -> None:
        """After group ``gi`` (``ds``: after its partials): the eager engine's error for the first sample
        where a non-finite number is one the float rule refuses."""
        import numpy as np

        g = self.groups[gi]
        if ds is None:
            bad = ~np.isfinite(env[g.name])
            error = self._eager_error(g, env, np.argwhere(bad)) if bad.any() else None
        else:
            error = None
            for d in ds:
                if type(d) is np.ndarray and not np.isfinite(d).all():
                    d = np.broadcast_to(d, np.broadcast_shapes(d.shape, env[g.name].shape))  # one per node
                    error = self._eager_error(g, env, np.argwhere(~np.isfinite(d)), backward=True)
                    if error is not None:
                        break
        if error is not None:
            raise error

    def _explain(self, error: Exception) -> Exception:
        """A numpy error raised by a rule itself: the eager engine's error for one sample."""
        tb, env = error.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_name == "program":
                env = dict(tb.tb_frame.f_locals)
            tb = tb.tb_next
        if env is None:
            return error
        if "_bi" in env:
            return ValueError(f"batch: backward through {self.groups[env['_bi']].op.name} failed ({error})")
        g = self.groups[env["_gi"]]
        every = [(j, b) for b in range(env["X"].shape[1]) for j in range(g.k)]
        return self._eager_error(g, env, every) or ValueError(f"batch: {g.op.name} failed ({error})")

    def _at(self, env: dict, s: int, b: int) -> float:
        space, r = self.schedule.loc[s]
        if space == "const":
            return float(r)
        if space == "X":
            return float(env["X"][r, b])
        if space == "theta":
            return float(env["theta"][r])
        g = self.groups[space]
        return float(env[g.name][r, b] if g.vary else env[g.name][r])

    def _eager_error(self, g: Group, env: dict, where: Any, backward: bool = False) -> Exception | None:
        """The eager engine's error for the first (node j of the group, sample b) in ``where`` whose
        forward (or partials) the float rule refuses; None when eager computes them all."""
        rec, first = self.rec, self.rec.first_node
        for j, b in sorted(((int(p[0]), int(p[-1]) if len(p) > 1 else 0) for p in where), key=lambda jb: jb[1]):
            i = g.nodes[j]
            vals = [self._at(env, p, b) for p in rec.parents(i)]
            try:
                if backward:
                    g.op.float_partials(self._at(env, first + i, b), *vals, where=f"batch sample {b}")
                else:
                    g.op.float_forward(*vals, where=f"batch sample {b}")
            except MATH_ERRORS as e:
                self._failed = b
                return e
        return None
