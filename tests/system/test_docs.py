"""The code in README.md and docs/ runs as written (blocks marked as excerpts are only read), and
every time they state comes from a benchmark."""

import pathlib
import re
import shutil

import pytest

from autograd.viz import GraphvizNotInstalledError

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NO_DOT = "the page draws with the Graphviz 'dot' executable, which is not installed"


def python_blocks(page):
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


def run_block(code, name, namespace):
    try:
        exec(compile(code, name, "exec"), namespace)
    except GraphvizNotInstalledError:
        if shutil.which("dot") is not None:
            raise
        pytest.skip(NO_DOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib").use("Agg")
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {}
    for i, block in enumerate(python_blocks(page)):
        if block.lstrip().startswith("# an excerpt"):
            continue
        run_block(block, f"{page.name}, python block {i + 1}", namespace)


def test_readme_quick_start_is_at_most_15_lines_and_prints_full_accuracy(capsys, tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = re.search(r"## Quick start\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(quick.strip().splitlines()) <= 15
    monkeypatch.chdir(tmp_path)
    run_block(quick, "README quick start", {})
    assert "{'accuracy': 1.0}" in capsys.readouterr().out
    svg = (tmp_path / "graph.svg").read_text()
    assert svg.lstrip().startswith("<?xml")  # drawn in a script, no DOT file
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]
    # x's gradient w (1 - tanh(-6)^2) = -7.373e-05 drawn to its digits (at 4 decimals it read -0.0001, 26 % off)
    texts = [t.replace("&#45;", "-") for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert "grad -7.373e-05" in texts and "grad 4.915e-05" in texts


def test_readme_has_exactly_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- setup-commands.*?```bash\n(.*?)```", text, re.S).group(1)
    install, test = block.strip().splitlines()
    assert "pip install -q -e \".[dev,docs,parity,bench,grading]\"" in install and "apt-get install" in install
    for package in ("graphviz", "chromium", "nodejs npm", "dataset-fashion-mnist"):
        assert f'm="$m {package}"' in install
    assert "no apt-get" in install  # elsewhere: a note, then pip all the same
    assert test == "python -m pytest"


def test_install_section_names_the_venv_the_light_install_notebooks_and_the_name_clash():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    install = text[text.index("## Install"):text.index("## Set up for contributors")]
    for phrase in ("python -m venv", "pip install -e .", '".[notebooks]"', "jupyter lab", "`autograd` and `nn`",
                   "HIPS"):
        assert phrase in install
    assert "torch" not in install.split("PyTorch and micrograd are never")[0]


# --- times --------------------------------------------------------------------------------------------------
# A stated time must come from a benchmark: inside README's benchmarks section, or in a paragraph carrying
# <!-- measured: benchmarks/NAME.py --> (a script that prints it). <!-- budget --> marks a limit, not a claim.
TIME = re.compile(r"(?<![\w.])\d[\d,.]*(?:\s*-\s*\d[\d,.]*)?\s?(?:ns|µs|us|ms|s|sec|seconds?|min|minutes?)(?![\w/])")
SECTION = re.compile(r"<!-- section: benchmarks -->.*?<!-- /section: benchmarks -->", re.S)


def unbacked_times(text):
    text = SECTION.sub("", text)
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code and its printed output
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        marks = re.findall(r"<!-- measured: (\S+) -->", paragraph)
        if "<!-- budget -->" in paragraph or (marks and all((ROOT / m).is_file() for m in marks)):
            continue
        found += [m.group(0) for m in TIME.finditer(re.sub(r"`[^`]*`", "", paragraph))]
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_times_stated_in_the_docs_come_from_a_benchmark(page):
    assert unbacked_times(page.read_text(encoding="utf-8")) == []


def test_the_time_check_catches_claims():
    assert unbacked_times("The demo takes about 3-6 s here.\n\nIt runs in 0.2 s.") == ["3-6 s", "0.2 s"]
    assert unbacked_times("Replays take 354 ns. <!-- measured: benchmarks/compile.py -->") == []
    assert unbacked_times("Replays take 354 ns. <!-- measured: benchmarks/missing.py -->") == ["354 ns"]
    assert unbacked_times("3 seeds, 16 samples, version 2.13 and `--epochs 5`") == []



def test_training_page_lists_every_dataset_and_option_that_train_help_lists(capsys):
    from nn import cli

    text = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    options = " ".join(text.split("Options: `", 1)[1].split("`;", 1)[0].split())
    listed = {flag: set(names.split("|")) for flag, names in re.findall(r"(--[a-z-]+) ([a-z_-]+(?:\|[a-z_-]+)+)",
                                                                          options)}
    assert listed["--dataset"] == set(cli.DATASETS)
    assert listed["--optimizer"] == set(cli.OPTIMIZERS)
    assert listed["--schedule"] == set(cli.SCHEDULES)
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    usage = capsys.readouterr().out.split("\n\n", 1)[0]  # the usage block: each flag once
    flags = set(re.findall(r"--[a-z-]+", usage)) - {"--help"}
    assert flags == set(re.findall(r"--[a-z-]+", options))
