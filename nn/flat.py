"""Compiled training with the parameters in one flat float64 array (what ``nn.fit(compile=True)`` runs).

While fitting, the parameters' numbers live in ``theta``, one float64 array (the model's
parameters in ``model.parameters()`` order, then any other Value the loss, the penalty or the
optimiser uses), and their gradients in ``grad``, a sibling array.  A batch is an index array into
the training data; the traced tape (:mod:`nn.compiled`) reads its parameters from ``theta`` and
returns its gradients as an array; the penalty (:func:`nn.regularizers.array_form`) and the
optimiser (:meth:`nn.optim.Optimizer.step_arrays`) work on arrays too.  No Python runs per
parameter per batch.

The Values are brought up to date (``.data`` and ``.grad``, and the optimiser's state lists) by
:meth:`FlatTrainer.sync`, which fit calls whenever user code can look: at the end of each epoch when
something outside the loop reads the model (``FitPlan.looks_each_epoch``: before metrics, callbacks
and early stopping), on divergence, on any error and at the end; it writes nothing when the Values
are already current.  Validation outputs come from :meth:`FlatTrainer.predict` (the tape on ``theta``).
After callbacks, :meth:`FlatTrainer.reload` reads them back, so a callback that changes a
parameter or the optimiser's state is heard.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from autograd import Value, no_grad

from . import regularizers
from .optim import Optimizer

__all__ = ["FlatTrainer", "KEEP_BYTES"]

KEEP_BYTES = 16 * 2**20  # arrays kept between fit calls are dropped at the end of a fit from this size up
# Mini-batches of at most this many input cells (samples x tape inputs) take their columns from the whole data
# set's, built once per fit: building them per batch costs about as much as copying ~10^4 cells once.
GATHER_CELLS = 4096

_DATA = operator.attrgetter("data")  # read 10^5 parameters' numbers without a Python-level loop


class FlatTrainer:
    """One training run on flat arrays, a :class:`nn.trainer.Trainer`: ``step(idx) -> mean loss``, ``outputs()``,
    ``sync()``, ``reload()``.

    ``compiled`` is the :class:`nn.compiled.CompiledModel` of the model, loss and targets, ``codes``
    each training sample's target as a position in ``compiled.keys``, ``dropouts`` the model's
    dropout layers and widths (``compiled.dropouts``); ``plan`` fit's
    :class:`nn.prepare.FitPlan`.  ``step`` is all or nothing: on any error ``theta``, ``grad``
    and the optimiser's state and step count are as before the step.
    """

    finite: bool  # every number in theta is finite (set by reload, kept so by each step)

    def __init__(self, plan: Any, compiled: Any, codes: np.ndarray, dropouts: list) -> None:
        self.plan, self.compiled = plan, compiled
        self.values: list[Value] = list(plan.params)
        self._pos: dict[int, int] | None = None  # id -> position in values, built when first needed
        self.codes = codes  # each sample's target, as its position in compiled.keys
        self.dropouts = dropouts  # (Dropout, width) in the order the tape takes their masks
        self.tape_index: dict[int, Any] = {}
        for t in compiled.tapes():
            self.tape_index[id(t)] = self._index(t.params)
        self.penalty = self.penalty_tape = None
        self.penalty_index: Any = None
        if plan.regularizer is not None:
            self.penalty = regularizers.array_form(plan.regularizer, plan.params)
            if self.penalty is not None:
                self.penalty_index = self._index(self.penalty.params)
            else:  # any other function of the parameters: traced as it is, replayed on the array
                from autograd import trace

                regularizer, params = plan.regularizer, plan.params
                self.penalty_tape = trace(lambda: regularizer(params))
                self.penalty_index = self._index(self.penalty_tape.params)
        opt = plan.optimizer
        flat_rule = callable(getattr(opt, "step_arrays", None)) and isinstance(getattr(opt, "params", None), list) \
            and type(opt).step is Optimizer.step
        self.opt_index = self._index(opt.params) if flat_rule else None
        self.flat_optimizer = flat_rule
        self.opt_whole = type(self.opt_index) is slice and self.opt_index == slice(0, len(self.values))
        self.theta = np.empty(len(self.values))
        self.grad = np.zeros(len(self.values))
        self.state: dict[str, Any] = {}
        self.reload()
        self.n_out = plan.task.n_out
        self.outs = np.zeros((plan.n, self.n_out))
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []  # (samples, outputs) of batches not in outs yet
        # At full batch without dropout every step feeds the tape the same columns: built once.
        self.full_inputs: Any = None  # (an array once the first full-batch step ran)
        self.full_batch = plan.batch_size is None and not dropouts
        # Small mini-batches without dropout: every sample's columns built once per fit, a row per sample, and
        # each batch takes its rows in one call (building a batch's columns takes five numpy calls).
        self.rows_of_all: np.ndarray | None = None
        width = compiled.n_inputs
        if plan.batch_size is not None and not dropouts and plan.size * width <= GATHER_CELLS \
                and plan.n * width * 8 <= KEEP_BYTES:
            self.rows_of_all = compiled.inputs(plan.X, None, codes, dropouts).T
        self.synced = True  # the Values hold theta's numbers (sync() has nothing to write)
        # The masked tape (one for all targets) over every value: each step replays it as it is.
        tapes = compiled.tapes()
        where = self.tape_index[id(tapes[0])] if compiled.masked else None
        self.whole_tape = tapes[0] if type(where) is slice and where == slice(0, len(self.values)) else None

    def _index(self, vs: list[Value]) -> Any:
        """Where the Values ``vs`` sit in ``theta``: a slice when they are a leading run, else an index array."""
        values = self.values
        if vs == (values if len(vs) == len(values) else values[:len(vs)]):  # the usual case, by identity at C speed
            return slice(0, len(vs))
        if self._pos is None:
            self._pos = {id(v): i for i, v in enumerate(self.values)}
        for v in vs:
            if id(v) not in self._pos:  # a Value outside the model (captured by the loss, the penalty...)
                self._pos[id(v)] = len(self.values)
                self.values.append(v)
        idx = np.fromiter((self._pos[id(v)] for v in vs), dtype=np.intp, count=len(vs))
        if len(idx) and (idx == np.arange(idx[0], idx[0] + len(idx))).all():
            return slice(int(idx[0]), int(idx[0]) + len(idx))
        return idx

    # --- the step ----------------------------------------------------------------------------------
    def step(self, idx: np.ndarray) -> float:
        """Forward, backward and one optimiser step on the samples ``idx``; returns the batch's objective.

        On a numeric failure the parameters are as before and the gradients 0 (as after eager fit's)."""
        try:
            return self._step(idx)
        except (ArithmeticError, ValueError):
            self.grad = np.zeros(len(self.values))
            self.synced = False
            raise

    def _step(self, idx: np.ndarray) -> float:
        B = len(idx)
        compiled = self.compiled
        if self.full_batch:  # idx is every sample in order (FitPlan.batches)
            if not compiled.filled_by(self):  # first step, or a fit inside a callback refilled them
                self.full_inputs = compiled.inputs(self.plan.X, None, self.codes, self.dropouts, owner=self)
            inputs: Any = self.full_inputs
        elif self.rows_of_all is not None:
            inputs = self.rows_of_all.take(idx, axis=0).T
        else:
            inputs = compiled.inputs(self.plan.X, idx, self.codes[idx], self.dropouts)  # blocks of rows
        theta = self.theta
        scale = 1.0 / B  # the mean, as the eager loss multiplies its sum by 1/B: the replays' gradient seed
        if self.whole_tape is not None:  # the masked tape, over all values: every batch
            out, grad = self.whole_tape.replay(inputs, theta, finite=self.finite, scale=scale)  # masks are 0/1
            losses, outs = out[0], out[1:]  # (grad: a fresh array the replay made)
        else:
            losses, outs, grad = self._replay_per_target(inputs, idx, scale)
            theta = self.theta  # (grown when a tape was traced)
        value = float(np.add.reduce(losses)) * scale
        if not math.isfinite(value) and compiled.masked:
            value = self._own_losses(idx, outs) * scale
        if self.penalty is not None:
            extra, pg = self.penalty.value_and_grad(theta[self.penalty_index], finite=self.finite)
            value += extra
            grad[self.penalty_index] += pg
        elif self.penalty_tape is not None:
            out, pg = self.penalty_tape.replay(np.empty((0, 1)), theta[self.penalty_index], finite=self.finite)
            value += float(out[0, 0])
            grad[self.penalty_index] += pg
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss is {value}")
        self._update(grad)
        self.synced = False
        if self.full_batch:
            self.outs = outs.T
        else:
            self.pending.append((idx, outs))  # written into outs when they are read: one call per epoch
        return value

    def _own_losses(self, idx: np.ndarray, outs: np.ndarray) -> float:
        """The sum of the batch's losses as eager fit computes it, from the outputs ``outs``: each sample's
        loss at its own target alone.  The masked tape's sum differs where another target's loss is not
        finite (a 0 mask times an infinite loss is NaN): it says NaN where eager says inf."""
        loss, targets, listed = self.plan.loss, self.compiled.targets, self.compiled.listed
        total = 0.0
        with no_grad():
            for out, code in zip(outs.T.tolist(), self.codes[idx].tolist()):
                total += loss([Value(o) for o in out] if listed else Value(out[0]), targets[code]).data
        return total

    def _replay_per_target(self, inputs: Any, idx: np.ndarray,
                           scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(losses, outputs, gradient of ``scale`` times the sum) of a batch through the tapes of its
        targets (one per target past ``MAX_MASKED``, traced as they first appear), each over its samples'
        columns (``inputs``: one array (n_inputs, B) or blocks of rows, as :meth:`autograd.Tape.replay` takes)."""
        B = len(idx)
        batches = self.compiled.batches(self.codes[idx])
        for tape, _ in batches:
            if id(tape) not in self.tape_index:  # traced during this fit (one tape per target past MAX_MASKED)
                self.tape_index[id(tape)] = self._index(tape.params)
                self._grow()
        theta = self.theta
        (tape, sel), n = batches[0], len(self.values)
        where = self.tape_index[id(tape)]
        if len(batches) == 1 and sel is None and type(where) is slice and where == slice(0, n):  # one tape, all values
            out, grad = tape.replay(inputs, theta, finite=self.finite, scale=scale)
            return out[0], out[1:], grad
        grad = np.zeros(n)
        losses = np.empty(B)
        outs = np.empty((self.n_out, B))
        for tape, sel in batches:
            where = self.tape_index[id(tape)]
            cols = inputs if sel is None else [b[:, sel] for b in inputs] if type(inputs) is list else inputs[:, sel]
            out, pg = tape.replay(cols, theta[where], finite=self.finite, scale=scale)
            grad[where] += pg
            if sel is None:
                losses, outs = out[0], out[1:]
            else:
                losses[sel], outs[:, sel] = out[0], out[1:]
        return losses, outs, grad

    def _update(self, grad: np.ndarray) -> None:
        opt, theta = self.plan.optimizer, self.theta
        if self.opt_whole:  # the usual case: the optimiser steps every value
            # theta and the state arrays are given up (nothing else holds them): written in place when the
            # step is proved unable to fail, else fresh arrays
            self.theta, self.state = opt.step_arrays(theta, grad, self.state, in_place=True)
            self.finite = True
        elif self.flat_optimizer:
            where = self.opt_index
            # theta[where]: a copy for an index array, a view for a slice (then written in place and copied onto itself)
            new_w, self.state = opt.step_arrays(theta[where], grad[where], self.state, in_place=True)
            theta[where] = new_w  # step_arrays refused anything non-finite: nothing can fail from here
            self.finite = bool(np.isfinite(self.theta).all())  # (values the optimiser does not step may not be)
        else:  # an optimiser without an array rule steps the Values themselves
            self.grad = grad
            self._write()
            self.synced = False  # opt.step() changes the Values; theta keeps the last good numbers until it is done
            try:
                opt.step()
                new = np.array([p.data for p in self.values])
                if not np.isfinite(new).all():
                    raise FloatingPointError("a parameter became non-finite after the step")
            except (ArithmeticError, ValueError):
                self._write()  # the Values as they were before the step
                raise
            self.theta, self.finite = new, True
        self.grad = grad

    def _grow(self) -> None:
        """Room in the arrays for Values added by a tape traced mid-fit."""
        extra = len(self.values) - len(self.theta)
        if extra:
            self.opt_whole = False  # the optimiser's values are no longer all of them
            self.theta = np.concatenate([self.theta, [v.data for v in self.values[-extra:]]])
            self.grad = np.concatenate([self.grad, np.zeros(extra)])
            self.finite = bool(np.isfinite(self.theta).all())

    # --- what user code sees ------------------------------------------------------------------------
    def outputs(self) -> np.ndarray:
        """This epoch's outputs, one row per training sample (the value each had when its batch ran)."""
        pending = self.pending
        if pending:
            self.outs[np.concatenate([i for i, _ in pending])] = np.concatenate([o for _, o in pending], axis=1).T
            pending.clear()
        return self.outs

    def rows(self) -> list:
        """This epoch's outputs as the model gives them: a float per sample, or a list (of one, too)."""
        return self._as_given(self.outputs())

    def _as_given(self, outs: np.ndarray) -> list:
        """Outputs (a row per sample) in the model's form: a list per sample when it returns a list."""
        rows: list = outs.tolist() if self.compiled.listed else outs[:, 0].tolist()
        return rows

    def predict(self, X: np.ndarray) -> list | None:
        """The model's outputs for the rows of ``X`` in eval mode (one float, or a list per sample), from
        the traced tape on ``theta`` (no Value read, nothing traced); None when the replay fails or gives
        a non-finite number, for the caller to ask the model itself (which reports it per sample)."""
        tapes = self.compiled.tapes()
        if not tapes or not len(X) or not self.compiled.nn_layers:  # custom modules: eval mode may be more than masks
            return None
        tape = tapes[0]
        try:
            out, _ = tape.replay(self.compiled.eval_inputs(X), self.theta[self.tape_index[id(tape)]], grad=False)
        except (ArithmeticError, ValueError):
            return None
        outs = out[1:]
        if not np.isfinite(outs).all():
            return None
        return self._as_given(outs.T)

    def sync(self) -> None:
        """Bring the Values (``.data``, ``.grad``) and the optimiser's state lists up to date."""
        if not self.synced:
            self._write()
            self.synced = True

    def _write(self) -> None:
        """Write theta, grad and the optimiser's state arrays into the Values and the optimiser's lists."""
        for p, x, g in zip(self.values, self.theta.tolist(), self.grad.tolist()):
            p.data = x
            p.grad = g
        if self.flat_optimizer:
            opt = self.plan.optimizer
            for k, a in self.state.items():
                opt.state[k] = a.tolist()

    def close(self) -> None:
        """The end of the run: the whole data set's input columns, kept for the next call, are dropped
        from :data:`KEEP_BYTES` up, so a full-batch fit on a large data set does not hold hundreds of
        MB once it returns; smaller ones stay, and a second fit on the same model starts without
        building them.  (A tape's replay keeps no arrays between calls.)"""
        self.compiled.free_inputs(KEEP_BYTES)
        self.full_inputs = self.rows_of_all = None

    def reload(self) -> None:
        """Read the arrays back from the Values and the optimiser (after user code may have changed them)."""
        self.theta = np.fromiter(map(_DATA, self.values), dtype=float, count=len(self.values))
        # Whether every number in theta is finite, kept true by each step (the optimiser refuses a non-finite
        # one): the replays then check only what they compute, not their inputs (X was checked by prepare_fit)
        self.finite = bool(np.isfinite(self.theta).all())
        self.synced = True
        if self.flat_optimizer:
            self.state = {k: np.array(v, dtype=float) for k, v in self.plan.optimizer.state.items()}
