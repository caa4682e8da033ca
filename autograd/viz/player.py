"""A self-contained HTML player for frames: inline SVGs, previous / next / play and a slider."""

from __future__ import annotations

import html
import math
import numbers
import re
import uuid
from collections.abc import Sequence
from typing import Any

from .dot import INSTALL_HELP, graphviz_module

_SCRIPT = """(function () {
  var root = document.getElementById("%(id)s");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var frames = root.querySelectorAll(".cg-frame"), n = frames.length, i = 0, timer = null;
  var slider = root.querySelector(".cg-slider"), count = root.querySelector(".cg-count");
  var play = root.querySelector(".cg-play"), next = root.querySelector(".cg-next");
  function show(k) {
    i = Math.max(0, Math.min(n - 1, k));
    for (var j = 0; j < n; j++) frames[j].style.display = j === i ? "block" : "none";
    slider.value = i; count.textContent = (i + 1) + " / " + n; root.setAttribute("data-step", i);
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "\\u25B6 play"; }
  root.querySelector(".cg-prev").onclick = function () { stop(); show(i - 1); };
  next.onclick = function () { stop(); show(i + 1); };
  slider.oninput = function () { stop(); show(+slider.value); };
  play.onclick = function () {
    if (timer) { stop(); return; }
    if (i >= n - 1) show(0);
    play.textContent = "\\u275A\\u275A pause";
    timer = setInterval(function () { if (i >= n - 1) stop(); else show(i + 1); }, %(interval)d);
  };
  show(0);
  // a link to page.html#next=3 opens three steps in; #play starts playing
  var m = /next=(\\d+)/.exec(location.hash);
  for (var k = 0; m && k < +m[1]; k++) next.click();
  if (/(^#|&)play\\b/.test(location.hash)) play.click();
})();"""

_STYLE = """#%(id)s { font-family: Helvetica, Arial, sans-serif; }
#%(id)s .cg-controls { display: flex; gap: 6px; align-items: center; margin: 4px 0; }
#%(id)s .cg-controls button { font-size: 13px; padding: 2px 10px; cursor: pointer; }
#%(id)s .cg-slider { flex: 1; max-width: 420px; }
#%(id)s .cg-frame svg { max-width: 100%%; height: auto; }"""


class Player:
    """Frames as one self-contained HTML player: inline SVGs, plain JavaScript, no network.

    Shows itself in Jupyter (``_repr_html_``); ``save("steps.html")`` writes a page for any browser.
    """

    def __init__(self, svgs: list[str], interval_ms: int = 900, title: str = "chalkgrad") -> None:
        if not svgs:
            raise ValueError("player: needs at least one frame, got none")
        self.svgs = svgs
        self.interval_ms = _interval(interval_ms)
        self.title = title

    def __len__(self) -> int:
        return len(self.svgs)

    def _repr_html_(self) -> str:
        # a fresh id per display: a notebook may show one player twice, or keep outputs of an
        # earlier kernel session on the page, and each copy's script must find its own buttons
        pid, n = f"chalkgrad-player-{uuid.uuid4().hex[:12]}", len(self.svgs)
        frames = "\n".join(
            f'<div class="cg-frame" data-frame="{k}" style="display:{"block" if k == 0 else "none"}">'
            f"{_scoped_svg(svg, f'{pid}-{k}-')}</div>"
            for k, svg in enumerate(self.svgs)
        )
        return (
            f'<div class="chalkgrad-player" id="{pid}" data-step="0">\n'
            f"<style>{_STYLE % {'id': pid}}</style>\n"
            '<div class="cg-controls">'
            '<button type="button" class="cg-prev" title="previous step">&#9664; prev</button>'
            '<button type="button" class="cg-play" title="play / pause">&#9654; play</button>'
            '<button type="button" class="cg-next" title="next step">next &#9654;</button>'
            f'<input type="range" class="cg-slider" min="0" max="{n - 1}" value="0" step="1" '
            'aria-label="step">'
            f'<span class="cg-count">1 / {n}</span></div>\n'
            f"{frames}\n"
            f"<script>{_SCRIPT % {'id': pid, 'interval': self.interval_ms}}</script>\n"
            "</div>"
        )

    def html(self) -> str:
        """A complete HTML page holding the player."""
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.title)}</title>\n</head>\n<body>\n"
            f"{self._repr_html_()}\n</body>\n</html>\n"
        )

    def save(self, path: str) -> str:
        """Write the player as a standalone HTML page and return the path."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html())
        return path


def _interval(interval_ms: Any) -> int:
    """The delay between frames in milliseconds: a whole number >= 1 (not a bool, not "fast")."""
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, numbers.Real):
        raise TypeError(f"player: interval_ms must be a whole number of milliseconds, got "
                        f"{type(interval_ms).__name__} {interval_ms!r:.60}")
    ms = float(interval_ms)
    if not (math.isfinite(ms) and ms >= 1 and ms.is_integer()):
        raise ValueError(f"player: interval_ms must be a whole number of milliseconds >= 1, got {interval_ms!r:.60}")
    return int(ms)


def _scoped_svg(svg: str, prefix: str) -> str:
    """An SVG for inlining: no XML prolog, ids made unique across the frames of one page."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    return re.sub(r'(href="#|url\(#)', lambda m: m.group(1) + prefix, svg)


def player(frames: Sequence[Any], interval_ms: int = 900, title: str = "chalkgrad") -> Player:
    """An HTML player (prev / next / play, slider) for drawings such as ``forward_frames(y)``.

    Frames may be graphviz graphs (rendered to SVG by one run of ``dot``) or SVG strings.

    >>> # player(backward_frames(loss)).save("backward.html")
    """
    interval_ms = _interval(interval_ms)  # before rendering: a bad argument costs no dot run
    frames = list(frames)
    graphs = [k for k, f in enumerate(frames) if not isinstance(f, str)]
    svgs = [f if isinstance(f, str) else "" for f in frames]
    for k, svg in zip(graphs, _render_svgs([frames[k] for k in graphs])):
        svgs[k] = svg
    return Player(svgs, interval_ms, title)


def _render_svgs(graphs: list[Any]) -> list[str]:
    """SVG of every graph from a single ``dot`` process (it lays out each graph of its input)."""
    if not graphs:
        return []
    graphviz, _, missing = graphviz_module()
    source = "".join(g.source for g in graphs)
    try:
        out = graphviz.pipe("dot", "svg", source.encode("utf-8")).decode("utf-8")
    except graphviz.ExecutableNotFound as e:
        raise missing(f"{INSTALL_HELP}\n({e})") from e
    svgs = ["<svg" + part.split("</svg>")[0] + "</svg>" for part in out.split("<svg")[1:]]
    if len(svgs) != len(graphs):  # pragma: no cover - a graph that dot splits or merges
        svgs = [g.pipe(format="svg", encoding="utf-8") for g in graphs]
    return svgs
