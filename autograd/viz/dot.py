"""Drawing a computation graph as DOT: record nodes for Values, small nodes for ops, clusters per module."""

from __future__ import annotations

import functools
import itertools
import os
import pathlib
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..graph import topological_order
from ..table import BUILTINS
from .numbers import number_text

if TYPE_CHECKING:
    import graphviz

    from ..value import Value

__all__ = ["draw_dot", "GraphvizNotInstalledError", "INSTALL_HELP"]

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


def _is_value(x: Any) -> bool:
    # A Value, recognised by its fields: viz imports no Value, so that Value.draw can import viz.
    return hasattr(x, "parents") and hasattr(x, "fn") and hasattr(x, "grad")

# Colours of the lectures' figures: green = value known, red = gradient of the output known.
FWD_COLOUR = {"fill": "#c8ecc8", "now": "#5cb85c", "line": "#2e7d32"}
BWD_COLOUR = {"fill": "#f6c6c6", "now": "#e8585a", "line": "#b71c1c"}
UNKNOWN_GRAD = 'color="#b8b8b8" fontcolor="#a8a8a8"'


class GraphvizNotInstalledError(RuntimeError):
    """Rendering needs the Graphviz ``dot`` executable, which is not installed (see INSTALL_HELP).

    The instances actually raised are of ``autograd.viz.dot.GraphvizNotFound``, which also subclasses
    ``graphviz.ExecutableNotFound``.
    """


# --- escaping ---------------------------------------------------------------------------------
# Inside a DOT string only \" is read by the parser; other backslashes reach the label, where \\
# is a backslash and \n a line break.  Record labels also give { } | < > a meaning.
# NUL cannot appear in DOT at all; the rest would be read as DOT syntax or escape sequences.
# Graphviz reads HTML entities in labels ("&amp;" would print as "&"): & is written as &amp; so that
# every label prints as typed.
_PLAIN = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "", "\0": "", "&": "&amp;"})
_RECORD = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "", "\0": "", "&": "&amp;",
     **{c: "\\" + c for c in "{}|<>"}}
)

# "layers.0.neurons.3.w[1]" -> module "layers.0.neurons.3", name "w[1]"; "3.14" and "w[0.5]" do not
# split because a module path starts with an identifier and is made of identifiers and indices.
_MODULE_PATH = re.compile(r"([A-Za-z_]\w*(?:\.\w+)*)\.(.+)", re.S)


