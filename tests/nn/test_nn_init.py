"""nn.init: the distributions of the ETH Zürich lecture (Introduction to Machine Learning, neural
networks continued) and the variance argument behind He initialisation."""

from __future__ import annotations

import math
import random
import statistics

import pytest

import nn
from autograd import no_grad
from nn import MLP, Layer, init

N = 20000


def draws(fn, fan_in, fan_out, seed=0):
    rng = random.Random(seed)
    return [fn(fan_in, fan_out, rng) for _ in range(N)]


@pytest.mark.parametrize(
    "fn, fan_in, fan_out, variance",
    [
        (init.uniform, 10, 5, 1.0 / 3.0),
        (init.lecun_normal, 10, 5, 1.0 / 10),
        (init.glorot_normal, 10, 30, 2.0 / 40),
        (init.glorot_uniform, 10, 30, 2.0 / 40),
        (init.he_normal, 8, 5, 2.0 / 8),
        (init.he_uniform, 8, 5, 2.0 / 8),
    ],
)
def test_initialiser_moments(fn, fan_in, fan_out, variance):
    xs = draws(fn, fan_in, fan_out)
    sd = math.sqrt(variance)
    assert abs(statistics.fmean(xs)) < 4 * sd / math.sqrt(N)
    # The sample variance of N draws has relative standard error about sqrt(2/N) (1%).
    assert statistics.pvariance(xs) == pytest.approx(variance, rel=0.05)


def test_uniform_bounds_and_constant_initialisers():
    assert max(map(abs, draws(init.uniform, 3, 3))) <= 1.0
    a = math.sqrt(6.0 / 40)
    assert max(map(abs, draws(init.glorot_uniform, 10, 30))) <= a
    assert max(map(abs, draws(init.glorot_uniform, 10, 30))) > 0.95 * a
    assert init.zeros(3, 1, random.Random(0)) == 0.0
    assert init.constant(0.5)(3, 1, random.Random(0)) == 0.5
    n = nn.Neuron(3, init=init.constant(0.25))
    assert [w.data for w in n.w] == [0.25, 0.25, 0.25] and n.b.data == 0.0
    assert all(w.data == 0.0 for w in nn.Neuron(3, init="zeros").w)


def test_initialisers_draw_from_the_given_generator_only():
    state = random.getstate()
    assert draws(init.he_normal, 4, 1, seed=3)[:5] == draws(init.he_normal, 4, 1, seed=3)[:5]
    assert random.getstate() == state


def test_bad_initialisers():
    with pytest.raises(ValueError, match="^get_init: no initialiser named 'xavier'; known: "):
        init.get_init("xavier")
    with pytest.raises(TypeError, match="name or a callable"):
        init.get_init(3)
    with pytest.raises(ValueError, match="finite"):
        init.constant(float("nan"))
    assert init.get_init("he_normal") is init.he_normal


def test_glorot_uses_the_layer_fan_out():
    # Layer(4, 60) with glorot_normal: Var = 2/(4+60); a per-neuron fan_out of 1 would give 2/5.
    layer = Layer(4, 60, activation="tanh", init="glorot_normal", seed=0)
    ws = [w.data for n in layer.neurons for w in n.w]
    assert statistics.pvariance(ws) == pytest.approx(2 / 64, rel=0.25)


def test_default_init_follows_the_activation():
    assert nn.default_init("relu") == "he_normal" and nn.default_init("selu") == "lecun_normal"
    assert nn.default_init("tanh") == "glorot_normal"
    m = MLP(50, [50, 50], activation="selu", seed=0)
    ws = [w.data for n in m.layers[0].neurons for w in n.w]
    assert statistics.pvariance(ws) == pytest.approx(1 / 50, rel=0.1)


def preactivation_variances(init_name, width=48, depth=10, batch=60, seed=0):
    """Var of every layer's pre-activations for a deep ReLU net fed N(0, 1) inputs."""
    model = MLP(width, [width] * depth, activation="relu", output_activation="relu", init=init_name, seed=seed)
    rng = random.Random(seed + 1)
    xs = [[rng.gauss(0.0, 1.0) for _ in range(width)] for _ in range(batch)]
    variances = []
    with no_grad():
        for layer in model.layers:
            zs = [[z.data for z in layer.preactivation(x)] for x in xs]
            variances.append(statistics.pvariance([z for row in zs for z in row]))
            xs = [[max(z, 0.0) for z in row] for row in zs]
    return variances


def test_he_keeps_variance_constant_while_uniform_explodes():
    he = preactivation_variances("he_normal")
    # Var(z_1) = n_in * 2/n_in * Var(x) = 2, and each ReLU layer keeps it (ETH Zürich, neural networks continued).
    assert he[0] == pytest.approx(2.0, rel=0.2)
    assert all(0.25 < v / he[0] < 4.0 for v in he), he
    uni = preactivation_variances("uniform")
    # U(-1, 1) has variance 1/3, so each layer multiplies Var(z) by about 48 * 1/3 * 1/2 = 8.
    assert uni[-1] / uni[0] > 1e6, uni
    growth = [b / a for a, b in zip(uni, uni[1:])]
    assert all(3.0 < g < 20.0 for g in growth), growth
