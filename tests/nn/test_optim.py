"""nn.optim: PyTorch parity of every optimiser, the ETH Zürich lecture's momentum, schedules, state dicts, errors."""

from __future__ import annotations

import doctest
import json
import math
import re

import pytest

from autograd import Value
from nn import StateDictError, optim, schedules
from nn.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Constant,
    Cosine,
    Exponential,
    InverseTime,
    Linear,
    PiecewiseConstant,
    RMSprop,
    Scheduler,
    StepDecay,
)

INIT = [0.5, -1.0, 1.5]


def objective(w):
    """A small non-quadratic function of three parameters (same formula for Values and tensors)."""
    return (w[0] - 1.0) ** 2 + 2.0 * (w[1] + 0.5) ** 2 + w[0] * w[1] + 0.1 * w[2] ** 4 + w[2].sin()


def run_ours(cls, kwargs, steps=20, init=INIT):
    ws = [Value(x) for x in init]
    opt = cls(ws, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        objective(ws).backward()
        opt.step()
    return [w.data for w in ws]


def run_torch(torch, name, kwargs, steps=20):
    p = torch.tensor(INIT, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        objective([p[0], p[1], p[2]]).backward()
        opt.step()
    return p.detach().tolist()


PARITY = [
    (SGD, {"lr": 0.05}),
    (SGD, {"lr": 0.05, "momentum": 0.9}),
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (SGD, {"lr": 0.05, "weight_decay": 0.1}),
    (SGD, {"lr": 0.03, "momentum": 0.8, "nesterov": True, "weight_decay": 0.2}),
    (Adagrad, {"lr": 0.1}),
    (Adagrad, {"lr": 0.1, "weight_decay": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (RMSprop, {"lr": 0.01}),
    (RMSprop, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.1}),
    (RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.3}),
    (Adam, {"lr": 0.05}),
    (Adam, {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "eps": 1e-6}),
    (Adam, {"lr": 0.05, "amsgrad": True}),
    (AdamW, {"lr": 0.05}),
    (AdamW, {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
]


@pytest.mark.parametrize("cls,kwargs", PARITY, ids=[f"{c.__name__}-{k}" for c, k in PARITY])
def test_twenty_steps_match_pytorch_float64(cls, kwargs):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    ours = run_ours(cls, kwargs)
    ref = run_torch(torch, cls.__name__, kwargs)
    assert max(abs(a - b) for a, b in zip(INIT, ours)) > 0.05  # the parameters really moved
    assert ours == pytest.approx(ref, abs=1e-10, rel=0)


# --- momentum as in ETH Zürich, neural networks continued --------------------------------------------
def test_momentum_is_the_lecture_recurrence_with_any_learning_rate():
    # f(w) = w^2 / 2, grad = w; a <- m a + lr_t grad; w <- w - a, with lr_t changing every step.
    w = Value(3.0)
    opt = SGD([w], lr=0.1, momentum=0.9)
    sched = PiecewiseConstant([3, 6], [0.1, 0.05, 0.01])
    a, x = 0.0, 3.0
    for t in range(10):
        opt.lr = sched(t)
        opt.zero_grad()
        (0.5 * w * w).backward()
        opt.step()
        a = 0.9 * a + sched(t) * x
        x = x - a
        assert w.data == x
        assert opt.state["velocity"] == [a]


def test_momentum_forms_differ_only_when_the_learning_rate_changes():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    rates = [0.1, 0.1, 0.1, 0.02, 0.02, 0.02]
    w = Value(3.0)
    ours = SGD([w], lr=0.1, momentum=0.9)
    p = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    gaps = []
    for lr in rates:
        ours.lr = lr
        for group in theirs.param_groups:
            group["lr"] = lr
        ours.zero_grad()
        theirs.zero_grad()
        (0.5 * w * w).backward()
        (0.5 * p * p).backward()
        ours.step()
        theirs.step()
        gaps.append(abs(w.data - p.item()))
    assert max(gaps[:3]) < 1e-14  # constant lr: the same numbers
    assert gaps[3] > 1e-3  # after the drop PyTorch rescales its whole velocity, the lecture form does not


# --- schedules ---------------------------------------------------------------------------------------
def test_inverse_time_is_the_eth_zurich_schedule():
    sched = InverseTime(0.1, 100)
    assert sched(500) == 0.1
    assert sched(2000) == 0.05
    assert sched(1000) == 0.1
    assert sched(4000) == 0.025
    assert sched(0) == 0.1  # min(0.1, 100/0) taken as 0.1
    assert InverseTime()(2000) == 0.05


def test_piecewise_constant_switches_at_the_boundaries():
    sched = PiecewiseConstant([10, 20], [0.1, 0.01, 0.001])
    assert [sched(t) for t in (0, 9, 9.5, 10, 19, 20, 10**6)] == [0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]


def test_linear_is_micrograds_demo_schedule():
    sched = Linear(T=100)
    for k in range(100):
        assert sched(k) == pytest.approx(1.0 - 0.9 * k / 100, rel=1e-15)
    assert sched(100) == sched(250) == 0.1
    assert Linear(0.5, 0.0, 10)(5) == 0.25


def test_constant_step_exponential_cosine_values():
    assert [Constant(0.3)(t) for t in (0, 7, 1e9)] == [0.3, 0.3, 0.3]
    assert [StepDecay(1.0, 3, 0.5)(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert Exponential(2.0, 0.5)(3) == 0.25
    cos = Cosine(1.0, 10, lr_min=0.1)
    assert cos(0) == 1.0
    assert cos(5) == pytest.approx(0.55, rel=1e-15)
    assert cos(10) == cos(50) == 0.1


@pytest.mark.parametrize(
    "ours,torch_name,kwargs",
    [
        (StepDecay(0.1, 3, 0.5), "StepLR", {"step_size": 3, "gamma": 0.5}),
        (Exponential(0.1, 0.9), "ExponentialLR", {"gamma": 0.9}),
        (Cosine(0.1, 12, lr_min=0.001), "CosineAnnealingLR", {"T_max": 12, "eta_min": 0.001}),
        (PiecewiseConstant([4, 9], [0.1, 0.01, 0.001]), "MultiStepLR", {"milestones": [4, 9], "gamma": 0.1}),
        (Linear(0.1, 0.01, 8), "LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 8}),
    ],
    ids=["step", "exponential", "cosine", "piecewise", "linear"],
)
def test_schedules_match_pytorch_schedulers(ours, torch_name, kwargs):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs the parity extra")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = getattr(torch.optim.lr_scheduler, torch_name)(opt, **kwargs)
    for t in range(13):
        assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12), t
        opt.step()
        sched.step()


def test_scheduler_drives_any_optimiser():
    w = Value(1.0)
    opt = Adam([w], lr=0.5)
    scheduler = Scheduler(opt, InverseTime(0.1, 1))
    assert opt.lr == 0.1  # schedule(0) set on construction
    assert scheduler.step() == 0.1 and opt.lr == 0.1  # t = 1: min(0.1, 1/1)
    for _ in range(9):
        scheduler.step()
    assert scheduler.t == 10 and opt.lr == 0.1
    scheduler.step()
    assert opt.lr == pytest.approx(1 / 11)
    restored = Scheduler(SGD([Value(0.0)], lr=1.0), InverseTime(0.1, 1))
    restored.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    assert restored.t == 11 and restored.optimizer.lr == opt.lr
    with pytest.raises(ValueError, match="'t' must be an int >= 0"):
        restored.load_state_dict({"t": -1})
    assert restored.t == 11
    plain = Scheduler(SGD([Value(0.0)], lr=1.0), lambda t: 0.5 / (t + 1))  # any function t -> lr
    plain.step()
    assert plain.optimizer.lr == 0.25


def test_schedule_setting_lr_by_hand_in_a_training_loop():
    w = Value(4.0)
    opt = SGD([w], lr=1.0)
    sched = StepDecay(0.5, 2, 0.1)
    for t in range(4):
        opt.lr = sched(t)
        opt.zero_grad()
        (0.5 * w * w).backward()
        opt.step()
    # w <- w (1 - lr_t): rates 0.5, 0.5, 0.05, 0.05
    assert w.data == pytest.approx(4.0 * 0.5 * 0.5 * 0.95 * 0.95, rel=1e-15)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: InverseTime(0.1, 100)(-1), "the step t must be a finite number >= 0, got -1"),
        (lambda: Constant(0.1)(math.nan), "got nan"),
        (lambda: PiecewiseConstant([10], [0.1]), "one more value than boundaries, got 1 boundaries and 1 values"),
        (lambda: PiecewiseConstant([10, 5], [0.1, 0.01, 0.001]), "increase strictly, got 10.0 then 5.0"),
        (lambda: PiecewiseConstant([5], [0.1, -0.01]), r"values\[1\] must be >= 0, got -0.01"),
        (lambda: StepDecay(0.1, 0), "step_size must be an int >= 1, got 0"),
        (lambda: Cosine(0.1, 0), "T must be > 0, got 0.0"),
        (lambda: Exponential(0.1, math.inf), "gamma must be finite, got inf"),
        (lambda: Scheduler(SGD([Value(1.0)], lr=0.1), 0.5), "schedule must be callable"),
        (lambda: Scheduler(SGD([Value(1.0)], lr=0.1), lambda t: -1.0), "lr must be finite and >= 0, got -1.0"),
    ],
)
def test_schedule_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


# --- state dicts -------------------------------------------------------------------------------------
ALL = [
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01}),
    (RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (Adam, {"lr": 0.05, "amsgrad": True, "weight_decay": 0.01}),
    (AdamW, {"lr": 0.05, "betas": (0.8, 0.95)}),
]
ALL_IDS = [c.__name__ for c, _ in ALL]


def _train(opt, ws, steps):
    for _ in range(steps):
        opt.zero_grad()
        objective(ws).backward()
        opt.step()


@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_state_dict_round_trips_through_json(cls, kwargs):
    ws = [Value(x) for x in INIT]
    opt = cls(ws, **kwargs)
    _train(opt, ws, 5)
    saved = json.loads(json.dumps(opt.state_dict()))
    assert saved["optimizer"] == cls.__name__ and saved["t"] == 5
    # A fresh optimiser with other hyperparameters becomes the saved one.
    ws2 = [Value(w.data) for w in ws]
    opt2 = cls(ws2, lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.state_dict() == opt.state_dict()
    _train(opt, ws, 5)
    _train(opt2, ws2, 5)
    assert [w.data for w in ws2] == [w.data for w in ws]
    # ... and the same as training 10 steps without interruption.
    assert [w.data for w in ws] == run_ours(cls, kwargs, steps=10)


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d.update(optimizer="SGD"), "this state is for 'SGD', not 'Adam'"),
        (lambda d: d.pop("t"), r"missing key\(s\) \['t'\]"),
        (lambda d: d.update(extra=1), r"unexpected key\(s\) \['extra'\]"),
        (lambda d: d["hyperparameters"].update(lr=-1.0), "bad hyperparameter: Adam: lr must be finite and >= 0"),
        (lambda d: d["hyperparameters"].update(betas=[0.9, 1.0]), r"betas\[1\] must be in \[0, 1\), got 1.0"),
        (lambda d: d["hyperparameters"].pop("eps"), "hyperparameters must have exactly the keys"),
        (lambda d: d.update(t=-2), r"'t' must be an int in 0..2\*\*53 \(a step count\), got -2"),
        # Ints past the float range: an OverflowError later (beta ** t, float(x)) unless refused here.
        (lambda d: d.update(t=10**400), "'t' must be an int in 0..2\\*\\*53 .*got 1000"),
        (lambda d: d.update(t=2**53 + 1), "got 9007199254740993"),
        (lambda d: d["hyperparameters"].update(lr=10**400), "bad hyperparameter: Adam: lr must be finite"),
        (lambda d: d["state"]["m"].__setitem__(2, -(10**400)), r"state\['m'\]\[2\] must be finite, got -inf"),
        (lambda d: d["state"]["m"].pop(), r"state\['m'\] must be a list of 3 numbers \(one per parameter\), got 2"),
        (lambda d: d["state"]["v"].__setitem__(1, math.nan), r"state\['v'\]\[1\] must be finite and >= 0, got nan"),
        (lambda d: d["state"]["v"].__setitem__(0, "0.1"), r"state\['v'\]\[0\] must be a real number, got str '0.1'"),
        (lambda d: d["state"].pop("v_max"), "state must have exactly the keys"),
    ],
)
def test_bad_state_dict_raises_and_changes_nothing(mutate, message):
    ws = [Value(x) for x in INIT]
    opt = Adam(ws, lr=0.05)
    _train(opt, ws, 3)
    before = json.dumps(opt.state_dict())
    bad = json.loads(before)
    mutate(bad)
    other = Adam([Value(x) for x in INIT], lr=0.2, amsgrad=True)
    other_before = json.dumps(other.state_dict())
    with pytest.raises(StateDictError, match=message):
        other.load_state_dict(bad)
    assert json.dumps(other.state_dict()) == other_before
    assert json.dumps(opt.state_dict()) == before
    with pytest.raises(StateDictError, match="expected a dict, got list"):
        other.load_state_dict([])


