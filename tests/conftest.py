"""Test-suite settings: on CI, hypothesis draws the same examples every run (reproducible failures);
on a developer's machine it explores new ones each time."""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _op_table_unchanged():
    """Ops a test (or a docs page) declares with defop leave the table when it ends, so that tests
    drawing from every op in the table never meet another test's deliberately broken op."""
    from autograd import ops

    before = dict(ops.OPS)
    yield
    ops.OPS.clear()
    ops.OPS.update(before)
