"""What fit remembers between calls on the same model (the eager probe, the parameter list, the traced graph,
the input columns), and what it must not: a change the memo cannot see, a model kept alive, another target
kind, a custom train()/eval(), a half-done step.  Each test is a case a review found."""

from __future__ import annotations

import gc
import random
import weakref

import numpy as np
import pytest

import nn
from autograd import Value
from nn import datasets
from nn.module import Module

X2 = np.random.default_rng(0).normal(size=(30, 2))
Y2 = X2[:, 0] - X2[:, 1]


class Identity(Module):
    def __call__(self, x):
        return list(x)


def test_validation_of_a_model_whose_output_is_a_list_of_one_matches_eager():
    runs = []
    for compile in (False, True):
        model = nn.Layer(2, 1, "identity", seed=0)  # a Layer always returns a list
        seen = []

        def loss(out, t):
            return (out[0] - t) ** 2

        def kinds(outputs, targets, seen=seen):
            seen.append(type(outputs[0]).__name__)
            return 0.0

        h = nn.fit(model, X2[:20], Y2[:20], loss=loss, optimizer=nn.optim.SGD(model.parameters(), lr=0.05),
                   epochs=2, progress=False, compile=compile, val_data=(X2[20:], Y2[20:]), metrics=[kinds])
        runs.append((h.val_loss, seen))
    assert runs[0][1] == runs[1][1] == ["list"] * 4  # training and validation outputs, as the model gives them
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12)


def test_compiled_validation_runs_a_custom_module_in_eval_mode():
    class HalfWhileTraining(Module):
        def __call__(self, x):
            return [xi * 0.5 for xi in x] if self.training else list(x)

    class Net(Module):
        def __init__(self):
            self.nin = 2
            self.l1 = nn.Layer(2, 4, "tanh", seed=0)
            self.s = HalfWhileTraining()
            self.l2 = nn.Layer(4, 1, None, seed=1)

        def __call__(self, x):
            return self.l2(self.s(self.l1(x)))[0]

    val = []
    for compile in (False, True):
        model = Net()
        h = nn.fit(model, X2[:20], Y2[:20], loss="squared_error", optimizer=nn.optim.SGD(model.parameters(), lr=0.05),
                   epochs=3, progress=False, compile=compile, val_data=(X2[20:], Y2[20:]))
        assert h.val_loss[-1] == pytest.approx(nn.evaluate(model, X2[20:], Y2[20:], loss="squared_error")["loss"])
        val.append(h.val_loss)
    np.testing.assert_allclose(val[1], val[0], rtol=1e-12)


def test_a_custom_train_that_swaps_in_dropout_is_traced_after_it_ran():
    class Net(Module):
        def __init__(self):
            self.nin = 2
            self.body = nn.Layer(2, 4, "tanh", seed=0)
            self.drop = Identity()
            self.head = nn.Layer(4, 1, None, seed=1)

        def train(self, mode=True):
            super().train(mode)
            if mode != isinstance(self.drop, nn.Dropout):
                self.drop = nn.Dropout(0.5, seed=0) if mode else Identity()
            return self

        def __call__(self, x):
            return self.head(self.drop(self.body(x)))[0]

    losses = []
    for compile in (False, True):
        model = Net().eval()
        h = nn.fit(model, X2, Y2, loss="squared_error", optimizer=nn.optim.SGD(model.parameters(), lr=0.05),
                   epochs=2, progress=False, compile=compile, seed=0)
        losses.append(h.loss)
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-12)


def test_a_custom_model_that_grows_without_new_attributes_is_probed_again():
    class Linear(Module):  # weights as a nested list, a class added by appending to every row
        def __init__(self, nin, nout):
            rng = random.Random(0)
            self.nin = nin
            self.W = [[Value(rng.gauss(0, 0.5)) for _ in range(nout)] for _ in range(nin)]

        def parameters(self):
            return [w for row in self.W for w in row]

        def __call__(self, x):
            return [sum((x[i] * self.W[i][j] for i in range(self.nin)), Value(0.0)) for j in range(len(self.W[0]))]

    model = Linear(2, 2)
    nn.fit(model, X2, np.arange(30) % 2, loss="cross_entropy", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
           epochs=1, progress=False)
    for row in model.W:
        row.append(Value(0.0))
    h = nn.fit(model, X2, np.arange(30) % 3, loss="cross_entropy", optimizer=nn.optim.SGD(model.parameters(), lr=0.1),
               epochs=1, progress=False)
    assert len(h.loss) == 1 and len(model.parameters()) == 6  # three outputs now, and every weight trained