@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
@pytest.mark.parametrize("bad, words", [
    (None, "must be a real number, got NoneType None"),
    ([0.5], "must be a real number, got list"),
    ("0.5", "must be a real number, got str '0.5'"),
    (True, "must be a real number, got bool"),
    (math.inf, "must be finite"),
])
def test_every_state_entry_is_checked_the_same_way(cls, kwargs, bad, words):
    """Issue 13, item 12: each key of every optimiser's state refuses the same bad values, naming the key."""
    ws = [Value(x) for x in INIT]
    opt = cls(ws, **kwargs)
    _train(opt, ws, 2)
    before = json.dumps(opt.state_dict())
    for slot in opt.state:
        for i in range(len(ws)):
            d = json.loads(before)
            d["state"][slot][i] = bad
            with pytest.raises(StateDictError, match=rf"^{cls.__name__}.load_state_dict: state\['{slot}'\]\[{i}\] "
                                                       rf"{re.escape(words)}"):
                opt.load_state_dict(d)
            assert json.dumps(opt.state_dict()) == before


@pytest.mark.parametrize("cls, slots", [(Adagrad, ["sum"]), (RMSprop, ["square_avg"]), (Adam, ["v", "v_max"]),
                                        (AdamW, ["v", "v_max"])])
def test_negative_running_squares_are_refused(cls, slots):
    """A negative accumulator of squared gradients has no square root: refused on load, not at the next step."""
    ws = [Value(x) for x in INIT]
    opt = cls(ws, lr=0.01)
    _train(opt, ws, 2)
    before = json.dumps(opt.state_dict())
    for slot in opt.state:
        d = json.loads(before)
        d["state"][slot][1] = -0.25
        if slot in slots:
            with pytest.raises(StateDictError, match=rf"state\['{slot}'\]\[1\] must be finite and >= 0, got -0.25"):
                opt.load_state_dict(d)
            assert json.dumps(opt.state_dict()) == before
        else:  # a momentum or a mean gradient may be negative
            opt.load_state_dict(d)
            opt.load_state_dict(json.loads(before))


