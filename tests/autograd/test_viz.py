"""Drawing: DOT source, real rendering through dot, step-by-step frames and the HTML player."""

from __future__ import annotations

import html
import html.parser
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import graphviz
import pytest

import autograd
from autograd import Value, ops, topological_order
from autograd import functions as F
from autograd.viz import (
    GraphvizNotInstalledError,
    backward_frames,
    draw_dot,
    forward_frames,
    number_text,
    player,
)

SVG = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="the Graphviz 'dot' executable is not installed")


# --- helpers ------------------------------------------------------------------------------------
def neuron():
    """o = tanh(w*x + b), the lectures' single neuron: 6 values, 3 operations."""
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    b = Value(6.8813735870195432, label="b")
    o = (w * x + b).tanh()
    o.label = "o"
    return x, w, b, o


_STMT = re.compile(r"^\s*([now]\d+) \[(.*)\]$", re.M)
_EDGE = re.compile(r"^\s*([now]\d+) -> ([no]\d+)(?: \[(.*)\])?$", re.M)
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')


def attrs(text: str | None) -> dict[str, str]:
    return {k: v[1:-1] if v.startswith('"') else v for k, v in _ATTR.findall(text or "")}


def statements(source: str) -> dict[str, dict[str, str]]:
    return {name: attrs(rest) for name, rest in _STMT.findall(source)}


def edges(source: str) -> list[tuple[str, str, dict[str, str]]]:
    return [(t, h, attrs(a)) for t, h, a in _EDGE.findall(source)]


def counts(source: str) -> tuple[int, int, int]:
    st = statements(source)
    return (sum(k[0] == "n" for k in st), sum(k[0] == "o" for k in st), len(edges(source)))


def node_ids(nodes):
    """The DOT id draw_dot gives each value: its position in topological order."""
    return {v: f"n{i}" for i, v in enumerate(nodes)}


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


# --- DOT source ---------------------------------------------------------------------------------
def test_counts_labels_and_op_symbols_come_from_the_graph_and_op_table():
    x, w, b, o = neuron()
    g = draw_dot(o)
    assert isinstance(g, graphviz.Digraph)
    assert counts(g.source) == (6, 3, 8)  # 5 inputs into 3 ops + 3 op outputs
    st = statements(g.source)
    labels = [a["label"] for k, a in st.items() if k[0] == "n"]
    for name in "xwbo":
        assert any(lab.startswith("{" + name + " |") for lab in labels)
    op_labels = sorted(a["label"] for k, a in st.items() if k[0] == "o")
    assert op_labels == sorted([ops.MUL.label, ops.ADD.label, ops.TANH.label])
    assert 'rankdir=LR' in g.source
    assert "rankdir=TB" in draw_dot(o, rankdir="TB").source


def test_edges_follow_parents_and_repeated_inputs():
    x = Value(3.0, label="x")
    y = x * x
    s = draw_dot(y).source
    assert edges(s).count(("n0", "o1", {})) == 2  # x*x: x enters the op twice
    assert ("o1", "n1", {}) in edges(s)


def test_numbers_at_the_requested_significant_digits():
    x, w, b, o = neuron()
    o.backward()
    s2 = draw_dot(o, precision=2).source
    assert "{x | data 2.0 | grad -1.5}" in s2
    assert "{o | data 0.71 | grad 1.0}" in s2
    s6 = draw_dot(o, precision=6).source
    assert "{b | data 6.88137 | grad 0.500000}" in s6
    assert "data 0.707107" in s6
    assert "| grad" not in draw_dot(o, show_grad=False).source
    no_data = draw_dot(o, show_data=False).source
    assert "data " not in no_data and "{x | grad -1.500}" in no_data
    # a vanishing gradient does not print as 0.0000, a huge number is not 20 digits long
    t = Value(1e-9, label="t")
    assert "data 1.000e-09" in draw_dot(t).source
    assert "data 1.235e+20" in draw_dot(Value(1.23456e20)).source


