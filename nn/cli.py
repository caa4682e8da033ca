"""The command line: ``python -m nn train | predict | info``.

``python -m nn train`` (no arguments) trains micrograd's two-moons demo on the data shipped with
chalkgrad and writes the model, its history and its pictures to ``runs/moons``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NoReturn, Sequence

from . import activations, cli_pictures, losses, optim, schedules, validate
from .fashion_mnist import FASHION_MNIST_CLASSES
from .progress import stage

__all__ = ["main", "build_parser", "DATASETS", "DATASET_HELP", "OPTIMIZERS", "SCHEDULES"]

# Per-dataset defaults: each is a setting that trains well in eager mode in well under a minute
# (digits: a couple of minutes); compiled by default. Command-line options override them one by one.
_COMMON: dict[str, Any] = dict(hidden=[16, 16], activation="relu", loss="hinge", optimizer="sgd", lr=1.0,
                               schedule="linear", epochs=100, batch_size=None, l2=0.0, samples=None, noise=0.0,
                               test_split=0.0, standardize=False, compile=None)
_MULTI = dict(loss="cross_entropy", optimizer="adam", schedule="constant")
DATASETS: dict[str, dict[str, Any]] = {
    # moons without --samples: the 100 points shipped with chalkgrad, i.e. micrograd's demo exactly.
    "moons": {**_COMMON, "l2": 2e-4, "noise": 0.1},  # nn.l2 is lam/2 * sum(w^2): micrograd's 1e-4 * sum(w^2)
    "circles": {**_COMMON, "l2": 1e-4, "samples": 100, "noise": 0.05},
    "xor": {**_COMMON, "hidden": [4], "activation": "tanh", "lr": 0.5, "schedule": "constant", "epochs": 200},
    "blobs": {**_COMMON, **_MULTI, "hidden": [8], "lr": 0.02, "epochs": 50, "samples": 150, "noise": 1.0},
    "spirals": {**_COMMON, **_MULTI, "lr": 0.01, "epochs": 40, "batch_size": 32, "samples": 300, "noise": 0.2},
    "digits": {**_COMMON, **_MULTI, "hidden": [32], "activation": "tanh", "lr": 0.005, "epochs": 6,
               "batch_size": 32, "test_split": 0.2, "standardize": True},
    # 60,000 images of 784 pixels: compiled (eager would take hours), tested on its own 10,000 test images.
    "fashion-mnist": {**_COMMON, **_MULTI, "hidden": [128], "optimizer": "momentum", "lr": 0.05, "epochs": 3,
                      "batch_size": 128, "compile": True},
}
# What each dataset is, for 'python -m nn --help' and 'train --help'.
DATASET_HELP: dict[str, str] = {
    "moons": "two interleaving half circles, 2 classes; without --samples the 100 points of micrograd's demo, "
             "shipped with chalkgrad",
    "circles": "a small circle inside a large one, 2 classes (generated, --samples points)",
    "xor": "the four points of XOR's truth table, 2 classes (not linearly separable)",
    "blobs": "three Gaussian clusters in the plane, 3 classes (generated)",
    "spirals": "three interleaved spiral arms, 3 classes (generated; CS231n's spiral data)",
    "digits": "scikit-learn's 1,797 8x8 handwritten digits, 10 classes (needs the datasets extra)",
    "fashion-mnist": "70,000 28x28 images of clothing, 10 classes, 10,000 of them the official test set "
                     "(the Debian package dataset-fashion-mnist)",
}
# Squared and absolute errors on the sign datasets' SGD lr 1.0 diverge (moons: by epoch 6): without --lr they
# train at most at this rate.
REAL_LOSS_LR = 0.05
_OWN_TEST_SET = {"fashion-mnist": 10_000}  # datasets whose last rows (as _load returns them) are their test set
_CLASS_NAMES = {"fashion-mnist": FASHION_MNIST_CLASSES}  # what graph.svg calls the outputs
# The names --optimizer and --schedule accept, each declared once with how it is built.
OPTIMIZERS: dict[str, Callable[[list, float], Any]] = {
    "sgd": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "adagrad": lambda params, lr: optim.Adagrad(params, lr=lr),
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: optim.AdamW(params, lr=lr),
}
SCHEDULES: dict[str, Callable[[float, int], Any]] = {  # (lr, total steps) -> schedule, None for constant
    "constant": lambda lr, steps: None,
    "linear": lambda lr, steps: schedules.Linear(lr, lr / 10, steps),
    "inverse_time": lambda lr, steps: schedules.InverseTime(lr, lr * steps / 10),  # decays after a tenth
    "cosine": lambda lr, steps: schedules.Cosine(lr, steps),
}


class CliError(Exception):
    """A problem to report in one line (exit status 2), never with a traceback."""


def _defaults_table() -> str:
    lines = [_datasets_text(), "", "defaults per dataset (any option given on the command line wins):"]
    for name, d in DATASETS.items():
        batch = "full" if d["batch_size"] is None else d["batch_size"]
        extra = f", l2 {d['l2']:g}" if d["l2"] else ""
        extra += f", test split {d['test_split']:g}" if d["test_split"] else ""
        extra += ", standardized inputs" if d["standardize"] else ""
        extra += ", eager" if d["compile"] is False else ""
        lines.append(
            f"  {name:8} hidden {' '.join(map(str, d['hidden']))}, {d['activation']}, {d['loss']}, {d['optimizer']} "
            f"lr {d['lr']:g} ({d['schedule']}), {d['epochs']} epochs, batch {batch}{extra}"
        )
    lines.append("examples:\n  python -m nn train\n  python -m nn train --dataset spirals --hidden 32 32 "
                 "--optimizer adam --lr 0.01 --epochs 50 --batch-size 16 --out runs/spirals")
    return "\n".join(lines)


def _datasets_text() -> str:
    width = max(map(len, DATASET_HELP))
    return "datasets (train --dataset NAME):\n" + "\n".join(
        textwrap.fill(text, 100, initial_indent=f"  {name:{width}}  ", subsequent_indent=" " * (width + 4))
        for name, text in DATASET_HELP.items())


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its error on one line: an argument holding a newline is shown as \\n."""

    def error(self, message: str) -> NoReturn:
        super().error(message.replace("\r", "\\r").replace("\n", "\\n"))


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m nn`` argument parser."""
    parser = OneLineParser(
        prog="python -m nn",
        description="Train, inspect and run chalkgrad models from the command line.",
        epilog="With no arguments, 'python -m nn train' trains micrograd's two-moons demo\n"
        "(MLP 2-16-16-1, hinge loss + L2, SGD with a linear schedule) and writes runs/moons/.\n\n"
        + _datasets_text() + "\n\n'python -m nn train --help' lists every option and each dataset's defaults.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="{train,predict,info}")
    sub.required = True

    train = sub.add_parser(
        "train",
        help="train an MLP on a toy dataset and write model.json, history.json and pictures",
        description="Train an MLP on a dataset; options left out take the dataset's defaults "
        "(listed below). Writes DIR/model.json, DIR/history.json, DIR/loss.png, "
        "DIR/graph.svg and, for 2-D data, DIR/decision_boundary.png.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_defaults_table(),
    )
    train.set_defaults(subparser=train)
    train.add_argument("--dataset", choices=sorted(DATASETS), default="moons", help="what to learn (default: moons)")
    train.add_argument("--hidden", type=_positive_int, nargs="+", metavar="N",
                       help="hidden layer sizes, e.g. --hidden 16 16")
    train.add_argument("--activation", type=_registered("activation", {n: n for n in activations.ACTIVATIONS}),
                       help=f"hidden activation: one of {', '.join(activations.ACTIVATIONS)}")
    train.add_argument("--loss", type=_registered("loss", {**{n: n for n in losses.REGISTRY}, **losses.ALIASES}),
                       help=f"one of {', '.join(losses.names())} (squared and absolute errors learn -1/+1 or "
                       "one-hot targets)")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), help="")
    train.add_argument("--lr", type=_positive_float,
                       help=f"learning rate (default: the dataset's, below; at most {REAL_LOSS_LR:g} with a squared "
                       "or absolute error loss)")
    train.add_argument("--schedule", choices=list(SCHEDULES),
                       help="learning-rate schedule over the steps; linear goes to lr/10")
    train.add_argument("--epochs", type=_positive_int, help="passes over the data")
    train.add_argument("--batch-size", type=_positive_int, metavar="K",
                       help="mini-batch size; leave out for full batch, 1 for SGD")
    train.add_argument("--l2", type=_nonneg_float, metavar="LAM",  # ASCII: help may go to any console
                       help="L2 strength lam: the penalty lam/2 * sum(w^2) over all weights (nn.l2) is added "
                       "to the loss")
    train.add_argument("--samples", type=_positive_int, metavar="N",
                       help="dataset size")
    train.add_argument("--noise", type=_nonneg_float, help="noise of the generated data")
    train.add_argument("--test-split", type=float, metavar="F",
                       help="fraction held out to report test accuracy")
    train.add_argument("--seed", type=_nonneg_int, default=0,
                       help="seed of the weights, the data and the shuffling (default: 0)")
    train.add_argument("--out", metavar="DIR", help="output directory (default: runs/<dataset>)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar or per-epoch lines")
    mode = train.add_mutually_exclusive_group()
    mode.add_argument("--compile", dest="compile", action="store_const", const=True,
                      help="train through the tape compiler (same numbers, much faster)")
    mode.add_argument("--eager", dest="compile", action="store_const", const=False,
                      help="build and walk one graph per batch (default: compile when the model allows it)")

    predict = sub.add_parser("predict", help="print a saved model's output for one input",
                             description="Print a saved model's output for one sample. When a "
                             "history.json written by 'train' beside the model holds an input scaling "
                             "(--dataset digits standardizes its inputs), the sample is scaled the same way first.")
    predict.add_argument("model", help="a model.json written by 'train' or nn.save")
    predict.add_argument("inputs", type=_float, nargs="+", metavar="X", help="the sample's numbers (raw, unscaled)")

    info = sub.add_parser("info", help="print a saved model's architecture and parameter count",
                          description="Print a saved model's architecture and parameter count.")
    info.add_argument("model", help="a model.json written by 'train' or nn.save")
    for p in (parser, train, predict, info):
        # argparse takes only -1 and -0.5 for negative numbers; -1e-3 would be read as an option
        p._negative_number_matcher = _NEGATIVE_NUMBER
    return parser


_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return _train(args, args.subparser)
        if args.command == "predict":
            return _predict(args)
        return _info(args)
    except CliError as error:
        print(f"python -m nn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# --- train ------------------------------------------------------------------------------------------
def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    cfg, spec = _train_config(args, parser)
    data = _train_data(args, parser, cfg, spec.labels, spec.name)
    run = _Run(args, cfg, spec, data, _output_dir(args))
    _describe(run)
    _fit(run)
    _score(run)
    _save(run)
    return 0


@dataclass
class _Data:
    """The data a train command learns from: training part, test part (None without), what it was."""

    X: Any
    y: Any
    X_test: Any
    y_test: Any
    classes: int
    n_out: int
    scaling: dict | None  # the training part's mean and std when standardized (saved for predict)


@dataclass
class _Run:
    """One train command as it goes: its settings and data, then the model and what training gave."""

    args: argparse.Namespace
    cfg: dict
    spec: Any  # the loss's nn.losses declaration
    data: _Data
    out: str
    model: Any = None
    regularizer: Any = None
    history: Any = None
    test_curve: list[float] = field(default_factory=list)  # test accuracy per epoch; chooses nothing
    seconds: float = 0.0
    train_acc: float | None = None
    test_acc: float | None = None


def _train_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[dict, Any]:
    """The data set's settings with the command line's on top, and the loss's declaration."""
    cfg = dict(DATASETS[args.dataset])
    for key in cfg:
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = value
    if not 0.0 <= cfg["test_split"] < 1.0:
        parser.error(f"argument --test-split: must be a fraction in [0, 1), got {cfg['test_split']}")
    spec = losses.REGISTRY[cfg["loss"]]  # --loss gives a registered name, the defaults are ones
    if spec.labels == "real" and args.lr is None:
        cfg["lr"] = min(cfg["lr"], REAL_LOSS_LR)
    return cfg, spec