@pytest.mark.parametrize("where, value, words", [
    (("t",), None, "'t' must be an int in 0..2**53 (a step count), got None"),
    (("t",), "3", "'t' must be an int in 0..2**53 (a step count), got '3'"),
    (("t",), 2.0, "'t' must be an int in 0..2**53 (a step count), got 2.0"),
    (("hyperparameters", "lr"), None, "bad hyperparameter: Adam: lr must be a real number, got NoneType None"),
    (("hyperparameters", "eps"), "1e-8", "bad hyperparameter: Adam: eps must be a real number, got str '1e-8'"),
    (("hyperparameters", "amsgrad"), "yes", "bad hyperparameter: Adam: amsgrad must be True or False"),
    (("hyperparameters",), [], "hyperparameters must be a dict with the keys"),
    (("state",), None, "state must be a dict with the keys ['m', 'v', 'v_max'], got NoneType"),
    (("state", "m"), "abc", "state['m'] must be a list of 3 numbers (one per parameter), got str"),
    (("optimizer",), ["x"] * 1000, "this state is for ['x', 'x', 'x', 'x', 'x', 'x', ...], not 'Adam'"),
])
def test_every_key_of_the_state_dict_is_checked(where, value, words):
    ws = [Value(x) for x in INIT]
    opt = Adam(ws, lr=0.05)
    _train(opt, ws, 2)
    before = json.dumps(opt.state_dict())
    d = json.loads(before)
    target = d
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(StateDictError) as info:
        opt.load_state_dict(d)
    assert str(info.value).startswith("Adam.load_state_dict: ") and words in str(info.value)
    assert len(str(info.value)) < 200
    assert json.dumps(opt.state_dict()) == before


