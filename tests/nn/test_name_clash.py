"""PyPI's HIPS autograd and chalkgrad both install a top-level `autograd`: nn names the clash and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def foreign_autograd(tmp_path):
    """An environment where `import autograd` finds another project's package (first on sys.path)."""
    package = tmp_path / "other" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "1.7.0"\n\ndef grad(fun):\n    return fun\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(package.parent), str(ROOT)]))
    return tmp_path, env


def test_import_nn_with_another_autograd_explains_the_clash(foreign_autograd):
    cwd, env = foreign_autograd
    proc = subprocess.run([sys.executable, "-c", "import nn"], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("nn._clash.AutogradClashError: import nn: 'import autograd' found another project's "
                           "autograd (version 1.7.0 at ")
    for phrase in (str(cwd / "other" / "autograd" / "__init__.py"), "PyPI's autograd (HIPS)",
                   "separate virtual environment", "pip uninstall autograd"):
        assert phrase in last


def test_python_m_nn_with_another_autograd_gives_one_line(foreign_autograd):
    cwd, env = foreign_autograd
    proc = subprocess.run([sys.executable, "-m", "nn", "info", "model.json"], cwd=cwd, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("python -m nn: error: 'import autograd' found another project's autograd")
    assert "separate virtual environment" in proc.stderr


def test_chalkgrads_own_autograd_is_marked_and_nn_imports():
    import autograd
    import nn

    assert autograd.__chalkgrad__ is True and nn.MLP is not None
    proc = subprocess.run([sys.executable, "-c", "import nn; print(nn.MLP.__name__)"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "MLP"