def test_readme_quick_start_draws_x_gradient_to_its_digits():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    y = (w * x).tanh()
    y.backward()
    source = draw_dot(y).source
    assert "{x | data 2.000 | grad -7.373e-05}" in source  # w (1 - tanh(-6)^2); 4 decimals printed -0.0001
    assert "{w | data -3.000 | grad 4.915e-05}" in source


@pytest.mark.parametrize("exponent", range(-12, 13))
@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("digits", [1, 2, 4, 6])
def test_every_drawn_gradient_keeps_its_significant_digits(exponent, sign, digits):
    # mantissas that round up across a power of ten (9.99996) or sit on a rounding edge (1.5) included
    for mantissa in (1.0, 1.5, 2.718281828, 7.3712, 9.99996):
        g = sign * mantissa * 10.0 ** exponent
        text = number_text(g, digits)
        assert float(text) != 0
        assert abs(float(text) - g) <= 0.5 * 10.0 ** (math.floor(math.log10(abs(g))) - digits + 1) * 1.000001
        assert (float(text) < 0) == (g < 0)
        assert len(text) <= digits + 8  # never a 20-digit number: exponent form from 10^6 and below 0.001
        x = Value(1.0, label="x")
        y = x * g
        y.backward()
        assert f"{{x | data {number_text(1.0, digits)} | grad {text}}}" in draw_dot(y, precision=digits).source


@needs_dot
def test_frames_and_player_print_a_tiny_gradient_to_its_digits():
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    y = (w * x).tanh()
    y.label = "y"
    forward, backward = forward_frames(y), backward_frames(y)
    assert "y = tanh(-6.000) = -1.000" in forward[-1].source
    last = backward[-1].source
    assert "gradient of x = -7.373e-05" in last and "{x | data 2.000 | grad -7.373e-05}" in last
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", player(backward).html())]
    assert "backward pass, step 4/4: gradient of x = -7.373e-05, summed over its 1 use" in texts
    assert "backward pass, step 2/4: gradient of *(…) = 2.458e-05, summed over its 1 use" in texts
    assert "grad -7.373e-05" in texts


def test_zero_and_negative_zero_draw_as_0():
    assert number_text(0.0) == number_text(-0.0) == "0"
    assert number_text(-1e-300) == "-1.000e-300"
    assert number_text(float("nan")) == "nan" and number_text(float("-inf")) == "-inf"
    x = Value(-0.0, label="x")
    assert "{x | data 0 | grad 0}" in draw_dot(x).source


def test_any_number_a_user_hands_in_draws_to_its_digits():
    import numpy as np

    assert number_text(10 ** 400) == "1.000e+400" and number_text(-(10 ** 400), 2) == "-1.0e+400"  # past float's range
    assert number_text(5e-324) == "4.941e-324"  # the smallest subnormal
    assert number_text(np.float32(1.5)) == "1.500" and number_text(np.float64(-7.3712e-05)) == "-7.371e-05"
    assert number_text(np.int64(5)) == number_text(5) == "5.000"
    assert number_text(True) == "True" and number_text(False) == "False"  # not the numbers 1.000 and 0
    assert number_text(float("inf")) == "inf" and number_text(None) == "None"
    for digits in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=r"number_text: digits .* got " + re.escape(repr(digits))):
            number_text(1.0, digits)


def test_nary_sum_and_dot_are_single_readable_nodes():
    xs = [Value(float(k), label=f"x{k}") for k in range(5)]
    s = draw_dot(F.sum(xs)).source
    assert counts(s) == (6, 1, 6)
    assert '[label="Σ" shape=ellipse]' in s

    w = [Value(0.5 * k, label=f"w{k}") for k in range(3)]
    bias = Value(0.1, label="bias")
    y = F.dot(w, xs[:3], bias)
    s = draw_dot(y).source
    assert f'label="{ops.DOT.label}"' in s and "w·x+b" in s
    into_dot = [a.get("label") for _, head, a in edges(s) if head.startswith("o")]
    assert into_dot == ["w1", "w2", "w3", "x1", "x2", "x3", "b"]


def test_parametrised_ops_show_their_parameters():
    x = Value(-2.0, label="x")
    s = draw_dot((x ** 2).leaky_relu(0.1) + x.elu(0.5)).source
    for text in ("**2", "leaky_relu(alpha=0.1)", "elu(alpha=0.5)"):
        assert f'label="{text}"' in s