# --- one rule, two backends --------------------------------------------------------------------------
@pytest.fixture
def prove_small(monkeypatch):
    """Steps of any size are proved (and run in place), not only those of nn.inplace_step.MIN_SIZE numbers."""
    monkeypatch.setattr("nn.inplace_step.MIN_SIZE", 1)


@pytest.mark.parametrize("in_place", [False, True], ids=["fresh", "in-place"])
@pytest.mark.parametrize("cls,kwargs", PARITY, ids=[f"{c.__name__}-{k}" for c, k in PARITY])
def test_step_arrays_is_step_on_a_flat_vector(cls, kwargs, in_place, prove_small):
    """The same rule on numpy arrays gives the same parameters and state as step() on Values, bit for bit
    (also with in_place=True, where it runs recorded on Bounded arrays, then on the arrays in place)."""
    np = pytest.importorskip("numpy")
    ws = [Value(x) for x in INIT]
    opt = cls(ws, **kwargs)
    flat = cls([Value(x) for x in INIT], **kwargs)
    w = np.array(INIT)
    state = {k: np.array(v) for k, v in flat.state.items()}
    for step in range(20):
        opt.zero_grad()
        objective(ws).backward()
        opt.step()
        probe = [Value(x) for x in w.tolist()]
        objective(probe).backward()
        w, state = flat.step_arrays(w, np.array([p.grad for p in probe]), state, in_place=in_place)
        assert w.tolist() == [p.data for p in ws]
        assert {k: v.tolist() for k, v in state.items()} == opt.state
        assert flat.t == opt.t == step + 1
    # The arrays' state is the optimiser's state: saved from one, it continues the other.
    flat.state = {k: v.tolist() for k, v in state.items()}
    for p, x in zip(flat.params, w.tolist()):
        p.data = x
    assert json.dumps(flat.state_dict()) == json.dumps(opt.state_dict())


