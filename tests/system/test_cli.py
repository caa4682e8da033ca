"""python -m nn: train / predict / info end to end in subprocesses, argument and file errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import cli

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="the Graphviz 'dot' executable is not installed")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "nn", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`python -m nn train` with no arguments, in an empty directory."""
    cwd = tmp_path_factory.mktemp("demo")
    return cwd, run("train", cwd=cwd)


def test_train_with_no_arguments_is_micrograds_demo(demo_run):
    cwd, proc = demo_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "MLP(2 -> [16, 16, 1], relu -> identity)  [337 parameters]" in out
    assert "final training accuracy: 100.0 %" in out
    # after training, one line per stage, each printed as it starts and timed as it ends
    stages = re.findall(r"^(scoring|saving|drawing) (.*) \.\.\. \d+\.\d s$", out, re.M)
    assert [s[0] for s in stages] == ["scoring", "saving", "drawing", "drawing"], out
    assert "epoch 100/100" in proc.stderr  # plain progress lines (not a terminal)
    assert "wrote model.json, history.json, loss.png, decision_boundary.png" in out


def test_train_writes_files_that_load_back(demo_run):
    cwd, _ = demo_run
    out = cwd / "runs" / "moons"
    model = nn.load(out / "model.json")
    assert model.num_parameters() == 337
    history = json.loads((out / "history.json").read_text())
    assert len(history["records"]["loss"]) == 100 and history["records"]["accuracy"][-1] == 1.0
    assert history["run"]["dataset"] == "moons" and history["run"]["train_accuracy"] == 1.0
    assert nn.History.from_dict(history).records == history["records"]
    image = pytest.importorskip("matplotlib.image", reason="matplotlib (the plot extra) is not installed")
    for name in ("decision_boundary.png", "loss.png"):
        pixels = image.imread(out / name)
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.std() > 0


@needs_dot
def test_graph_svg_draws_the_worst_sample_and_fits_a_laptop_screen(demo_run):
    cwd, proc = demo_run
    assert "decision_boundary.png, graph.svg to runs/moons" in proc.stdout
    root = ET.parse(cwd / "runs" / "moons" / "graph.svg").getroot()
    width, height = (float(root.get(k).removesuffix("pt")) for k in ("width", "height"))
    assert max(width, height) <= 2000, (width, height)  # was 15,154 x 1,741
    texts = [(t.text or "", float(t.get("y"))) for t in root.iter(SVG + "text")]
    words = [t for t, _ in texts]
    # the title names the sample, and it is the one with the largest training loss
    title = next(t for t in words if t.startswith("training loss of sample"))
    index = int(re.match(r"training loss of sample (\d+) \(largest loss", title).group(1))
    model = nn.load(cwd / "runs" / "moons" / "model.json")
    X, y = nn.datasets.demo_moons(labels="sign")
    losses = [nn.losses.hinge(o, t).data for o, t in zip(nn.predict(model, X).tolist(), y.tolist())]
    assert index == int(np.argmax(losses)) and max(losses) > 0
    # every weight has a row: name, data, grad; at least half of the gradients are not zero
    grads = [words[k + 2] for k, t in enumerate(words) if re.fullmatch(r"w\[\d+\]", t)]
    assert len(grads) == 304
    assert sum(float(g.replace("\N{MINUS SIGN}", "-")) != 0 for g in grads) >= len(grads) / 2
    # neurons of a layer stand in numeric order (0, 1, 2, ..., 10; not 0, 1, 10, 11)
    for layer in (0, 1):
        heads = [(int(m.group(1)), y) for t, y in texts if (m := re.fullmatch(rf"layers\.{layer}\.neurons\.(\d+)", t))]
        assert len(heads) == 16 and [n for n, _ in sorted(heads, key=lambda h: h[1])] == list(range(16))


