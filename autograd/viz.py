"""Drawing computation graphs, and the forward and backward pass step by step.

``draw_dot(root)`` returns a :class:`graphviz.Digraph`: one record node per Value (label, data,
grad) and one small node per operation between its inputs and its output.  ``forward_frames`` and
``backward_frames`` return one such drawing per step of the engine's own order, coloured as in the
lectures (green: value known, red: gradient known), and ``player(frames)`` turns them into a
self-contained HTML page with previous / next / play buttons and a slider.

graphviz is imported inside the functions that need it: ``import autograd`` stays standard-library
only, and DOT source can be produced even where the ``dot`` executable is missing.
"""

from __future__ import annotations

import functools
import html
import itertools
import math
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .backends import FLOAT
from .graph import topological_order
from .value import Value

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "draw_dot",
    "forward_frames",
    "backward_frames",
    "player",
    "Player",
    "GraphvizNotInstalledError",
    "INSTALL_HELP",
]

INSTALL_HELP = (
    "The Graphviz 'dot' executable was not found on PATH, so the graph cannot be rendered "
    "(its DOT text is still available as .source). Install Graphviz, then restart Python:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz\n"
    "  Windows:        winget install graphviz  (or the installer from "
    "https://graphviz.org/download/), and add its bin folder to PATH\n"
    "The Python package alone (pip install graphviz) does not include the executable."
)

_RANKDIRS = ("LR", "RL", "TB", "BT")

# Colours of the lectures' figures: green = value known, red = gradient of the output known.
_FWD = {"fill": "#c8ecc8", "now": "#5cb85c", "line": "#2e7d32"}
_BWD = {"fill": "#f6c6c6", "now": "#e8585a", "line": "#b71c1c"}
_UNKNOWN = 'color="#b8b8b8" fontcolor="#a8a8a8"'


class GraphvizNotInstalledError(RuntimeError):
    """Rendering needs the Graphviz ``dot`` executable, which is not installed (see INSTALL_HELP).

    The instances actually raised also subclass ``graphviz.ExecutableNotFound``.
    """


# --- escaping ---------------------------------------------------------------------------------
# Inside a DOT string only \" is read by the parser; other backslashes reach the label, where \\
# is a backslash and \n a line break.  Record labels also give { } | < > a meaning.
_PLAIN = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": ""})
_RECORD = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "", **{c: "\\" + c for c in "{}|<>"}}
)

# "layers.0.neurons.3.w[1]" -> module "layers.0.neurons.3", name "w[1]"; "3.14" and "w[0.5]" do not
# split because a module path starts with an identifier and is made of identifiers and indices.
_MODULE_PATH = re.compile(r"([A-Za-z_]\w*(?:\.\w+)*)\.(.+)", re.S)