# --- graphviz, imported on first use --------------------------------------------------------------
@functools.cache
def graphviz_module() -> tuple[Any, type, type]:
    """(graphviz module, our Digraph class, our missing-executable error class)."""
    import graphviz

    class GraphvizNotFound(GraphvizNotInstalledError, graphviz.ExecutableNotFound):
        def __init__(self, message: str) -> None:
            RuntimeError.__init__(self, message)

    def guarded(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                if isinstance(e, GraphvizNotInstalledError):
                    raise
                raise GraphvizNotFound(f"{INSTALL_HELP}\n({e})") from e

        return call

    class Digraph(graphviz.Digraph):
        """A graphviz.Digraph whose rendering explains how to install Graphviz if ``dot`` is missing.

        Also ``save(path)`` (format from the suffix) and ``show()`` (the system viewer) for scripts;
        in Jupyter it displays inline as SVG.
        """

        pipe = guarded(graphviz.Digraph.pipe)
        render = guarded(graphviz.Digraph.render)
        unflatten = guarded(graphviz.Digraph.unflatten)
        save = _save  # replaces graphviz's save, which writes the DOT source only
        show = _show

    Digraph.__module__ = GraphvizNotFound.__module__ = __name__
    Digraph.__qualname__, GraphvizNotFound.__qualname__ = "Digraph", "GraphvizNotFound"  # as printed
    return graphviz, Digraph, GraphvizNotFound


def __getattr__(name: str) -> Any:
    """``autograd.viz.dot.GraphvizNotFound``, the class raised (made with graphviz, imported on first use)."""
    if name == "GraphvizNotFound":
        return graphviz_module()[2]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_SAVE_FORMATS = ("svg", "png", "pdf", "dot")


def _save(self: Any, path: str | os.PathLike | None = None, **graphviz_args: Any) -> Any:
    """Write the drawing to ``path``, in the format its suffix names (.svg, .png, .pdf or .dot); returns the path.

    Unlike graphviz's ``render`` it leaves no DOT file beside the picture.
    """
    if path is None or graphviz_args:  # graphviz's own call from render(): save the DOT source as it does
        import graphviz

        return graphviz.Digraph.save(self, path, **graphviz_args)
    target = pathlib.Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in _SAVE_FORMATS:
        raise ValueError(f"save: path must end in .svg, .png, .pdf or .dot, got {str(path)[:200]!r}")
    if fmt == "dot":
        target.write_text(self.source, encoding="utf-8")
    else:
        target.write_bytes(self.pipe(format=fmt))
    return target


def _show(self: Any) -> pathlib.Path:
    """Open the drawing (as SVG, in a temporary file) in the system's viewer; returns the file's path."""
    import graphviz

    fd, name = tempfile.mkstemp(prefix="chalkgrad-graph-", suffix=".svg")
    os.close(fd)  # the viewer starts after we return, so the file must stay
    path: pathlib.Path = _save(self, name)
    try:
        graphviz.view(path, quiet=True)
    except (OSError, RuntimeError) as error:
        path.unlink()
        raise RuntimeError(
            f"show: no viewer could be started for {path} ({error}); "
            f"write the drawing with save('graph.svg') and open that; in Jupyter the graph shows inline"
        ) from None
    return path


# --- the drawing ------------------------------------------------------------------------------
class Layout:
    """Everything about a graph's drawing that does not change from frame to frame."""

    def __init__(self, roots: Sequence[Value], nodes: list[Value], precision: int, cluster: bool,
                 compact: bool = False, rankdir: str = "LR") -> None:
        self.roots = roots
        self.rankdir = rankdir
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
            op = v.fn
            if op is None:
                continue
            ps = v.parents
            if op is BUILTINS["dot"]:  # inputs are w_1..w_n, x_1..x_n[, b]: say which is which (not a replaced dot's)
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
        self.groups: list[str] = self._clusters() if cluster else []
        self.merged = self._weight_vectors() if compact else {}

    def _weight_vectors(self) -> dict[int, int]:
        """Labelled weight leaves used by a single ``dot`` node -> that node: drawn as one table."""
        uses: dict[int, int] = {}
        for tail, _, _ in self.edges:
            if tail[0] == "n":
                uses[int(tail[1:])] = uses.get(int(tail[1:]), 0) + 1
        merged = {}
        for i, v in enumerate(self.nodes):
            if v.fn is BUILTINS["dot"]:
                for p in v.parents[: len(v.parents) // 2]:
                    j = self.index[p]
                    if p.fn is None and p.label and uses[j] == 1:
                        merged[j] = i
        return merged

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
            elif v.fn is None:
                g = ""
            else:
                own = [group[index[p]] for p in v.parents if p.fn is None and group[index[p]]]
                g = _common_module(own or [group[index[p]] for p in v.parents])
            group.append(g)
        return group

    def record(self, i: int, data: bool, grad: bool | str, grad_value: Any = None) -> str:
        v = self.nodes[i]
        fields = []
        if self.names[i]:
            fields.append(self.names[i].translate(_RECORD))
        if data:
            fields.append(f"data {number_text(v.data, self.precision)}")
        if grad == "unknown":  # a backward frame before this node's gradient is computed
            fields.append("grad ?")
        elif grad:
            fields.append(f"grad {number_text(v.grad if grad_value is None else grad_value, self.precision)}")
        return "{" + (" | ".join(fields) or " ") + "}"

    def _table(self, members: list[int], record: Callable[[int], str]) -> str:
        """One record whose rows are the members' own records (rows stack along the rank axis)."""
        rows = " | ".join(record(j) for j in sorted(members))
        return rows if self.rankdir in ("LR", "RL") else "{" + rows + "}"

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
        tables: dict[int, list[int]] = {}  # dot node -> the weight leaves drawn as its table
        for j, i in self.merged.items():
            tables.setdefault(i, []).append(j)
        for i, members in tables.items():
            out = top if not self.cluster else per_group.setdefault(self.groups[i], [])
            out.append(f'\tw{i} [label="{self._table(members, record)}"]\n')
        for i, v in enumerate(nodes):
            if i in self.merged:
                continue
            extra = node_attr(i) if node_attr else ""
            if v in roots and "penwidth" not in extra:
                extra += " penwidth=2"
            if self.cluster and self.names[i] != v.label:
                extra += f' tooltip="{v.label.translate(_PLAIN)}"'
            out = top if not self.cluster else per_group.setdefault(self.groups[i], [])
            out.append(f'\tn{i} [label="{record(i)}"{extra}]\n')
            if v.fn is not None:
                label = v.op_label.translate(_PLAIN)
                out.append(f'\to{i} [label="{label}" shape=ellipse{op_attr(i) if op_attr else ""}]\n')
        body = top if not self.cluster else _cluster_lines(per_group)
        for e, (tail, head, label) in enumerate(self.edges):
            if tail[0] == "n" and int(tail[1:]) in self.merged:
                i = self.merged[int(tail[1:])]
                if tables.pop(i, None) is not None:  # one edge for the whole table
                    body.append(f'\tw{i} -> o{i} [label="w"]\n')
                continue
            attrs = f' label="{label}"' if label else ""
            if edge_attr:
                attrs += edge_attr(e)
            body.append(f"\t{tail} -> {head}{' [' + attrs.strip() + ']' if attrs else ''}\n")
        return body

    def digraph(self, body: list[str], rankdir: str, caption: str = "") -> graphviz.Digraph:
        _, Digraph, _ = graphviz_module()
        graph_attr = {"rankdir": rankdir, "fontname": "Helvetica"}
        if caption:  # graphviz quotes it but keeps backslashes, which DOT reads as escapes (\G, \N)
            caption = caption.replace("\\", "\\\\").replace("\0", "").replace("&", "&amp;")
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


def prepare_graph(
    root: Value | Iterable[Value], rankdir: str, precision: int, max_nodes: int | None, where: str
) -> tuple[list[Value], list[Value]]:
    try:
        roots: list[Any] = [root] if _is_value(root) else list(root) if not isinstance(root, str) else []  # type: ignore[arg-type]
    except TypeError:
        roots = []
    if not roots or not all(_is_value(r) for r in roots):
        raise TypeError(f"{where}: expected a Value (or a list of Values) to draw, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"{where}: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"{where}: precision (significant digits) must be an int from 1 to 17, got {precision!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)):
        raise TypeError(f"{where}: max_nodes must be an int or None, got {max_nodes!r}")
    nodes = topological_order(roots)
    if max_nodes is not None and len(nodes) > max_nodes:
        ops = sum(1 for v in nodes if v.fn is not None)
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
    compact: bool = False,
) -> graphviz.Digraph:
    """The graph that produced ``root`` as a ``graphviz.Digraph``: inline SVG in Jupyter, ``save``/``show`` in scripts.

    One record node per Value (label | data | grad), one small node per operation; numbers have
    ``precision`` significant digits (``number_text``: a tiny gradient is never drawn as 0).  ``cluster=True``
    boxes values whose labels are module paths (``layers.0.neurons.3.w[1]``) by module; a graph of
    more than ``max_nodes`` values raises ``ValueError`` (``None``: no limit).  ``compact=True``
    draws the labelled weights of each ``dot`` node as one table with one row per weight, which
    keeps a whole MLP readable (with ``cluster=True`` and ``rankdir="TB"``: layers top to bottom).

    >>> from autograd import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * x).tanh(); y.label = "y"
    >>> g = draw_dot(y, precision=2)
    >>> "{y | data 1.0 | grad 0}" in g.source
    True
    """
    roots, nodes = prepare_graph(root, rankdir, precision, max_nodes, "draw_dot")
    layout = Layout(roots, nodes, precision, cluster, compact, rankdir)
    body = layout.lines(lambda i: layout.record(i, show_data, show_grad))
    return layout.digraph(body, rankdir)


# --- step by step ------------------------------------------------------------------------------
