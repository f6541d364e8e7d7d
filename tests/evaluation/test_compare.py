"""Comparison tables: models side by side, baselines once, the paper's numbers, README markers."""

import json

import pytest

from audiostyle.cli import main
from audiostyle.errors import AudioStyleError
from audiostyle.evaluation.compare import (BEGIN, END, comparison_markdown, load_results, monophonic_subset,
                                           update_between_markers)

TASKS = ["piano:piano", "violin:violin", "piano:violin", "violin:piano"]


def _stats(mean):
    return {"mean": mean, "std": 0.0, "n": 2}


def _results(model_lsd, clips=("test_1", "test_2"), probe=0.55):
    systems = {"model": {"label": "model"}, "content_input": {"label": "content input"},
               "target": {"label": "target"}, "transcribe_rerender": {"label": "transcribe + re-render"}}
    per_task = lambda lsd: {t: {"lsd": _stats(lsd), "style_acc": _stats(0.5), "pitch_corr": _stats(0.9)} for t in TASKS}
    return {
        "format": "audiostyle-evaluation", "command": f"audiostyle evaluate --model m{model_lsd}",
        "model": {"name": f"m{model_lsd}"}, "tasks": TASKS, "systems": systems,
        "data": {"dir": "/d", "split": "test", "clips": list(clips), "n_clips": len(clips), "n_monophonic": 1,
                 "instruments": ["piano", "violin"]},
        "results": {"model": per_task(model_lsd), "content_input": per_task(17.25), "target": per_task(0.0),
                    "transcribe_rerender": per_task(9.5)},
        "diagnostics": {"content": {"accuracy": probe}, "style": {"accuracy": 1.0},
                        "content_cv": {"accuracy": 0.875}},
        "classifier": {"accuracy_on_real": 0.98},
    }


def test_models_side_by_side_with_baselines_once_and_the_paper():
    text = comparison_markdown([("unpaired", _results(12.5)), ("paired", _results(8.25, probe=0.5))])
    rows = [line for line in text.splitlines() if line.startswith("| Piano→Violin")]
    # two models, then content input, transcribe + re-render, target, each once, in the GT table
    gt = rows[:5]
    assert [r.split("|")[2].strip() for r in gt] == ["**unpaired**", "**paired**", "content input", "transcribe + re-render", "target"]
    assert "12.5 ± 0" in gt[0] and "8.25 ± 0" in gt[1] and "17.2 ± 0" in gt[2]
    # the paper's Table 1 appears in the reconstruction table (its piano onset F1 was 0.07)
    assert "| Piano Recon. | paper's Table 1 | 1.76 ± 0.17 | 0.07 ± 0.086 |" in text
    assert "| **paired** | 0.5 | 0.875 | 1 | n/a |" in text  # style_cv not measured
    assert "audiostyle evaluate --model m8.25" in text


def test_pitch_correlation_over_the_monophonic_clips_only():
    kinds = {"test_1": "fiddle", "test_2": "chorale", "test_3": "fiddle", "test_4": "fiddle"}
    stats = {"mean": 0.5, "std": 0.3, "per_clip": {"test_1": 0.9, "test_2": 0.1, "test_3": 0.7, "test_4": float("nan")}}
    sub = monophonic_subset(stats, kinds)
    assert sub["n"] == 2 and sub["mean"] == pytest.approx(0.8) and sub["std"] == pytest.approx(0.1)
    assert monophonic_subset(stats, {"test_2": "chorale"}) is None
    results = _results(12.5)
    results["data"]["kinds"] = kinds
    for task in ("piano:piano", "violin:violin"):
        results["results"]["model"][task]["pitch_corr"] = stats
        results["results"]["model"][task]["pitch_agree"] = {"mean": 0.85, "std": 0.05}
    text = comparison_markdown([("m", results)])
    assert "pitch correlation, monophonic clips ↑ | pitch agreement ↑ |" in text
    assert "| Piano Recon. | **m** |" in text and "| 0.5 ± 0.3 | n/a | 0.8 ± 0.1 | 0.85 ± 0.05 |" in text
    assert "| Piano Recon. | paper's Table 1 |" in text and "| — | — |" in text


def test_evaluations_of_other_clips_are_refused():
    with pytest.raises(AudioStyleError, match="other clips"):
        comparison_markdown([("a", _results(1)), ("b", _results(2, clips=("test_1", "test_3")))])


def test_cli_writes_between_readme_markers(tmp_path):
    for name, lsd in (("a", 12.5), ("b", 8.25)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(_results(lsd)))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{BEGIN}\nold table\n{END}\noutro\n")
    assert main(["compare", f"{tmp_path / 'a'}=first", str(tmp_path / "b"), "--readme", str(readme)]) == 0
    doc = readme.read_text()
    assert doc.startswith("intro\n" + BEGIN) and doc.endswith(END + "\noutro\n") and "old table" not in doc
    assert "**first**" in doc and "**m8.25**" in doc  # label given, or the model's name


def test_clear_errors_for_missing_results_and_markers(tmp_path):
    with pytest.raises(AudioStyleError, match="no such evaluation results"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(AudioStyleError, match="not an audiostyle evaluation"):
        load_results(tmp_path)
    doc = tmp_path / "R.md"
    doc.write_text("no markers")
    with pytest.raises(AudioStyleError, match="markers"):
        update_between_markers(doc, "x")
    assert doc.read_text() == "no markers"
