"""Student versions of exercise notebooks: one master notebook, solutions removed.

    python -m autograd.exercises student notebooks/exercises handout/

A master notebook (see notebooks/exercises/) marks each solution as nbgrader does::

    def tanh_partials(m, out, x):
        ### HINT: tanh'(x) = 1 - tanh(x)**2, and `out` already is tanh(x)
        ### BEGIN SOLUTION
        return (1 - out * out,)
        ### END SOLUTION

In the student version the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become
``raise NotImplementedError("<hint>")`` at the same indentation (the ``### HINT:`` line, which may
stand anywhere in the cell before its solution, is removed); in a markdown cell they become "YOUR
ANSWER HERE".  Lines from ``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS`` are removed,
cells left empty are dropped, and every output and execution count is cleared.  Notebooks are
read and written as JSON (no Jupyter packages needed); nothing in them is executed.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

__all__ = ["MarkerError", "student_source", "student_notebook", "write_student_versions"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HINT = re.compile(r"^\s*### HINT:\s?(.*)$")
DEFAULT_HINT = "replace this line with your solution"


class MarkerError(ValueError):
    """A master notebook's markers do not pair up (the message names the notebook and the cell)."""


def student_source(source: str, markdown: bool = False, where: str = "source") -> str:
    """One cell's source with its solutions replaced by stubs and its hidden tests removed."""
    out: list[str] = []
    hints: list[str] = []
    inside: str | None = None
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        marker = line.strip()
        hint = HINT.match(line)
        if inside is None and hint:
            hints.append(hint.group(1).strip())
        elif marker in (BEGIN, BEGIN_HIDDEN):
            if inside is not None:
                raise MarkerError(f"{where}, line {number}: {marker} inside an open {inside}")
            inside = marker
            indent = line[: len(line) - len(line.lstrip())]
            if marker == BEGIN:
                hint_text = hints.pop(0) if hints else DEFAULT_HINT
                out.append("YOUR ANSWER HERE\n" if markdown else f"{indent}raise NotImplementedError({hint_text!r})\n")
        elif marker in (END, END_HIDDEN):
            expected = BEGIN if marker == END else BEGIN_HIDDEN
            if inside != expected:
                raise MarkerError(f"{where}, line {number}: {marker} without {expected}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise MarkerError(f"{where}: {inside} is never closed")
    if hints:
        raise MarkerError(f"{where}: a ### HINT: line with no solution after it ({hints[0]!r})")
    return "".join(out)


def student_notebook(master: dict[str, Any], name: str = "notebook") -> dict[str, Any]:
    """The student version of a master notebook (a dict as read from the .ipynb JSON)."""
    if not isinstance(master, dict):
        raise ValueError(f"{name}: not a notebook (the top level is a JSON {_json_kind(master)}, not an object)")
    nb = copy.deepcopy(master)
    if not isinstance(nb.get("cells", []), list):
        raise ValueError(f"{name}: \"cells\" should be a list, got a JSON {_json_kind(nb['cells'])}")
    cells = []
    for i, cell in enumerate(nb.get("cells", [])):
        if not isinstance(cell, dict):
            raise ValueError(f"{name}, cell {i + 1}: should be a JSON object, got a JSON {_json_kind(cell)}")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            text = "".join(source)
        elif isinstance(source, str):
            text = source
        else:
            raise ValueError(f"{name}, cell {i + 1}: \"source\" should be a string or a list of strings, "
                             f"got a JSON {_json_kind(source)}")
        kind = cell.get("cell_type")
        new = student_source(text, markdown=kind == "markdown", where=f"{name}, cell {i + 1}")
        if text.strip() and not new.strip():
            continue  # a cell that held only hidden tests
        cell["source"] = new
        if kind == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    nb["cells"] = cells
    return nb


def _json_kind(x: Any) -> str:
    if x is None:
        return "null"
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(type(x), "number")


def _read_master(path: Path) -> dict[str, Any]:
    """The student version of the master notebook at ``path``, or a ValueError naming the file and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        master = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    return student_notebook(master, str(path))


def write_student_versions(src: str | Path, out: str | Path) -> list[Path]:
    """Write the student version of every notebook in ``src`` (a folder or one .ipynb) into folder ``out``."""
    src, out = Path(src), Path(out)
    if src.is_dir():
        masters = sorted(p for p in src.glob("*.ipynb") if not p.name.startswith("."))
    elif src.suffix == ".ipynb" and src.exists():
        masters = [src]
    else:
        raise FileNotFoundError(f"write_student_versions: src must be a folder or an .ipynb file, got {str(src)!r}")
    if not masters:
        raise FileNotFoundError(f"write_student_versions: no .ipynb files in {str(src)!r}")
    if out.resolve() in {src.resolve(), *(p.parent.resolve() for p in masters)}:
        raise ValueError(f"write_student_versions: out must differ from the masters' folder, got {str(out)!r}")
    for folder in (out, *out.parents):  # the first part of out that exists must be a folder
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(f"{folder}: exists and is not a folder (out must be a folder, got {str(out)!r})")
            break
    converted = {p: _read_master(p) for p in masters}
    out.mkdir(parents=True, exist_ok=True)  # only after every notebook converted: no half-written hand-out
    written = []
    for p, nb in converted.items():
        target = out / p.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written
