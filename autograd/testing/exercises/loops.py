"""Checks of exercises 7 (the pieces of a training loop): the bias trick, the perceptron's update,
mini-batches, the loop itself, early stopping's rule.  Pure Python, like the exercises."""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from ...functions import dot
from ...value import Value
from .core import (
    ExerciseFailed,
    call,
    clip,
    close,
    exercise,
    expect,
    fmt,
    matrix,
    number,
    number_list,
    parts,
    show,
    why,
)

__all__ = ["check_bias_trick", "check_perceptron_update", "check_minibatches", "check_training_loop",
           "check_early_stopping", "AND_TABLE"]


# --- 7.1 the bias trick ----------------------------------------------------------------------------------
@exercise("bias_trick")
def check_bias_trick(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, b, X) returns (w_aug, X_aug): w_aug = (b, w₁, …), each row of X_aug = (1, x₁, …), so that
    w_augᵀx_aug = wᵀx + b (the lecture's input i = 0 is the constant 1, its weight w₀ the bias)."""
    cases: list[tuple[list[float], float, list[list[float]]]]
    if rng is None:  # Imperial College's unit a: w_a = (0.25, 0.75, 0.75), b_a = 1, x = (4, -8, 4)
        cases = [([0.25, 0.75, 0.75], 1.0, [[4.0, -8.0, 4.0]]),
                 ([0.5, 0.125, 0.25], 1.0, [[4.0, -8.0, 4.0], [1, 2, 3]]),
                 ([0.5, 0.125], 0.5, [[0.0, 3.0]])]  # unit c, fed f_a = 0 and f_b = 3
    else:
        cases = []
        for _ in range(4):
            d = rng.randint(1, 5)
            cases.append(([round(rng.uniform(-2, 2), 3) for _ in range(d)], round(rng.uniform(-2, 2), 3),
                          [[round(rng.uniform(-5, 5), 2) for _ in range(d)] for _ in range(rng.randint(1, 4))]))
    for w, b, X in cases:
        shown = f"bias_trick(w={show(w)}, b={fmt(b)}, X={show(X)})"
        got = parts(call("bias_trick", fn, list(w), b, [list(r) for r in X], shown=shown), 2)
        if got is None:
            raise ExerciseFailed(f"bias_trick: {shown} should return (w_aug, X_aug), got {show(got)}")
        w_aug = number_list("bias_trick", "w_aug", got[0], len(w) + 1)
        X_aug = matrix("bias_trick", "X_aug", got[1], (len(X), len(w) + 1))
        first = " (the lecture's input i = 0 is the constant 1: put it first, x_aug = (1, x₁, …), w_aug = (b, w₁, …))"
        for i, (row, x) in enumerate(zip(X_aug, X)):
            expect("bias_trick", f"{shown}: w_augᵀ X_aug[{i}]", sum(a * c for a, c in zip(w_aug, row)),
                   sum(a * c for a, c in zip(w, x)) + b, 1e-9)
            expect("bias_trick", f"{shown}: X_aug[{i}][0]", row[0], 1.0, hint=first)
        expect("bias_trick", f"{shown}: w_aug[0]", w_aug[0], b, hint=first)
    return f"w_aug = (b, w), rows (1, x), and w_augᵀx_aug = wᵀx + b on {len(cases)} cases"


# --- 7.2 the perceptron's update -------------------------------------------------------------------------
@exercise("perceptron_update")
def check_perceptron_update(fn: Any, rng: random.Random | None = None) -> str:
    """fn(w, x, y, lr) returns Rosenblatt's updated weights: w + lr·y·x if y·wᵀx ≤ 0 (a mistake), else w
    (w and x with the bias coordinate first, y = ±1)."""
    draw = rng or random.Random(17)
    runs = [(3, 1.0), (3, 0.5)] if rng is None else \
        [(rng.randint(2, 5), round(rng.uniform(0.1, 2), 2)) for _ in range(3)]
    updates = 0
    for d, lr in runs:
        w = [0.0] * d  # from zero every sample is a mistake (y·wᵀx = 0)
        for _ in range(8):
            x = [1.0] + [round(draw.uniform(-2, 2), 2) for _ in range(d - 1)]
            y = draw.choice([-1, 1])
            shown = f"perceptron_update(w={show(w)}, x={show(x)}, y={y}, lr={fmt(lr)})"
            got = number_list("perceptron_update", shown, call("perceptron_update", fn, list(w), list(x), y, lr,
                                                               shown=shown, own=True), d)
            mistake = y * sum(a * b for a, b in zip(w, x)) <= 0
            want = [wi + lr * y * xi for wi, xi in zip(w, x)] if mistake else list(w)
            updates += mistake
            for i, (g, v) in enumerate(zip(got, want)):
                hint = why(g - w[i], v - w[i]) if mistake else \
                    " (y·wᵀx > 0: the sample is classified right, so w stays as it is)"
                if mistake and close(g, w[i]) and not close(v, w[i]):
                    hint = " (y·wᵀx ≤ 0 is a mistake; from w = 0 every sample is one)"
                elif mistake and close(g, w[i] + y * x[i]) and lr != 1:
                    hint = " (multiply y·x by the learning rate)"
                expect("perceptron_update", f"{shown}[{i}]", g, v, 1e-9, hint=hint)
            w = want
    return f"{sum(8 for _ in runs)} samples, {updates} of them mistakes: w + lr·y·x exactly when y·wᵀx ≤ 0"


# --- 7.3 mini-batches -----------------------------------------------------------------------------------
def _indices(what: str, batch: Any) -> list[int]:
    items = list(batch) if hasattr(batch, "__iter__") and not isinstance(batch, (str, bytes)) else None
    if items is None:
        raise ExerciseFailed(f"minibatches: {what} should be a list of sample indices, got {show(batch)}")
    out = []
    for i in items:
        value = i.item() if hasattr(i, "item") else i
        if not isinstance(value, int) or isinstance(value, bool):
            raise ExerciseFailed(f"minibatches: {what} should hold whole numbers (indices), got {type(i).__name__} "
                                 f"{clip(repr(value))}")
        out.append(value)
    return out


@exercise("minibatches")
def check_minibatches(fn: Any, rng: random.Random | None = None) -> str:
    """fn(n, batch_size, rng) yields one epoch's mini-batches: lists of indices of the n samples, every
    index exactly once, in an order shuffled with rng (a random.Random), all of batch_size but the last,
    which holds the rest."""
    sizes = [(10, 3), (8, 4), (4, 1), (5, 5), (7, 10), (12, 5)] if rng is None else \
        [(rng.randint(8, 60), rng.randint(1, 9)) for _ in range(5)]
    orders = []
    for k, (n, size) in enumerate(sizes):
        given = random.Random(k if rng is None else rng.random())
        for epoch in (1, 2):
            shown = f"minibatches(n={n}, batch_size={size}, rng) (epoch {epoch})"
            def epoch_of(*args: Any, shown: str = shown) -> list[Any]:  # a generator runs (and fails) inside call
                return _indices_list(shown, fn(*args))

            batches = [_indices(f"{shown}: batch {i}", b) for i, b in
                       enumerate(call("minibatches", epoch_of, n, size, given, shown=shown))]
            flat = [i for b in batches for i in b]
            repeated = sorted({i for i in flat if flat.count(i) > 1})
            missing = sorted(set(range(n)) - set(flat))
            if repeated:
                raise ExerciseFailed(f"minibatches: {shown}: sample {repeated[0]} appears {flat.count(repeated[0])} "
                                     "times; an epoch uses every sample exactly once (shuffle, then cut)")
            if missing or len(flat) != n:
                last = " (keep the last, smaller batch)" if n % size and len(missing) == n % size else ""
                raise ExerciseFailed(f"minibatches: {shown}: samples {show(missing)} never appear{last}" if missing
                                     else f"minibatches: {shown}: indices outside 0..{n - 1}: {show(flat)}")
            want = [size] * (n // size) + ([n % size] if n % size else [])
            if [len(b) for b in batches] != want:
                raise ExerciseFailed(f"minibatches: {shown}: batch sizes {[len(b) for b in batches]}, expected {want} "
                                     "(all of batch_size, the last one holding the rest)")
            orders.append((shown, flat))
    for (shown, first), (_, second) in zip(orders[::2], orders[1::2]):
        if len(first) >= 8 and first == sorted(first):
            raise ExerciseFailed(f"minibatches: {shown}: the samples come in their stored order; shuffle them "
                                 "with rng each epoch")
        if len(first) >= 8 and first == second:
            raise ExerciseFailed(f"minibatches: {shown}: two epochs gave the same order; shuffle with the rng you "
                                 "are given (not a new one), once per call")
    return f"every sample once per epoch, full batches and the rest, reshuffled each epoch, for {len(sizes)} sizes"


def _indices_list(shown: str, result: Any) -> list[Any]:
    if result is None or not hasattr(result, "__iter__"):
        raise ExerciseFailed(f"minibatches: {shown} should yield (or return) the batches, got {show(result)}")
    return list(result)


# --- 7.4 the training loop ------------------------------------------------------------------------------
AND_TABLE = [([1.0, 1.0], 1.0), ([0.0, 0.0], 0.0), ([0.0, 1.0], 0.0), ([1.0, 0.0], 0.0)]


class _Network:
    """A one-hidden-layer network of Values, f = W2·act(W1 x), no biases (the ETH tutorial's AND network)."""

    def __init__(self, W1: list[list[float]], W2: list[float], act: str) -> None:
        self.W1 = [[Value(w) for w in row] for row in W1]
        self.W2 = [Value(w) for w in W2]
        self.act = act
        self.zero_grads = 0

    def __call__(self, x: list[float]) -> Value:
        return dot(self.W2, [getattr(dot(row, x), self.act)() for row in self.W1])

    def parameters(self) -> list[Value]:
        return [w for row in self.W1 for w in row] + self.W2

    def zero_grad(self) -> None:
        self.zero_grads += 1
        for p in self.parameters():
            p.grad = 0.0


class _SGD:
    """Plain SGD that notes how each step was prepared (for the hints): zero_grad() since the last step?
    any gradient at all?"""

    def __init__(self, model: _Network, lr: float) -> None:
        self.model, self.lr, self.params = model, lr, model.parameters()
        self.steps, self.stale, self.empty, self.seen = 0, 0, 0, 0

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def step(self) -> None:
        self.steps += 1
        if self.steps > 1 and self.model.zero_grads == self.seen:
            self.stale += 1
        self.seen = self.model.zero_grads
        if all(p.grad == 0 for p in self.params):
            self.empty += 1
        for p in self.params:
            p.data -= self.lr * p.grad


def _squared_error(f: Value, y: float) -> Value:
    return (f - y) ** 2


def _reference_loop(model: _Network, lr: float, data: list, epochs: int) -> list[float]:
    history = []
    for _ in range(epochs):
        total = 0.0
        for x, y in data:
            model.zero_grad()
            loss = _squared_error(model(x), y)
            loss.backward()
            for p in model.parameters():
                p.data -= lr * p.grad
            total += loss.data
        history.append(total / len(data))
    return history


def _loop_hint(opt: _SGD, n_steps: int) -> str:
    if opt.steps == 0:
        return " (no optimizer.step(): the weights never change)"
    if opt.stale:
        return " (the gradients of earlier steps were still in .grad: call optimizer.zero_grad() before each " \
            "backward())"
    if opt.empty == opt.steps:
        return " (every step found zero gradients: zero_grad() belongs before backward(), not between it and step())"
    if opt.steps != n_steps:
        return f" (made {opt.steps} steps, expected {n_steps}: one step per sample per epoch)"
    return ""


@exercise("training_loop")
def check_training_loop(fn: Any, rng: random.Random | None = None) -> str:
    """fn(model, optimizer, loss, data, epochs) trains one sample at a time, data in order: zero_grad(),
    loss(model(x), y), backward(), step(); and returns each epoch's mean loss (a list of epochs numbers)."""
    if rng is None:  # the ETH tutorial's AND network (its (1, 1) row first: step 1 is the tutorial's update)
        cases = [([[-0.9, 0.9], [0.0, 0.9]], [-0.9, 0.9], "relu", 0.2, AND_TABLE, 5)]
    else:
        cases = []
        for _ in range(2):
            d, h = rng.randint(1, 3), rng.randint(2, 3)
            data = [([round(rng.uniform(-1, 1), 2) for _ in range(d)], round(rng.uniform(-1, 1), 2))
                    for _ in range(rng.randint(3, 6))]
            cases.append(([[round(rng.uniform(-1, 1), 2) for _ in range(d)] for _ in range(h)],
                          [round(rng.uniform(-1, 1), 2) for _ in range(h)], "tanh", round(rng.uniform(0.05, 0.3), 2),
                          data, rng.randint(2, 4)))
    for W1, W2, act, lr, data, epochs in cases:
        model, reference = _Network(W1, W2, act), _Network(W1, W2, act)
        want = _reference_loop(reference, lr, data, epochs)
        optimizer = _SGD(model, lr)
        where = f"training_loop on {'the AND table' if rng is None else f'{len(data)} samples'} (lr = {fmt(lr)}, " \
                f"{epochs} epochs)"
        got = call("training_loop", fn, model, optimizer, _squared_error, [(list(x), y) for x, y in data], epochs,
                   shown=where)
        hint = _loop_hint(optimizer, epochs * len(data))
        for i, (p, q) in enumerate(zip(model.parameters(), reference.parameters())):
            expect("training_loop", f"{where}: parameter {i} after training", p.data, q.data, 1e-9, hint=hint)
        if isinstance(got, (int, float)) or got is None:
            raise ExerciseFailed(f"training_loop: {where} should return the list of each epoch's mean loss, "
                                 f"got {show(got)}")
        losses = number_list("training_loop", f"{where}: the returned losses", got, epochs)
        for e, (g, w) in enumerate(zip(losses, want)):
            mean = " (the mean over the epoch's samples, not the sum)" if close(g, w * len(data)) else ""
            expect("training_loop", f"{where}: mean loss of epoch {e + 1}", g, w, 1e-9, hint=mean)
    return f"the same weights and epoch losses as zero_grad, loss, backward, step on {len(cases)} run(s)"


# --- 7.5 early stopping ---------------------------------------------------------------------------------
def _early_stop(val_losses: list[float], patience: int) -> tuple[int, int]:
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses, 1):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def _previous_rule(val_losses: list[float], patience: int) -> tuple[int, int]:
    waited = 0
    for epoch in range(2, len(val_losses) + 1):
        waited = waited + 1 if val_losses[epoch - 1] >= val_losses[epoch - 2] else 0
        if waited >= patience:
            return epoch, epoch
    return len(val_losses), len(val_losses)


def _early_hint(got: tuple[float, float], val_losses: list[float], patience: int) -> Callable[[int], str]:
    def hint(which: int) -> str:
        if which == 0 and got[0] == _previous_rule(val_losses, patience)[0]:
            return " (compare with the best loss so far, not with the previous epoch's)"
        if which == 0 and patience > 1 and got[0] == _early_stop(val_losses, 1)[0]:
            return f" (wait {patience} epochs without improvement, not for the first increase)"
        if which == 0 and patience > 1 and got[0] == _early_stop(val_losses, patience + 1)[0]:
            return f" (stop as soon as {patience} epochs in a row have not improved, not one epoch later)"
        if which == 1 and got[1] == got[0]:
            return " (keep the weights of the best epoch, not of the last one)"
        if got[which] == _early_stop(val_losses, patience)[which] - 1:
            return " (epochs count from 1: the first epoch is epoch 1, as enumerate(val_losses, 1) gives)"
        return ""

    return hint


@exercise("early_stopping")
def check_early_stopping(fn: Any, rng: random.Random | None = None) -> str:
    """fn(val_losses, patience) returns (stop_epoch, best_epoch), epochs counted from 1: training stops at
    the patience-th epoch in a row whose validation loss is not below the best so far (or runs to the
    end), and keeps the best epoch's weights."""
    cases: list[tuple[list[float], int]]
    if rng is None:
        cases = [([0.9, 0.7, 0.6, 0.62, 0.61, 0.65, 0.64, 0.5], 3), ([1.0, 0.8, 0.8, 0.8, 0.7], 2),
                 ([3.0, 2.0, 1.0], 2), ([0.5, 0.6, 0.4, 0.45, 0.44, 0.43, 0.42, 0.41], 4), ([0.5, 0.4, 0.45], 1)]
    else:
        cases = []
        for _ in range(6):
            loss = rng.uniform(1, 2)
            losses: list[float] = []
            for _ in range(rng.randint(5, 25)):
                loss *= rng.uniform(0.85, 1.12)
                losses.append(round(loss, 3))
            cases.append((losses, rng.randint(1, 5)))
    for losses, patience in cases:
        shown = f"early_stopping({show(losses)}, patience={patience})"
        got = number_list("early_stopping", shown, call("early_stopping", fn, list(losses), patience, shown=shown,
                                                        own=True), 2)
        want = _early_stop(losses, patience)
        hint = _early_hint((got[0], got[1]), losses, patience)
        expect("early_stopping", f"{shown}: stop_epoch", number("early_stopping", "stop_epoch", got[0]), want[0],
               hint=hint(0))
        expect("early_stopping", f"{shown}: best_epoch", got[1], want[1], hint=hint(1))
    return f"stop after patience epochs without a new best, keep the best, on {len(cases)} validation curves"
