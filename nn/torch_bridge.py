"""The way out to PyTorch: ``to_torch(model)`` and ``from_torch(seq)`` convert an MLP (or Layer)
to and from an equivalent float64 ``torch.nn.Sequential`` with the same weights.

Each layer becomes ``Linear`` [+ ``BatchNorm1d``] [+ activation module] [+ ``Dropout``].  Built-in
torch modules are used wherever they compute the same function (``ReLU``, ``Tanh``, ``LeakyReLU``,
``ELU``, ``SELU``, ``Sigmoid``; ``Softplus`` with ``threshold=40``, past which log(1 + e^-x) is
below one ulp of x); swish with a trainable beta per neuron and maxout have no torch
counterpart, so they become the small modules ``ChalkSwish`` and ``ChalkMaxout`` returned by
:func:`torch_modules`.  Outputs agree to about 1e-15.

torch is imported inside the functions only: ``import nn`` never needs it.

>>> import nn
>>> seq = nn.to_torch(nn.MLP(2, [4, 1], seed=0))    # doctest: +SKIP
>>> back = nn.from_torch(seq)                        # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import Any

from .activations import Activation, get_activation
from .layers import MLP, Layer

__all__ = ["to_torch", "from_torch", "torch_modules"]


@functools.cache
def torch_modules() -> tuple[Any, Any]:
    """The torch modules ``(ChalkSwish, ChalkMaxout)`` for activations torch lacks (imports torch)."""
    import torch

    class ChalkSwish(torch.nn.Module):
        """x * sigmoid(beta x) with one trainable beta per feature."""

        def __init__(self, n: int) -> None:
            super().__init__()
            self.beta = torch.nn.Parameter(torch.ones(n, dtype=torch.float64))

        def forward(self, x: Any) -> Any:
            return x * torch.sigmoid(self.beta * x)

    class ChalkMaxout(torch.nn.Module):
        """max_j (slopes[:, j] z + intercepts[:, j]) per feature, k pieces each."""

        def __init__(self, n: int, k: int) -> None:
            super().__init__()
            self.slopes = torch.nn.Parameter(torch.zeros(n, k, dtype=torch.float64))
            self.intercepts = torch.nn.Parameter(torch.zeros(n, k, dtype=torch.float64))

        def forward(self, x: Any) -> Any:
            return (x.unsqueeze(-1) * self.slopes + self.intercepts).amax(dim=-1)

    return ChalkSwish, ChalkMaxout


def _act_module(act: Activation, layer: Layer, torch: Any) -> Any:
    swish_cls, maxout_cls = torch_modules()
    name, h = act.name, act.hyper
    if not act.builtin:
        raise ValueError(f"to_torch: custom activation {act.name!r} has no torch equivalent")
    if name == "identity":
        return None
    simple = {
        "relu": lambda: torch.nn.ReLU(),
        "tanh": lambda: torch.nn.Tanh(),
        "sigmoid": lambda: torch.nn.Sigmoid(),
        "selu": lambda: torch.nn.SELU(),
        "softplus": lambda: torch.nn.Softplus(beta=1.0, threshold=40.0),
        "leaky_relu": lambda: torch.nn.LeakyReLU(h.get("alpha", 0.01)),
        "elu": lambda: torch.nn.ELU(h.get("alpha", 1.0)),
    }
    if name in simple:
        return simple[name]()
    with torch.no_grad():
        if name == "swish":
            m = swish_cls(layer.nout)
            m.beta.copy_(torch.tensor([n.beta.data for n in layer.neurons], dtype=torch.float64))
            return m
        if name == "maxout":
            m = maxout_cls(layer.nout, h["k"])
            m.slopes.copy_(
                torch.tensor([[s.data for s in n.slopes] for n in layer.neurons], dtype=torch.float64)
            )
            m.intercepts.copy_(
                torch.tensor([[c.data for c in n.intercepts] for n in layer.neurons], dtype=torch.float64)
            )
            return m
    raise ValueError(f"to_torch: no torch equivalent for activation {name!r}")


def to_torch(model: MLP | Layer) -> Any:
    """An equivalent float64 ``torch.nn.Sequential`` with copies of the weights (same train/eval mode)."""
    import torch

    if isinstance(model, Layer):
        layers, norms, dropouts = [model], [], []
    elif isinstance(model, MLP):
        layers, norms, dropouts = model.layers, model.norms, model.dropouts
    else:
        raise TypeError(f"to_torch: expected an MLP or a Layer, got {type(model).__name__}")
    mods: list[Any] = []
    with torch.no_grad():
        for i, layer in enumerate(layers):
            has_bias = layer.neurons[0].b is not None
            lin = torch.nn.Linear(layer.nin, layer.nout, bias=has_bias, dtype=torch.float64)
            weights = [[w.data for w in n.w] for n in layer.neurons]
            lin.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            if has_bias:
                lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons if n.b is not None], dtype=torch.float64))
            mods.append(lin)
            if i < len(norms):
                bn_src = norms[i]
                bn = torch.nn.BatchNorm1d(
                    bn_src.n, eps=bn_src.eps, momentum=bn_src.momentum, dtype=torch.float64
                )
                bn.weight.copy_(torch.tensor([g.data for g in bn_src.gamma], dtype=torch.float64))
                bn.bias.copy_(torch.tensor([b.data for b in bn_src.beta], dtype=torch.float64))
                assert bn.running_mean is not None and bn.running_var is not None  # track_running_stats
                bn.running_mean.copy_(torch.tensor(bn_src.running_mean, dtype=torch.float64))
                bn.running_var.copy_(torch.tensor(bn_src.running_var, dtype=torch.float64))
                mods.append(bn)
            act = _act_module(layer.activation, layer, torch)
            if act is not None:
                mods.append(act)
            if i < len(dropouts):
                mods.append(torch.nn.Dropout(dropouts[i].p))
    seq = torch.nn.Sequential(*mods)
    seq.train(model.training)
    return seq


def _act_spec(mod: Any, torch: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(activation spec, per-neuron parameter lists) for a torch activation module."""
    swish_cls, maxout_cls = torch_modules()
    plain = {torch.nn.ReLU: "relu", torch.nn.Tanh: "tanh", torch.nn.Sigmoid: "sigmoid", torch.nn.SELU: "selu"}
    if type(mod) in plain:
        return {"name": plain[type(mod)]}, {}
    if isinstance(mod, torch.nn.Identity):
        return {"name": "identity"}, {}
    if isinstance(mod, torch.nn.LeakyReLU):
        return {"name": "leaky_relu", "alpha": float(mod.negative_slope)}, {}
    if isinstance(mod, torch.nn.ELU):
        return {"name": "elu", "alpha": float(mod.alpha)}, {}
    if isinstance(mod, torch.nn.Softplus):
        if mod.beta != 1:
            raise ValueError(f"from_torch: {where}: Softplus beta={mod.beta} is not supported (beta=1 only)")
        return {"name": "softplus"}, {}
    if isinstance(mod, torch.nn.SiLU):
        return {"name": "swish"}, {}
    if isinstance(mod, swish_cls):
        return {"name": "swish"}, {"beta": mod.beta.detach().tolist()}
    if isinstance(mod, maxout_cls):
        return (
            {"name": "maxout", "k": int(mod.slopes.shape[1])},
            {"slopes": mod.slopes.detach().tolist(), "intercepts": mod.intercepts.detach().tolist()},
        )
    raise ValueError(f"from_torch: {where}: unsupported module {mod!r}")


