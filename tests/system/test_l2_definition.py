"""L2 is defined one way everywhere a user reads it: λ/2·Σ w², which is what nn.l2 computes.

micrograd writes its penalty as alpha·Σ w² (alpha = 1e-4); chalkgrad's pages once said λΣw² for the
playground, whose page computes nn.l2.  Any text that scales a sum of squared weights by a bare
λ / lam / alpha (no /2) states a second definition and fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import nn
from nn import cli

ROOT = Path(__file__).resolve().parents[2]
# a coefficient name directly before a sum of squared weights, with no "/2" between: λΣw², alpha * sum(w**2)
# (either summation sign, an index after it), or the squared norm: λ‖w‖², lambda * ||w||^2
BARE = re.compile(r"(?<![\w/])(?:λ|lam|lambda|α|alpha)\s*(?:·|\*)?\s*"
                  r"(?:(?:Σ|∑|sum)[ᵢⱼ_ij]*\s*(?:of\s+)?\(?\s*(?:w|θ|p\b)|(?:‖|\|\|)\s*(?:w|θ))", re.I)


def readable_texts():
    """(where, text) of every page, notebook cell, module docstring and web page a user reads."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "web" / "src").glob("*")),
                 *sorted((ROOT / "nn").glob("*.py")), *sorted((ROOT / "autograd").rglob("*.py"))]:
        yield path.relative_to(ROOT), path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" not in path.parts:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            yield path.relative_to(ROOT), "\n".join("".join(c["source"]) for c in cells)


@pytest.mark.parametrize("wrong", ["penalty λ Σ w²", "λΣw²", "(ALPHA * sum w^2 = 0.007750)",
                                   "alpha * sum(w * w)", "lam * sum of w^2",
                                   "λ ∑ w²", "λ Σᵢ wᵢ²", "λ‖w‖²", "lambda * ||w||^2"])
def test_the_check_catches_a_second_definition(wrong):
    assert BARE.search(wrong)


@pytest.mark.parametrize("right", ["λ/2·Σ w²", "lam/2 * sum(w^2)", "λ/2 θᵀθ", "micrograd's 1e-4·Σ w²",
                                   "L1 (lasso): λ Σ |w|", "lam1 * sum |w| + lam2/2 * sum w^2",
                                   "λ/2 ‖w‖²", "λ/2 ∑ᵢ wᵢ²"])
def test_the_check_accepts_the_one_definition(right):
    assert not BARE.search(right)


def test_every_page_notebook_and_the_web_page_state_l2_as_nn_l2_computes_it():
    found = [(str(where), text[max(0, m.start() - 40): m.end() + 10])
             for where, text in readable_texts() for m in BARE.finditer(text)]
    assert found == []


def test_nn_l2_is_lambda_over_2_sum_of_squares_and_the_cli_help_says_so(capsys):
    from autograd import Value

    assert nn.l2([Value(1.0), Value(-2.0)], 0.1).data == pytest.approx(0.1 / 2 * 5)
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "the penalty lam/2 * sum(w^2) over all weights (nn.l2)" in help_text
    page = (ROOT / "web" / "src" / "index.html").read_text(encoding="utf-8")
    label = re.search(r'<label title="([^"]*)">[^<]*<input id="pg-l2"', page)
    assert label and "λ/2 · Σ w²" in label[1] and "nn.l2" in label[1]  # the playground's L2 box says what it adds
    row = next(line for line in (ROOT / "docs" / "browser.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| `pg-l2` |"))
    assert "λ/2 · Σ w²" in row and "nn.l2" in row
