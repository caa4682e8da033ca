"""mypy passes on nn/ with the project's configuration (setup.cfg [mypy], the same options as
tests/autograd/test_typing.py uses for autograd: disallow_untyped_defs, warn_return_any, ...).  autograd's own
errors are the business of tests/autograd/test_typing.py: here it is only followed for its types
(follow_imports=silent)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_mypy_passes_on_nn():
    pytest.importorskip("mypy", reason="mypy is not installed (a dev dependency)")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "setup.cfg", "--follow-imports=silent", "nn"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