def _train_data(args: argparse.Namespace, parser: argparse.ArgumentParser, cfg: dict, kind: str,
                loss_name: str) -> _Data:
    """The data set loaded, labelled for the loss, split into training and test parts, standardized."""
    from nn import datasets

    try:
        X, y_index = _load(args.dataset, cfg, args.seed)
    except (ImportError, FileNotFoundError) as error:  # scikit-learn, or Fashion-MNIST's files, missing
        raise CliError(str(error)) from None
    except ValueError as error:  # e.g. --samples 1: the generator needs more
        raise CliError(f"--dataset {args.dataset} --samples {cfg['samples']}: {error}") from None
    classes = int(y_index.max()) + 1
    if kind in ("sign", "01") and classes > 2:
        parser.error(f"--loss {loss_name} is for two classes, but {args.dataset} has {classes}; "
                     "use cross_entropy or multiclass_hinge")
    y = datasets.to_labels(y_index, kind if kind != "real" else "index")
    n_out = 1 if kind in ("sign", "01") else classes
    if kind == "real":  # a squared loss on class scores: learn one-hot targets
        y = datasets.to_labels(y_index, "onehot") if classes > 2 else datasets.to_labels(y_index, "sign")
        n_out = classes if classes > 2 else 1

    X_test = y_test = None
    if args.dataset in _OWN_TEST_SET:
        k = _OWN_TEST_SET[args.dataset]
        X, X_test, y, y_test = X[:-k], X[-k:], y[:-k], y[-k:]
    elif cfg["test_split"] > 0:
        try:
            X, X_test, y, y_test = datasets.train_test_split(X, y, test_size=cfg["test_split"], seed=args.seed,
                                                              stratify=True)
        except ValueError as error:  # a split that leaves no training data
            raise CliError(f"--test-split {cfg['test_split']:g} of {len(X)} samples: {error}") from None
    scaling = None
    if cfg["standardize"]:  # statistics of the training part only; saved in history.json for predict
        scaling = {"mean": X.mean(axis=0).tolist(), "std": X.std(axis=0).tolist()}
        X, X_test = datasets.standardize(X, X if X_test is None else X_test)
        X_test = X_test if cfg["test_split"] > 0 or args.dataset in _OWN_TEST_SET else None
    return _Data(X, y, X_test, y_test, classes, n_out, scaling)