def test_step_arrays_refuses_non_finite_gradients_and_overflow_changing_nothing():
    np = pytest.importorskip("numpy")
    ws = [Value(x, label=n) for x, n in zip(INIT, "abc")]
    opt = Adam(ws, lr=0.1)
    w, state = np.array(INIT), {k: np.zeros(3) for k in opt.state}
    with pytest.raises(ValueError, match=r"Adam.step: gradient of parameter 1 \(.b.\) is nan; no parameter was"):
        opt.step_arrays(w, np.array([0.0, math.nan, 1.0]), state)
    assert opt.t == 0 and w.tolist() == INIT and all(not v.any() for v in state.values())
    sgd = SGD(ws, lr=1e300, momentum=0.5)
    with pytest.raises(ValueError, match=r"SGD.step: the update of parameter 2 \('c'\) overflowed"):
        sgd.step_arrays(w, np.array([0.0, 0.0, 1e300]), {"velocity": np.zeros(3)})
    assert sgd.t == 0 and w.tolist() == INIT


def _refusal(opt, w, g, state, in_place):
    """The error step_arrays raises, after checking that it changed nothing."""
    np = pytest.importorskip("numpy")
    before = (opt.t, w.tolist(), g.tolist(), {k: v.tolist() for k, v in state.items()})
    with pytest.raises(ValueError) as info:
        opt.step_arrays(w, g, state, in_place=in_place)
    after = (opt.t, w.tolist(), g.tolist(), {k: v.tolist() for k, v in state.items()})
    assert str(before) == str(after) and np.isfinite(w).all()  # (str: NaN equal to NaN)
    return str(info.value)


