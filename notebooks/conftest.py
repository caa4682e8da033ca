"""Notebooks that draw graphs need the Graphviz ``dot`` program: without it they skip, saying so.

Whether a notebook draws is read from its code cells (the drawing calls below), so a new notebook needs no
marking. Everything else in the notebooks runs everywhere.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

DRAWS = re.compile(r"\.draw\(|draw_dot\(|forward_frames\(|backward_frames\(|player\(|\.pipe\(|\.render\(|\.show\(\)")
NO_DOT = "the notebook draws graphs with the Graphviz 'dot' executable, which is not installed"


def draws(path) -> bool:
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    return any(DRAWS.search("".join(c.get("source", ""))) for c in cells if c.get("cell_type") == "code")


def pytest_collection_modifyitems(config, items):
    if shutil.which("dot") is not None:
        return
    for item in items:
        if item.path.suffix == ".ipynb" and draws(item.path):
            item.add_marker(pytest.mark.skip(reason=NO_DOT))