def _num(x: Any, precision: int) -> str:
    """A number at ``precision`` decimals; tiny and huge magnitudes in exponent form."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    a = abs(x)
    if a and (a >= 1e6 or a < 0.5 * 10.0 ** -precision):
        # a vanishing gradient must not print as 0.0000
        return f"{x:.{precision}e}"
    return f"{x:.{precision}f}"


# --- graphviz, imported on first use --------------------------------------------------------------
@functools.cache
def _graphviz() -> tuple[Any, type, type]:
    """(graphviz module, our Digraph class, our missing-executable error class)."""
    import graphviz

    class GraphvizNotFound(GraphvizNotInstalledError, graphviz.ExecutableNotFound):
        def __init__(self, message: str) -> None:
            RuntimeError.__init__(self, message)

    def guarded(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                if isinstance(e, GraphvizNotInstalledError):
                    raise
                raise GraphvizNotFound(f"{INSTALL_HELP}\n({e})") from e

        return call

    class Digraph(graphviz.Digraph):
        """A graphviz.Digraph whose rendering explains how to install Graphviz if ``dot`` is missing."""

        pipe = guarded(graphviz.Digraph.pipe)
        render = guarded(graphviz.Digraph.render)
        unflatten = guarded(graphviz.Digraph.unflatten)

    Digraph.__module__ = __name__
    GraphvizNotFound.__module__ = __name__
    return graphviz, Digraph, GraphvizNotFound


# --- the drawing ------------------------------------------------------------------------------
class _Layout:
    """Everything about a graph's drawing that does not change from frame to frame."""

    def __init__(self, roots: Sequence[Value], nodes: list[Value], precision: int, cluster: bool) -> None:
        self.roots = roots
        self.nodes = nodes
        self.precision = precision
        self.cluster = cluster
        index = {v: i for i, v in enumerate(nodes)}
        self.index = index
        # edges[e] = (tail id, head id, edge label); edge_keys[e] = (index of the op's output,
        # input position, or -1 for the op -> output edge)
        edges: list[tuple[str, str, str]] = []
        self.edge_keys: list[tuple[int, int]] = []
        self.out_edge: dict[int, int] = {}  # op node index -> its output edge
        for i, v in enumerate(nodes):
            op = v._op
            if op is None:
                continue
            ps = v.parents
            if op.name == "dot":  # inputs are w_1..w_n, x_1..x_n[, b]: say which is which
                n = len(ps) // 2
                names = [f"w{k + 1}" for k in range(n)] + [f"x{k + 1}" for k in range(n)] + ["b"]
            else:
                names = None
            for k, p in enumerate(ps):
                edges.append((f"n{index[p]}", f"o{i}", names[k] if names else ""))
                self.edge_keys.append((i, k))
            self.out_edge[i] = len(edges)
            edges.append((f"o{i}", f"n{i}", ""))
            self.edge_keys.append((i, -1))
        self.edges = edges
        self.names = [v.label for v in nodes]
        self.groups = self._clusters() if cluster else None

    def _clusters(self) -> list[str]:
        """Module path of every node ('' = top level); also shortens names to the part after it.

        A labelled parameter belongs to the module its dotted label names; a computed node joins
        the module of its labelled parameter inputs (a neuron's w·x+b joins that neuron), otherwise
        the innermost module holding all its inputs.  One pass: parents come first.
        """
        group: list[str] = []
        index = self.index
        for i, v in enumerate(self.nodes):
            m = _MODULE_PATH.fullmatch(v.label) if v.label else None
            if m:
                g = m.group(1)
                self.names[i] = m.group(2)
            elif v._op is None:
                g = ""
            else:
                own = [group[index[p]] for p in v.parents if p._op is None and group[index[p]]]
                g = _common_module(own or [group[index[p]] for p in v.parents])
            group.append(g)
        return group

    def record(self, i: int, data: bool, grad: bool, grad_value: Any = None) -> str:
        v = self.nodes[i]
        fields = []
        if self.names[i]:
            fields.append(self.names[i].translate(_RECORD))
        if data:
            fields.append(f"data {_num(v.data, self.precision)}")
        if grad:
            fields.append(f"grad {_num(v.grad if grad_value is None else grad_value, self.precision)}")
        return "{" + (" | ".join(fields) or " ") + "}"

    def lines(
        self,
        record: Callable[[int], str],
        node_attr: Callable[[int], str] | None = None,
        op_attr: Callable[[int], str] | None = None,
        edge_attr: Callable[[int], str] | None = None,
    ) -> list[str]:
        """DOT body lines: value and op nodes (inside their clusters), then every edge."""
        nodes = self.nodes
        per_group: dict[str, list[str]] = {}
        top: list[str] = []
        roots = set(self.roots)
        for i, v in enumerate(nodes):
            extra = node_attr(i) if node_attr else ""
            if v in roots and "penwidth" not in extra:
                extra += " penwidth=2"
            if self.cluster and self.names[i] != v.label:
                extra += f' tooltip="{v.label.translate(_PLAIN)}"'
            out = top if not self.cluster else per_group.setdefault(self.groups[i], [])
            out.append(f'\tn{i} [label="{record(i)}"{extra}]\n')
            if v._op is not None:
                label = v.op_label.translate(_PLAIN)
                out.append(f'\to{i} [label="{label}" shape=ellipse{op_attr(i) if op_attr else ""}]\n')
        body = top if not self.cluster else _cluster_lines(per_group)
        for e, (tail, head, label) in enumerate(self.edges):
            attrs = f' label="{label}"' if label else ""
            if edge_attr:
                attrs += edge_attr(e)
            body.append(f"\t{tail} -> {head}{' [' + attrs.strip() + ']' if attrs else ''}\n")
        return body

    def digraph(self, body: list[str], rankdir: str, caption: str = "") -> graphviz.Digraph:
        _, Digraph, _ = _graphviz()
        graph_attr = {"rankdir": rankdir, "fontname": "Helvetica"}
        if caption:
            graph_attr.update(label=caption, labelloc="t", fontsize="13")
        return Digraph(
            name="chalkgrad",
            graph_attr=graph_attr,
            node_attr={"shape": "record", "fontname": "Helvetica", "fontsize": "11", "height": "0.3",
                       "margin": "0.06,0.03"},
            edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
            body=body,
        )


