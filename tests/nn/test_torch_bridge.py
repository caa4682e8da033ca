"""Parity with PyTorch float64: same weights -> same outputs and gradients; to_torch / from_torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

import autograd
import nn
from nn import MLP, Layer

torch = pytest.importorskip("torch", reason="PyTorch parity tests need the 'parity' extra (torch)")

XS = [[0.3, -1.2, 2.0], [1.5, 0.2, -0.7], [-2.0, 3.0, 0.1], [0.0, 0.5, -0.5], [1.0, 1.0, 1.0]]
ACTS = ["relu", "tanh", "sigmoid", "selu", "softplus", "leaky_relu", "elu", "swish", "maxout", "identity"]


def torch_grads(seq, model):
    """The torch gradients under chalkgrad's parameter names (and the buffers, for running stats)."""
    swish_cls, maxout_cls = nn.torch_modules()
    grads, buffers, layer = {}, {}, -1
    for mod in seq:
        if isinstance(mod, torch.nn.Linear):
            layer += 1
            for j, row in enumerate(mod.weight.grad.tolist()):
                for k, g in enumerate(row):
                    grads[f"layers.{layer}.neurons.{j}.w[{k}]"] = g
            if mod.bias is not None:
                for j, g in enumerate(mod.bias.grad.tolist()):
                    grads[f"layers.{layer}.neurons.{j}.b"] = g
        elif isinstance(mod, torch.nn.BatchNorm1d):
            for name, t in (("gamma", mod.weight.grad), ("beta", mod.bias.grad)):
                for j, g in enumerate(t.tolist()):
                    grads[f"norms.{layer}.{name}[{j}]"] = g
            for name, t in (("running_mean", mod.running_mean), ("running_var", mod.running_var)):
                for j, x in enumerate(t.tolist()):
                    buffers[f"norms.{layer}.{name}[{j}]"] = x
        elif isinstance(mod, swish_cls):
            for j, g in enumerate(mod.beta.grad.tolist()):
                grads[f"layers.{layer}.neurons.{j}.beta"] = g
        elif isinstance(mod, maxout_cls):
            for name, t in (("slopes", mod.slopes.grad), ("intercepts", mod.intercepts.grad)):
                for j, row in enumerate(t.tolist()):
                    for k, g in enumerate(row):
                        grads[f"layers.{layer}.neurons.{j}.{name}[{k}]"] = g
    return grads, buffers


def flat(rows):
    return [x for row in rows for x in row]


def run_both(model, xs=XS):
    """Forward a batch through the model and its torch copy, backward a loss using every output."""
    seq = nn.to_torch(model)
    inputs = [[autograd.Value(v) for v in x] for x in xs]
    outs = model.forward_batch(inputs)
    outs = [o if isinstance(o, list) else [o] for o in outs]
    weights = [1.3 * (k + 1) for k in range(len(outs[0]))]
    loss = autograd.sum([w * o * o + o for row in outs for w, o in zip(weights, row)])
    model.zero_grad()
    loss.backward()
    X = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    Y = seq(X)
    Y = Y if Y.dim() == 2 else Y.unsqueeze(1)
    (torch.tensor(weights, dtype=torch.float64) * Y * Y + Y).sum().backward()
    return seq, outs, inputs, Y, X


def assert_parity(model, tol=1e-12):
    seq, outs, inputs, Y, X = run_both(model)
    assert flat([[o.data for o in row] for row in outs]) == pytest.approx(flat(Y.tolist()), abs=tol, rel=tol)
    assert flat([[x.grad for x in row] for row in inputs]) == pytest.approx(flat(X.grad.tolist()), abs=tol, rel=tol)
    grads, buffers = torch_grads(seq, model)
    if isinstance(model, Layer):  # a lone Layer's names have no "layers.0." prefix
        grads = {k.removeprefix("layers.0."): g for k, g in grads.items()}
    named = dict(model.named_parameters())
    assert set(grads) == set(named)  # every parameter compared, none left out
    for name, g in grads.items():
        assert named[name].grad == pytest.approx(g, abs=tol, rel=tol), name
    state = model.state_dict()
    for name, x in buffers.items():
        assert state[name] == pytest.approx(x, abs=tol, rel=tol), name


@pytest.mark.parametrize("act", ACTS)
def test_outputs_and_gradients_match_torch(act):
    model = MLP(3, [5, 4, 2], activation=act, output_activation="tanh", seed=11)
    for p in model.parameters():
        p.data += 0.05  # non-zero biases and non-default swish/maxout parameters
    assert_parity(model)