def test_labels_are_escaped_and_unicode_survives():
    nasty = 'a<b>|{c}"d"\\e ü∑ "x"'
    v = Value(1.0, label=nasty) * 2
    s = draw_dot(v).source
    assert r'a\<b\>\|\{c\}\"d\"\\e ü∑ \"x\"' in s
    w = Value(1.0, label="line1\nline2")
    assert "line1\\nline2" in draw_dot(w).source


@needs_dot
def test_escaped_labels_render_verbatim_through_dot():
    nasty = 'a<b>|{c}"d"\\e ü∑'
    v = Value(1.5, label=nasty) * Value(2.0, label="<html>")
    v.label = "{out}"
    texts = svg_texts(draw_dot(v).pipe(format="svg", encoding="utf-8"))
    for label in (nasty, "<html>", "{out}", "data 3.000", "data 1.500"):
        assert label in texts


def test_value_draw_is_draw_dot_and_autograd_exports_it():
    _, _, _, o = neuron()
    assert o.draw(precision=3, rankdir="TB").source == draw_dot(o, precision=3, rankdir="TB").source
    assert autograd.draw_dot is draw_dot


def test_importing_autograd_does_not_import_graphviz():
    code = "import sys, autograd, autograd.viz; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_arguments_are_clear_errors():
    _, _, _, o = neuron()
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(o, rankdir="sideways")
    with pytest.raises(ValueError, match="precision"):
        draw_dot(o, precision=-1)
    with pytest.raises(TypeError, match="draw_dot: expected a Value"):
        draw_dot(3.0)


def test_several_roots_in_one_drawing():
    x = Value(1.0, label="x")
    a, b = (x * 2).tanh(), x.exp()
    assert counts(draw_dot([a, b]).source) == (5, 3, 7)
    assert statements(draw_dot([a, b]).source)["n4"]["penwidth"] == "2"  # both roots stand out


# --- clusters -----------------------------------------------------------------------------------
def tiny_mlp():
    """A 2-2-1 network whose parameters carry nn-style dotted names, and a squared-error loss."""
    xs = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    sizes = [2, 2, 1]
    h = xs
    for layer in range(2):
        out = []
        for j in range(sizes[layer + 1]):
            prefix = f"layers.{layer}.neurons.{j}"
            w = [Value(0.1 * (k + j + 1), label=f"{prefix}.w[{k}]") for k in range(len(h))]
            b = Value(0.2, label=f"{prefix}.b")
            out.append(F.dot(w, h, b).tanh())
        h = out
    loss = (h[0] - Value(1.0, label="y")) ** 2
    loss.label = "loss"
    return loss


def cluster_membership(source: str) -> tuple[dict[str, list[str]], list[str]]:
    """Node id -> labels of the clusters it is nested in (outermost first); cluster labels in order."""
    path: list[str] = []
    where: dict[str, list[str]] = {}
    clusters: list[str] = []
    lines = source.splitlines()
    for k, line in enumerate(lines):
        if line.strip().startswith("subgraph cluster_"):
            label = re.search(r'label="([^"]*)"', lines[k + 1]).group(1)
            path.append(label)
            clusters.append(label)
        elif line.strip() == "}" and path:
            path.pop()
        else:
            m = re.match(r"^\s*([now]\d+) \[", line)
            if m:
                where[m.group(1)] = list(path)
    return where, clusters


def test_cluster_groups_nodes_by_module_path():
    loss = tiny_mlp()
    plain, boxed = draw_dot(loss).source, draw_dot(loss, cluster=True).source
    assert counts(plain) == counts(boxed)
    assert "subgraph" not in plain
    where, clusters = cluster_membership(boxed)
    assert sorted(clusters) == sorted([
        # a module holding only one sub-module is not boxed separately (no box in a box)
        "layers", "layers.0.neurons", "layers.0.neurons.0", "layers.0.neurons.1", "layers.1.neurons.0",
    ])
    nodes = topological_order(loss)
    ids = node_ids(nodes)
    st = statements(boxed)
    for v in nodes:
        if v.label.startswith("layers."):
            prefix, name = v.label.rsplit(".", 1)
            assert where[ids[v]][-1] == prefix
            assert st[ids[v]]["label"].startswith("{" + name + " |")
            assert st[ids[v]]["tooltip"] == v.label
        if v.op in ("dot", "tanh"):  # a neuron's sum and activation sit in the neuron's box
            assert where[ids[v]][-1].startswith("layers.") and where[ids[v]][-1].count(".") == 3
    assert where[ids[loss]] == [] and where[ids[nodes[0]]] == []  # loss and inputs: top level
    assert "layers.0.neurons.1.w[1]" in plain  # unclustered drawings show the full name


