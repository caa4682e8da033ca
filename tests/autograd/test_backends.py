"""The backend interface is declared once (autograd.backends.NAMES): every backend provides each name
and nothing undeclared."""

import pytest

from autograd import Value
from autograd.backends import FLOAT, NAMES, VALUE, VALUE_BUILTIN, backend
from autograd.tape.arrays import ASYM, finite_backend
from autograd.tape.symbols import NAMESPACE, SYM


def _backends() -> dict:
    found = {"FLOAT": FLOAT, "VALUE": VALUE, "VALUE_BUILTIN": VALUE_BUILTIN, "SYM": SYM, "ASYM": ASYM}
    try:
        from autograd.tape.arrays import numpy_backend

        found["numpy"] = numpy_backend()
    except ImportError:  # the numpy backend needs numpy; the others are checked without it
        pass
    return found


@pytest.mark.parametrize("name", sorted(_backends()))
def test_backend_provides_exactly_the_declared_names(name):
    m = _backends()[name]
    assert sorted(vars(m)) == sorted(NAMES)
    assert all(callable(getattr(m, f)) for f in NAMES)


def test_the_declaration_has_no_repeats():
    assert len(set(NAMES)) == len(NAMES)


def test_generated_code_names_are_the_backend_names():
    # the float functions generated scalar code calls: every name a rule can leave in the code
    assert set(NAMESPACE) - {"inf", "nan"} == set(NAMES) - {"each"}
    assert all(NAMESPACE[f] is getattr(FLOAT, f) for f in NAMES if f != "each")


def test_the_fast_numpy_variant_replaces_only_backend_names():
    np = pytest.importorskip("numpy")
    assert set(finite_backend(np)) <= set(NAMES)


def test_an_undeclared_name_is_refused():
    with pytest.raises(TypeError, match="not backend names"):
        backend({"exp2": abs}, lambda f: abs)


def test_backends_compute_the_same_numbers():
    np = pytest.importorskip("numpy")
    nb = _backends()["numpy"]
    for f in ("exp", "expm1", "log", "log1p", "sqrt", "tanh", "sin", "cos", "abs", "sigmoid"):
        assert float(getattr(nb, f)(np.array([0.75]))[0]) == pytest.approx(getattr(FLOAT, f)(0.75), rel=1e-15)
        assert getattr(VALUE, f)(Value(0.75)).data == pytest.approx(getattr(FLOAT, f)(0.75))