def test_a_target_of_another_type_is_run_through_the_loss_again():
    def pick(out, t):  # indexes the output by the target: 0 works, 0.0 does not
        return (out[t] - 1.0) ** 2

    model = nn.MLP(2, [4, 3], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    nn.fit(model, X2, np.arange(30) % 3, loss=pick, optimizer=opt, epochs=1, progress=False)  # ints
    with pytest.raises(ValueError, match=r"loss pick cannot take the model's output with target 0\.0: list indices"):
        nn.fit(model, X2, (np.arange(30) % 2).astype(float), loss=pick, optimizer=opt, epochs=1, progress=False)


@pytest.mark.parametrize("compile", [False, None, True])
def test_a_model_whose_loss_is_its_own_method_is_freed_after_fit(compile):
    class Net(nn.MLP):
        def loss(self, out, t):
            return nn.cross_entropy(out, int(t))

    X, y = datasets.demo_moons(labels="index")
    model = Net(2, [4, 2], seed=0)
    for _ in range(2):  # the second fit reuses what the first remembered (the bound method is a new object)
        nn.fit(model, X, y, loss=model.loss, optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=1,
               progress=False, compile=compile)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_ctrl_c_inside_a_custom_optimisers_step_leaves_the_last_whole_step():
    class SlowSGD(nn.optim.SGD):
        calls = 0

        def step(self):  # no array rule: compiled fit steps the Values themselves
            SlowSGD.calls += 1
            for i, p in enumerate(self.params):
                if SlowSGD.calls == 3 and i == 2:
                    raise KeyboardInterrupt
                p.data -= self.lr * p.grad

    ref = nn.MLP(2, [3, 1], seed=0)
    nn.fit(ref, X2, Y2, loss="squared_error", optimizer=nn.optim.SGD(ref.parameters(), lr=0.1), epochs=2,
           progress=False, compile=True)
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, X2, Y2, loss="squared_error", optimizer=SlowSGD(model.parameters(), lr=0.1), epochs=5,
               progress=False, compile=True)
    np.testing.assert_allclose([p.data for p in model.parameters()], [p.data for p in ref.parameters()], rtol=1e-12)


def test_a_module_that_contains_its_parent_is_named_in_one_line():
    net = nn.MLP(2, [3, 1], seed=0)
    net.layers[1].owner = net  # a back-reference not marked private
    with pytest.raises(ValueError, match=r"^MLP: 'layers\.1\.owner' is a module that contains it \(a cycle\)"):
        net.parameters()
    del net.layers[1].owner
    net.layers[1]._owner = net  # the documented way: attributes starting with '_' are not children
    assert len(net.parameters()) == 13


def test_a_childs_own_named_buffers_are_in_the_parents_state_dict():
    class Counter(Module):
        def __init__(self):
            self.w = Value(0.5)
            self._seen = [7.0]

        def named_buffers(self, prefix=""):
            yield f"{prefix}seen[0]", self._seen, 0

        def __call__(self, x):
            return self.w * x[0]

    class Net(Module):
        def __init__(self):
            self.body = Counter()

    assert Net().state_dict() == {"body.w": 0.5, "body.seen[0]": 7.0}


@pytest.mark.parametrize("output", [lambda: None, lambda: {"y": 1.0}, lambda: (v for v in [1.0])])
def test_a_model_returning_no_numbers_is_reported_with_the_width(output):
    class Odd(Module):
        nin = 2

        def __call__(self, x):
            return output()

    for call in (lambda m: nn.fit(m, X2, Y2, loss="squared_error", optimizer=nn.optim.SGD([Value(0.0)], lr=0.1),
                                  epochs=1, progress=False),
                 lambda m: nn.evaluate(m, X2, Y2, loss="squared_error")):
        with pytest.raises(ValueError, match=r"^(fit|evaluate): the model cannot take a sample of width 2"):
            call(Odd())


def test_ctrl_c_inside_the_first_step_of_a_custom_optimiser_leaves_the_model_untouched():
    class InterruptedSGD(nn.optim.SGD):
        def step(self):  # the first step, right after fit wrote the arrays into the Values
            for i, p in enumerate(self.params):
                if i == 2:
                    raise KeyboardInterrupt
                p.data -= self.lr * p.grad

    model = nn.MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(KeyboardInterrupt):
        nn.fit(model, X2, Y2, loss="squared_error", optimizer=InterruptedSGD(model.parameters(), lr=0.1), epochs=2,
               progress=False, compile=True)
    assert [p.data for p in model.parameters()] == before


