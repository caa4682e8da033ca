"""Neurons, layers, multi-layer perceptrons, dropout and batch normalisation.

The structure is open, as in micrograd: ``mlp.layers[i].neurons[j].w`` is the list of a neuron's
weight Values and ``.b`` its bias, so they can be read and set directly.

One sample is a sequence of numbers or Values: ``model(x)``.  A batch is a sequence of samples:
``model.forward_batch(xs)`` returns one output per sample, and is required when the model has
BatchNorm in training mode, since batch statistics couple the samples.

>>> model = MLP(2, [16, 16, 1], seed=0)
>>> y = model([0.5, -0.2])                     # one Value (the last layer has one output)
>>> ys = model.forward_batch([[0.5, -0.2], [1.0, 2.0]])   # a list of two Values
"""

from __future__ import annotations

import contextlib
import math
import numbers
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import autograd
from autograd import Value

from . import validate
from .activations import Activation, ActivationLike, get_activation
from .init import Initializer, get_init
from .module import Module

__all__ = ["Neuron", "Layer", "MLP", "Dropout", "BatchNorm", "default_init"]

Sample = Sequence["Value | float"]

# Which initialiser suits which activation when none is given (Krause, ETH Zürich Introduction to ML):
# He for the relu family,
# LeCun N(0, 1/n_in) for SELU and the odd, saturating units.
_DEFAULT_INIT = {
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "elu": "he_normal",
    "softplus": "he_normal",
    "swish": "he_normal",
    "maxout": "he_normal",
    "selu": "lecun_normal",
    "tanh": "glorot_normal",
    "sigmoid": "glorot_normal",
    "identity": "glorot_normal",
}


def default_init(activation: ActivationLike) -> str:
    """The initialiser ``MLP`` uses for an activation when ``init=None``."""
    return _DEFAULT_INIT.get(get_activation(activation).name, "glorot_normal")


def _code(value: Any) -> str:
    """How an activation argument reads in a suggested call: 'tanh' for a name, else its own name or '...'."""
    if isinstance(value, str):
        return repr(value)
    name = getattr(value, "__name__", "")
    return name if name.isidentifier() and name != "<lambda>" else "..."


def _rng(seed: int | None, rng: random.Random | None, owner: str = "") -> random.Random:
    # Never the global `random` module: a model's seed must not disturb (or depend on) other code.
    if rng is not None:
        if seed is not None:
            raise TypeError("pass either seed= or rng=, not both")
        return rng
    return random.Random(_seed(seed, owner))