@pytest.mark.parametrize("case", ["nan-grad", "overflow", "inf-lr-ratio", "unknown-inf-state"])
def test_step_arrays_in_place_refuses_like_the_checked_step(case, prove_small):
    """in_place=True writes nothing it has not proved: a step whose result is not finite changes nothing
    and raises what the fully checked step raises, also after steps that succeeded (their bounds then
    carried over), when only a Python-float intermediate would overflow (Adam's lr / (1 - b1), silently
    inf as a Python float) and when the state was not made by a step and holds an inf."""
    np = pytest.importorskip("numpy")
    ws = [Value(x, label=n) for x, n in zip(INIT, "abc")]
    g = np.array([0.1, -0.2, 0.3])
    if case == "inf-lr-ratio":
        make = lambda: Adam(ws, lr=1e300, betas=(0.9999999999999999, 0.999))  # noqa: E731
        bad = np.array([0.1, -0.2, 0.3])
    else:
        make = lambda: SGD(ws, lr=1e300 if case == "overflow" else 0.1, momentum=0.5)  # noqa: E731
        bad = np.array([0.0, math.nan, 1.0]) if case == "nan-grad" else np.array([0.0, 0.0, 1e300])
    messages = []
    for in_place in (False, True):
        opt, w = make(), np.array(INIT)
        state = {k: np.zeros(3) for k in opt.state}
        if case == "unknown-inf-state":
            state = {"velocity": np.array([0.0, math.inf, 0.0])}
            bad = g
        elif case != "inf-lr-ratio":
            w, state = opt.step_arrays(w, g * 1e-300, state, in_place=in_place)  # a good step first
            assert opt.t == 1 and np.isfinite(w).all()
        messages.append(_refusal(opt, w, bad, state, in_place))
    assert messages[0] == messages[1]
    assert re.match(r"(SGD|Adam)\.step: (gradient of parameter 1 \('b'\) is nan|the update of parameter \d)",
                    messages[1])


def test_step_arrays_in_place_takes_a_rule_of_the_users_the_careful_way(prove_small):
    """A rule outside nn.update_rules may make an inf from Python floats of its own, which numpy cannot
    see: in_place=True must still refuse its non-finite result."""
    np = pytest.importorskip("numpy")

    def reckless(m, w, g, state, h):
        return w - (1e308 * 10.0) * g, tuple(state)  # a Python inf: no floating-point error raised

    class Reckless(SGD):
        rule = staticmethod(reckless)

    opt = Reckless([Value(x, label=n) for x, n in zip(INIT, "abc")], lr=0.1)
    msg = _refusal(opt, np.array(INIT), np.array([0.5, 0.5, 0.5]), {"velocity": np.zeros(3)}, True)
    assert msg.startswith("Reckless.step: the update of parameter 0 ('a') overflowed")


