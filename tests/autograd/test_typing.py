"""mypy passes on autograd/ with the configuration in setup.cfg (strict enough to mean something)."""

import configparser
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_configuration_is_strict_enough():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    mypy = config["mypy"]
    assert mypy.getboolean("disallow_untyped_defs") and mypy.getboolean("warn_return_any")
    assert "mypy==" in config["options.extras_require"]["dev"]  # pinned: a new release may add errors


def test_mypy_passes_on_autograd():
    pytest.importorskip("mypy", reason="mypy is not installed (it is in the dev extra: pip install -e '.[dev]')")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "setup.cfg", "--cache-dir", "/dev/null", "autograd"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_mypy_would_catch_an_untyped_def(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (it is in the dev extra: pip install -e '.[dev]')")
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    return x\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "setup.cfg"), "--cache-dir", "/dev/null", str(bad)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1 and "no-untyped-def" in result.stdout
