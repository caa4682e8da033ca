"""Optimizer.step_arrays(in_place=True): proved by nn.bounded's intervals, run in place, the same numbers."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

import nn
from autograd import Value
from nn.inplace_step import MIN_SIZE, InPlaceSteps
from nn.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from nn.update_rules import sgd_rule

RULES = [
    (SGD, {"lr": 0.05}),
    (SGD, {"lr": 0.05, "momentum": 0.9}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (SGD, {"lr": 0.03, "momentum": 0.8, "nesterov": True, "weight_decay": 0.2}),
    (SGD, {"lr": 0.05, "weight_decay": 0.1}),
    (Adagrad, {"lr": 0.1, "weight_decay": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (RMSprop, {"lr": 0.01}),
    (RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.3}),
    (RMSprop, {"lr": 0.01, "centered": True}),
    (Adam, {"lr": 0.05}),
    (Adam, {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-6}),
    (Adam, {"lr": 0.05, "amsgrad": True}),
    (AdamW, {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
]
IDS = [f"{c.__name__}-{k}" for c, k in RULES]
N = 40


@pytest.fixture
def prove_small(monkeypatch):
    """Steps of any size are proved (and run in place), not only those of MIN_SIZE numbers and more."""
    monkeypatch.setattr("nn.inplace_step.MIN_SIZE", 1)


def _start(cls, kwargs, labels=False):
    rng = np.random.default_rng(7)
    w = rng.standard_normal(N)
    ps = [Value(x, label=f"p{i}" if labels else "") for i, x in enumerate(w.tolist())]
    opt = cls(ps, **kwargs)
    return opt, w, {k: np.array(v) for k, v in opt.state.items()}


def _step_each(floats, g, fresh, placed):
    """One step of each optimiser on the gradient ``g``: ``floats`` by step() (g set on its Values),
    ``fresh`` = (optimiser, w, state) by step_arrays, ``placed`` the same in place; their new arrays."""
    for p, x in zip(floats.params, g.tolist()):
        p.grad = x
    floats.step()
    return fresh[0].step_arrays(fresh[1], g, fresh[2]), placed[0].step_arrays(placed[1], g, placed[2], in_place=True)


@pytest.mark.parametrize("cls,kwargs", RULES, ids=IDS)
def test_in_place_is_the_fresh_step_and_the_float_step_bit_for_bit(cls, kwargs, prove_small):
    """Eight steps in a row (the bounds carried from step to step), the learning rate changed by a schedule
    twice (between, the proof of a step repeats the last one's operations without running the rule): in
    place, fresh arrays and step() on floats give the same numbers; the results are written into w and
    the state arrays; the gradient is never written."""
    floats, w0, s0 = _start(cls, kwargs)
    fresh, placed = cls(floats.params, **kwargs), cls(floats.params, **kwargs)
    wf, sf = w0.copy(), {k: v.copy() for k, v in s0.items()}
    wp, sp = w0.copy(), {k: v.copy() for k, v in s0.items()}
    rng = np.random.default_rng(1)
    for step in range(8):
        lr = kwargs["lr"] * (1.0, 0.5, 0.25)[step // 3]
        for opt in (floats, fresh, placed):
            opt.lr = lr
        g = rng.standard_normal(N) * 10.0 ** rng.integers(-3, 3)
        g_before = g.copy()
        given_w, given_state = wp, dict(sp)
        (wf, sf), (wp, sp) = _step_each(floats, g, (fresh, wf, sf), (placed, wp, sp))
        assert wp is given_w and all(sp[k] is given_state[k] for k in sp)  # written where they were
        assert g.tobytes() == g_before.tobytes()
        assert wp.tobytes() == wf.tobytes() and wp.tolist() == [p.data for p in floats.params]
        assert all(sp[k].tobytes() == sf[k].tobytes() and sp[k].tolist() == floats.state[k] for k in sp)
        assert placed.t == fresh.t == floats.t == step + 1


@pytest.mark.parametrize("cls,kwargs", RULES[:3] + RULES[-3:], ids=IDS[:3] + IDS[-3:])
def test_without_in_place_the_inputs_are_untouched(cls, kwargs, prove_small):
    opt, w, state = _start(cls, kwargs)
    for _ in range(3):
        g = np.random.default_rng(3).standard_normal(N)
        before = (w.tobytes(), g.tobytes(), {k: v.tobytes() for k, v in state.items()})
        new_w, new_state = opt.step_arrays(w, g, state)
        assert (w.tobytes(), g.tobytes(), {k: v.tobytes() for k, v in state.items()}) == before
        assert new_w is not w and not np.shares_memory(new_w, w)
        w, state = new_w, new_state


def test_sgd_with_momentum_runs_as_four_in_place_operations():
    """t = lr*g; a *= m; a += t; w -= a: one scratch array, kept for the next step (the operation reading
    the gradient first, while the pass that bounded it left it in the cache)."""
    n = MIN_SIZE
    w, g, a = np.ones(n), np.full(n, 0.5), np.zeros(n)
    steps = InPlaceSteps()
    h = SimpleNamespace(lr=0.05, momentum=0.9, nesterov=False, weight_decay=0.0, t=1)
    new_w, (new_a,) = steps.step(sgd_rule, w, g, (a,), h, True)
    assert new_w is w and new_a is a and w.tolist() == [1.0 - 0.05 * 0.5] * n
    (program,) = steps.programs.values()
    ops, n_temps, out_slots = program.plan
    # slots: 0 w, 1 a, 2 g, 3 the scratch array
    assert [(f.__name__, slot) for _, f, _, slot in ops] == [("multiply", 3), ("multiply", 1), ("add", 1),
                                                            ("subtract", 0)]
    assert n_temps == 1 and out_slots == [0, 1] and len(steps.scratch) == 1


def test_small_steps_take_the_careful_way_with_the_same_numbers():
    """Below MIN_SIZE numbers the proof costs more than it saves: fresh arrays, the same numbers."""
    for n, in_place in ((MIN_SIZE - 1, False), (MIN_SIZE, True)):
        opt = SGD([Value(0.0) for _ in range(n)], lr=0.05, momentum=0.9)
        ref = SGD(opt.params, lr=0.05, momentum=0.9)
        w, g = np.linspace(-1.0, 1.0, n), np.linspace(2.0, -3.0, n)
        a = np.full(n, 0.1)
        expect_w, expect_state = ref.step_arrays(w.copy(), g, {"velocity": a.copy()})
        new_w, state = opt.step_arrays(w, g, {"velocity": a}, in_place=True)
        assert (new_w is w) == in_place and new_w.tobytes() == expect_w.tobytes()
        assert state["velocity"].tobytes() == expect_state["velocity"].tobytes()


def _refused(opt, w, g, state, in_place):
    before = (opt.t, w.tobytes(), g.tobytes(), {k: v.tobytes() for k, v in state.items()})
    with pytest.raises(ValueError) as info:
        opt.step_arrays(w, g, state, in_place=in_place)
    assert (opt.t, w.tobytes(), g.tobytes(), {k: v.tobytes() for k, v in state.items()}) == before
    return str(info.value)


FAILURES = {  # the optimiser, its gradient at parameter 3, the message
    "lr*g overflows": (SGD, {"lr": 1e10, "momentum": 0.9}, 1e300, r"SGD\.step: the update of parameter 3 "),
    "huge w": (SGD, {"lr": 1.0}, 1e308, r"SGD\.step: the update of parameter 3 \('p3'\) overflowed \(data -1.7e"),
    "nan gradient": (Adam, {"lr": 0.1}, math.nan, r"Adam\.step: gradient of parameter 3 \('p3'\) is nan"),
    "inf gradient": (RMSprop, {"lr": 0.1}, -math.inf, r"RMSprop\.step: gradient of parameter 3 .* is -inf"),
    "Adam 0/0": (Adam, {"lr": 0.1, "eps": 0.0}, 0.0, r"Adam\.step: the update of parameter 3 .*overflowed"),
    "RMSprop 0/0": (RMSprop, {"lr": 0.1, "eps": 0.0}, 0.0, r"RMSprop\.step: the update of parameter 3 "),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failing_step_changes_nothing_and_raises_what_the_careful_step_raises(case, prove_small):
    """After two good steps (bounds carried), a step that would fail: in place or not, the same message,
    nothing changed (w, the state, the gradient, t)."""
    cls, kwargs, bad_g, message = FAILURES[case]
    messages = []
    for in_place in (False, True):
        opt, w, state = _start(cls, kwargs, labels=True)
        given = w
        for _ in range(2):
            w, state = opt.step_arrays(w, np.full(N, 1e-3), state, in_place=in_place)
        assert (w is given) == (in_place and kwargs.get("eps") != 0.0)  # proved, run in place (not without eps)
        if case in ("Adam 0/0", "RMSprop 0/0"):
            state = {k: np.zeros(N) for k in state}  # (v = 0 where the gradient is 0: 0 / 0)
        g = np.full(N, 0.25)
        g[3] = bad_g
        if case == "huge w":
            w[3] = -1.7e308
        messages.append(_refused(opt, w, g, state, in_place))
    assert messages[0] == messages[1]
    assert re.match(message, messages[1]), messages[1]


def test_steps_the_bounds_cannot_prove_take_the_careful_way(prove_small):
    """Numbers near 1e305 (intervals beyond LIMIT) and RMSprop without eps (a divisor's interval reaching
    0, though no number is 0) are not proved: fresh arrays, the same numbers as the careful step."""
    for cls, kwargs, scale in ((SGD, {"lr": 0.05, "momentum": 0.9}, 1e305), (RMSprop, {"lr": 0.01, "eps": 0.0}, 1.0)):
        opt, w, state = _start(cls, kwargs)
        ref = cls(opt.params, **kwargs)
        w *= scale
        g = np.linspace(1.0, 2.0, N)
        expect_w, expect_state = ref.step_arrays(w.copy(), g, {k: v.copy() for k, v in state.items()})
        new_w, new_state = opt.step_arrays(w, g, state, in_place=True)
        assert new_w is not w and new_w.tobytes() == expect_w.tobytes()
        assert all(new_state[k].tobytes() == expect_state[k].tobytes() for k in state)


def test_a_rule_of_the_users_is_proved_when_it_can_be_and_else_falls_back(prove_small):
    """A user's rule of + - * / sqrt maximum minimum runs in place; one using anything else (here m.tanh)
    takes the careful way: the same numbers either way."""

    def clipped(m, w, g, state, h):
        return w - h.lr * m.minimum(m.maximum(g, -1.0), 1.0), tuple(state)

    def squashed(m, w, g, state, h):
        return w - h.lr * m.tanh(g), tuple(state)

    for rule, proved in ((clipped, True), (squashed, False)):
        class Custom(SGD):
            pass

        Custom.rule = staticmethod(rule)
        opt, w, state = _start(Custom, {"lr": 0.1})
        ref = Custom(opt.params, lr=0.1)
        g = np.linspace(-3.0, 3.0, N)
        expect_w, _ = ref.step_arrays(w.copy(), g, state)
        new_w, _ = opt.step_arrays(w, g, state, in_place=True)
        assert (new_w is w) == proved and new_w.tobytes() == expect_w.tobytes()


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=0.01), lambda ps: SGD(ps, lr=0.05, momentum=0.9)],
                         ids=["Adam", "SGD-momentum"])
def test_compiled_fit_in_place_is_compiled_fit_with_fresh_arrays(monkeypatch, make):
    """fit's optimiser steps in place give the same parameters and state as fresh arrays, bit for bit."""
    X = np.random.default_rng(0).standard_normal((48, 5))
    y = (X[:, 0] > X[:, 1]).astype(int)
    results = []
    for min_size in (1, 10**9):  # every step in place; none
        monkeypatch.setattr("nn.inplace_step.MIN_SIZE", min_size)
        model = nn.MLP(5, [8, 2], seed=0)
        opt = make(model.parameters())
        nn.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=3, batch_size=16, progress=False,
               seed=0, compile=True)
        results.append(([p.data for p in model.parameters()], opt.state_dict()))
    assert results[0] == results[1]



