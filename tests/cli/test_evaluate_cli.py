"""`audiostyle evaluate`: round trip on the tiny data and model, and one-line errors."""

import json
import shutil

import pytest

from audiostyle import cli


@pytest.fixture(autouse=True)
def evaluate_registered(monkeypatch):
    # Until "evaluate" is in the CLI's command list, register it for these tests.
    if "evaluate" not in cli._COMMAND_MODULES:
        monkeypatch.setattr(cli, "_COMMAND_MODULES", [*cli._COMMAND_MODULES, "evaluate"])


@pytest.fixture(scope="module")
def data(tiny_data, tmp_path_factory):
    dst = tmp_path_factory.mktemp("cli-eval") / "data"
    shutil.copytree(tiny_data, dst, ignore=shutil.ignore_patterns("cache"))
    return dst


def test_round_trip_on_a_run_folder_and_a_model_file(tiny_model, data, tmp_path, capsys):
    out = tmp_path / "report"
    code = cli.main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--out", str(out),
                     "--limit", "1", "--workers", "1", "--probe-clips", "2", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert "report.md" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    assert res["model"]["sha256"] and res["model"]["path"].endswith("model.safetensors")
    assert res["data"]["n_clips"] == 1 and res["directions"] == ["piano:violin", "violin:piano"]
    assert "content" in res["diagnostics"] and "style" in res["diagnostics"]  # the flagship has embeddings
    assert (out / "figures" / "loss_curves.png").is_file()  # a run folder: its loss curves
    text = (out / "report.md").read_text()
    assert "transcribe + re-render" in text and "Paper mean" in text
    # The released file works too; the baseline rows now come from the data set's cache.
    out2 = tmp_path / "report2"
    code = cli.main(["evaluate", "--model", str(tiny_model / "model.safetensors"), "--data", str(data),
                     "--out", str(out2), "--directions", "piano:violin", "--limit", "1", "--workers", "1",
                     "--probe-clips", "2", "--no-progress"])
    assert code == 0
    res2 = json.loads((out2 / "results.json").read_text())
    assert res2["cache"]["hits"] > 0 and res2["cache"]["misses"] == 0
    assert res2["tasks"] == ["piano:piano", "violin:violin", "piano:violin"]


@pytest.mark.parametrize("case", ["missing_data", "missing_split", "unknown_model", "bad_direction"])
def test_errors_are_one_line(case, tiny_model, data, tmp_path, capsys):
    args = {"--model": str(tiny_model), "--data": str(data), "--out": str(tmp_path / "r")}
    extra = []
    expect = {"missing_data": "data set folder not found", "missing_split": "no 'holdout' split",
              "unknown_model": "no such model", "bad_direction": "no cello clips"}[case]
    if case == "missing_data":
        args["--data"] = str(tmp_path / "nope")
    elif case == "missing_split":
        extra = ["--split", "holdout"]
    elif case == "unknown_model":
        args["--model"] = "no-such-model"
    elif case == "bad_direction":
        extra = ["--directions", "piano:cello"]
    code = cli.main(["evaluate", *[x for kv in args.items() for x in kv], *extra, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("audiostyle: error:") and err.count("\n") == 1 and expect in err, err
    assert not (tmp_path / "r").exists()