def _output_dir(args: argparse.Namespace) -> str:
    out: str = args.out or os.path.join("runs", args.dataset)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise CliError(f"cannot create output directory {out!r}: {error.strerror or error}") from None
    return out


def _describe(run: _Run) -> None:
    """Make the model and say what will be trained on what, how."""
    import nn

    args, cfg, d = run.args, run.cfg, run.data
    act = activations.get_activation(cfg["activation"])  # --activation gives a registered name, as the defaults
    run.model = nn.MLP(d.X.shape[1], [*cfg["hidden"], d.n_out], activation=act, seed=args.seed)
    data_desc = "the 100 shipped two-moons points" if args.dataset == "moons" and cfg["samples"] is None else (
        f"{args.dataset}: {len(d.X) + (0 if d.X_test is None else len(d.X_test))} samples")
    print(f"data: {data_desc}, {d.X.shape[1]} features, {d.classes} classes"
          + (f", {len(d.X_test)} held out for testing" if d.X_test is not None else ""))
    if d.scaling is not None:
        print("inputs standardized with the training part's mean and std (kept in history.json)")
    print(run.model)
    batch = "full batch" if cfg["batch_size"] is None else f"batches of {cfg['batch_size']}"
    reg = f" + L2 {cfg['l2']:g}" if cfg["l2"] else ""
    print(f"loss {run.spec.name}{reg}, {cfg['optimizer']} lr {cfg['lr']:g} ({cfg['schedule']}), "
          f"{cfg['epochs']} epochs, {batch}{', eager' if cfg['compile'] is False else ', compiled'}")


