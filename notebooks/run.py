"""Regenerate the lecture notebooks' outputs, or create a notebook from a percent-format script.

    python notebooks/run.py                     # execute every notebooks/NN_*.ipynb in place
    python notebooks/run.py 03_xor.ipynb        # just these
    python notebooks/run.py --from-script draft.py notebooks/03_xor.ipynb   # author, then execute

A percent-format script separates cells with ``# %%`` lines (``# %% [markdown]`` for prose, whose
lines start with ``# ``). Execution uses a fresh kernel per notebook, like the test suite (nbmake),
and refuses any output larger than 1 MB so that the repository stays small.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_OUTPUT_BYTES = 1_000_000


def from_script(script: Path):
    """Build a notebook (without outputs) from a percent-format script."""
    import nbformat

    cells, kind, lines = [], None, []

    def flush():
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in text.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code" and text:
            cells.append(nbformat.v4.new_code_cell(text))

    for line in script.read_text().splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb, path: Path) -> float:
    """Run ``nb`` top to bottom in a fresh kernel (working directory: notebooks/), save it to ``path``."""
    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    seconds = time.perf_counter() - start
    for i, cell in enumerate(nb.cells):
        size = len(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])))
        if size > MAX_OUTPUT_BYTES:
            raise SystemExit(f"{path.name}: cell {i} has {size:,} bytes of output (limit {MAX_OUTPUT_BYTES:,})")
    nbformat.write(nb, str(path))
    return seconds


def main(argv: list[str] | None = None) -> None:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: all NN_*.ipynb)")
    parser.add_argument("--from-script", nargs=2, metavar=("SCRIPT", "NOTEBOOK"),
                        help="create NOTEBOOK from a percent-format SCRIPT, then execute it")
    args = parser.parse_args(argv)
    if args.from_script:
        script, target = map(Path, args.from_script)
        seconds = execute(from_script(script), target)
        print(f"{target.name}: {seconds:.1f} s")
        return
    paths = [HERE / p if not Path(p).is_absolute() and not Path(p).exists() else Path(p) for p in args.notebooks]
    for path in paths or sorted(HERE.glob("[0-9][0-9]_*.ipynb")):
        seconds = execute(nbformat.read(str(path), as_version=4), path)
        print(f"{path.name}: {seconds:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