def test_children_and_modules_follow_named_children_without_building_names():
    net = nn.MLP(2, [3, 1], seed=0, dropout=0.5)
    assert net.children() == [m for _, m in net.named_children()]  # MLP's own order: layer, dropout, layer
    assert [type(m).__name__ for m in net.children()] == ["Layer", "Dropout", "Layer"]
    assert list(net.modules()) == [m for _, m in net.named_modules()]
    assert net.layers[0].children() == net.layers[0].neurons


def test_a_module_added_after_fit_is_walked_again():
    X, y = datasets.demo_moons(labels="sign")
    net = nn.MLP(2, [4, 1], seed=0)
    opt = nn.optim.SGD(net.parameters(), lr=0.1)
    before = nn.prepare_fit(net, X, y, loss="hinge", optimizer=opt).modules
    nn.fit(net, X, y, loss="hinge", optimizer=opt, epochs=1, progress=False)
    net.layers[0].neurons[0].extra = nn.Layer(1, 1, rng=random.Random(0))
    after = nn.prepare_fit(net, X, y, loss="hinge", optimizer=nn.optim.SGD(net.parameters(), lr=0.1)).modules
    assert after == list(net.modules()) and len(after) == len(before) + 2


@pytest.mark.parametrize("compile", [True, False])
def test_a_model_of_nn_layers_is_freed_after_fit(compile):
    """What fit remembers about a model (its probe, its traced graph) must not keep it alive."""
    X, y = datasets.demo_moons(labels="sign")
    net = nn.MLP(2, [4, 1], seed=0)
    nn.fit(net, X, y, loss="hinge", optimizer=nn.optim.SGD(net.parameters(), lr=0.1), epochs=2, progress=False,
           compile=compile)
    ref = weakref.ref(net)
    del net
    gc.collect()
    assert ref() is None


def test_the_walk_takes_children_from_named_children_not_from_an_attribute_named_children():
    class Tree(Module):
        def __init__(self):
            self.children = [nn.Layer(2, 3, rng=random.Random(0)), nn.Layer(3, 1, rng=random.Random(1))]

        def __call__(self, x):
            return self.children[1](self.children[0](x))

    tree = Tree()
    assert len(tree.parameters()) == 13 and len(list(tree.modules())) == len(list(tree.named_modules())) == 7


def test_a_module_that_chooses_its_own_named_modules_is_walked_by_it():
    class Frozen(Module):
        def __init__(self):
            self.body = nn.Layer(2, 2, rng=random.Random(0))
            self.head = nn.Layer(2, 1, rng=random.Random(1))

        def named_modules(self):
            return iter([(n, m) for n, m in super().named_modules() if not n.startswith("body")])

    f = Frozen()
    assert len(list(f.named_modules())) == len(list(f.modules())) == 3 and len(f.parameters()) == 3


@pytest.mark.parametrize("compile", [True, False])
def test_class_labels_given_as_floats_train_exactly_as_ints(compile):
    X, y = np.random.default_rng(0).normal(size=(60, 2)), np.arange(60) % 3
    runs = []
    for labels in (np.asarray(y, dtype=int), np.asarray(y, dtype=float), [float(v) for v in y]):
        net = nn.MLP(2, [5, 3], seed=0)
        nn.fit(net, X, labels, loss="cross_entropy", optimizer=nn.optim.SGD(net.parameters(), lr=0.2), epochs=3,
               progress=False, compile=compile)
        runs.append([p.data for p in net.parameters()])
    assert runs[0] == runs[1] == runs[2]


def _compiled_of(model):
    from nn.compiled import _CACHE

    return _CACHE[model]


def test_fit_drops_large_kept_arrays_at_the_end_and_keeps_small_ones(monkeypatch):
    """A full-batch fit keeps the input columns for the next call, unless they are large
    (nn.flat.KEEP_BYTES and up): then they are dropped when fit returns."""
    import nn.flat

    X, y = datasets.demo_moons(labels="sign")
    for limit, kept in ((nn.flat.KEEP_BYTES, True), (0, False)):
        monkeypatch.setattr(nn.flat, "KEEP_BYTES", limit)
        net = nn.MLP(2, [4, 1], seed=0)
        nn.fit(net, X, y, loss="hinge", optimizer=nn.optim.SGD(net.parameters(), lr=0.1), epochs=2, progress=False,
               compile=True)
        compiled = _compiled_of(net)
        assert (compiled._all is not None) is kept
        again = nn.fit(net, X, y, loss="hinge", optimizer=nn.optim.SGD(net.parameters(), lr=0.1), epochs=2,
                       progress=False, compile=True)  # and the next fit allocates them again
        assert len(again.loss) == 2
