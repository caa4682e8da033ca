"""The documentation site builds with ``mkdocs build --strict``: guide pages, the API reference generated from the
docstrings, and the notebooks with their committed outputs; a broken link or a missing reference fails it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("mkdocs", reason="the documentation site needs MkDocs (pip install -e '.[docs]')")
RAW_ROLE = re.compile(r"(?<![\w:/]):(?:py:)?[a-z]+:(?:<code>|`)")  # any Sphinx role (:func:, :any:, :ref:) as text


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
    # each API page opens with the names a user calls first
    headings = [re.findall(r'<h2 id="([^"]+)"', page) for page in (api, nn_api)]
    assert headings[0][:2] == ["autograd.Value", "autograd.draw_dot"] and 'href="#autograd.Value.backward"' in api
    assert headings[1][:2] == ["nn.MLP", "nn.train.fit"]
    # the docstrings' Sphinx roles are cross-references: links where the target has a page, never raw text
    for page in site.rglob("*.html"):
        raw = RAW_ROLE.findall(page.read_text(encoding="utf-8"))
        assert not raw, (page.relative_to(site), raw[:5])
    assert api.count('class="autorefs autorefs-internal"') >= 10
    assert nn_api.count('class="autorefs autorefs-internal"') >= 25
    fit_link = r'<a class="autorefs autorefs-internal"[^>]*href="#nn\.train\.fit"[^>]*><code>nn.fit</code>'
    assert re.search(fit_link, nn_api)
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


def test_sphinx_roles_become_cross_references_resolved_in_their_scope(tmp_path):
    griffe = pytest.importorskip("griffe")
    import docs_hooks

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""See :func:`helper`, :class:`~pkg.tools.Thing`, :meth:`Thing.run`, :mod:`pkg.tools` and :func:`gone`."""\n'
        "from .tools import Thing, helper\n"
    )
    (package / "tools.py").write_text(
        '"""Tools."""\n\ndef helper():\n    """Calls :meth:`Thing.run`."""\n\n\n'
        'class Thing:\n    """A thing."""\n\n    def run(self):\n        """Runs; see :func:`.helper`."""\n'
    )
    pkg = griffe.load("pkg", search_paths=[str(tmp_path)], extensions=griffe.load_extensions(docs_hooks.SphinxRoles))
    top = pkg.docstring.value
    assert not docs_hooks.ROLE.search(top)
    link = '<autoref identifier="{}" optional><code>{}</code></autoref>'
    for path, shown in [("pkg.tools.helper", "helper"), ("pkg.tools.Thing", "Thing"),
                        ("pkg.tools.Thing.run", "Thing.run"), ("pkg.tools", "pkg.tools"), ("gone", "gone")]:
        assert link.format(path, shown) in top, (path, top)
    assert link.format("pkg.tools.Thing.run", "Thing.run") in pkg["tools.helper"].docstring.value
    assert link.format("pkg.tools.helper", "helper") in pkg["tools.Thing.run"].docstring.value


def test_sphinx_roles_in_every_form_become_cross_references(tmp_path):
    """:py:func:, :exc:, :attr:, ~, an explicit title (``the helper <helper>``) and ! (no link): none stays raw."""
    griffe = pytest.importorskip("griffe")
    import docs_hooks

    package = tmp_path / "pkg2"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""Use :py:func:`the helper <helper>`, :exc:`Oops`, :attr:`~pkg2.Thing.size`, :any:`Thing`,\n'
        ':class:`a\n   thing <pkg2.Thing>` and :func:`!print`."""\n\n'
        'def helper():\n    """Help."""\n\n\nclass Oops(Exception):\n    """Oops."""\n\n\n'
        'class Thing:\n    """A thing."""\n\n    size = 1\n'
    )
    pkg = griffe.load("pkg2", search_paths=[str(tmp_path)], extensions=griffe.load_extensions(docs_hooks.SphinxRoles))
    top = pkg.docstring.value
    assert not docs_hooks.ROLE.search(top) and not RAW_ROLE.search(top) and ":any:" not in top, top
    link = '<autoref identifier="{}" optional><code>{}</code></autoref>'
    for path, shown in [("pkg2.helper", "the helper"), ("pkg2.Oops", "Oops"), ("pkg2.Thing.size", "size"),
                        ("pkg2.Thing", "Thing"), ("pkg2.Thing", "a\n   thing")]:
        assert link.format(path, shown) in top, (path, top)
    assert "<code>print</code>" in top and 'identifier="print"' not in top
