"""What the docs name exists: docs/ARCHITECTURE.md's module map is generated from the module docstrings (every
module of autograd/ and nn/ is in it, each described by its docstring's first sentence), and every function,
module or file of chalkgrad that README, docs/*.md or a notebook's text names is there to be found.

Run this file (``python tests/system/test_doc_names.py``) to rewrite the map after adding a module or changing
a module docstring's first sentence.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("autograd", "nn")
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
MAP = re.compile(r"(<!-- module-map:.*?-->\n)(.*?)(<!-- /module-map -->)", re.S)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "notebooks").rglob("*.ipynb"))]

# `autograd.tape.trace`, `nn.fit(compile=True)`: a full dotted name, anywhere in a page (not `torch.nn.Linear`)
DOTTED = re.compile(r"(?<![\w.])(?:autograd|nn)(?:\.[A-Za-z_]\w*)+")
# `value.chain_rule`, `tape.batch_source()`: a module's own name and an attribute, inside a code span
SHORT = re.compile(r"(?<![\w.])([a-z_]\w*)\.([A-Za-z_]\w*)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# autograd/tape/arrays.py, tests/nn/test_step.py, benchmarks/fit.py: a path in the repository
PATH = re.compile(r"(?<![\w./-])((?:autograd|nn|tests|benchmarks)/[\w./-]*\w)")
FILE_SUFFIXES = {"md", "py", "json", "svg", "png", "csv", "ipynb", "html", "txt", "zip"}  # `nn.md`, `graph.svg`


def modules() -> list[Path]:
    """Every module of the packages, relative to the repository, in the map's order."""
    return sorted(p.relative_to(ROOT) for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def summary(path: Path) -> str:
    """The first sentence of a module's docstring, as markdown (reST roles and double backticks undone)."""
    doc = ast.get_docstring(ast.parse((ROOT / path).read_text(encoding="utf-8"))) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    sentence = re.split(r"(?<=[^A-Z\s][.!?])\s", paragraph)[0]  # not after an initial: "Y. LeCun"
    sentence = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", sentence)
    return table_cell(sentence.replace("``", "`"))


def table_cell(text: str) -> str:
    """``text`` with its pipes fit for a table cell on GitHub and in MkDocs alike: ``\\|`` outside code; a code
    span is closed around its pipes (inside one, GitHub splits the cell at a bare ``|`` and Python-Markdown
    shows ``\\|`` with its backslash), so `a | b` becomes `a` \\| `b`."""
    parts = re.split(r"(`[^`]*`)", text)
    for i, part in enumerate(parts):
        if i % 2:  # a code span
            pieces = (piece.strip() for piece in part[1:-1].split("|"))
            parts[i] = " \\| ".join(f"`{piece}`" if piece else "" for piece in pieces)
        else:
            parts[i] = part.replace("|", "\\|")
    return "".join(parts)


def module_map() -> str:
    rows = [f"| `{path.as_posix()}` | {summary(path) or '(no docstring)'} |" for path in modules()]
    return "\n".join(["| module | what it is (its docstring's first sentence) |", "|---|---|", *rows]) + "\n"


def page_text(page: Path) -> str:
    if page.suffix == ".ipynb":
        cells = json.loads(page.read_text(encoding="utf-8")).get("cells", [])
        return "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "markdown")
    return page.read_text(encoding="utf-8")


def module_names() -> dict[str, list[str]]:
    """Each module's own name -> the dotted modules that carry it (``tape``: autograd.tape, autograd.tape.tape)."""
    names: dict[str, list[str]] = {}
    for path in modules():
        parts = path.with_suffix("").parts
        dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names.setdefault(dotted.rsplit(".", 1)[-1], []).append(dotted)
    return names


def resolves(dotted: str) -> bool:
    """``autograd.tape.trace``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def has(module_name: str, attribute: str) -> bool:
    """``value.chain_rule``, ``tape.batch_source``: an attribute of a module of that name, or of a class it
    defines (``tape`` in a doc is as often a Tape as the module; a class that answers any name passes)."""
    for dotted in module_names()[module_name]:
        module = importlib.import_module(dotted)
        if hasattr(module, attribute):
            return True
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == dotted and (
                    hasattr(cls, attribute) or attribute in getattr(cls, "__annotations__", {})
                    or "__getattr__" in vars(cls)):
                return True
    return False


def unknown_names(text: str) -> list[str]:
    """The names and paths of chalkgrad in ``text`` that do not exist."""
    names = module_names()
    missing = [m.group(0) for m in DOTTED.finditer(text)
               if m.group(0).rsplit(".", 1)[-1] not in FILE_SUFFIXES and not resolves(m.group(0))]
    for span in CODE_SPAN.finditer(text):
        for m in SHORT.finditer(span.group(1)):
            module_name, attribute = m.groups()
            if (module_name in names and module_name not in PACKAGES and attribute not in FILE_SUFFIXES
                    and not has(module_name, attribute)):
                missing.append(m.group(0))
    missing += [m.group(1) for m in PATH.finditer(text) if not (ROOT / m.group(1)).exists()]
    return list(dict.fromkeys(missing))


def test_every_module_is_in_the_map_with_its_docstrings_first_sentence():
    found = MAP.search(ARCHITECTURE.read_text(encoding="utf-8"))
    assert found, "docs/ARCHITECTURE.md has lost its <!-- module-map: ... --> <!-- /module-map --> markers"
    listed = set(re.findall(r"^\| `([^`]+)` \|", found.group(2), re.M))
    absent = [p.as_posix() for p in modules() if p.as_posix() not in listed]
    assert not absent, f"not in docs/ARCHITECTURE.md's module map: {absent}; run python tests/system/test_doc_names.py"
    assert found.group(2) == module_map(), (
        "docs/ARCHITECTURE.md's module map differs from the module docstrings: "
        "run python tests/system/test_doc_names.py to rewrite it")


def test_pipes_in_the_map_render_as_pipes_in_the_site():
    markdown = pytest.importorskip("markdown", reason="the documentation site needs MkDocs (pip install -e '.[docs]')")
    cells = ["The command line: `python -m nn train | predict | info`.", "x | y, `a|b`"]
    table = "| a |\n|---|\n" + "".join(f"| {table_cell(cell)} |\n" for cell in cells)
    rendered = markdown.markdown(table, extensions=["tables"])  # the renderer and extension mkdocs.yml uses
    rows = [re.sub(r"<[^>]+>", "", row) for row in re.findall(r"<td>(.*?)</td>", rendered)]
    assert rows == ["The command line: python -m nn train | predict | info.", "x | y, a | b"]
    assert "<code>python -m nn train</code> | <code>predict</code>" in rendered
    assert "\\" not in module_map().replace("\\|", "")  # no other backslash: each one escapes a pipe outside code


def test_every_module_has_a_docstring_to_be_mapped_by():
    assert [p.as_posix() for p in modules() if not summary(p)] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_name_a_page_gives_exists(page):
    assert unknown_names(page_text(page)) == []


def test_a_removed_name_is_caught_and_present_ones_pass():
    stale = ("The old seam: `nn.train.batch_step` -> `nn.compiled.compiled_step` -> `autograd.tape.bound`; "
             "`compiled.compiled_step`, `tape.CompiledLoss`, autograd/tape/loss.py, tests/test_value.py.")
    assert unknown_names(stale) == ["nn.train.batch_step", "nn.compiled.compiled_step", "autograd.tape.bound",
                                    "compiled.compiled_step", "tape.CompiledLoss", "autograd/tape/loss.py",
                                    "tests/test_value.py"]
    live = ("`nn.fit(compile=True)` runs `flat.FlatTrainer`; `value.chain_rule`, `tape.batch_source()`, "
            "`history.loss`, autograd/tape/arrays.py, tests/system/test_doc_names.py; torch's `nn.Linear` is "
            "`torch.nn.Linear`; see [nn](nn.md) and `graph.svg`.")
    assert unknown_names(live) == ["nn.Linear"]


if __name__ == "__main__":
    text = ARCHITECTURE.read_text(encoding="utf-8")
    new = MAP.sub(lambda m: m.group(1) + module_map() + m.group(3), text)
    ARCHITECTURE.write_text(new, encoding="utf-8")
    print("docs/ARCHITECTURE.md: module map", "rewritten" if new != text else "unchanged", file=sys.stderr)