def test_micrograd_shaped_mlp_matches_torch():
    assert_parity(MLP(3, [16, 16, 1], seed=0))


@pytest.mark.parametrize("act", ["relu", "tanh", "swish"])
def test_batchnorm_training_and_eval_match_torch(act):
    model = MLP(3, [4, 3, 2], activation=act, batchnorm=True, seed=4)
    for p in model.parameters():
        p.data *= 1.1
    assert_parity(model)  # training: batch statistics and updated running statistics
    model.eval()
    assert_parity(model)  # eval: running statistics


def test_dropout_model_in_eval_matches_and_layer_converts():
    model = MLP(3, [6, 2], dropout=0.5, seed=0).eval()
    assert_parity(model)
    seq = nn.to_torch(MLP(3, [6, 2], dropout=0.5, seed=0))
    assert any(isinstance(m, torch.nn.Dropout) and m.p == 0.5 for m in seq) and seq.training
    assert_parity(Layer(3, 4, activation="elu", seed=0))


def test_to_torch_gives_float64_sequential_with_the_weights():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    seq = nn.to_torch(model)
    assert isinstance(seq, torch.nn.Sequential)
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    assert seq[0].weight[2, 1].item() == model.layers[0].neurons[2].w[1].data
    seq[0].weight.data.zero_()  # a copy: changing torch's weights leaves the model alone
    assert model.layers[0].neurons[2].w[1].data != 0.0


@pytest.mark.parametrize("act", ACTS)
def test_from_torch_round_trip(act):
    model = MLP(3, [5, 4, 2], activation=act, output_activation="sigmoid", dropout=0.25, seed=1)
    back = nn.from_torch(nn.to_torch(model))
    assert back.state_dict() == model.state_dict()
    assert repr(back) == repr(model)


def test_from_torch_of_a_hand_built_sequential():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.SiLU(),
        torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4), torch.nn.SiLU(),
        torch.nn.Linear(4, 2), torch.nn.Identity(),
    ).double()
    with torch.no_grad():
        seq(torch.randn(8, 3, dtype=torch.float64))  # non-trivial running statistics
        for m in seq:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    seq.eval()
    model = nn.from_torch(seq)
    assert not model.training and model.layers[0].activation.name == "swish"
    expected = seq(torch.tensor(XS, dtype=torch.float64)).tolist()
    got = [[o.data for o in row] for row in model.forward_batch(XS)]
    # The Linear bias in front of BatchNorm is folded into the running mean.
    assert flat(got) == pytest.approx(flat(expected), abs=1e-12, rel=1e-12)
    seq.train()
    expected = seq(torch.tensor(XS, dtype=torch.float64)).tolist()
    got = [[o.data for o in row] for row in model.train().forward_batch(XS)]
    assert flat(got) == pytest.approx(flat(expected), abs=1e-12, rel=1e-12)


@pytest.mark.parametrize(
    "mods, message",
    [
        (lambda: [torch.nn.ReLU()], "must start with a Linear"),
        (lambda: [], "no Linear"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Conv1d(1, 1, 1)], "unsupported module"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)], "takes 4 inputs but the previous layer gives 3"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3), torch.nn.Tanh(),
                  torch.nn.Linear(3, 1)], "hidden blocks differ in act"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Dropout(0.2)], "last block cannot"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Softplus(beta=2), torch.nn.Linear(3, 1)], "beta=2"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(3, 1)],
         "one activation per block"),
    ],
)
def test_from_torch_rejects_what_an_mlp_cannot_express(mods, message):
    with pytest.raises(ValueError, match=message):
        nn.from_torch(torch.nn.Sequential(*mods()).double())


def test_bridge_type_errors():
    with pytest.raises(TypeError, match="expected a torch.nn.Sequential"):
        nn.from_torch(torch.nn.Linear(2, 3))
    with pytest.raises(TypeError, match="expected an MLP or a Layer"):
        nn.to_torch(nn.BatchNorm(3))
    with pytest.raises(ValueError, match="custom activation"):
        nn.to_torch(MLP(2, [3, 1], activation=lambda v: v * v))


def test_importing_nn_does_not_import_torch():
    code = "import sys, nn; m = nn.MLP(2, [3, 1], seed=0); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