def test_hyperparameters_changed_between_steps_are_taken_into_account(prove_small, monkeypatch):
    """The namespace of the hyperparameters and the last trace are kept while the hyperparameters are the
    same objects; a momentum, lr or weight_decay changed between steps (also to an equal number, and back)
    makes the same numbers as fresh arrays and step() on floats.  Unchanged, the rule is not traced again."""
    traces = []

    class Counted(nn.bounded.Trace):
        def __init__(self):
            super().__init__()
            traces.append(self)

    monkeypatch.setattr("nn.inplace_step.Trace", Counted)
    kwargs = {"lr": 0.05, "momentum": 0.9}
    floats, w0, s0 = _start(SGD, kwargs)
    fresh, placed = SGD(floats.params, **kwargs), SGD(floats.params, **kwargs)
    wf, sf, wp, sp = w0.copy(), dict(s0), w0.copy(), {k: v.copy() for k, v in s0.items()}
    changes = {2: ("momentum", 0.5), 4: ("lr", 0.01), 5: ("weight_decay", 0.1), 6: ("lr", float("0.01")),
               7: ("momentum", 0.0), 8: ("momentum", 0.9)}
    rng = np.random.default_rng(5)
    for step in range(10):
        if step in changes:
            for opt in (floats, fresh, placed):
                setattr(opt, *changes[step])
        g = rng.standard_normal(N)
        given, before = wp, len(traces)
        (wf, sf), (wp, sp) = _step_each(floats, g, (fresh, wf, sf), (placed, wp, sp))
        assert wp is given and wp.tobytes() == wf.tobytes() and wp.tolist() == [p.data for p in floats.params]
        assert sp["velocity"].tobytes() == sf["velocity"].tobytes()
        assert len(traces) - before == (2 if step in (0, 2, 4, 5, 7, 8) else 0), step  # both traced; 6: equal lr


