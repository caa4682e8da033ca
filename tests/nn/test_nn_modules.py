"""nn modules: Module bookkeeping, Neuron/Layer/MLP, activations, Dropout, BatchNorm, symmetries."""

from __future__ import annotations

import json
import math
import random
import statistics
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value
from nn import MLP, BatchNorm, Dropout, Layer, Module, Neuron

ACTS = ["identity", "relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softplus", "swish", "maxout"]


def fd_check(model, loss_fn, h=1e-6, tol=1e-6):
    """Compare every parameter's backward gradient with a central finite difference."""
    model.zero_grad()
    loss_fn().backward()
    for name, p in model.named_parameters():
        analytic = p.grad
        old = p.data
        p.data = old + h
        up = loss_fn().data
        p.data = old - h
        down = loss_fn().data
        p.data = old
        numeric = (up - down) / (2 * h)
        assert analytic == pytest.approx(numeric, rel=tol, abs=tol), name


# --- structure ---------------------------------------------------------------------------------------
def test_mlp_as_in_micrograd():
    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -0.2])
    assert isinstance(out, Value)
    assert model.num_parameters() == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1) == 337
    assert len(model.layers) == 3 and len(model.layers[1].neurons) == 16
    assert len(model.layers[0].neurons[3].w) == 2 and isinstance(model.layers[0].neurons[3].b, Value)
    assert isinstance(MLP(2, [3, 2], seed=0)([1.0, 2.0]), list)
    out.backward()
    assert any(p.grad != 0.0 for p in model.parameters())


def test_weights_are_settable_like_micrograd():
    model = MLP(2, [2, 1], activation="relu", seed=0)
    # The hand-set XOR network of LMU München, Machine Learning Basics III: W=[[1,1],[1,1]], b=[0,-1], v=[1,-2].
    for j, (w, b) in enumerate([([1.0, 1.0], 0.0), ([1.0, 1.0], -1.0)]):
        neuron = model.layers[0].neurons[j]
        for k in range(2):
            neuron.w[k].data = w[k]
        neuron.b.data = b
    out = model.layers[1].neurons[0]
    out.w[0].data, out.w[1].data, out.b.data = 1.0, -2.0, 0.0
    assert [model(x).data for x in ([0, 0], [0, 1], [1, 0], [1, 1])] == [0.0, 1.0, 1.0, 0.0]


def test_layer_always_returns_a_list():
    assert isinstance(Layer(3, 1, seed=0)([1.0, 2.0, 3.0]), list)
    assert len(Layer(3, 4, seed=0)([1.0, 2.0, 3.0])) == 4


def test_neuron_weighted_sum_is_one_dot_node():
    n = Neuron(4, activation="identity", seed=0)
    z = n([1.0, 2.0, 3.0, 4.0])
    assert z.op == "dot" and len(z.parents) == 9  # 4 weights, 4 inputs, bias
    r = Neuron(4, activation="relu", seed=0)([1.0, 2.0, 3.0, 4.0])
    assert r.op == "relu" and r.parents[0].op == "dot"
    nb = Neuron(4, bias=False, seed=0)
    assert nb.b is None and nb.num_parameters() == 4
    assert len(nb.preactivation([1, 2, 3, 4]).parents) == 8


