"""Fuzzing ``python -m nn``'s arguments, in process through ``nn.cli.main(argv)``.

Whatever the arguments (numbers in every notation, infinities, NaN, garbage, unknown options, missing,
corrupt, nested or foreign model files), the command line never shows a traceback: it exits with 0, or
with 2 and one ``error:`` line as the last line on stderr (after argparse's usage line, for usage errors).
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nn
from nn import cli

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

NUMBERS = ["0", "-0", "1", "-1", "2", "0.5", "-0.5", "1e-3", "-1e-3", "-1E+2", "3e0", ".5", "-.5", "1e999", "-1e999",
           "inf", "-inf", "nan", "-nan", "Infinity", "1_0", "0x10", "", " ", "1,5", "１", "10" * 30, "-" * 3]
WORDS = ["relu", "tanh", "hinge", "cross_entropy", "sgd", "adam", "linear", "cosine", "nope", "--", "-", "-x",
         "--no-such-option", "é", "\x00", "a b", "-h"]


def run(argv):
    """(exit status, stdout, stderr) of the command line; a traceback fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as e:  # argparse: --help (0) and usage errors (2)
            status = e.code
    return status, out.getvalue(), err.getvalue()


def assert_clean(argv, result):
    status, out, err = result
    assert "Traceback" not in err + out, (argv, err[-500:])
    assert status in (0, 2), (argv, status, err[-500:])
    if status == 2:
        lines = [line for line in err.split("\n") if line.strip()]  # (splitlines also splits at \x1e)
        errors = [line for line in lines if "error:" in line]
        assert len(errors) == 1 and lines[-1] == errors[0], (argv, err[-500:])
        assert len(errors[0]) < 1000, (argv, errors[0][:300])


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    files = {}
    for name, model in (("mlp", nn.MLP(2, [3, 1], seed=0)), ("multi", nn.MLP(2, [3, 3], seed=0)),
                        ("dropout", nn.Dropout(0.5)), ("batchnorm", nn.BatchNorm(2)), ("neuron", nn.Neuron(2))):
        files[name] = str(d / f"{name}.json")
        nn.save(model, files[name])
    doc = json.loads(open(files["mlp"]).read())
    doc["state"]["layers.0.neurons.0.w[0]"] = "0.5"
    for name, text in (("retyped", json.dumps(doc)), ("corrupt", '{"format": "chalkgrad.nn", '),
                       ("deep", "[" * 100_000 + "]" * 100_000), ("foreign", '{"hello": 1}'), ("empty", "")):
        files[name] = str(d / f"{name}.json")
        with open(files[name], "w", encoding="utf-8") as f:
            f.write(text)
    files["binary"] = str(d / "binary.json")
    with open(files["binary"], "wb") as f:
        f.write(b"\xff\xfe\x00garbage")
    files["missing"] = str(d / "missing.json")
    files["directory"] = str(d)
    return files


def test_predict_and_info_never_print_a_traceback(model_files):
    @SETTINGS
    @given(st.sampled_from(["predict", "info"]), st.sampled_from(sorted(model_files)),
           st.lists(st.sampled_from(NUMBERS + WORDS) | st.text(max_size=5), max_size=4))
    def check(command, model, rest):
        argv = [command, model_files[model], *rest]
        assert_clean(argv, run(argv))

    check()


def test_predict_accepts_every_notation_of_a_finite_number(model_files):
    model = nn.load(model_files["mlp"])
    for a, b in (("1", "-1e-3"), ("-1E+2", ".5"), ("-.5", "3e0"), ("-0", "0.5")):
        status, out, err = run(["predict", model_files["mlp"], a, b])
        assert status == 0 and err == "", (a, b, err)
        assert f"output: {model([float(a), float(b)]).data:.6g}" in out


OPTIONS = {
    "--hidden": NUMBERS, "--activation": WORDS + ["elu", "leaky_relu"], "--loss": WORDS + ["perceptron"],
    "--optimizer": WORDS + ["momentum", "rmsprop"], "--lr": NUMBERS, "--schedule": WORDS,
    "--batch-size": NUMBERS, "--l2": NUMBERS, "--noise": NUMBERS, "--test-split": NUMBERS, "--seed": NUMBERS,
    "--compile": [], "--eager": [], "--bogus": NUMBERS,
}


def test_train_arguments_never_print_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(cli.cli_train.cli_pictures, "write_pictures", lambda *args, **kwargs: [])  # no pictures: speed
    base = ["train", "--dataset", "xor", "--epochs", "1", "--no-progress", "--out", str(tmp_path / "run")]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(sorted(OPTIONS)).flatmap(
        lambda opt: st.tuples(st.just(opt), st.lists(st.sampled_from(OPTIONS[opt] or [""]), max_size=2)
                              if OPTIONS[opt] else st.just([])))
        , max_size=3))
    def check(options):
        argv = list(base)
        for opt, values in options:
            if opt == "--hidden":  # small layers only: the fuzz is about parsing, not training time
                values = [v for v in values if v not in ("10" * 30, "1e999")]
            argv += [opt, *values]
        assert_clean(argv, run(argv))

    check()


def test_top_level_arguments_never_print_a_traceback():
    @SETTINGS
    @given(st.lists(st.sampled_from(NUMBERS + WORDS + ["predict", "info", "train", "--help"]) | st.text(max_size=4),
                    max_size=3))
    def check(argv):
        if argv[:1] == ["train"] and not any(a.startswith("-") for a in argv[1:]):
            argv = argv + ["--bogus"]  # a valid 'train' would train the moons demo: keep it a usage error
        assert_clean(argv, run(argv))

    check()