def _seed(seed: Any, owner: str) -> int | None:
    """None or a plain int (numpy integers too, e.g. from a numpy loop); anything else names seed."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise validate.fail(owner or "seed", "seed", "an integer or None", seed, TypeError)
    return int(seed)


def check_inputs(owner: str, x: Sample, n: int, what: str = "inputs") -> None:
    """The one check of a sample's width: ``"MLP: expected 2 inputs, got 3"``; a batch handed over as
    one sample (PyTorch's habit, ``model(X)`` with rows) is named as such, with the ways to run one."""
    if not hasattr(x, "__len__") or isinstance(x, (str, bytes)):  # a bare number, where a list of them goes
        raise not_a_sample(owner, x, n, what)
    if len(x) != n or (n and type(x[0]) is not float and _is_row(x[0])):
        if len(x) and _is_row(x[0]):
            shape = (len(x), len(x[0]))  # type: ignore[arg-type]  # a row, as _is_row found
            raise ValueError(f"{owner}: got a batch of shape {shape} where one sample of {n} {what} goes: a model "
                             "takes one sample; run a batch with [model(x) for x in X], model.forward_batch(X), "
                             "or nn.predict(model, X) for the outputs as numbers")
        raise ValueError(f"{owner}: expected {n} {what}, got {len(x)}")


def not_a_sample(owner: str, x: Any, n: int, what: str = "inputs") -> Exception:
    """``"MLP: a sample must be a list of 2 inputs, got float 1.0"`` (a number handed over as a sample)."""
    one = "a list of 1 input ([x] for one number)" if what == "inputs" else f"a list of 1 {what[:-1]}"
    return validate.fail(owner, "a sample", one if n == 1 else f"a list of {n} {what}", x, TypeError)


def _is_row(item: Any) -> bool:
    """A sample's item that is itself a sequence of numbers (a row of a batch), not a number or Value."""
    return not isinstance(item, (numbers.Number, Value, str, bytes)) and hasattr(item, "__len__")


def _init_name(init: str | Initializer) -> str | None:
    return init if isinstance(init, str) else None


def _sample_list(owner: str, x: Any, n: int, what: str = "inputs") -> list[Any]:
    """One sample of a batch as a list (a bare number is named, not met by list()'s "not iterable")."""
    if not hasattr(x, "__iter__") or isinstance(x, (str, bytes)):
        raise not_a_sample(owner, x, n, what)
    return list(x)


class Neuron(Module):
    """One unit: activation(w·x + b), the weighted sum being a single ``autograd.dot`` node.

    ``activation`` is a name, an ``Activation`` or a callable Value -> Value; ``init`` an
    initialiser name from ``nn.init`` or a callable ``(fan_in, fan_out, rng) -> float``; the bias
    starts at 0.  ``swish`` gives the neuron a trainable ``.beta``, ``maxout`` trainable
    ``.slopes`` and ``.intercepts``.

    >>> n = Neuron(3, activation="tanh", init="glorot_normal", seed=1)
    >>> len(n.w), n.b.data
    (3, 0.0)
    """

    # Set only for the activations that have them (swish, maxout), by the activation's initial_params.
    beta: Value
    slopes: list[Value]
    intercepts: list[Value]

    def __init__(
        self,
        nin: int,
        activation: ActivationLike = "relu",
        init: str | Initializer = "he_normal",
        bias: bool = True,
        *,
        fan_out: int = 1,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.nin = validate.positive_int("Neuron", "nin", nin)
        draw = get_init(init, "Neuron")
        gen = _rng(seed, rng, type(self).__name__)
        self.activation: Activation = get_activation(activation, caller="Neuron")
        self.init = _init_name(init)
        self.w = [Value(float(draw(nin, fan_out, gen))) for _ in range(nin)]
        self.b = Value(0.0) if bias else None
        for name, start in self.activation.initial_params().items():
            setattr(self, name, [Value(s) for s in start] if isinstance(start, list) else Value(start))
        self.named_parameters()  # labels: w[0], b, ... until a parent module renames them

    def _act_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.activation.param_shapes}

    def preactivation(self, x: Sample) -> Value:
        """z = w·x + b as one ``dot`` node."""
        check_inputs("Neuron", x, self.nin)
        return autograd.dot(self.w, x, self.b)

    def activate(self, z: Value) -> Value:
        """Apply this neuron's activation (with its own trainable parameters) to z."""
        return self.activation(z, self._act_params())

    def __call__(self, x: Sample) -> Value:
        return self.activate(self.preactivation(x))

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (used by ``nn.save``)."""
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation.spec(),
                "init": self.init, "bias": self.b is not None}

    def extra_repr(self) -> str:
        return f"{self.nin}, {self.activation!r}" + ("" if self.b is not None else ", bias=False")


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; calling it always returns a list.

    >>> len(Layer(3, 1, seed=0)([1.0, 2.0, 3.0]))
    1
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: ActivationLike = "relu",
        init: str | Initializer = "he_normal",
        bias: bool = True,
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.nin = validate.positive_int("Layer", "nin", nin)
        self.nout = validate.positive_int("Layer", "nout", nout)
        get_init(init, "Layer")
        gen = _rng(seed, rng, type(self).__name__)
        act = get_activation(activation, caller="Layer")
        self.neurons = [Neuron(nin, act, init, bias, fan_out=nout, rng=gen) for _ in range(nout)]
        self.named_parameters()

    @property
    def activation(self) -> Activation:
        """The neurons' activation, fixed when the layer is built (assigning it says how to build another)."""
        return self.neurons[0].activation

    @activation.setter
    def activation(self, value: ActivationLike) -> None:
        raise validate.fixed("Layer", "activation", value,
                             f"build a new layer with it: Layer({self.nin}, {self.nout}, activation={_code(value)})")

    def preactivation(self, x: Sample) -> list[Value]:
        """The weighted sums of all neurons."""
        check_inputs("Layer", x, self.nin)
        return [n.preactivation(x) for n in self.neurons]

    def activate(self, zs: Sequence[Value]) -> list[Value]:
        """Each neuron's activation applied to its own weighted sum."""
        return [n.activate(z) for n, z in zip(self.neurons, zs)]

    def __call__(self, x: Sample) -> list[Value]:
        return self.activate(self.preactivation(x))

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (used by ``nn.save``)."""
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation.spec(),
                "init": self.neurons[0].init, "bias": self.neurons[0].b is not None}

    def extra_repr(self) -> str:
        bias = "" if self.neurons[0].b is not None else ", bias=False"
        return f"{self.nin} -> {self.nout}, {self.activation!r}{bias}"

    def _show_children(self) -> bool:
        return False  # a line per neuron would drown the tree


class Dropout(Module):
    """Inverted dropout: in training each input is zeroed with probability ``p`` and the kept ones
    are multiplied by 1/(1-p); in eval mode it is the identity.

    This is equivalent to the lecture's version (Krause, ETH Zürich Introduction to ML), which drops
    units without rescaling during training and multiplies the outgoing weights by the keep probability
    (1-p) at test time:
    both make the test-time input to the next layer equal to its expected training-time value.
    Scaling during training instead means the trained weights are used unchanged at test time; a
    network trained the lectures' way with weights W computes what this one computes with
    weights (1-p) W.
    """

    def __init__(self, p: float = 0.5, *, seed: int | None = None, rng: random.Random | None = None) -> None:
        self.p = validate.interval("Dropout", "p", p, 0.0, 1.0, high_open=True, what="a number")
        self._rng = _rng(seed, rng, "Dropout")
        self._masks: Callable[[int], Sequence[Any]] | None = None

    def draw(self, n: int) -> list[float]:
        """A fresh mask for ``n`` inputs from the layer's own generator: 0 or 1/(1-p) each."""
        scale = 1.0 / (1.0 - self.p)
        return [scale if self._rng.random() >= self.p else 0.0 for _ in range(n)]

    def __call__(self, x: Sample, mask: Sequence[Any] | None = None) -> list[Any]:
        """In training, ``x`` times a mask: ``mask`` when given (numbers or Values, e.g. the inputs of
        a tape), else the one :meth:`masks_from` supplies, else a freshly drawn one."""
        if not self.training or self.p == 0.0:
            return list(x)
        if mask is None:
            mask = self._masks(len(x)) if self._masks is not None else self.draw(len(x))
        if len(mask) != len(x):
            raise ValueError(f"Dropout: the mask has {len(mask)} entries for {len(x)} inputs")
        # Multiplying by 0 (rather than dropping the node) keeps the graph's shape the same.
        return [xi * m for xi, m in zip(x, mask)]

    @contextlib.contextmanager
    def masks_from(self, source: Callable[[int], Sequence[Any]]) -> Iterator[None]:
        """Within the block, a call in training mode takes its mask from ``source(n_inputs)`` instead
        of drawing one: how compiled training makes each mask an input of the traced tape."""
        self._masks = source
        try:
            yield
        finally:
            self._masks = None

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (used by ``nn.save``)."""
        return {"type": "Dropout", "p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p!r}"


class BatchNorm(Module):
    """Batch normalisation of ``n`` features (Ioffe and Szegedy 2015; Krause, ETH Zürich Introduction to ML).

    Training (``forward_batch``): each feature is normalised with the mini-batch mean and biased
    variance, x_hat = (x - mu_B) / sqrt(var_B + eps), then scaled and shifted, y = gamma x_hat + beta,
    with gradients flowing through mu_B and var_B; the running statistics are updated as
    running <- (1 - momentum) running + momentum * batch (unbiased variance, as PyTorch).
    Eval: the running statistics replace the batch ones, so single samples work.
    """

    _buffers = ("running_mean", "running_var")
    _nonnegative_buffers = ("running_var",)  # load_state_dict refuses a negative variance

    def __init__(self, n: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        self.n = validate.positive_int("BatchNorm", "n", n)
        self.momentum = validate.interval("BatchNorm", "momentum", momentum, 0.0, 1.0)
        self.eps = validate.positive("BatchNorm", "eps", eps)
        self.gamma = [Value(1.0) for _ in range(n)]
        self.beta = [Value(0.0) for _ in range(n)]
        self.running_mean = [0.0] * n
        self.running_var = [1.0] * n
        self.named_parameters()

    def _check(self, x: Sample) -> None:
        check_inputs("BatchNorm", x, self.n, "features")

    def __call__(self, x: Sample) -> list[Value]:
        if self.training:
            raise ValueError(
                "BatchNorm: training mode needs batch statistics; run a batch of >= 2 samples with "
                "forward_batch(samples), or call eval() to use the running statistics"
            )
        self._check(x)
        out = []
        for j, xj in enumerate(x):
            scale = 1.0 / math.sqrt(self.running_var[j] + self.eps)
            out.append(self.gamma[j] * ((xj - self.running_mean[j]) * scale) + self.beta[j])
        return out

    def forward_batch(self, samples: Sequence[Sample]) -> list[list[Value]]:
        """Normalise a batch: batch statistics in training, running statistics in eval."""
        samples = [_sample_list("BatchNorm", s, self.n, "features") for s in samples]
        for s in samples:
            self._check(s)
        if not self.training:
            return [self(s) for s in samples]
        m = len(samples)
        if m < 2:
            raise ValueError(f"BatchNorm: training needs a batch of at least 2 samples, got {m} (run "
                             "forward_batch(samples), or call eval() to use the running statistics)")
        outs: list[list[Value]] = [[] for _ in range(m)]
        for j in range(self.n):
            col = [s[j] for s in samples]
            mu = autograd.sum(col) / m
            diffs = [c - mu for c in col]
            var = autograd.sum([d * d for d in diffs]) / m
            std = (var + self.eps).sqrt()
            for i, d in enumerate(diffs):
                outs[i].append(self.gamma[j] * (d / std) + self.beta[j])
            mom = self.momentum
            self.running_mean[j] = (1.0 - mom) * self.running_mean[j] + mom * mu.data
            self.running_var[j] = (1.0 - mom) * self.running_var[j] + mom * var.data * m / (m - 1)
        return outs

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (used by ``nn.save``)."""
        return {"type": "BatchNorm", "n": self.n, "momentum": self.momentum, "eps": self.eps}

    def extra_repr(self) -> str:
        return f"{self.n}, momentum={self.momentum!r}, eps={self.eps!r}"


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` has layers 2->16->16->1.

    Hidden layers use ``activation``, the last ``output_activation`` (None: linear, as micrograd).
    ``init=None`` picks per layer the initialiser that suits its activation (``default_init``).
    ``dropout`` > 0 adds ``Dropout`` after each hidden layer (``mlp.dropouts``); ``batchnorm``
    adds ``BatchNorm`` between each hidden layer's weighted sums and its activation
    (``mlp.norms``; those layers then have no bias, which BatchNorm's beta replaces).
    ``seed`` makes the weights and dropout masks reproducible, using private
    ``random.Random`` generators only.  Called on one sample, returns a Value when the last layer
    has one output, else a list; ``forward_batch(samples)`` returns one such output per sample.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: ActivationLike = "relu",
        output_activation: ActivationLike = None,
        init: str | Initializer | None = None,
        dropout: float = 0.0,
        batchnorm: bool = False,
        seed: int | None = None,
        *,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
    ) -> None:
        nin = validate.positive_int("MLP", "nin", nin)
        nouts = validate.sizes("MLP", "nouts", nouts)
        dropout = validate.interval("MLP", "dropout", dropout, 0.0, 1.0, high_open=True, what="a number")
        seed = _seed(seed, "MLP")
        hidden_act = get_activation(activation, caller="MLP")
        out_act = get_activation(output_activation, caller="MLP")
        if init is not None:
            get_init(init, "MLP")
        if batchnorm:  # validates momentum and eps before anything is built, naming MLP
            validate.interval("MLP", "bn_momentum", bn_momentum, 0.0, 1.0)
            validate.positive("MLP", "bn_eps", bn_eps)
        gen = random.Random(seed)
        sizes = [nin] + nouts
        self.nin = nin
        self.nouts = nouts
        self.seed = seed
        self.init = _init_name(init) if init is not None else None
        self.layers: list[Layer] = []
        for i in range(len(nouts)):
            hidden = i < len(nouts) - 1
            act = hidden_act if hidden else out_act
            layer_init = init if init is not None else default_init(act)
            self.layers.append(
                Layer(sizes[i], sizes[i + 1], act, layer_init, bias=not (batchnorm and hidden), rng=gen)
            )
        n_hidden = len(nouts) - 1
        self.norms = [BatchNorm(n, bn_momentum, bn_eps) for n in nouts[:-1]] if batchnorm else []
        self.dropouts = (
            [Dropout(dropout, rng=random.Random(gen.getrandbits(64))) for _ in range(n_hidden)]
            if dropout > 0
            else []
        )
        self._dropout = float(dropout)
        self.named_parameters()

    def __setattr__(self, name: str, value: Any) -> None:
        # The constructor's activations live in the layers: an attribute of that name would be ignored silently.
        if name in ("activation", "output_activation"):
            raise validate.fixed("MLP", name, value, f"build a new model with it: "
                                 f"MLP({self.nin}, {self.nouts}, {name}={_code(value)})")
        super().__setattr__(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        # Execution order (layer, its norm, its dropout, next layer...), as a torch Sequential.
        for i, layer in enumerate(self.layers):
            yield f"layers.{i}", layer
            if i < len(self.norms):
                yield f"norms.{i}", self.norms[i]
            if i < len(self.dropouts):
                yield f"dropouts.{i}", self.dropouts[i]

    def _hidden_post(self, i: int, zs_batch: list[list[Value]], layer: Layer) -> list[list[Value]]:
        if i < len(self.norms):
            zs_batch = self.norms[i].forward_batch(zs_batch)
        xs = [layer.activate(zs) for zs in zs_batch]
        if i < len(self.dropouts):
            xs = [self.dropouts[i](x) for x in xs]
        return xs

    def __call__(self, x: Sample) -> Value | list[Value]:
        return self.forward_batch([x])[0]

    def forward_batch(self, samples: Sequence[Sample]) -> list[Value | list[Value]]:
        """Run a batch of samples layer by layer (BatchNorm sees the whole batch at once)."""
        xs: list[list[Any]] = [_sample_list("MLP", s, self.nin) for s in samples]
        for s in xs:
            check_inputs("MLP", s, self.nin)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            zs = [layer.preactivation(x) for x in xs]
            xs = [layer.activate(z) for z in zs] if i == last else self._hidden_post(i, zs, layer)
        return [x[0] if len(x) == 1 else x for x in xs]

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (used by ``nn.save``)."""
        cfg: dict[str, Any] = {
            "type": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.layers[0].activation.spec() if len(self.layers) > 1 else {"name": "relu"},
            "output_activation": self.layers[-1].activation.spec(),
            "init": self.init,
            "dropout": self._dropout,
            "batchnorm": bool(self.norms),
            "seed": self.seed,
        }
        if self.norms:
            cfg["bn_momentum"] = self.norms[0].momentum
            cfg["bn_eps"] = self.norms[0].eps
        return cfg

    def extra_repr(self) -> str:
        hidden = f"{self.layers[0].activation!r} -> " if len(self.layers) > 1 else ""
        parts = [f"{self.nin} -> {self.nouts}", f"{hidden}{self.layers[-1].activation!r}"]
        if self.dropouts:
            parts.append(f"dropout={self._dropout!r}")
        if self.norms:
            parts.append("batchnorm")
        return ", ".join(parts)