def test_step_arrays_steps_finite_numbers_whose_sum_overflows():
    # step_arrays checks each array by one sum: a sum that overflows on finite numbers is not a refusal
    np = pytest.importorskip("numpy")
    ws = [Value(x) for x in INIT]
    sgd = SGD(ws, lr=1e-300, momentum=0.5)
    g = np.array([1.7e308, 1.7e308, 0.0])
    w, state = sgd.step_arrays(np.array(INIT), g, {"velocity": np.zeros(3)})
    assert sgd.t == 1 and np.isfinite(w).all() and state["velocity"].tolist() == (1e-300 * g).tolist()


# --- never half-updated ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_gradient_updates_nothing(cls, kwargs, bad):
    ws = [Value(x, label=name) for x, name in zip(INIT, "abc")]
    opt = cls(ws, **kwargs)
    _train(opt, ws, 2)
    before = (json.dumps(opt.state_dict()), [w.data for w in ws])
    opt.zero_grad()
    objective(ws).backward()
    ws[2].grad = bad
    with pytest.raises(ValueError, match=rf"{cls.__name__}.step: gradient of parameter 2 \('c'\) is {bad!r}; "
                                         "no parameter was updated"):
        opt.step()
    assert (json.dumps(opt.state_dict()), [w.data for w in ws]) == before


def test_overflowing_update_updates_nothing():
    ws = [Value(1.0), Value(-1e300)]
    opt = SGD(ws, lr=1e10)
    ws[0].grad = 1.0
    ws[1].grad = 1e300
    with pytest.raises(ValueError, match="update of parameter 1 overflowed"):
        opt.step()
    assert [w.data for w in ws] == [1.0, -1e300] and opt.t == 0


def test_gradients_left_by_create_graph_are_used():
    x = Value(2.0)
    (x * x * x).backward(create_graph=True)
    assert isinstance(x.grad, Value)
    SGD([x], lr=0.1).step()
    assert x.data == pytest.approx(2.0 - 0.1 * 12.0)


def test_zero_grad_and_module_like_parameters():
    class Model:
        def __init__(self):
            self.w = [Value(1.0), Value(2.0)]

        def parameters(self):
            return self.w

    model = Model()
    opt = SGD(model, lr=0.1)
    assert opt.params == model.w
    for w in model.w:
        w.grad = 3.0
    opt.step()
    assert [w.data for w in model.w] == pytest.approx([0.7, 1.7])
    opt.zero_grad()
    assert [w.grad for w in model.w] == [0.0, 0.0]
    assert opt.t == 1
    assert repr(opt) == "SGD(2 parameters, lr=0.1, momentum=0.0, nesterov=False, weight_decay=0.0)"


def test_lr_is_settable_and_checked():
    opt = Adam([Value(1.0)])
    opt.lr = 0.25
    assert opt.lr == 0.25 and opt.state_dict()["hyperparameters"]["lr"] == 0.25
    with pytest.raises(ValueError, match="Adam: lr must be finite and >= 0, got nan"):
        opt.lr = math.nan
    with pytest.raises(TypeError, match="Adam: lr must be a real number, got str"):
        opt.lr = "0.1"
    assert opt.lr == 0.25


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, r"got a single Value \(wrap it: \[v\]\)"),
        (lambda: SGD([Value(1.0), 2.0], lr=0.1), TypeError, "parameter 1 must be a Value, got float 2.0"),
        (lambda: SGD(3, lr=0.1), TypeError, "expected a list of Values or a model"),
        (lambda: SGD([Value(1.0) * 2], lr=0.1), ValueError, "was computed by 'mul'; only leaf Values"),
        (lambda: SGD([Value(1.0, label="w")] * 2, lr=0.1), ValueError,
         r"parameter 1 \('w'\) is listed twice \(also as parameter 0\)"),
        (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "SGD: lr must be finite and >= 0, got -0.1"),
        (lambda: SGD([Value(1.0)], lr=True), TypeError, "lr must be a real number, got bool"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError, "nesterov=True needs a momentum > 0"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=0.9, nesterov=1), TypeError, "nesterov must be True or False"),
        (lambda: SGD([Value(1.0)], lr=0.1, weight_decay=-1), ValueError, "weight_decay must be finite and >= 0"),
        (lambda: Adam([Value(1.0)], betas=(0.9,)), ValueError, r"betas must be a pair \(beta1, beta2\)"),
        (lambda: Adam([Value(1.0)], betas=(-0.1, 0.9)), ValueError, r"betas\[0\] must be in \[0, 1\), got -0.1"),
        (lambda: AdamW([Value(1.0)], eps=-1e-8), ValueError, "AdamW: eps must be finite and >= 0"),
        (lambda: RMSprop([Value(1.0)], alpha=1.5), ValueError, r"alpha must be in \[0, 1\], got 1.5"),
        (lambda: Adagrad([Value(1.0)], initial_accumulator_value=-1), ValueError, "initial_accumulator_value"),
    ],
)
def test_bad_construction_raises_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_grad_that_is_not_a_number():
    w = Value(1.0, label="w")
    w.grad = "x"
    with pytest.raises(TypeError, match=r"gradient of parameter 0 \('w'\) is 'x', not a number"):
        SGD([w], lr=0.1).step()
    assert w.data == 1.0