def test_a_parameter_label_shows_as_its_label():
    p = Value(0.5, label="layers.0.neurons.3.w[1]")
    assert "{layers.0.neurons.3.w[1] | data 0.5000 | grad 0}" in draw_dot(p * 2).source


@needs_dot
def test_clustered_drawing_renders_with_one_box_per_module():
    svg = draw_dot(tiny_mlp(), cluster=True).pipe(format="svg", encoding="utf-8")
    root = ET.fromstring(svg.encode("utf-8"))
    boxes = [g for g in root.iter(SVG + "g") if g.get("class") == "cluster"]
    assert len(boxes) == 5
    assert "layers.0.neurons.1" in svg_texts(svg) and "w[1]" in svg_texts(svg)


# --- size limits --------------------------------------------------------------------------------
def chain(n: int) -> Value:
    v = Value(0.5, label="x")
    for _ in range(n):
        v = v * 1.0  # one op and one constant per step
    return v


def test_max_nodes_error_says_how_many_and_what_to_do():
    v = chain(400)  # 801 values
    with pytest.raises(ValueError) as e:
        draw_dot(v)
    msg = str(e.value)
    assert "801 values" in msg and "max_nodes=500" in msg
    assert "max_nodes=801" in msg and "max_nodes=None" in msg and "sub-graph" in msg and "cluster=True" in msg
    assert counts(draw_dot(v, max_nodes=801).source)[0] == 801
    with pytest.raises(ValueError, match="801 values"):
        forward_frames(v)


def test_100k_node_graph_gives_dot_source_without_recursion():
    v = chain(50_000)  # 100,001 values, 50,000 deep
    s = draw_dot(v, max_nodes=None).source
    assert counts(s) == (100_001, 50_000, 150_000)


# --- rendering through dot ------------------------------------------------------------------------
@needs_dot
def test_render_to_svg_file_and_jupyter_bundle(tmp_path):
    x, w, b, o = neuron()
    o.backward()
    g = draw_dot(o)
    path = g.render(tmp_path / "neuron", format="svg")
    texts = svg_texts(open(path, encoding="utf-8").read())
    for text in ("x", "w", "b", "o", "tanh", "data 2.000", "grad -1.500", "data 0.7071", "grad 0.5000"):
        assert text in texts
    assert "data −3.000" in texts or "data -3.000" in texts  # dot writes &#45; for '-'
    bundle = g._repr_mimebundle_()
    assert "grad 0.5000" in bundle["image/svg+xml"]


@needs_dot
def test_save_writes_the_format_its_suffix_names_and_nothing_else(tmp_path):
    _, _, _, o = neuron()
    o.backward()
    g = o.draw()
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph"}
    for fmt, start in magic.items():
        path = g.save(tmp_path / f"neuron.{fmt.upper() if fmt == 'png' else fmt}")
        assert path.read_bytes().startswith(start), fmt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.PNG", "neuron.dot", "neuron.pdf", "neuron.svg"]
    assert "grad 0.5000" in (tmp_path / "neuron.svg").read_text()
    assert g.render(tmp_path / "r", format="png").endswith("r.png")  # graphviz's own render still works


def test_save_dot_needs_no_graphviz_and_unknown_suffixes_are_refused(tmp_path, monkeypatch):
    _, _, _, o = neuron()
    g = draw_dot(o)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    assert g.save(tmp_path / "g.dot").read_text() == g.source
    with pytest.raises(ValueError, match=r"save: path must end in .svg, .png, .pdf or .dot, got '.*g\.jpg'"):
        g.save(tmp_path / "g.jpg")
    assert not (tmp_path / "g.jpg").exists()


