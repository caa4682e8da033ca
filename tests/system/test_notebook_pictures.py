"""The lecture notebooks read well where students read them: nbconvert HTML and the site (committed outputs).

A drawing is shrunk to the width of the page's column when it is wider: notebook 01 once capped its
graphs with graphviz's size="5,1.6", which printed their labels at about 7 px.  Markdown is not LaTeX:
a caret (e^−z) prints as a caret.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
COLUMN_PX = 700  # the site's content column (mkdocs-material); nbconvert's page is wider
MIN_TEXT_PX = 10
SVG = "{http://www.w3.org/2000/svg}"


def svgs(notebook: Path) -> list[str]:
    """Every SVG in the notebook's committed outputs: drawings, and the frames inside a player's HTML."""
    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/svg+xml" in data:
                found.append("".join(data["image/svg+xml"]))
            found += re.findall(r"<svg\b.*?</svg>", "".join(data.get("text/html", "")), re.S)
    return found


def smallest_text_px(svg: str) -> float:
    """The smallest label's height in CSS pixels once the drawing is fitted to the column."""
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", svg))
    width_pt = float(root.get("width").removesuffix("pt"))
    view_width = float(root.get("viewBox").split()[2])
    graph = root.find(f"{SVG}g")
    scale = float(re.search(r"scale\(([\d.]+)", graph.get("transform", "scale(1)")).group(1))
    width_px = width_pt * 4 / 3
    fit = min(1.0, COLUMN_PX / width_px)
    sizes = [float(t.get("font-size")) for t in root.iter(f"{SVG}text") if t.get("font-size")]
    return min(sizes) * scale * (width_pt / view_width) * 4 / 3 * fit


def test_the_measure_sees_a_size_capped_drawing_as_unreadable():
    graphviz = pytest.importorskip("graphviz")
    from autograd import Value, draw_dot

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    d = a * b + Value(10.0, label="c")
    try:
        natural = draw_dot(d).pipe(format="svg", encoding="utf-8")
        capped = draw_dot(d)
        capped.graph_attr["size"] = "5,1.6"
        capped = capped.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        pytest.skip("the Graphviz 'dot' executable is not installed")
    assert smallest_text_px(capped) < MIN_TEXT_PX <= smallest_text_px(natural)


def test_notebook_01_drawings_are_readable_in_html():
    drawings = svgs(NOTEBOOKS / "01_values_and_graphs.ipynb")
    assert len(drawings) >= 5  # four graphs and the player's frames
    sizes = [smallest_text_px(svg) for svg in drawings]
    assert min(sizes) >= MIN_TEXT_PX, sizes


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_markdown_has_no_literal_caret(notebook):
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for code_or_math in (r"```.*?```", r"`[^`]*`", r"\$\$.*?\$\$", r"\$[^$]*\$"):
            text = re.sub(code_or_math, "", text, flags=re.S)
        assert "^" not in text, text[max(0, text.index("^") - 40): text.index("^") + 20]
