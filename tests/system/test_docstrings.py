"""Every public name of autograd and nn has its own docstring (the API reference is generated from them)."""

from __future__ import annotations

import ast
import inspect
import sys

import pytest

import autograd
import nn


def public(package) -> list[str]:
    """``__all__``, or for a package that re-exports its submodules' ``__all__`` (nn), those names."""
    names = getattr(package, "__all__", None)
    if names is None:
        names = [n for n in dir(package) if not n.startswith("_") and not inspect.ismodule(getattr(package, n))]
    return sorted(names)


def attribute_docstring(package: str, name: str) -> str:
    """The string literal right after ``name = ...`` at the top of the module of ``package`` defining it."""
    for module in [m for k, m in sys.modules.items() if k == package or k.startswith(package + ".")]:
        tree = ast.parse(inspect.getsource(module)) if getattr(module, "__file__", None) else None
        body = tree.body if tree else []
        for stmt, after in zip(body, body[1:]):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and isinstance(after, ast.Expr) \
                    and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                return after.value.value
    return ""


def own_docstring(obj) -> str:
    if type(obj).__module__ == "typing":  # a type alias documents itself with the string after it
        return ""
    if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
        return (obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__) or ""
    return type(obj).__doc__ or ""  # an instance (an op, an activation): its class says what it is


NAMES = [(p.__name__, n) for p in (autograd, nn) for n in public(p)]


def test_both_packages_have_public_names():
    assert len(public(autograd)) >= 20 and len(public(nn)) >= 40


@pytest.mark.parametrize(("package", "name"), NAMES, ids=[f"{p}.{n}" for p, n in NAMES])
def test_public_name_has_a_docstring(package, name):
    obj = getattr({"autograd": autograd, "nn": nn}[package], name)
    doc = (own_docstring(obj) or attribute_docstring(package, name)).strip()
    assert len(doc) >= 10, f"{package}.{name} has no docstring of its own"
