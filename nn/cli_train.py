"""``python -m nn train``: its settings per data set, and the command in steps (settings, data, model,
fit, scores, files).  :mod:`nn.cli` parses the command line and calls :func:`train`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import activations, cli_pictures, losses, optim, schedules
from .fashion_mnist import FASHION_MNIST_CLASSES
from .progress import stage

__all__ = ["train", "CliError", "DATASETS", "DATASET_HELP", "OPTIMIZERS", "SCHEDULES", "REAL_LOSS_LR"]

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


def train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The train command: returns its exit status; a CliError for a problem to report in one line."""
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