def _fit(run: _Run) -> None:
    """nn.fit with the command's settings, scoring the test part after every epoch (for loss.png)."""
    import nn

    args, cfg, d, model = run.args, run.cfg, run.data, run.model
    optimizer = OPTIMIZERS[cfg["optimizer"]](model.parameters(), cfg["lr"])
    steps = cfg["epochs"] * (1 if cfg["batch_size"] is None else -(-len(d.X) // cfg["batch_size"]))
    schedule = SCHEDULES[cfg["schedule"]](cfg["lr"], steps)
    run.regularizer = (lambda ps, lam=cfg["l2"]: nn.l2(ps, lam)) if cfg["l2"] else None

    def score_test(epoch: int, logs: dict) -> None:
        run.test_curve.append(nn.evaluate(model, d.X_test, d.y_test, loss=run.spec.name)["accuracy"])

    sys.stdout.flush()  # the progress lines go to stderr; keep the two in order in logs
    start = time.perf_counter()
    try:
        run.history = nn.fit(model, d.X, d.y, loss=run.spec.fn, optimizer=optimizer, epochs=cfg["epochs"],
                             batch_size=cfg["batch_size"], schedule=schedule, regularizer=run.regularizer,
                             progress=not args.no_progress, seed=args.seed, compile=cfg["compile"],
                             callbacks=[] if d.X_test is None else [score_test])
    except ValueError as error:  # nn.DivergenceError too
        raise CliError(str(error)) from None
    run.seconds = time.perf_counter() - start


def _score(run: _Run) -> None:
    """Accuracy on the training and the test part (the loss tells evaluate how to read one output)."""
    import nn

    d, model, loss_name = run.data, run.model, run.spec.name
    try:
        with stage(f"scoring the {len(d.X)} training samples"):
            run.train_acc = nn.evaluate(model, d.X, d.y, loss=loss_name)["accuracy"]
        print(f"final training accuracy: {100 * run.train_acc:.1f} % ({len(d.X)} samples, {run.seconds:.1f} s)")
        if d.X_test is not None:
            with stage(f"scoring the {len(d.X_test)} test samples"):
                run.test_acc = nn.evaluate(model, d.X_test, d.y_test, loss=loss_name)["accuracy"]
            print(f"test accuracy: {100 * run.test_acc:.1f} % ({len(d.X_test)} samples)")
    except ValueError as error:
        raise CliError(str(error)) from None


def _save(run: _Run) -> None:
    """model.json, history.json (with the run's settings and scores) and the pictures, into run.out."""
    import nn

    out, d, history = run.out, run.data, run.history
    written: list[str] = []
    try:
        with stage(f"saving model.json and history.json to {out}"):
            nn.save(run.model, os.path.join(out, "model.json"))
            written.append("model.json")
            record = history.to_dict()
            record["run"] = {
                "dataset": run.args.dataset, **run.cfg, "seed": run.args.seed, "loss": run.spec.name,
                "train_accuracy": run.train_acc, "test_accuracy": run.test_acc,
                "test_accuracy_per_epoch": run.test_curve, "seconds": run.seconds,
                "input_scaling": d.scaling,
            }
            with open(os.path.join(out, "history.json"), "w", encoding="utf-8") as f:
                json.dump(record, f, indent=1)
                f.write("\n")
            written.append("history.json")
        curves = {**history.records, "val_accuracy": run.test_curve} if run.test_curve else history
        notes = cli_pictures.write_pictures(run.model, d.X, d.y, curves, run.spec.fn, out, written, run.regularizer,
                                            held_out="test", classes=_CLASS_NAMES.get(run.args.dataset))
    except OSError as error:
        raise CliError(f"cannot write to {out!r}: {error.strerror or error}") from None
    print(f"wrote {', '.join(written)} to {out}")
    for note in notes:
        print(note)


def _load(name: str, cfg: dict, seed: int) -> tuple[Any, Any]:
    from nn import datasets

    n, noise = cfg["samples"], cfg["noise"]
    if name == "moons":
        return datasets.demo_moons() if n is None else datasets.moons(n, noise=noise, seed=seed)
    if name == "circles":
        return datasets.circles(n or 100, noise=noise, seed=seed)
    if name == "xor":
        return datasets.xor()
    if name == "blobs":
        return datasets.blobs(n or 150, centers=3, std=noise or 1.0, seed=seed)
    if name == "spirals":
        return datasets.spirals(n or 300, classes=3, noise=noise, seed=seed)
    if name == "fashion-mnist":  # the training images (the first --samples), then the 10,000 test images
        import numpy as np

        X, y = datasets.fashion_mnist()
        X_test, y_test = datasets.fashion_mnist("test")
        n = len(X) if n is None else n
        return np.concatenate([X[:n], X_test]), np.concatenate([y[:n], y_test])
    X, y = datasets.digits()
    if n is not None:
        X, y = X[:n], y[:n]
    return X, y


# --- predict and info --------------------------------------------------------------------------------
def _load_model(path: str) -> Any:
    import nn

    try:
        model = nn.load(path)
    except FileNotFoundError:
        raise CliError(f"no such model file: {path!r}") from None
    except IsADirectoryError:
        raise CliError(f"{path!r} is a directory, not a model file") from None
    except OSError as error:
        raise CliError(f"cannot read {path!r}: {error.strerror or error}") from None
    except (ValueError, TypeError, KeyError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CliError(f"{path!r} is not a usable model file: {message}") from None
    model.eval()
    return model


def _predict(args: argparse.Namespace) -> int:
    from autograd import no_grad

    model = _load_model(args.model)
    nin = getattr(model, "nin", None)
    if nin is not None and len(args.inputs) != nin:
        raise CliError(f"the model takes {nin} input{'s' if nin != 1 else ''}, got {len(args.inputs)}: "
                       f"{' '.join(f'{v:g}' for v in args.inputs)}")
    inputs = list(args.inputs)
    scaling = _input_scaling(args.model, len(inputs))
    if scaling is not None:
        mean, std = scaling
        inputs = [(x - m) / (s if s > 0 else 1.0) for x, m, s in zip(inputs, mean, std)]
        print("inputs standardized with the training statistics in history.json")
    with no_grad():
        try:
            out = model(inputs)
        except (ValueError, ArithmeticError) as error:
            raise CliError(str(error)) from None
    # a Value, or a list of them; a model ending in Dropout (the identity in eval mode) hands back numbers
    if isinstance(out, list):
        values = [_number(v) for v in out]
        best = max(range(len(values)), key=values.__getitem__)
        print("outputs: " + " ".join(f"{v:.6g}" for v in values))
        print(f"class: {best} (the largest output)")
    else:
        value = _number(out)
        print(f"output: {value:.6g}")
        print(f"sign: {'+1' if value > 0 else '-1'} (class {int(value > 0)} for a score or logit)")
    return 0


def _number(x: Any) -> float:
    """A model output as a float: a Value's .data (float() of a Value is refused), or the number itself."""
    return float(getattr(x, "data", x))


def _input_scaling(model_path: str, width: int) -> tuple[list[float], list[float]] | None:
    """The mean and std that 'train' standardized the inputs with (history.json beside the model)."""
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "history.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CliError(f"cannot read the input scaling in {path!r}: {type(error).__name__}") from None
    run = record.get("run") if isinstance(record, dict) else None
    scaling = run.get("input_scaling") if isinstance(run, dict) else None
    if scaling is None:
        return None
    columns: list[Any] = [scaling.get(k) for k in ("mean", "std")] if isinstance(scaling, dict) else []
    try:
        if len(columns) != 2 or not all(isinstance(c, list) and len(c) == width for c in columns):
            raise ValueError
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for c in columns for v in c):
            raise ValueError
        mean, std = ([float(v) for v in c] for c in columns)  # OverflowError for a huge int
        if not all(math.isfinite(v) for v in mean + std):
            raise ValueError
    except (ValueError, OverflowError):
        raise CliError(f"{path!r}: run.input_scaling must hold 'mean' and 'std' lists of {width} finite "
                       "numbers") from None
    return mean, std


def _info(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    n = model.num_parameters()
    print(model)
    print(f"parameters: {n}")
    nin = getattr(model, "nin", None)
    nouts = getattr(model, "nouts", None)
    if nin is not None and nouts:
        print(f"inputs: {nin}, outputs: {list(nouts)[-1]}")
    return 0


# --- argument types -------------------------------------------------------------------------------------
def _registered(kind: str, names: Mapping[str, str]) -> Callable[[str], str]:
    """An argparse type: a name (or alias) from a registry, returned as its registered name."""
    def parse(text: str) -> str:
        key = validate.normal_name(text)
        if key not in names:
            raise argparse.ArgumentTypeError(validate.unknown(kind, text, names))
        return names[key]

    return parse


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= minimum."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_nonneg_int = _int_at_least(0)


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _nonneg_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value