def _common_module(paths: list[str]) -> str:
    """Innermost module containing every path ('' = top level)."""
    first = paths[0] if paths else ""
    if all(p == first for p in paths):
        return first
    parts = [p.split(".") if p else [] for p in paths]
    common = []
    for column in zip(*parts):
        if any(c != column[0] for c in column):
            break
        common.append(column[0])
    return ".".join(common)


def _cluster_lines(per_group: dict[str, list[str]]) -> list[str]:
    """Nested ``subgraph cluster_k`` blocks, one per module path, built without recursion."""
    children: dict[str, list[str]] = {"": []}
    for path in sorted(per_group):
        parts = path.split(".") if path else []
        for k in range(len(parts)):
            child, parent = ".".join(parts[: k + 1]), ".".join(parts[:k])
            if child not in children:
                children[child] = []
                children.setdefault(parent, []).append(child)
    body = list(per_group.get("", []))
    ids = itertools.count()
    # a module with no nodes of its own and a single sub-module would only draw a box in a box
    stack: list[tuple[str, bool]] = [(c, True) for c in reversed(children[""])]
    while stack:
        path, opening = stack.pop()
        if not opening:
            body.append("\t}\n")
            continue
        own, subs = per_group.get(path, []), children.get(path, [])
        if not own and len(subs) == 1:
            stack.append((subs[0], True))
            continue
        body.append(f"\tsubgraph cluster_{next(ids)} {{\n")
        body.append(f'\t\tlabel="{path.translate(_PLAIN)}" style="rounded,dashed" color="#7a7a7a" '
                    'fontsize=10 labeljust=l\n')
        body.extend("\t" + line for line in own)
        stack.append((path, False))
        stack.extend((c, True) for c in reversed(subs))
    return body


