"""value.py's chain_rule is the loop a student reads; backward() runs fast_backward's copy of it on floats.

This test holds the copy to the loop: on random graphs that use every op of the table, both give the same
gradients to the last bit (both compute ``g * d`` per edge in the same order of nodes, summing per parent).
"""

import random

import pytest
from op_cases import CASES, too_close_to_a_kink

from autograd import Value
from autograd.fast_backward import backward_floats
from autograd.graph import topological_order
from autograd.value import chain_rule


def random_graph(seed: int, size: int = 300) -> tuple[Value, list[Value]]:
    """A graph of every case of the op table over leaves and earlier nodes, squashed to stay finite."""
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-1.0, 1.0)) for _ in range(6)]
    nodes = list(leaves)
    names = sorted(CASES)
    while len(nodes) < size:
        f, _torch, intervals, kinks = CASES[rng.choice(names)]
        picked = []
        for lo, hi in intervals:  # an earlier node mapped into the case's interval: a + s * tanh(node)
            x = rng.choice(nodes)
            picked.append((lo + hi) / 2 + (hi - lo) / 2 * 0.9 * x.tanh())
        if too_close_to_a_kink([p.data for p in picked], kinks, None):
            continue
        nodes.append(f(*picked))
    root = sum(nodes[-10:], Value(0.0)) * 0.01
    return root, leaves


@pytest.mark.parametrize("seed", range(5))
def test_backward_floats_is_chain_rule_on_floats(seed):
    root, leaves = random_graph(seed)
    nodes = topological_order(root, reverse=True)
    read = chain_rule(nodes, {root: 1.0})
    backward_floats(nodes, root, 1.0)
    for node in nodes:
        assert node.grad == read.get(node, 0.0), node
    assert sum(node.grad != 0.0 for node in nodes) > len(nodes) // 2  # gradients flow


def test_backward_runs_backward_floats_and_chain_rule_alike():
    """Plain backward() (the fast copy) and create_graph backward (chain_rule itself) agree on the leaves."""
    root, leaves = random_graph(7)
    root.backward()
    fast = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.0
    root.backward(create_graph=True)
    assert [leaf.grad.data for leaf in leaves] == pytest.approx(fast, rel=1e-12, abs=1e-15)