def from_torch(seq: Any) -> MLP:
    """Convert a ``torch.nn.Sequential`` of ``Linear [BatchNorm1d] [activation] [Dropout]`` blocks to an MLP.

    Hidden blocks must share one activation, all or none have BatchNorm1d (affine, tracking
    running statistics) and all or none the same Dropout; the last block has neither.  A Linear
    bias in front of BatchNorm1d is folded into the running mean (it cancels in the batch mean).
    """
    import torch

    if not isinstance(seq, torch.nn.Sequential):
        raise TypeError(f"from_torch: expected a torch.nn.Sequential, got {type(seq).__name__}")
    blocks = _blocks(seq, torch)
    sizes = _check_blocks(blocks)
    model = _mlp(blocks, sizes)
    model.load_state_dict(_state(blocks), strict=True)
    model.train(seq.training)
    return model


def _blocks(seq: Any, torch: Any) -> list[dict[str, Any]]:
    """The Sequential read as blocks: a Linear, then its BatchNorm1d, activation and Dropout (or None)."""
    blocks: list[dict[str, Any]] = []
    for idx, mod in enumerate(seq):
        where = f"module {idx} ({type(mod).__name__})"
        if isinstance(mod, torch.nn.Linear):
            blocks.append({"linear": mod, "bn": None, "act": None, "act_params": {}, "dropout": None})
            continue
        if not blocks:
            raise ValueError(f"from_torch: {where}: the Sequential must start with a Linear")
        _add_to_block(blocks[-1], mod, torch, where)
    if not blocks:
        raise ValueError("from_torch: the Sequential holds no Linear layer")
    for b in blocks:
        if b["act"] is None:
            b["act"] = {"name": "identity"}
    return blocks