def _prepare(
    root: Value | Iterable[Value], rankdir: str, precision: int, max_nodes: int | None, where: str
) -> tuple[list[Value], list[Value]]:
    try:
        roots = [root] if isinstance(root, Value) else list(root) if not isinstance(root, str) else []
    except TypeError:
        roots = []
    if not roots or not all(isinstance(r, Value) for r in roots):
        raise TypeError(f"{where}: expected a Value (or a list of Values) to draw, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"{where}: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 17:
        raise ValueError(f"{where}: precision must be an int from 0 to 17, got {precision!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)):
        raise TypeError(f"{where}: max_nodes must be an int or None, got {max_nodes!r}")
    nodes = topological_order(roots)
    if max_nodes is not None and len(nodes) > max_nodes:
        ops = sum(1 for v in nodes if v._op is not None)
        raise ValueError(
            f"{where}: the graph has {len(nodes)} values (and {ops} operations), more than "
            f"max_nodes={max_nodes}. To draw it anyway pass max_nodes={len(nodes)} (or max_nodes=None; "
            f"large graphs take graphviz a long time to lay out); or draw a sub-graph by calling "
            f"{where} on a value nearer the inputs (e.g. one neuron's output instead of the loss); "
            f"or pass cluster=True to box the values by module so a big network stays legible."
        )
    return roots, nodes


def draw_dot(
    root: Value | Iterable[Value],
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    precision: int = 4,
    cluster: bool = False,
    max_nodes: int | None = 500,
) -> graphviz.Digraph:
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (SVG in Jupyter, ``.render`` to files).

    One record node per Value (label | data | grad), one small node per operation.  ``cluster=True``
    boxes values whose labels are module paths (``layers.0.neurons.3.w[1]``) by module; a graph of
    more than ``max_nodes`` values raises ``ValueError`` (``None``: no limit).

    >>> from autograd import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * x).tanh(); y.label = "y"
    >>> g = draw_dot(y, precision=2)
    >>> "{y | data 1.00 | grad 0.00}" in g.source
    True
    """
    roots, nodes = _prepare(root, rankdir, precision, max_nodes, "draw_dot")
    layout = _Layout(roots, nodes, precision, cluster)
    body = layout.lines(lambda i: layout.record(i, show_data, show_grad))
    return layout.digraph(body, rankdir)


# --- step by step ------------------------------------------------------------------------------
def _styles(colours: dict[str, str], known: Callable[[int], bool], current: int,
            hot_edges: set[int], layout: _Layout) -> tuple[Callable, Callable, Callable]:
    hot_ops = {layout.edge_keys[e][0] for e in hot_edges}

    def node_attr(i: int) -> str:
        if i == current:
            return f' style=filled fillcolor="{colours["now"]}" color="{colours["line"]}" penwidth=3'
        if known(i):
            return f' style=filled fillcolor="{colours["fill"]}" color="{colours["line"]}"'
        return " " + _UNKNOWN

    def op_attr(i: int) -> str:
        if i in hot_ops:
            return f' style=filled fillcolor="{colours["now"]}" color="{colours["line"]}" penwidth=2'
        if known(i):
            return f' style=filled fillcolor="{colours["fill"]}" color="{colours["line"]}"'
        return " " + _UNKNOWN

    def edge_attr(e: int) -> str:
        if e in hot_edges:
            return f' color="{colours["line"]}" penwidth=3'
        consumer, _ = layout.edge_keys[e]
        return "" if known(consumer) else ' color="#c8c8c8"'

    return node_attr, op_attr, edge_attr


def _name(layout: _Layout, i: int) -> str:
    v = layout.nodes[i]
    return v.label or _num(v.data, layout.precision)


def _call(layout: _Layout, i: int) -> str:
    v = layout.nodes[i]
    args = [_name(layout, layout.index[p]) for p in v.parents]
    if len(args) > 6:
        args = args[:3] + ["…"] + args[-2:]
    return f"{v.op_label}({', '.join(args)})"


def forward_frames(
    root: Value,
    rankdir: str = "LR",
    precision: int = 4,
    cluster: bool = False,
    max_nodes: int | None = 100,
) -> list[graphviz.Digraph]:
    """One drawing per forward step, in creation order (the engine's topological order).

    Step k makes the k-th node's value known (green); the current node and the edges it is
    computed through are highlighted.  Values not yet known are greyed out.
    """
    roots, nodes = _prepare(root, rankdir, precision, max_nodes, "forward_frames")
    layout = _Layout(roots, nodes, precision, cluster)
    incoming: dict[int, set[int]] = {}
    for e, (consumer, _) in enumerate(layout.edge_keys):
        incoming.setdefault(consumer, set()).add(e)
    frames = []
    n = len(nodes)
    for step, v in enumerate(nodes):
        if v._op is None:
            what = f"{v.label or 'constant'} = {_num(v.data, precision)} is given"
        else:
            what = f"{v.label + ' = ' if v.label else ''}{_call(layout, step)} = {_num(v.data, precision)}"
        node_attr, op_attr, edge_attr = _styles(
            _FWD, lambda i, s=step: i <= s, step, incoming.get(step, set()), layout
        )
        body = layout.lines(lambda i: layout.record(i, True, False), node_attr, op_attr, edge_attr)
        frames.append(layout.digraph(body, rankdir, f"forward pass, step {step + 1}/{n}: {what}"))
    return frames


def backward_frames(
    root: Value,
    rankdir: str = "LR",
    precision: int = 4,
    cluster: bool = False,
    max_nodes: int | None = 100,
) -> list[graphviz.Digraph]:
    """One drawing per backward step, in the order ``root.backward()`` visits nodes (reverse topological).

    Step k makes the k-th visited node's gradient d(root)/d(node) known (red): every use of the node
    has already sent its share back, along the highlighted edges.  The gradients shown are those of
    one backward pass from ``root``, computed from the op table without touching ``.grad``; the last
    frame has every gradient known.
    """
    roots, nodes = _prepare(root, rankdir, precision, max_nodes, "backward_frames")
    if len(roots) != 1:
        raise ValueError("backward_frames: needs a single root Value (the one backward() is called on)")
    layout = _Layout(roots, nodes, precision, cluster)
    order = nodes[::-1]  # exactly Value.backward's order: topological_order(root, reverse=True)
    grads = _one_pass_gradients(order)
    index = layout.index
    used: dict[int, set[int]] = {}  # node -> edges its gradient arrives through
    for e, (consumer, k) in enumerate(layout.edge_keys):
        if k >= 0:
            parent = index[nodes[consumer].parents[k]]
            used.setdefault(parent, set()).update((e, layout.out_edge[consumer]))
    rank = {index[v]: s for s, v in enumerate(order)}
    frames = []
    n = len(nodes)
    for step, v in enumerate(order):
        i = index[v]
        g = _num(grads[i], precision)
        name = v.label or (v.op_label and f"{v.op_label}(…)") or _num(v.data, precision)
        if step == 0:
            what = f"d{name}/d{name} = 1 (the seed)"
        else:
            uses = sum(1 for e in used.get(i, ()) if layout.edge_keys[e][1] >= 0)
            what = f"gradient of {name} = {g}, summed over its {uses} use{'s' if uses != 1 else ''}"
        node_attr, op_attr, edge_attr = _styles(
            _BWD, lambda j, s=step: rank[j] <= s, i, used.get(i, set()), layout
        )
        body = layout.lines(lambda j: layout.record(j, True, True, grads[j]), node_attr, op_attr, edge_attr)
        frames.append(layout.digraph(body, rankdir, f"backward pass, step {step + 1}/{n}: {what}"))
    return frames


def _one_pass_gradients(order: list[Value]) -> list[float]:
    """d(root)/d(node) for one backward pass, by topological index; reads the op table, writes nothing."""
    index = {v: len(order) - 1 - s for s, v in enumerate(order)}
    grads = [0.0] * len(order)
    grads[index[order[0]]] = 1.0
    for v in order:
        op = v._op
        if op is None:
            continue
        g = grads[index[v]]
        for p, d in zip(v.parents, op.partials(FLOAT, v.data, *[p.data for p in v.parents])):
            grads[index[p]] += g * d
    return grads


# --- the player ----------------------------------------------------------------------------------
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
        self.interval_ms = int(interval_ms)
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
    graphviz, _, missing = _graphviz()
    source = "".join(g.source for g in graphs)
    try:
        out = graphviz.pipe("dot", "svg", source.encode("utf-8")).decode("utf-8")
    except graphviz.ExecutableNotFound as e:
        raise missing(f"{INSTALL_HELP}\n({e})") from e
    svgs = ["<svg" + part.split("</svg>")[0] + "</svg>" for part in out.split("<svg")[1:]]
    if len(svgs) != len(graphs):  # pragma: no cover - a graph that dot splits or merges
        svgs = [g.pipe(format="svg", encoding="utf-8") for g in graphs]
    return svgs