@needs_dot
def test_show_opens_an_svg_in_the_system_viewer_or_says_there_is_none(monkeypatch):
    _, _, _, o = neuron()
    opened = []
    monkeypatch.setattr(graphviz, "view", lambda path, quiet=False: opened.append(path))
    path = o.draw().show()
    assert opened == [path] and path.suffix == ".svg" and "tanh" in path.read_text()
    path.unlink()

    def no_viewer(path, quiet=False):
        raise FileNotFoundError(2, "No such file or directory", "xdg-open")

    monkeypatch.setattr(graphviz, "view", no_viewer)
    with pytest.raises(RuntimeError, match=r"show: no viewer could be started .*xdg-open.*save\('graph\.svg'\)") as e:
        o.draw().show()
    assert not pathlib.Path(re.search(r"for (\S+\.svg)", str(e.value)).group(1)).exists()  # no file left


def test_missing_dot_explains_how_to_install(tmp_path, monkeypatch):
    _, _, _, o = neuron()
    g = draw_dot(o)
    frames = forward_frames(o)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    assert "tanh" in g.source
    for attempt in (lambda: g.pipe(format="svg"), lambda: g.render(tmp_path / "x", format="png"),
                    g._repr_mimebundle_, lambda: player(frames)):
        with pytest.raises(GraphvizNotInstalledError) as e:
            attempt()
        assert isinstance(e.value, graphviz.ExecutableNotFound)
        for hint in ("apt-get install graphviz", "brew install graphviz", "conda install", "Windows", ".source"):
            assert hint in str(e.value)


# --- frames -------------------------------------------------------------------------------------
def shared_graph():
    """a is used twice, so its gradient is a sum of two contributions."""
    x, y = Value(2.0, label="x"), Value(-1.0, label="y")
    a = x * y
    a.label = "a"
    out = (a + a.tanh() * x).exp()
    out.label = "out"
    return out


def root_of(make) -> Value:
    made = make()
    return made[-1] if isinstance(made, tuple) else made


def fill_of(frame) -> dict[str, str | None]:
    return {k: a.get("fillcolor") for k, a in statements(frame.source).items()}


def is_green(c: str) -> bool:
    r, g, b = rgb(c)
    return g > r + 30 and g > b + 30


def is_red(c: str) -> bool:
    r, g, b = rgb(c)
    return r > g + 30 and r > b + 30


@pytest.mark.parametrize("make", [neuron, shared_graph])
def test_forward_frames_follow_creation_order(make):
    root = root_of(make)
    order = topological_order(root)
    ids = node_ids(order)
    frames = forward_frames(root)
    assert len(frames) == len(order)
    for step, frame in enumerate(frames):
        fill = fill_of(frame)
        st = statements(frame.source)
        known = {ids[v] for v in order[: step + 1]}
        for v in order:
            colour = fill[ids[v]]
            assert (colour is not None and is_green(colour)) == (ids[v] in known)
            assert ("grad" in st[ids[v]]["label"]) is False  # forward pass: no gradients yet
        current = ids[order[step]]
        assert st[current]["penwidth"] == "3"
        assert [k for k, a in st.items() if a.get("penwidth") == "3"] == [current]
        hot = [(t, h) for t, h, a in edges(frame.source) if a.get("penwidth") == "3"]
        v = order[step]
        assert len(hot) == (len(v.parents) + 1 if v.parents else 0)
        assert all(h == "o" + current[1:] or t == "o" + current[1:] for t, h in hot)
        assert f"step {step + 1}/{len(order)}" in frame.source