def test_public_names_and_docstring_examples():
    assert set(schedules.__all__) <= set(optim.__all__)
    for name in optim.__all__:
        assert hasattr(optim, name)
    for module in (optim, schedules):
        result = doctest.testmod(module)
        assert result.failed == 0
    assert doctest.testmod(schedules).attempted > 0


# --- a forgotten zero_grad() ----------------------------------------------------------------------
def _fit_a_line(opt_factory, zero):
    import warnings

    w = Value(0.0, label="w")
    opt = opt_factory([w])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(50):
            loss = (w * 3.0 - 1.5) ** 2
            loss.backward()
            opt.step()
            zero(opt, w)
    return w, [str(c.message) for c in caught]


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.02), lambda ps: Adam(ps, lr=0.05)], ids=["sgd", "adam"])
def test_step_warns_once_when_zero_grad_is_forgotten(make):
    w, said = _fit_a_line(make, lambda opt, w: None)
    assert len(said) == 1  # once, not at every step
    assert said[0].startswith(f"{type(make([Value(0.0)])).__name__}.step: the gradients still hold the previous step's")
    assert "call optimizer.zero_grad() after each step" in said[0] and "step(accumulated=True)" in said[0]
    right, quiet = _fit_a_line(make, lambda opt, w: opt.zero_grad())
    assert quiet == [] and abs(right.data - 0.5) < abs(w.data - 0.5)  # the forgotten zero_grad trains worse


@pytest.mark.parametrize("zero", [lambda opt, w: opt.zero_grad(), lambda opt, w: setattr(w, "grad", 0.0)],
                         ids=["optimizer", "by-hand"])
def test_no_warning_when_the_gradients_are_zeroed_any_way(zero):
    _, said = _fit_a_line(lambda ps: SGD(ps, lr=0.02), zero)
    assert said == []


def test_deliberate_accumulation_is_silenced_and_gradients_read_as_numbers():
    import warnings

    w = Value(1.0)
    opt = SGD([w], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            (w * w).backward()
            opt.step(accumulated=True)
    assert w.grad == float(w.grad) and json.loads(json.dumps(w.grad)) == w.grad and repr(w.grad) == repr(float(w.grad))


@pytest.mark.parametrize("compile", [False, True])
def test_fit_never_warns_about_zero_grad(compile):
    import warnings

    import nn
    from nn import datasets

    X, y = datasets.demo_moons(labels="sign")
    for opt in (lambda m: SGD(m.parameters(), lr=0.5, momentum=0.9), lambda m: Adam(m.parameters(), lr=0.01)):
        model = nn.MLP(2, [4, 1], seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            nn.fit(model, X[:40], y[:40], loss="hinge", optimizer=opt(model), epochs=3, batch_size=8,
                   compile=compile)
