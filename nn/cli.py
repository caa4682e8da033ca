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
from typing import Any, Callable, Mapping, NoReturn, Sequence

from . import activations, cli_train, losses, validate
from .cli_train import DATASET_HELP, DATASETS, OPTIMIZERS, REAL_LOSS_LR, SCHEDULES, CliError

__all__ = ["main", "build_parser", "DATASETS", "DATASET_HELP", "OPTIMIZERS", "SCHEDULES"]

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
            return cli_train.train(args, args.subparser)
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