@pytest.mark.parametrize("make", [neuron, shared_graph])
def test_backward_frames_follow_backward_order_and_end_all_red(make):
    root = root_of(make)
    nodes = topological_order(root)
    ids = node_ids(nodes)
    visit = topological_order(root, reverse=True)  # what Value.backward iterates over
    frames = backward_frames(root)
    assert len(frames) == len(visit)
    assert all(v.grad == 0.0 for v in nodes)  # drawing computes, but never writes, gradients
    for step, frame in enumerate(frames):
        fill = fill_of(frame)
        red = {k for k, c in fill.items() if k[0] == "n" and c and is_red(c)}
        assert red == {ids[v] for v in visit[: step + 1]}
        assert statements(frame.source)[ids[visit[step]]]["penwidth"] == "3"
        # its gradient arrives along every use (input edge) and each consumer's output edge
        uses = sum(p is visit[step] for v in nodes for p in v.parents)
        consumers = [v for v in nodes if any(p is visit[step] for p in v.parents)]
        hot = [e for e in edges(frame.source) if e[2].get("penwidth") == "3"]
        assert len(hot) == uses + len(consumers)
    last = statements(frames[-1].source)
    assert all(is_red(last[ids[v]]["fillcolor"]) for v in nodes)
    root.backward()
    for v in nodes:  # the numbers drawn are the engine's own gradients
        assert f"grad {number_text(v.grad)}" in last[ids[v]]["label"]


def test_frame_captions_name_the_step():
    _, _, _, o = neuron()
    f = forward_frames(o)
    assert "x = 2.000 is given" in f[0].source
    assert "o = tanh(0.8814) = 0.7071" in f[-1].source
    b = backward_frames(o)
    assert "(the seed)" in b[0].source and "gradient of x = -1.500" in b[-1].source


# --- the player ---------------------------------------------------------------------------------
class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@needs_dot
def test_player_html_is_self_contained_with_one_svg_per_frame(tmp_path):
    _, _, _, o = neuron()
    frames = forward_frames(o) + backward_frames(o)
    p = player(frames)
    page = p.html()
    parser = _Collect()
    parser.feed(page)
    parser.close()
    tags = parser.tags
    assert sum(t == "svg" for t, _ in tags) == len(frames) == 12
    divs = [a for t, a in tags if t == "div" and "cg-frame" in a.get("class", "")]
    assert len(divs) == 12 and sum("display:block" in a["style"] for a in divs) == 1
    for cls in ("cg-prev", "cg-next", "cg-play", "cg-slider"):
        assert any(cls in a.get("class", "") for _, a in tags)
    assert sum(t == "script" for t, _ in tags) == 1
    assert not any("src" in a or t == "link" for t, a in tags)  # nothing fetched
    assert not re.search(r"https?://(?!www\.w3\.org/)", page)
    assert "ipywidgets" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    for k, svg in enumerate(svgs):
        assert f"step {k % 6 + 1}/6" in " ".join(svg_texts(svg))
    path = p.save(str(tmp_path / "steps.html"))
    saved = open(path, encoding="utf-8").read()
    assert saved.startswith("<!DOCTYPE html>") and saved.count("<svg") == 12
    fragment = p._repr_html_()  # what Jupyter shows: the same player, with ids of its own
    assert fragment.count("<svg") == 12 and "<script>" in fragment and "<html" not in fragment
    assert set(re.findall(r'\bid="([^"]+)"', fragment)).isdisjoint(ids)


def test_player_accepts_svg_strings_and_rejects_nothing():
    svgs = ['<svg xmlns="http://www.w3.org/2000/svg"><text id="t">one</text></svg>',
            '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>two</text></svg>']
    page = player(svgs).html()
    assert page.count("<svg") == 2 and "<?xml" not in page
    with pytest.raises(ValueError, match="at least one frame"):
        player([])


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    exe = _chromium()
    profile = tmp_path / f"profile-{len(os.listdir(tmp_path))}"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
           f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


