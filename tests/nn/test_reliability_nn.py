"""Regression tests for nn's defects of issue 13 (model files, the command line, from_torch, History), each named
after what the user expected; the engine's are in tests/autograd/test_reliability.py.

Every test here failed on the code before the fix (wrong number, traceback or bare error)."""

from __future__ import annotations

import json

import pytest

import nn
from nn import cli
from nn.history import History


# --- 4. the CLI on a saved Dropout model ----------------------------------------------------------
def test_cli_predict_on_a_saved_dropout_model_prints_its_inputs(tmp_path, capsys):
    path = tmp_path / "dropout.json"
    nn.save(nn.Dropout(0.3), path)
    assert cli.main(["predict", str(path), "1.5", "-2"]) == 0
    out = capsys.readouterr()
    assert "outputs: 1.5 -2" in out.out and out.err == ""


# --- 8. model files missing a size ------------------------------------------------------------------
@pytest.mark.parametrize("make, key", [
    (lambda: nn.Layer(2, 3), "nin"), (lambda: nn.Layer(2, 3), "nout"), (lambda: nn.Neuron(2), "nin"),
    (lambda: nn.BatchNorm(2), "n"), (lambda: nn.MLP(2, [3, 1]), "nin"), (lambda: nn.MLP(2, [3, 1]), "nouts"),
])
def test_load_of_a_file_missing_a_size_raises_model_file_error_naming_it(tmp_path, make, key, capsys):
    path = tmp_path / "m.json"
    nn.save(make(), path)
    doc = json.loads(path.read_text())
    del doc["architecture"][key]
    path.write_text(json.dumps(doc))
    with pytest.raises(nn.ModelFileError, match=f"has no '{key}'"):
        nn.load(path)
    assert cli.main(["info", str(path)]) == 2
    assert f"has no '{key}'" in capsys.readouterr().err


# --- 9. from_torch on a BatchNorm of the wrong size -----------------------------------------------
def test_from_torch_batchnorm_size_mismatch_is_a_value_error_naming_the_module():
    torch = pytest.importorskip("torch")
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"module 1 \(BatchNorm1d\): BatchNorm1d normalises 4 features but the "
                                         r"Linear before it gives 3"):
        nn.from_torch(seq)


# --- 11. negative numbers in scientific notation on the command line ---------------------------------
def test_cli_accepts_negative_numbers_in_scientific_notation(tmp_path, capsys):
    path = tmp_path / "m.json"
    model = nn.MLP(2, [3, 1], seed=0)
    nn.save(model, path)
    assert cli.main(["predict", str(path), "1", "-1e-3"]) == 0
    assert f"output: {model([1.0, -0.001]).data:.6g}" in capsys.readouterr().out
    for bad in ("-inf", "-1e999"):
        with pytest.raises(SystemExit) as e:
            cli.main(["predict", str(path), "1", bad])
        assert e.value.code == 2
        assert "expected a finite number" in capsys.readouterr().err


# --- 13. a negative running variance ------------------------------------------------------------------
def test_load_refuses_a_negative_running_var_and_leaves_the_model_untouched(tmp_path, capsys):
    model = nn.MLP(2, [3, 1], batchnorm=True, seed=0)
    path = tmp_path / "bn.json"
    nn.save(model, path)
    doc = json.loads(path.read_text())
    doc["state"]["norms.0.running_var[1]"] = -1.0
    path.write_text(json.dumps(doc))
    with pytest.raises(nn.ModelFileError, match=r"'norms.0.running_var\[1\]' is -1.0, but a variance must be >= 0"):
        nn.load(path)
    target = nn.MLP(2, [3, 1], batchnorm=True, seed=0)
    before = target.state_dict()
    with pytest.raises(nn.ModelFileError):
        nn.load(path, into=target)
    assert target.state_dict() == before
    assert cli.main(["predict", str(path), "1", "2"]) == 2
    assert "variance must be >= 0" in capsys.readouterr().err


# --- also: History.load -------------------------------------------------------------------------------
def test_history_load_of_a_deeply_nested_file_is_a_clean_value_error(tmp_path):
    path = tmp_path / "h.json"
    for text in ("[" * 100_000 + "]" * 100_000, '{"records": {"loss": ' + "[" * 500 + "]" * 500 + "}}",
                 '{"records": {"loss": [1, "2"]}}', '{"records": [], "stop_reason": 1}'):
        path.write_text(text)
        with pytest.raises(ValueError, match=r"^History.load: ") as e:
            History.load(path)
        assert len(str(e.value)) < 300
    history = History({"epoch": [1, 2], "loss": [0.5, 0.25]}, stop_reason="done", best_epoch=2)
    history.save(path)
    assert History.load(path).to_dict() == history.to_dict()