def _add_to_block(block: dict[str, Any], mod: Any, torch: Any, where: str) -> None:
    """``mod`` (a BatchNorm1d, Dropout or activation) as part of the block its Linear began."""
    if isinstance(mod, torch.nn.BatchNorm1d):
        if block["bn"] is not None or block["act"] is not None or block["dropout"] is not None:
            raise ValueError(f"from_torch: {where}: BatchNorm1d must come right after a Linear")
        features = block["linear"].out_features
        if mod.num_features != features:
            raise ValueError(f"from_torch: {where}: BatchNorm1d normalises {mod.num_features} features "
                             f"but the Linear before it gives {features}")
        if not mod.affine or not mod.track_running_stats or mod.momentum is None:
            raise ValueError(f"from_torch: {where}: BatchNorm1d needs affine=True, tracked running "
                             "statistics and a numeric momentum")
        block["bn"] = mod
    elif isinstance(mod, torch.nn.Dropout):
        if block["dropout"] is not None:
            raise ValueError(f"from_torch: {where}: two Dropouts in one block")
        block["dropout"] = float(mod.p)
    else:
        if block["act"] is not None or block["dropout"] is not None:
            raise ValueError(f"from_torch: {where}: one activation per block, before any Dropout")
        block["act"], block["act_params"] = _act_spec(mod, torch, where)


def _check_blocks(blocks: list[dict[str, Any]]) -> list[int]:
    """That the blocks make an MLP (hidden blocks alike, the last one plain, widths that chain);
    returns the layer sizes, inputs first."""
    hidden, last = blocks[:-1], blocks[-1]
    if last["bn"] is not None or last["dropout"] is not None:
        raise ValueError("from_torch: the last block cannot have BatchNorm1d or Dropout (MLP has none there)")
    for name in ("act", "dropout"):
        if len({repr(b[name]) for b in hidden}) > 1:
            raise ValueError(f"from_torch: hidden blocks differ in {name}: {[b[name] for b in hidden]}")
    if len({b["bn"] is None for b in hidden}) > 1:
        raise ValueError("from_torch: either every hidden block has BatchNorm1d or none does")
    if len({(b["bn"].momentum, b["bn"].eps) for b in hidden if b["bn"] is not None}) > 1:
        raise ValueError("from_torch: the BatchNorm1d layers differ in momentum or eps")
    sizes = [blocks[0]["linear"].in_features]
    for i, b in enumerate(blocks):
        if b["linear"].in_features != sizes[-1]:
            raise ValueError(f"from_torch: Linear {i} takes {b['linear'].in_features} inputs "
                             f"but the previous layer gives {sizes[-1]}")
        sizes.append(b["linear"].out_features)
    return sizes


def _mlp(blocks: list[dict[str, Any]], sizes: list[int]) -> MLP:
    """The MLP of the blocks' shape (its parameters are then loaded from them)."""
    hidden, last = blocks[:-1], blocks[-1]
    batchnorm = bool(hidden) and hidden[0]["bn"] is not None
    bn_kwargs: dict[str, Any] = {}
    if batchnorm:
        bn_kwargs = {"bn_momentum": float(hidden[0]["bn"].momentum), "bn_eps": float(hidden[0]["bn"].eps)}
    return MLP(
        sizes[0], sizes[1:],
        activation=get_activation(hidden[0]["act"]) if hidden else "relu",
        output_activation=get_activation(last["act"]),
        dropout=(hidden[0]["dropout"] or 0.0) if hidden else 0.0,
        batchnorm=batchnorm, seed=0, **bn_kwargs,
    )


def _state(blocks: list[dict[str, Any]]) -> dict[str, float]:
    """The blocks' weights, biases, activation parameters and BatchNorm statistics as an MLP state dict."""
    state: dict[str, float] = {}
    for i, b in enumerate(blocks):
        weight = b["linear"].weight.detach().tolist()
        bias = b["linear"].bias.detach().tolist() if b["linear"].bias is not None else None
        for j, row in enumerate(weight):
            prefix = f"layers.{i}.neurons.{j}."
            for k, w in enumerate(row):
                state[f"{prefix}w[{k}]"] = w
            if b["bn"] is None:
                state[prefix + "b"] = bias[j] if bias is not None else 0.0
            for pname, table in b["act_params"].items():
                if isinstance(table[j], list):
                    for k, x in enumerate(table[j]):
                        state[f"{prefix}{pname}[{k}]"] = x
                else:
                    state[prefix + pname] = table[j]
        if b["act"]["name"] == "swish" and not b["act_params"]:  # SiLU: beta = 1
            for j in range(b["linear"].out_features):
                state[f"layers.{i}.neurons.{j}.beta"] = 1.0
        if b["bn"] is not None:
            bn = b["bn"]
            for name, t in (("gamma", bn.weight), ("beta", bn.bias), ("running_var", bn.running_var)):
                for j, x in enumerate(t.detach().tolist()):
                    state[f"norms.{i}.{name}[{j}]"] = x
            rm = bn.running_mean.detach().tolist()
            for j, x in enumerate(rm):
                state[f"norms.{i}.running_mean[{j}]"] = x - (bias[j] if bias is not None else 0.0)
    return state
