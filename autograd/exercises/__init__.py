"""Student versions of exercise notebooks without nbgrader: one master notebook, solutions removed.

    python -m autograd.exercises student notebooks/exercises handout/

The masters (notebooks/exercises/) are an nbgrader course: solution cells, autograded test cells
with points, locked cells, each tagged in the cell metadata as nbgrader's "Create Assignment" tool
does, and the solutions and hidden tests marked as nbgrader marks them::

    def tanh_partials(m, out, x):
        # Hint: tanh'(x) = 1 - tanh(x)**2, and `out` already is tanh(x)
        ### BEGIN SOLUTION
        return (1 - out * out,)
        ### END SOLUTION

``nbgrader generate_assignment`` makes the hand-outs of a graded course.  This module is the quick
path without nbgrader, and it clears exactly what nbgrader clears, by nbgrader's rules: a line
*containing* ``BEGIN SOLUTION`` (whatever its decoration) starts a region that ends at the next line
containing ``END SOLUTION``; the region becomes ``# YOUR CODE HERE`` / ``raise
NotImplementedError()`` at the marker's indentation ("YOUR ANSWER HERE" in a markdown cell); a
solution cell without markers is replaced whole; regions from ``BEGIN HIDDEN TESTS`` to ``END
HIDDEN TESTS`` are removed; every output and execution count is cleared.  A region in a cell not
tagged as a solution (or, for hidden tests, grade) cell, a nested or unclosed region, is an error,
as in nbgrader.  Notebooks are read and written as JSON (no Jupyter packages needed); nothing in
them is executed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

__all__ = ["MarkerError", "student_source", "student_notebook", "write_student_versions"]

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's ClearSolutions.code_stub for python
TEXT_STUB = "YOUR ANSWER HERE"


class MarkerError(ValueError):
    """A master notebook's markers do not pair up or stand in an untagged cell (the message names the cell)."""


def _regions(source: str, begin: str, end: str, stub: str | None, where: str) -> tuple[str, bool]:
    """``source`` with each region from a line containing ``begin`` to one containing ``end`` replaced
    by ``stub`` (indented as the begin line) or removed; and whether there was one (nbgrader's rules)."""
    out: list[str] = []
    inside = found = False
    for number, line in enumerate(source.split("\n"), 1):
        if begin in line:
            if inside:
                raise MarkerError(f"{where}, line {number}: {begin} inside an open {begin}")
            inside = found = True
            if stub is not None:
                indent = line[: len(line) - len(line.lstrip())]
                out.extend(indent + s for s in stub.split("\n"))
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {begin} is never closed (no {end} after it)")
    return "\n".join(out), found


def student_source(source: str, markdown: bool = False, where: str = "source", solution: bool = True,
                   grade: bool = True) -> str:
    """One cell's source as nbgrader hands it out: solutions replaced by the stub, hidden tests removed.

    ``solution`` / ``grade``: whether the cell is tagged as a solution / grade cell (a solution cell
    without markers is replaced whole; markers in an untagged cell are an error)."""
    stub = TEXT_STUB if markdown else CODE_STUB
    text, replaced = _regions(source, BEGIN, END, stub, where)
    if replaced and not solution:
        raise MarkerError(f"{where}: a {BEGIN} region in a cell not tagged as a solution cell (nbgrader refuses it)")
    if solution and not replaced:
        text = stub
    text, removed = _regions(text, BEGIN_HIDDEN, END_HIDDEN, None, where)
    if removed and not grade:
        raise MarkerError(f"{where}: a {BEGIN_HIDDEN} region in a cell not tagged as an autograded test cell")
    return text


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
        tags = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell.get("metadata"), dict) else {}
        tags = tags if isinstance(tags, dict) else {}
        cell["source"] = student_source(text, markdown=kind == "markdown", where=f"{name}, cell {i + 1}",
                                        solution=tags.get("solution") is True, grade=tags.get("grade") is True)
        if kind == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    nb["cells"] = cells
    nb.get("metadata", {}).pop("celltoolbar", None)  # as nbgrader does
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
        return student_notebook(master, str(path))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a notebook (JSON lists or objects inside each other "
                         "thousands of levels deep)") from None


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
