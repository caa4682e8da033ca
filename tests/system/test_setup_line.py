"""README's set-up line on a machine without apt-get, Chromium or Graphviz: it says so in one line, installs
chalkgrad all the same, and the tests that need those programs skip with a reason while the rest pass."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ("apt-get", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "dot")
# Tests that need Graphviz or Chromium, and plain ones (without the two that take seconds by design).
SUBSET = ["tests/autograd/test_viz.py", "tests/autograd/test_value.py", "tests/system/test_docs.py",
          "tests/system/test_cli.py",
          "notebooks/01_values_and_graphs.ipynb", "-k",
          "(test_viz or test_value or quick_start or graph_svg_draws or values_and_graphs)"
          " and not million and not 100k"]
REASONS = ("the Graphviz 'dot' executable is not installed",
           "headless Chromium is not installed (apt-get install chromium)",
           "the page draws with the Graphviz 'dot' executable, which is not installed",
           "the notebook draws graphs with the Graphviz 'dot' executable, which is not installed")


def setup_line() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"<!-- setup-commands.*?```bash\n(.*?)\n", text, re.S).group(1)


def path_without(names: tuple[str, ...], farm: Path) -> str:
    """A directory of links to every program on PATH except ``names`` (they share /usr/bin with the rest)."""
    farm.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            if entry.name not in names and not (farm / entry.name).exists() and os.access(entry.path, os.X_OK):
                (farm / entry.name).symlink_to(entry.path)
    return str(farm)


def builds_editable_here() -> bool:
    """Whether this environment's setuptools can build chalkgrad's editable wheel itself (>= 70.1, or wheel)."""
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(p) for p in re.findall(r"\d+", setuptools.__version__)[:2])
    try:
        import wheel  # noqa: F401
    except ImportError:
        return (major, minor) >= (70, 1)
    return major >= 64


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the set-up line is a POSIX shell line")
def test_setup_line_without_apt_get_installs_and_the_suite_runs_with_reasons_for_its_skips(tmp_path):
    repo = tmp_path / "chalkgrad"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "runs", "site", "build", ".hypothesis", ".*_cache"))
    # A throwaway environment that sees this one's packages (so pip finds every requirement installed and
    # downloads nothing) but gets its own chalkgrad: the copy, installed by the line under test.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    outer = dict.fromkeys(p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p))
    outer.update(dict.fromkeys({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}))
    Path(site, "outer-environment.pth").write_text("\n".join(outer) + "\n")
    path = os.pathsep.join([str(env_dir / "bin"), path_without(HIDDEN, tmp_path / "bin")])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CI")}
    env.update(PATH=path, VIRTUAL_ENV=str(env_dir))
    if builds_editable_here():  # pip checks every requirement against what is installed, offline, no build env
        env.update(PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")
    for name in HIDDEN:
        assert shutil.which(name, path=path) is None

    install = subprocess.run(["bash", "-c", setup_line()], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    note = install.stdout.strip().splitlines()[0]
    assert note.startswith("no apt-get: install graphviz chromium") and note.endswith("(they skip)")
    where = subprocess.run([python, "-c", "import autograd, nn; print(autograd.__file__, nn.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.stdout.split() == [str(repo / "autograd" / "__init__.py"), str(repo / "nn" / "__init__.py")]

    tests = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *SUBSET], cwd=repo,
                           env=env, capture_output=True, text=True, timeout=600)
    out = tests.stdout
    assert tests.returncode == 0, out[-3000:]
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|skipped|failed)", out.splitlines()[-1]))
    assert counts.get("failed", 0) == 0 and counts["passed"] >= 50, out[-2000:]
    reasons = re.findall(r"SKIPPED \[\d+\] (\S+): (.*)", out)
    assert reasons and counts["skipped"] == sum(int(n) for n in re.findall(r"SKIPPED \[(\d+)\]", out))
    for where, why in reasons:  # only the Graphviz and Chromium tests, each saying what is missing
        assert why in REASONS, (where, why)
    assert {why for _, why in reasons} == set(REASONS)


def fake_program(directory: Path, name: str, log: Path) -> None:
    script = directory / name
    script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    script.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="the set-up line is a POSIX shell line")
def test_setup_line_installs_only_the_missing_system_packages_with_apt_get(tmp_path):
    """apt-get and pip replaced by recorders: the line asks apt-get for what is missing, then runs pip."""
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    log = tmp_path / "calls.log"
    for name in ("apt-get", "python", "npm"):
        fake_program(fakes, name, log)
    (fakes / "sudo").write_text('#!/bin/sh\nexec "$@"\n')  # not root: the line goes through sudo
    (fakes / "sudo").chmod(0o755)
    path = os.pathsep.join([str(fakes), path_without(HIDDEN + ("python", "npm", "sudo"), tmp_path / "bin")])
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = path
    proc = subprocess.run(["bash", "-c", setup_line()], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    missing = "graphviz chromium" + ("" if os.path.isdir("/usr/share/datasets/fashion-mnist")
                                     else " dataset-fashion-mnist")
    assert calls == [
        "apt-get update -qq",
        f"apt-get install -y -qq {missing}",
        "python -m pip install -q -e .[dev,docs,parity,bench,grading]",
    ]
    # With everything present it asks apt-get for nothing.
    for name in ("dot", "chromium"):
        fake_program(fakes, name, tmp_path / "unused.log")
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):
        log.unlink()
        proc = subprocess.run(["bash", "-c", setup_line()], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode == 0 and log.read_text().splitlines() == [
            "python -m pip install -q -e .[dev,docs,parity,bench,grading]"]
