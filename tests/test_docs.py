"""The code in README.md and docs/ runs as written (blocks marked as excerpts are only read)."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(page):
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib").use("Agg")
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {}
    for i, block in enumerate(python_blocks(page)):
        if block.lstrip().startswith("# an excerpt"):
            continue
        exec(compile(block, f"{page.name}, python block {i + 1}", "exec"), namespace)


def test_readme_quick_start_is_at_most_15_lines_and_prints_full_accuracy(capsys):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = re.search(r"## Quick start\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(quick.strip().splitlines()) <= 15
    exec(compile(quick, "README quick start", "exec"), {})
    assert "{'accuracy': 1.0}" in capsys.readouterr().out


def test_readme_has_exactly_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- setup-commands.*?```bash\n(.*?)```", text, re.S).group(1)
    install, test = block.strip().splitlines()
    assert "pip install -e" in install and "apt-get install" in install and "graphviz" in install
    assert test == "python -m pytest"