def test_wrong_input_size_is_a_clear_error():
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        MLP(2, [3, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expected 3 inputs"):
        Neuron(3)([1.0])
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, 3)
    with pytest.raises(ValueError, match="positive integer"):
        Layer(0, 3)
    with pytest.raises(ValueError, match="^Neuron: no activation named .relu6.; known: "):
        Neuron(2, activation="relu6")
    with pytest.raises(ValueError, match="^Neuron: no initialiser named .orthogonal.; known: "):
        Neuron(2, init="orthogonal")


def test_named_parameters_names_labels_and_order():
    model = MLP(2, [3, 1], seed=0)
    named = model.named_parameters()
    names = [n for n, _ in named]
    assert names[:4] == [
        "layers.0.neurons.0.w[0]", "layers.0.neurons.0.w[1]", "layers.0.neurons.0.b", "layers.0.neurons.1.w[0]"
    ]
    assert names[-1] == "layers.1.neurons.0.b"
    assert all(v.label == n for n, v in named)
    big = MLP(2, [4, 4, 1], seed=0)
    assert big.layers[0].neurons[3].w[1].label == "layers.0.neurons.3.w[1]"  # set at construction
    assert [v for _, v in named] == model.parameters()
    assert len(set(names)) == len(names) == model.num_parameters()
    # Same architecture and seed: the same names in the same order with the same numbers.
    again = MLP(2, [3, 1], seed=0)
    assert [(n, v.data) for n, v in again.named_parameters()] == [(n, v.data) for n, v in named]


def test_seed_is_reproducible_and_leaves_global_random_alone():
    random.seed(123)
    before = random.getstate()
    a = MLP(3, [5, 2], seed=7, dropout=0.5)
    b = MLP(3, [5, 2], seed=7, dropout=0.5)
    c = MLP(3, [5, 2], seed=8, dropout=0.5)
    MLP(3, [5, 2])  # seed=None: still no global state touched
    x = [0.1, -0.4, 2.0]
    assert [o.data for o in a(x)] == [o.data for o in b(x)]  # same dropout masks too
    assert a.state_dict() == b.state_dict() != c.state_dict()
    assert random.getstate() == before


def test_numpy_integer_seeds_work_and_other_seeds_name_the_argument(tmp_path):
    np = pytest.importorskip("numpy", reason="numpy integers need numpy")
    for make in (lambda s: MLP(3, [4, 2], seed=s, dropout=0.5), lambda s: Layer(3, 2, seed=s),
                 lambda s: Neuron(3, seed=s)):
        assert make(np.int64(3)).state_dict() == make(3).state_dict()
    model = MLP(3, [4, 2], seed=np.int64(3))
    assert type(model.config()["seed"]) is int
    nn.save(model, tmp_path / "m.json")  # the seed is saved as a JSON int
    assert nn.load(tmp_path / "m.json").config() == model.config()
    with pytest.raises(TypeError, match="MLP: seed must be an integer or None, got float 1.5"):
        MLP(3, [2], seed=1.5)
    with pytest.raises(TypeError, match="Layer: seed must be an integer or None, got float 1.5"):
        Layer(3, 2, seed=1.5)
    with pytest.raises(TypeError, match="Dropout: seed must be an integer or None, got str"):
        Dropout(0.5, seed="a")


def test_zero_grad_train_eval():
    model = MLP(2, [3, 1], dropout=0.2, batchnorm=True, seed=0)
    model.forward_batch([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])[0].backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert model.norms[0].training and model.dropouts[0].training


def test_repr_is_a_tree_with_sizes():
    text = repr(MLP(2, [16, 16, 1], dropout=0.1, batchnorm=True, seed=0))
    lines = text.splitlines()
    assert lines[0].startswith("MLP(2 -> [16, 16, 1], relu -> identity, dropout=0.1, batchnorm)")
    assert "[337 parameters]" in repr(MLP(2, [16, 16, 1], seed=0))
    assert "(layers.0): Layer(2 -> 16, relu, bias=False)  [32 parameters]" in text
    assert "(norms.0): BatchNorm(16" in text and "(dropouts.1): Dropout(p=0.1)" in text
    assert "Neuron(3, tanh)  [4 parameters]" == repr(Neuron(3, "tanh"))


def test_custom_module_subclass():
    class Affine(Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.inner = Layer(1, 2, activation="identity", seed=0)

        def __call__(self, x):
            return [self.scale * y for y in self.inner(x)]

    m = Affine()
    assert [n for n, _ in m.named_parameters()] == [
        "scale", "inner.neurons.0.w[0]", "inner.neurons.0.b", "inner.neurons.1.w[0]", "inner.neurons.1.b"
    ]
    assert len(m.forward_batch([[1.0], [2.0]])) == 2


# --- state dicts -------------------------------------------------------------------------------------
def _model():
    m = MLP(2, [3, 3, 1], activation="swish", batchnorm=True, seed=3)
    m.forward_batch([[1.0, 2.0], [-1.0, 0.5], [0.2, 0.3]])  # move running statistics off their start
    return m


def test_state_dict_round_trip_and_json_ready():
    src, dst = _model(), MLP(2, [3, 3, 1], activation="swish", batchnorm=True, seed=99)
    state = src.state_dict()
    assert "norms.0.running_mean[2]" in state and "layers.0.neurons.1.beta" in state
    assert all(type(v) is float for v in state.values())
    state = json.loads(json.dumps(state))
    assert dst.load_state_dict(state) == ([], [])
    assert dst.state_dict() == src.state_dict()
    dst.eval(), src.eval()
    assert dst([0.3, 0.4]).data == src([0.3, 0.4]).data


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.pop("layers.1.neurons.2.w[0]"), "missing 1 entry: 'layers.1.neurons.2.w\\[0\\]'"),
        (lambda s: s.pop("norms.1.running_var[0]"), "missing 1 entry: 'norms.1.running_var\\[0\\]'"),
        (lambda s: s.update({"layers.9.w": 1.0}), "unexpected 1 entry: 'layers.9.w'"),
        (lambda s: s.update({"layers.2.neurons.0.b": "0.5"}), "'layers.2.neurons.0.b' must be a real number"),
        (lambda s: s.update({"layers.2.neurons.0.b": None}), "'layers.2.neurons.0.b' must be a real number"),
        (lambda s: s.update({"layers.2.neurons.0.b": True}), "must be a real number, got bool"),
        (lambda s: s.update({"layers.2.neurons.0.b": [1.0]}), "must be a real number, got list"),
        (lambda s: s.update({"layers.2.neurons.0.b": float("nan")}), "'layers.2.neurons.0.b' is nan"),
        (lambda s: s.update({"norms.0.gamma[0]": float("inf")}), "'norms.0.gamma\\[0\\]' is inf"),
        (lambda s: s.update({3: 1.0}), "names must be strings"),
        # Past the float range: float() raises OverflowError, which must become a StateDictError.
        (lambda s: s.update({"layers.2.neurons.0.b": 10**400}), "'layers.2.neurons.0.b' \\(int\\) is beyond the float"),
        (lambda s: s.update({"layers.2.neurons.0.b": -(10**400)}), "\\(int\\) is beyond the float range"),
        (lambda s: s.update({"norms.0.gamma[0]": Fraction(10**400, 3)}),
         "'norms.0.gamma\\[0\\]' \\(Fraction\\) is beyond"),
    ],
)
def test_bad_state_dict_raises_and_leaves_model_untouched(edit, message):
    model = _model()
    before = model.state_dict()
    # Every other entry is a valid new number, so a half-applied load would show.
    state = {k: v + 1.0 for k, v in before.items()}
    edit(state)
    with pytest.raises(nn.StateDictError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_load_state_dict_not_a_mapping_and_non_strict():
    model = _model()
    before = model.state_dict()
    with pytest.raises(ValueError, match="expected a mapping"):
        model.load_state_dict([("a", 1.0)])
    assert model.state_dict() == before
    partial = {"layers.0.neurons.0.w[0]": 5.0, "extra": 1.0}
    result = model.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["extra"] and len(result.missing_keys) == len(before) - 1
    assert model.layers[0].neurons[0].w[0].data == 5.0
    with pytest.raises(ValueError, match="must be a real number"):
        model.load_state_dict({"layers.0.neurons.0.w[0]": "x"}, strict=False)


# --- activations -------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ACTS)
def test_every_activation_gradients_match_finite_differences(act):
    model = MLP(3, [4, 2], activation=act, output_activation="tanh", seed=5)
    xs = [[0.3, -1.2, 2.0], [1.5, 0.2, -0.7]]

    def loss():
        return autograd.sum([o * o for out in model.forward_batch(xs) for o in out])

    fd_check(model, loss)


def test_activation_values_and_lookup():
    x = Value(-2.0)
    assert nn.get_activation("leaky_relu", alpha=0.1)(x).data == pytest.approx(-0.2)
    assert nn.get_activation("elu", alpha=2.0)(x).data == pytest.approx(2.0 * (math.exp(-2) - 1))
    assert nn.get_activation(None)(x) is x
    assert nn.relu(x).data == 0.0 and nn.tanh(x).data == math.tanh(-2.0)
    assert nn.softplus(Value(1000.0)).data == 1000.0
    square = nn.get_activation(lambda v: v * v)
    assert square(Value(3.0)).data == 9.0 and not square.builtin
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        nn.get_activation("relu", alpha=0.1)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        nn.get_activation("maxout", k=0)
    # Ops come from the table: the node is a leaky_relu op with its bound alpha.
    y = Neuron(2, activation=nn.get_activation("leaky_relu", alpha=0.2), seed=0)([1.0, 1.0])
    assert y.op_label == "leaky_relu(alpha=0.2)"


def test_custom_callable_activation_in_mlp():
    model = MLP(2, [3, 1], activation=lambda v: v * v.sigmoid(), seed=0)
    assert isinstance(model([1.0, 2.0]), Value)


def test_swish_beta_is_trainable_per_neuron():
    layer = Layer(2, 3, activation="swish", seed=0)
    assert [n.beta.data for n in layer.neurons] == [1.0, 1.0, 1.0]
    assert layer.num_parameters() == 3 * (2 + 1 + 1)
    out = layer([1.0, -2.0])
    autograd.sum(out).backward()
    assert all(n.beta.grad != 0.0 for n in layer.neurons)
    assert "neurons.2.beta" in dict(layer.named_parameters())


def test_maxout_pieces():
    n2 = Neuron(2, activation="maxout", seed=0)  # k = 2 starts as exactly relu
    r = Neuron(2, activation="relu", seed=0)
    for x in ([1.0, 2.0], [-1.0, 0.3], [0.0, -2.0]):
        assert n2(x).data == r(x).data
    n4 = Neuron(2, activation=nn.get_activation("maxout", k=4), seed=0)
    assert len(n4.slopes) == len(n4.intercepts) == 4 and n4.num_parameters() == 2 + 1 + 8
    # Every piece is the maximum somewhere at the start (none starts dead).
    winners = set()
    for i in range(401):
        z = -2.0 + i / 100
        vals = [a.data * z + c.data for a, c in zip(n4.slopes, n4.intercepts)]
        winners.add(vals.index(max(vals)))
    assert winners == {0, 1, 2, 3}
    assert nn.maxout(Value(2.0), [1.0, -1.0, 0.5], [0.0, 0.0, 2.0]).data == 3.0


# --- weight-space symmetries (ETH Zürich, neural networks continued) ------------------------------------
inputs = st.lists(st.floats(-3, 3, allow_nan=False), min_size=3, max_size=3)


@settings(max_examples=25, deadline=None)
@given(perm=st.permutations(list(range(5))), x=inputs, seed=st.integers(0, 10**6),
       act=st.sampled_from(["relu", "tanh", "swish", "maxout", "elu"]))
def test_permuting_hidden_units_leaves_outputs_unchanged(perm, x, seed, act):
    model = MLP(3, [5, 4, 2], activation=act, seed=seed)
    rng = random.Random(seed)
    for n in model.layers[0].neurons:
        for p in n.parameters():
            p.data += rng.uniform(-0.5, 0.5)  # distinct units; swish/maxout params off their start
    before = [o.data for o in model(x)]
    hidden = model.layers[0]
    old = [n.state_dict() for n in hidden.neurons]
    for j, n in enumerate(hidden.neurons):
        n.load_state_dict(old[perm[j]])
    for n in model.layers[1].neurons:  # the next layer reads unit perm[j] at position j
        ws = [w.data for w in n.w]
        for j in range(5):
            n.w[j].data = ws[perm[j]]
    after = [o.data for o in model(x)]
    assert after == pytest.approx(before, rel=1e-12, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(unit=st.integers(0, 4), x=inputs, seed=st.integers(0, 10**6))
def test_tanh_sign_flip_leaves_outputs_unchanged(unit, x, seed):
    model = MLP(3, [5, 2], activation="tanh", seed=seed)
    for p in model.parameters():
        p.data += 0.1  # non-zero biases, so the bias flip is exercised too
    before = [o.data for o in model(x)]
    n = model.layers[0].neurons[unit]
    for p in n.parameters():  # incoming weights and bias: tanh(-z) = -tanh(z)
        p.data = -p.data
    for out in model.layers[1].neurons:  # outgoing weights
        out.w[unit].data = -out.w[unit].data
    after = [o.data for o in model(x)]
    assert after == pytest.approx(before, rel=1e-12, abs=1e-12)
    assert model.layers[0].neurons[unit].w[0].data != 0.0


# --- dropout -----------------------------------------------------------------------------------------
def test_dropout_masks_scaling_and_modes():
    d = Dropout(0.25, seed=0)
    out = d([Value(2.0)] * 4000)
    kept = [o.data for o in out if o.data != 0.0]
    assert set(kept) == {2.0 / 0.75}
    assert abs(len(kept) / 4000 - 0.75) < 0.03
    assert Dropout(0.25, seed=0)([1.0] * 50) == Dropout(0.25, seed=0)([1.0] * 50)
    d.eval()
    xs = [Value(1.0), Value(2.0)]
    assert d(xs) == xs
    assert Dropout(0.0)(xs) == xs
    for p in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"^Dropout: p must be a number in \[0, 1\), got"):
            Dropout(p)
    with pytest.raises(TypeError, match="^Dropout: p must be a real number, got str '0.5'"):
        Dropout("0.5")
    with pytest.raises(ValueError, match=r"^MLP: dropout must be a number in \[0, 1\), got 1.5$"):
        MLP(2, [3, 1], dropout=1.5)


def test_dropout_mean_output_matches_eval_mode():
    # One hidden layer: the output is linear in the dropped units, so E[train output] = eval output.
    model = MLP(3, [8, 1], activation="tanh", dropout=0.5, seed=1)
    x = [0.7, -1.1, 0.4]
    samples = [model(x).data for _ in range(3000)]
    mean, sd = statistics.fmean(samples), statistics.stdev(samples)
    model.eval()
    target = model(x).data
    assert sd > 0.01  # dropout really is active in training
    assert abs(mean - target) < 4 * sd / math.sqrt(len(samples))
    assert model(x).data == target  # eval is deterministic


def test_dropout_gradient_flows_only_through_kept_units():
    d = Dropout(0.5, seed=3)
    xs = [Value(1.0) for _ in range(20)]
    out = d(xs)
    autograd.sum(out).backward()
    assert [x.grad for x in xs] == [o.data for o in out]  # 2 where kept, 0 where dropped


# --- batch norm -------------------------------------------------------------------------------------
def _batch(m=16, n=3, seed=0):
    rng = random.Random(seed)
    return [[rng.gauss(5.0 * j, 1.0 + j) for j in range(n)] for _ in range(m)]


def test_batchnorm_training_output_is_standardised_per_feature():
    bn = BatchNorm(3)
    out = bn.forward_batch(_batch())
    for j in range(3):
        col = [row[j].data for row in out]
        assert statistics.fmean(col) == pytest.approx(0.0, abs=1e-12)
        assert statistics.pvariance(col) == pytest.approx(1.0, abs=1e-4)  # var/(var+eps)


def test_batchnorm_gamma_beta_running_stats_and_eval():
    data = _batch(m=8)
    bn = BatchNorm(3, momentum=0.5, eps=1e-5)
    for j in range(3):
        bn.gamma[j].data, bn.beta[j].data = 2.0, -1.0
    out = bn.forward_batch(data)
    col = [row[1].data for row in out]
    assert statistics.fmean(col) == pytest.approx(-1.0) and statistics.pstdev(col) == pytest.approx(2.0, 1e-4)
    feature = [row[1] for row in data]
    assert bn.running_mean[1] == pytest.approx(0.5 * statistics.fmean(feature))
    assert bn.running_var[1] == pytest.approx(0.5 + 0.5 * statistics.variance(feature))  # unbiased
    with pytest.raises(ValueError, match="training mode needs batch statistics"):
        bn(data[0])
    with pytest.raises(ValueError, match="at least 2 samples"):
        bn.forward_batch(data[:1])
    bn.eval()
    y = bn(data[0])
    expect = 2.0 * (data[0][1] - bn.running_mean[1]) / math.sqrt(bn.running_var[1] + 1e-5) - 1.0
    assert y[1].data == pytest.approx(expect, rel=1e-12)
    assert [v.data for v in bn.forward_batch(data[:1])[0]] == [v.data for v in y]


def test_batchnorm_gradients_match_finite_differences():
    model = MLP(2, [4, 3, 1], activation="tanh", batchnorm=True, seed=2)
    xs = [[0.3, -1.2], [1.5, 0.2], [-0.4, 0.9], [2.0, 1.0]]

    def loss():
        outs = model.forward_batch(xs)
        return autograd.sum([(o - t) ** 2 for o, t in zip(outs, [1.0, -1.0, 0.5, 0.0])])

    fd_check(model, loss, tol=1e-5)
    # The hidden layers have no bias: BatchNorm's beta takes its place.
    assert model.layers[0].neurons[0].b is None and model.layers[2].neurons[0].b is not None


def test_mlp_with_batchnorm_needs_a_batch_in_training():
    model = MLP(2, [4, 1], batchnorm=True, seed=0)
    with pytest.raises(ValueError, match="forward_batch"):
        model([1.0, 2.0])
    outs = model.forward_batch([[1.0, 2.0], [0.0, 1.0], [2.0, -1.0]])
    assert len(outs) == 3 and all(isinstance(o, Value) for o in outs)
    model.eval()
    assert model([1.0, 2.0]).data == model.forward_batch([[1.0, 2.0]])[0].data


def test_parameters_keep_named_order_with_a_shared_module_and_tuples_of_values():
    class Twice(Module):  # one layer used twice, a tuple of Values beside a list: each parameter once, in order
        def __init__(self):
            self.first = Layer(2, 2, seed=0)
            self.scales = (Value(1.0), Value(2.0))
            self.again = self.first
            self.head = Neuron(2, seed=1)

    model = Twice()
    named = [v for _, v in model.named_parameters()]
    assert len(named) == 6 + 2 + 6 + 3  # the shared layer is walked twice by name...
    unique = model.parameters()
    assert len(unique) == 6 + 2 + 3  # ...and counted once as a parameter
    assert unique == list(dict.fromkeys(named)) and unique[:2] == list(model.scales)  # own ones first
    assert [m for m in model.modules()][:2] == [model, model.first]


def test_modules_walks_a_deep_chain_of_modules_without_recursion():
    class Link(Module):
        def __init__(self, nxt):
            self.w = Value(1.0)
            self.nxt = nxt

    head = None
    for _ in range(5000):  # deeper than Python's recursion limit
        head = Link(head) if head is not None else Neuron(1, seed=0)
    assert sum(1 for _ in head.modules()) == 5000
    assert len(head.parameters()) == 4999 + 2
    state = head.state_dict()  # names from named_modules, as PyTorch's: 'nxt.nxt.w'
    assert len(state) == 5001 and "nxt.nxt.w" in state and "nxt." * 4999 + "b" in state
    head.load_state_dict(state)
    assert [name for name, _ in head.named_modules()][:3] == ["", "nxt", "nxt.nxt"]
