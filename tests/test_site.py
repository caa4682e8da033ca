"""The documentation site builds with ``mkdocs build --strict``: guide pages, the API reference generated from the
docstrings, and the notebooks with their committed outputs; a broken link or a missing reference fails it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("mkdocs", reason="the documentation site needs MkDocs (pip install -e '.[docs]')")


def build(config: Path, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_site_builds_strictly_with_the_api_reference_and_the_notebooks(tmp_path):
    proc = build(ROOT / "mkdocs.yml", tmp_path / "site", ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    site = tmp_path / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "HIPS" in home and "virtual environment" in home
    api = (site / "api" / "autograd" / "index.html").read_text(encoding="utf-8")
    for name in ("autograd.Value", "autograd.draw_dot", "autograd.tape.tape.trace", "autograd.viz.player.player"):
        assert f'id="{name}"' in api, name
    assert "one record node per Value" in api  # draw_dot's docstring, rendered
    assert '<span class="gp">&gt;&gt;&gt; </span>' in api  # doctest examples shown as code
    nn_api = (site / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    for name in ("nn.MLP", "nn.train.fit", "nn.prepare.prepare_fit", "nn.optim.Adam", "nn.datasets.demo_moons"):
        assert f'id="{name}"' in nn_api, name
    notebook = (site / "notebooks" / "08_moons" / "index.html").read_text(encoding="utf-8")
    assert "<img" in notebook or "data:image/png;base64" in notebook  # committed outputs, not re-run
    exercise = (site / "notebooks" / "exercises" / "02_backward_pass" / "index.html").read_text(encoding="utf-8")
    assert "YOUR CODE HERE" in exercise and "BEGIN SOLUTION" not in exercise and "hidden=True" not in exercise
    assert "visited.add(node)" not in exercise  # a line of the master's solution: the site has the hand-out
    engine = (site / "engine" / "index.html").read_text(encoding="utf-8")
    assert 'href="../autograd/ops.py"' in engine and (site / "autograd" / "ops.py").is_file()


def test_strict_build_fails_on_a_broken_link_and_a_missing_reference(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the engine](engine.md).\n\n::: autograd.no_such_function\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: t\ndocs_dir: docs\nplugins:\n  - mkdocstrings:\n      handlers:\n        python:\n"
        f"          paths: [{ROOT}]\n"
    )
    proc = build(config, tmp_path / "site", tmp_path)
    assert proc.returncode != 0
    assert "no_such_function" in proc.stderr
    (docs / "index.md").write_text("# Home\n\nSee [the engine](engine.md).\n")
    proc = build(config, tmp_path / "site", tmp_path)
    assert proc.returncode != 0 and "engine.md" in proc.stderr and "not found" in proc.stderr