@needs_dot
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_player_buttons_work_in_headless_chromium(tmp_path):
    _, _, _, o = neuron()
    frames = forward_frames(o)
    page = tmp_path / "player.html"
    player(frames, interval_ms=100).save(str(page))
    url = page.as_uri()

    def dom(fragment: str) -> str:
        out = _run_chromium(url + fragment, tmp_path, "--virtual-time-budget=3000", "--dump-dom")
        assert "Uncaught" not in out.stderr, out.stderr[-2000:]
        assert 'data-ready="1"' in out.stdout, "the player's script did not run"
        return out.stdout

    def visible(text: str) -> list[int]:
        return [int(k) for k, shown in re.findall(r'data-frame="(\d+)" style="display: ?(\w+)', text)
                if shown == "block"]

    start = dom("")
    assert visible(start) == [0] and "1 / 6" in start
    after = dom("#next=2")  # the page clicks its own "next" button twice
    assert visible(after) == [2] and 'data-step="2"' in after and "3 / 6" in after
    assert visible(dom("#next=99")) == [5]  # clicking past the end stays on the last frame
    played = dom("#play")  # play runs through every frame and stops at the last
    assert visible(played) == [5] and "play" in played

    def screenshot(fragment: str, name: str) -> bytes:
        shot = tmp_path / name
        _run_chromium(url + fragment, tmp_path, "--virtual-time-budget=2000", "--window-size=900,400",
                      f"--screenshot={shot}")
        return shot.read_bytes()

    first, second, again = screenshot("", "0.png"), screenshot("#next=1", "1.png"), screenshot("#next=1", "1b.png")
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert second == again  # screenshots are deterministic ...
    assert first != second  # ... so this difference is the visible frame changing


def test_backward_frames_hide_gradients_not_yet_computed():
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    frames = backward_frames(y)
    n_values = len(frames)
    # step k knows k+1 gradients; the others are shown as "grad ?"
    assert [f.source.count("grad ?") for f in frames] == [n_values - 1 - k for k in range(n_values)]


def test_compact_draws_each_neurons_weights_as_one_table():
    loss = tiny_mlp()
    plain, compact = draw_dot(loss, cluster=True).source, draw_dot(loss, cluster=True, compact=True).source
    n_plain, ops_plain, e_plain = counts(plain)
    st = statements(compact)
    tables = {k: v["label"] for k, v in st.items() if k[0] == "w"}
    assert len(tables) == 3  # one per neuron: 2 + 1
    n_weights = 2 * 2 + 2 * 1  # every weight is a row of its neuron's table, not a node of its own
    assert counts(compact) == (n_plain - n_weights, ops_plain, e_plain - n_weights + 3)
    for label in tables.values():
        assert label.startswith("{w[0] | data") and "} | {w[1] | data" in label and label.count("grad ") == 2
    table_edges = [(t, h, a) for t, h, a in edges(compact) if t[0] == "w"]
    assert sorted((t[1:], h[1:], a["label"]) for t, h, a in table_edges) == sorted((k[1:], k[1:], "w") for k in tables)
    where, _ = cluster_membership(compact)  # each table sits in its neuron's box
    assert all(where[k][-1].startswith("layers.") and where[k][-1].count(".") == 3 for k in tables)
    # top to bottom: rows must stack vertically, so the whole table is wrapped once more
    tb = statements(draw_dot(loss, cluster=True, compact=True, rankdir="TB").source)
    assert all(v["label"].startswith("{{w[0] |") for k, v in tb.items() if k[0] == "w")


def test_compact_leaves_shared_or_unlabelled_weights_alone():
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    y = F.dot([w, 3.0], [x, x]) * w  # w is used twice; the constant 3.0 has no label
    source = draw_dot(y, compact=True).source
    assert not any(k[0] == "w" for k in statements(source))
    assert counts(source) == counts(draw_dot(y).source)


@needs_dot
def test_compact_clustered_mlp_renders():
    svg = draw_dot(tiny_mlp(), cluster=True, compact=True, rankdir="TB").pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg)
    assert texts.count("w[0]") == 3 and texts.count("w[1]") == 3


@needs_dot
def test_odd_labels_render_literally_in_drawings_and_frame_captions():
    x = Value(1.0, label="end\\")
    y = x * 2.0
    y.label = "a\\Gb\x00c"
    svg = draw_dot(y).pipe(format="svg", encoding="utf-8")  # NUL would make dot reject the file
    assert "a\\Gbc" in " ".join(svg_texts(svg))
    frame = forward_frames(y)[-1]
    texts = " ".join(svg_texts(frame.pipe(format="svg", encoding="utf-8")))
    assert "a\\Gbc" in texts and "chalkgrad" not in texts  # \G is not replaced by the graph's name
