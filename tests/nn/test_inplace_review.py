"""Review of the in-place optimiser step (nn/inplace_step.py, nn/bounded.py): the bugs it found, fixed."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Value
from nn.optim import SGD


@pytest.fixture
def prove_small(monkeypatch):
    """Steps of any size are proved (and run in place), not only those of MIN_SIZE numbers and more."""
    monkeypatch.setattr("nn.inplace_step.MIN_SIZE", 1)


def test_a_read_only_w_is_not_written_and_nothing_is_half_updated(prove_small):
    n = 4
    opt = SGD([Value(0.0) for _ in range(n)], lr=0.1, momentum=0.9)
    ref = SGD(opt.params, lr=0.1, momentum=0.9)
    w, a, g = np.ones(n), np.full(n, 0.5), np.full(n, 2.0)
    want_w, want_state = ref.step_arrays(w.copy(), g, {"velocity": a.copy()})
    w.flags.writeable = False  # e.g. np.frombuffer over bytes, a memory-mapped checkpoint, np.broadcast_to
    new_w, state = opt.step_arrays(w, g, {"velocity": a}, in_place=True)  # raised ValueError, a == 0.65 already
    assert new_w.tobytes() == want_w.tobytes()
    assert state["velocity"].tobytes() == want_state["velocity"].tobytes()
    assert w.tolist() == [1.0] * n and opt.t == 1


def test_step_arrays_on_a_weight_matrix_steps_it_elementwise():
    from nn.inplace_step import MIN_SIZE

    shape = (256, MIN_SIZE // 256)  # one number per parameter, held as a matrix
    opt = SGD([Value(0.0) for _ in range(MIN_SIZE)], lr=0.1, momentum=0.9)
    w, a, g = np.ones(shape), np.zeros(shape), np.full(shape, 2.0)
    for in_place in (False, True):
        new_w, state = opt.step_arrays(w.copy(), g, {"velocity": a.copy()}, in_place=in_place)
        assert new_w.shape == shape and np.all(new_w == 1.0 - 0.1 * 2.0)
        assert np.all(state["velocity"] == 0.1 * 2.0)


@pytest.mark.parametrize("layout", ["disjoint views", "overlapping views", "g is w", "g is the velocity"])
def test_arrays_sharing_memory_step_as_separate_ones_would_and_g_is_not_written(layout, prove_small):
    """Aliased arrays are not written in place (each result would overwrite what another still reads)."""
    n = 4
    buf = np.arange(1.0, 2.0 * n + 1.0) / 7.0
    w, a, g = {"disjoint views": (buf[:n], buf[n:], np.full(n, 0.5)),
               "overlapping views": (buf[:n], buf[1:n + 1], np.full(n, 0.5)),
               "g is w": (buf[:n], buf[n:], buf[:n]),
               "g is the velocity": (buf[:n], buf[n:], buf[n:])}[layout]
    ref = SGD([Value(0.0) for _ in range(n)], lr=0.1, momentum=0.9)
    want_w, want_state = ref.step_arrays(w.copy(), g.copy(), {"velocity": a.copy()})
    g_before = g.tobytes()
    new_w, state = SGD(ref.params, lr=0.1, momentum=0.9).step_arrays(w, g, {"velocity": a}, in_place=True)
    assert new_w.tobytes() == want_w.tobytes() and state["velocity"].tobytes() == want_state["velocity"].tobytes()
    assert g.tobytes() == g_before