def test_carried_bounds_that_no_longer_prove_a_step_are_measured_again(prove_small):
    """Bounds carried from step to step hold every number of the arrays; widened beyond what proves a step
    (here set so), they are measured again: the step is still run in place, with the same numbers."""
    kwargs = {"lr": 0.05, "momentum": 0.9}
    opt, w, state = _start(SGD, kwargs)
    ref = SGD(opt.params, **kwargs)
    wf, sf = w.copy(), {k: v.copy() for k, v in state.items()}
    rng = np.random.default_rng(2)
    for step in range(6):
        g = rng.standard_normal(N)
        if step == 4:
            opt._in_place.kept_bounds = [-1e301, 1e301] * 2  # (as if widened over many steps)
        given = w
        w, state = opt.step_arrays(w, g, state, in_place=True)
        wf, sf = ref.step_arrays(wf, g, sf)
        assert w is given and w.tobytes() == wf.tobytes() and state["velocity"].tobytes() == sf["velocity"].tobytes()
        lo_w, hi_w, lo_a, hi_a = opt._in_place.kept_bounds
        assert lo_w <= w.min() <= w.max() <= hi_w and lo_a <= state["velocity"].min() <= state["velocity"].max() <= hi_a
        assert hi_w - lo_w < 10.0  # (measured again at step 4: not the wide bounds)


