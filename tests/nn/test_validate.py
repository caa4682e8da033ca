"""nn.validate: one wording for every argument check, with the caller's name first and bounded values."""

import math

import numpy as np
import pytest

from nn import validate


def test_reals_accept_numpy_and_reject_bools_and_strings():
    assert validate.real("f", "x", np.float32(0.5)) == 0.5
    assert validate.non_negative("SGD", "lr", np.int64(2)) == 2.0
    with pytest.raises(TypeError, match=r"^f: x must be a real number, got bool True$"):
        validate.real("f", "x", True)
    with pytest.raises(TypeError, match=r"^f: x must be a real number, got str '0.5'$"):
        validate.real("f", "x", "0.5")
    with pytest.raises(ValueError, match=r"^f: x must be finite, got nan$"):
        validate.real("f", "x", math.nan)
    with pytest.raises(ValueError, match=r"^SGD: lr must be finite and >= 0, got inf$"):
        validate.non_negative("SGD", "lr", 10**400)  # beyond the float range: inf, not OverflowError
    with pytest.raises(ValueError, match=r"^g: t must be finite and > 0, got 0.0$"):
        validate.positive("g", "t", 0)


def test_intervals_name_their_ends():
    assert validate.unit_interval("Exponential", "gamma", 1) == 1.0
    with pytest.raises(ValueError, match=r"^Exponential: gamma must be in \(0, 1\], got 0.0$"):
        validate.unit_interval("Exponential", "gamma", 0.0)
    with pytest.raises(ValueError, match=r"^fit: val_split must be a fraction in \[0, 1\), got 1.0$"):
        validate.interval("fit", "val_split", 1.0, 0.0, 1.0, high_open=True, what="a fraction")


def test_integers_accept_numpy_integers_only():
    assert validate.positive_int("MLP", "nin", np.int64(3)) == 3
    assert type(validate.integer("fit", "seed", np.uint8(7), minimum=0)) is int
    for bad in (0, -1, 1.5, "3", True, None):
        with pytest.raises(ValueError, match=rf"^MLP: nin must be a positive integer, got {bad!r}$"):
            validate.positive_int("MLP", "nin", bad)
    with pytest.raises(ValueError, match=r"^fit: epochs must be an integer >= 1, got 0$"):
        validate.integer("fit", "epochs", 0, minimum=1)


def test_sizes_accept_lists_tuples_and_integer_arrays():
    assert validate.sizes("MLP", "nouts", [16, np.int64(3)]) == [16, 3]
    assert validate.sizes("MLP", "nouts", np.array([3, 1])) == [3, 1]
    assert validate.sizes("MLP", "nouts", (4,)) == [4]
    for bad in (3, [], np.array([]), np.array([[1, 2]]), "12", None):
        with pytest.raises(ValueError, match="^MLP: nouts must be a non-empty list of layer sizes"):
            validate.sizes("MLP", "nouts", bad)
    with pytest.raises(ValueError, match=r"^MLP: each of nouts must be a positive integer, got 0$"):
        validate.sizes("MLP", "nouts", [4, 0])


def test_lookup_is_a_value_error_and_a_key_error_with_a_plain_message():
    table = {"cross_entropy": 1, "hinge": 2}
    assert validate.lookup("fit", "loss", " Cross-Entropy", table) == 1
    assert validate.lookup("fit", "loss", "ce", table, {"ce": "cross_entropy"}) == 1
    with pytest.raises(ValueError) as info:
        validate.lookup("evaluate", "loss", "nope", table, {"ce": "cross_entropy"})
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "evaluate: no loss named 'nope'; known: ce, cross_entropy, hinge"
    assert validate.choice("cli", "optimizer", "SGD", ["sgd", "adam"]) == "sgd"
    with pytest.raises(KeyError, match="^cli: no optimizer named 'rms'; known: adam, sgd$"):
        validate.choice("cli", "optimizer", "rms", ["sgd", "adam"])


def test_messages_stay_one_short_line():
    huge = list(range(100_000))
    with pytest.raises(TypeError) as info:
        validate.real("fit", "lr", huge)
    assert len(str(info.value)) < 160 and "\n" not in str(info.value)
    with pytest.raises(KeyError) as info:
        validate.lookup("fit", "loss", "x" * 10_000, {"a": 1})
    assert len(str(info.value)) < 160
    assert len(validate.show(np.zeros((1000, 1000)))) <= 80
    with pytest.raises(TypeError, match="^fit: schedule must be a function t -> lr, got int 3$"):
        validate.function("fit", "schedule", 3, "a function t -> lr")


def test_a_value_where_a_number_belongs_points_at_data():
    from autograd import Value

    with pytest.raises(TypeError, match=r"^SGD: lr must be a plain number, got Value\(.*\(use .data for its number\)$"):
        validate.real("SGD", "lr", Value(0.1))


def test_doctests_of_validate_and_prepare_run():
    import doctest

    import nn.prepare

    for module in (validate, nn.prepare):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