def test_predict_and_info(demo_run):
    cwd, _ = demo_run
    path = cwd / "runs" / "moons" / "model.json"
    proc = run("predict", str(path), "0.5", "-0.2", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    model = nn.load(path)
    expected = model([0.5, -0.2]).data
    assert proc.stdout.splitlines()[0] == f"output: {expected:.6g}"
    proc = run("info", str(path), cwd=cwd)
    assert proc.returncode == 0 and "parameters: 337" in proc.stdout and "inputs: 2, outputs: 1" in proc.stdout


def test_train_multiclass_options(tmp_path):
    proc = run("train", "--dataset", "spirals", "--samples", "60", "--hidden", "6", "--activation", "tanh",
               "--optimizer", "adam", "--lr", "0.05", "--epochs", "3", "--batch-size", "10", "--seed", "1",
               "--no-progress", "--out", str(tmp_path / "sp"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # --no-progress
    assert "MLP(2 -> [6, 3], tanh -> identity)" in proc.stdout and "final training accuracy:" in proc.stdout
    history = json.loads((tmp_path / "sp" / "history.json").read_text())
    assert len(history["records"]["loss"]) == 3 and history["run"]["batch_size"] == 10
    assert nn.load(tmp_path / "sp" / "model.json").nouts == [6, 3]
    proc = run("predict", str(tmp_path / "sp" / "model.json"), "0.1", "0.2", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.splitlines()[1].startswith("class: ")


def test_train_digits_without_2d_pictures(tmp_path):
    pytest.importorskip("sklearn", reason="digits() needs scikit-learn (the datasets extra)")
    proc = run("train", "--dataset", "digits", "--samples", "300", "--epochs", "2", "--hidden", "8",
               "--out", str(tmp_path / "d"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy:" in proc.stdout and "compiled" in proc.stdout
    written = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert "decision_boundary.png" not in written  # 64-D inputs
    assert {"model.json", "history.json", "loss.png"} <= set(written)
    assert json.loads((tmp_path / "d" / "history.json").read_text())["run"]["input_scaling"]["mean"]
    if HAS_DOT:  # too big to draw whole: summarised, with a note
        assert "graph.svg" in written
        assert "graph.svg: the model has 18 neurons and 592 weights, too many to draw whole" in proc.stdout
        texts = svg_texts(tmp_path / "d" / "graph.svg")
        assert "8×8 pixels" in texts  # 64 inputs drawn as the digit they are
        assert sum(t.startswith("its 64 weights") for t in texts) == 2  # two hidden neurons, weights as pictures
        assert "6 other neurons of layers.0" in texts
        assert [t for t in texts if re.fullmatch(r"out\[\d\](?: \(target\))?", t)] == [
            f"out[{k}]" + (" (target)" if k == int(re.search(r"out\[(\d)\] \(target", " ".join(texts))[1]) else "")
            for k in range(10)]


def svg_texts(path: Path) -> list[str]:
    return [t.text.replace("\N{MINUS SIGN}", "-") for t in ET.parse(path).getroot().iter(SVG + "text") if t.text]


@pytest.mark.parametrize("content", ["not json", '{"format": "other"}', None])
def test_bad_model_files_give_one_line_and_status_2(tmp_path, content):
    path = tmp_path / "model.json"
    if content is not None:
        path.write_text(content)
    proc = run("predict", str(path), "1", "2", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("python -m nn predict: error: ")
    assert ("no such model file" if content is None else "not a usable model file") in proc.stderr


def _forged(edit):
    doc = {"format": "chalkgrad.nn", "version": 1, "architecture": nn.MLP(2, [3, 1], seed=0).config(),
           "training": False, "state": nn.MLP(2, [3, 1], seed=0).state_dict()}
    edit(doc)
    return json.dumps(doc)


@pytest.mark.parametrize("content, message", [
    pytest.param("[" * 200_000 + "]" * 200_000, "nested too deeply", id="deeply-nested"),
    pytest.param(_forged(lambda d: d["state"].update({"layers.1.neurons.0.b": 10**400})), "beyond the float range",
                 id="huge-int"),
    pytest.param(_forged(lambda d: d["architecture"].update(output_activation={"name": "maxout", "k": 3_000_000})),
                 "needs at least 6000009 weights", id="maxout-k"),
])
def test_forged_model_files_fail_at_once_in_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "forged.json"
    path.write_text(content)
    for argv in (["info", str(path)], ["predict", str(path), "1", "2"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"python -m nn {argv[0]}: error: ") and len(err.strip().splitlines()) == 1
        assert message in err


# --- in-process checks of the argument handling (fast) --------------------------------------------------
@pytest.mark.parametrize("argv, message", [
    ([], "required"),
    (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["train", "--epochs", "0"], "argument --epochs: must be at least 1"),
    (["train", "--lr", "abc"], "argument --lr: expected a number"),
    (["train", "--lr", "nan"], "expected a finite number"),
    (["train", "--loss", "nope"], "no loss named 'nope'"),
    (["train", "--activation", "nope"], "nope"),
    (["train", "--dataset", "spirals", "--loss", "hinge"], "hinge is for two classes, but spirals has 3"),
    (["train", "--test-split", "1.5"], "--test-split: must be a fraction"),
    (["predict", "m.json"], "the following arguments are required: X"),
    (["predict", "m.json", "one"], "argument X: expected a number, got 'one'"),
    (["predict", "m.json", "1", "nan"], "argument X: expected a finite number, got 'nan'"),
    (["predict", "m.json", "inf", "1"], "argument X: expected a finite number, got 'inf'"),
    (["train", "--seed", "-5"], "argument --seed: must be at least 0, got -5"),
    (["train", "--hidden"], "argument --hidden: expected at least one argument"),
])
def test_bad_arguments_are_argparse_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_lists_commands_and_defaults(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in ("--dataset", "--hidden", "--batch-size", "--out", "defaults per dataset", "moons    hidden 16 16"):
        assert word in text


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"]])
def test_help_describes_every_dataset_it_offers(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert set(cli.DATASET_HELP) == set(cli.DATASETS)
    for name, description in cli.DATASET_HELP.items():
        assert f"{name} {description}" in text, name


def test_predict_with_the_wrong_number_of_inputs(tmp_path, capsys):
    model = nn.MLP(3, [2, 1], seed=0)
    nn.save(model, tmp_path / "m.json")
    assert cli.main(["predict", str(tmp_path / "m.json"), "1", "2"]) == 2
    assert capsys.readouterr().err.strip() == "python -m nn predict: error: the model takes 3 inputs, got 2: 1 2"
    assert cli.main(["predict", str(tmp_path / "m.json"), "1", "2", "3"]) == 0
    assert cli.main(["info", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["train", "--dataset", "xor", "--epochs", "1", "--out", str(blocker / "sub")]) == 2
    assert "cannot create output directory" in capsys.readouterr().err


# --- train: every loss, every dataset size, errors in one line (in-process) -----------------------------
def _train_in_process(tmp_path, capsys, *argv):
    status = cli.main(["train", *argv, "--no-progress", "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("loss", ["squared_error", "mse", "half_squared_error", "absolute_error"])
@pytest.mark.parametrize("dataset", ["xor", "blobs"])
def test_train_with_squared_and_absolute_losses(tmp_path, capsys, loss, dataset):
    # Two classes regress -1/+1 scores (one output), more classes one-hot rows (one output each).
    status, out, err = _train_in_process(tmp_path, capsys, "--dataset", dataset, "--loss", loss, "--epochs", "3",
                                         "--lr", "0.05")
    assert status == 0, err
    assert "final training accuracy:" in out
    assert nn.load(tmp_path / "run" / "model.json").nouts[-1] == (1 if dataset == "xor" else 3)


def test_printed_accuracy_reads_bce_outputs_as_logits(tmp_path, capsys):
    status, out, err = _train_in_process(tmp_path, capsys, "--loss", "binary_cross_entropy", "--epochs", "30")
    assert status == 0, err
    model = nn.load(tmp_path / "run" / "model.json")
    X, y = nn.datasets.demo_moons(labels="01")
    expected = np.mean(nn.predict_classes(model, X) == y)
    assert nn.evaluate(model, X, y, loss="bce")["accuracy"] == expected
    assert f"final training accuracy: {100 * expected:.1f} %" in out
    assert json.loads((tmp_path / "run" / "history.json").read_text())["run"]["train_accuracy"] == expected


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "xor", "--test-split", "0.9"], "--test-split 0.9 of 4 samples: train_test_split: test_size=0.9 "
                                                  "leaves no training samples out of 4"),
    (["--samples", "1"], "--dataset moons --samples 1: moons: n must be an integer >= 2, got 1"),
    (["--dataset", "spirals", "--samples", "1"], "spirals"),
])
def test_train_input_errors_are_one_line_with_status_2(tmp_path, capsys, argv, message):
    status, out, err = _train_in_process(tmp_path, capsys, *argv, "--epochs", "1")
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("python -m nn train: error: ") and message in err


def test_tiny_splits_train_and_test(tmp_path, capsys):
    # Hinge labels that are all +1 (one class in the training part), and a one-sample test part.
    status, out, err = _train_in_process(tmp_path, capsys, "--dataset", "circles", "--samples", "3",
                                         "--test-split", "0.5", "--epochs", "2")
    assert status == 0, err
    assert "(1 samples" in out and "test accuracy:" in out and "(2 samples)" in out


def test_digits_with_five_samples(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="digits() needs scikit-learn (the datasets extra)")
    status, out, err = _train_in_process(tmp_path, capsys, "--dataset", "digits", "--samples", "5", "--epochs", "1")
    assert status == 0, err
    assert "4 samples" in out and "test accuracy:" in out and "(1 samples)" in out


def _model_with_history(tmp_path, scaling):
    model = nn.MLP(2, [3, 2], seed=0)
    nn.save(model, tmp_path / "model.json")
    (tmp_path / "history.json").write_text(json.dumps({"records": {}, "run": {"input_scaling": scaling}}))
    return model


def test_predict_applies_the_saved_input_scaling(tmp_path, capsys):
    model = _model_with_history(tmp_path, {"mean": [1.0, 2.0], "std": [2.0, 0.0]})
    assert cli.main(["predict", str(tmp_path / "model.json"), "3", "4"]) == 0
    out = capsys.readouterr().out
    model.eval()
    expected = [v.data for v in model([1.0, 2.0])]  # (3 - 1) / 2, and a constant column only shifted
    assert "standardized with the training statistics in history.json" in out
    assert "outputs: " + " ".join(f"{v:.6g}" for v in expected) in out
    _model_with_history(tmp_path, None)  # a run without scaling: inputs as given
    assert cli.main(["predict", str(tmp_path / "model.json"), "3", "4"]) == 0
    assert "outputs: " + " ".join(f"{v.data:.6g}" for v in model([3.0, 4.0])) in capsys.readouterr().out


@pytest.mark.parametrize("scaling", [{"mean": [1.0], "std": [1.0]}, {"mean": [1.0, 10**400], "std": [1, 1]},
                                     {"mean": [1.0, "2"], "std": [1, 1]}, [1, 2]])
def test_predict_with_a_bad_saved_scaling(tmp_path, capsys, scaling):
    _model_with_history(tmp_path, scaling)
    assert cli.main(["predict", str(tmp_path / "model.json"), "3", "4"]) == 2
    err = capsys.readouterr().err
    assert "input_scaling must hold 'mean' and 'std' lists of 2 finite numbers" in err


def test_graph_sample_is_the_largest_loss_or_else_the_nearest_to_the_boundary():
    from nn.loss_graph import choose_sample

    model = nn.MLP(1, [1], seed=0)  # output = 1 * x + 0
    model.layers[0].neurons[0].w[0].data = 1.0
    X = np.array([[2.0], [3.0], [-1.5], [-4.0]])
    assert choose_sample(model, X, [1, -1, -1, -1], nn.losses.hinge) == (1, "largest loss, 4")
    i, why = choose_sample(model, X, [1, 1, -1, -1], nn.losses.hinge)  # every margin >= 1: all losses 0
    assert i == 2 and why == "every loss is 0; nearest the decision boundary (margin 1.5)"


def test_train_with_mse_and_no_lr_trains_moons_without_diverging(tmp_path, capsys):
    status, out, err = _train_in_process(tmp_path, capsys, "--loss", "mse")
    assert status == 0, err
    assert "diverged" not in out + err and "final training accuracy:" in out
    assert f"lr {cli.REAL_LOSS_LR:g}" in out


def test_an_argument_holding_a_newline_still_gives_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["info", "model.json", "\n", "0"])
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert errors == ["python -m nn: error: unrecognized arguments: \\n 0"]


_HIDE_MATPLOTLIB = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib' (hidden by the test)")
HIDE = True
if HIDE:
    sys.meta_path.insert(0, Hide())
from nn import cli
sys.exit(cli.main(sys.argv[1:]))
"""


@needs_dot
@pytest.mark.parametrize("matplotlib", ["installed", "hidden"])
def test_graph_svg_needs_only_graphviz(tmp_path, matplotlib):
    if matplotlib == "installed":
        pytest.importorskip("matplotlib", reason="matplotlib (the plot extra) is not installed")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    code = _HIDE_MATPLOTLIB.replace("HIDE = True", f"HIDE = {matplotlib == 'hidden'}")
    proc = subprocess.run([sys.executable, "-c", code, "train", "--dataset", "xor", "--epochs", "5",
                           "--no-progress", "--out", str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    root = ET.parse(tmp_path / "graph.svg").getroot()
    assert any((t.text or "").startswith("training loss of sample") for t in root.iter(SVG + "text"))
    if matplotlib == "hidden":
        assert written == ["graph.svg", "history.json", "model.json"]
        assert "loss.png and decision_boundary.png skipped: matplotlib is not installed" in proc.stdout
    else:
        assert written == ["decision_boundary.png", "graph.svg", "history.json", "loss.png", "model.json"]
        assert "skipped" not in proc.stdout


def test_loss_png_has_whole_epoch_ticks_and_the_test_accuracy(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib (the plot extra) is not installed")
    import matplotlib.pyplot as plt

    status, out, err = _train_in_process(tmp_path, capsys, "--dataset", "blobs", "--epochs", "3",
                                         "--test-split", "0.3")
    assert status == 0, err
    assert (tmp_path / "run" / "loss.png").stat().st_size > 0
    record = json.loads((tmp_path / "run" / "history.json").read_text())
    # the test set is scored after every epoch; the last score is the test accuracy printed
    curve = record["run"]["test_accuracy_per_epoch"]
    assert len(curve) == 3 and curve[-1] == record["run"]["test_accuracy"]
    assert f"test accuracy: {100 * curve[-1]:.1f} %" in out
    fig = nn.plot.loss_curves({**record["records"], "val_accuracy": curve}, held_out="test")
    loss_ax, metric_ax = fig.axes
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert [line.get_label() for line in metric_ax.get_lines()] == ["train accuracy", "test accuracy"]
    assert list(metric_ax.get_lines()[1].get_ydata()) == curve
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train"]
    plt.close(fig)


def test_without_graphvizs_dot_the_drawing_stage_says_skipped(tmp_path):
    """No 'dot' program on PATH: training and the other files are written, and the graph.svg stage line
    says it was skipped (not a time, as if it had drawn), with the reason after."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg",
               PATH=str(tmp_path / "no-programs"))
    proc = subprocess.run([sys.executable, "-m", "nn", "train", "--dataset", "xor", "--epochs", "2", "--no-progress",
                           "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "drawing graph.svg (one training sample's loss) ... skipped\n" in proc.stdout, proc.stdout
    assert "graph.svg skipped: cannot run graphviz (ExecutableNotFound" in proc.stdout
    assert not (tmp_path / "run" / "graph.svg").exists() and (tmp_path / "run" / "model.json").exists()


def test_a_bug_while_building_the_graph_is_not_reported_as_missing_graphviz(tmp_path, monkeypatch):
    from nn import cli_pictures, loss_graph

    def broken(*args, **kwargs):
        raise KeyError("a bug in the drawing code")

    monkeypatch.setattr(loss_graph, "loss_graph_dot", broken)
    model = nn.MLP(2, [3, 1], seed=0)
    X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, -1.0])
    with pytest.raises(KeyError, match="a bug in the drawing code"):
        cli_pictures.draw_graph(model, X, y, nn.losses.get("squared_error"), None, str(tmp_path / "g.svg"))
    assert model.training and all(p.grad == 0.0 for p in model.parameters())  # restored all the same