def test_a_failing_step_after_repeated_steps_changes_nothing_even_when_numpy_raises_on_underflow(prove_small):
    """Steps repeated from the last one's program (bounds carried): a NaN gradient changes nothing and raises
    what the careful step raises; with np.seterr(all="raise") a proved step that underflows still runs whole."""
    opt, w, state = _start(SGD, {"lr": 0.05, "momentum": 0.9}, labels=True)
    for _ in range(3):
        w, state = opt.step_arrays(w, np.full(N, 1e-3), state, in_place=True)
    assert opt._in_place.again is not None
    g = np.full(N, 1e-3)
    g[5] = math.nan
    assert re.match(r"SGD\.step: gradient of parameter 5 \('p5'\) is nan", _refused(opt, w, g, state, True))
    ref = SGD(opt.params, lr=0.05, momentum=0.9)
    ref.t = opt.t
    tiny = np.full(N, 1e-320)  # (lr * tiny underflows)
    expect_w, expect_state = ref.step_arrays(w.copy(), tiny, {k: v.copy() for k, v in state.items()})
    with np.errstate(all="raise"):
        new_w, new_state = opt.step_arrays(w, tiny, state, in_place=True)
    assert new_w is w and new_w.tobytes() == expect_w.tobytes()
    assert new_state["velocity"].tobytes() == expect_state["velocity"].tobytes()
