"""report.md, results.json and figures, from a synthetic set of per-clip results."""

import json

import numpy as np
import pytest

from audiostyle.evaluation import report, scoring

SYSTEMS = {
    "model": {"label": "model (fake)", "description": "the model under test"},
    "content_input": {"label": "content input", "description": "the untouched input"},
    "target": {"label": "target", "description": "the true rendering"},
    "transcribe_rerender": {"label": "transcribe + re-render", "description": "basic-pitch + soundfont"},
}
TASKS = ["piano:piano", "violin:violin", "piano:violin", "violin:piano"]
CLIPS = ["c0", "c1", "c2"]


class _Clf:
    classes_ = ["piano", "violin"]
    meta = {"train_fingerprint": "x"}


def fake_results(tmp_path=None) -> dict:
    rng = np.random.default_rng(0)
    items = {}
    for c in CLIPS:
        for s in SYSTEMS:
            for t in TASKS:
                metrics = {m.key: float(rng.uniform()) for m in scoring.metrics_for(t)}
                if c == "c2":
                    metrics.pop("rpa", None)  # polyphonic clip: RPA does not apply
                    if "pitch_corr" in metrics:
                        metrics["pitch_corr"] = float("nan")  # undefined
                items[(c, s, t)] = {"metrics": metrics, "pred": t.split(":")[1] if s != "content_input" else t.split(":")[0]}
    res = scoring.aggregate(items, list(SYSTEMS), TASKS, CLIPS, _Clf())
    res.update({
        "command": "audiostyle evaluate --model fake --data d --out r", "seed": 0,
        "model": {"name": "fake", "path": "/runs/x/model.safetensors", "sha256": "ab" * 32, "instruments": ["piano", "violin"]},
        "data": {"dir": "d", "split": "test", "limit": None, "clips": CLIPS, "n_clips": 3, "n_monophonic": 2},
        "directions": ["piano:violin", "violin:piano"], "tasks": TASKS, "systems": SYSTEMS, "skipped_systems": {},
        "metrics": {m.key: {"label": m.label, "task": m.task, "group": m.group, "higher_is_better": m.higher_is_better,
                            "description": m.description} for m in scoring.METRICS},
        "diagnostics": {"n_train": 10, "n_eval": 6, "pooling": "mean",
                        "content": {"accuracy": 0.5, "chance": 0.5}, "style": {"accuracy": 1.0, "chance": 0.5},
                        "content_cv": {"accuracy": 0.917, "chance": 0.5, "folds": 5, "n": 6}},
        "figures": {}, "cache": {"hits": 3, "misses": 0},
        "timings": {"harness_s": 10.0, "harness_per_clip_s": 3.3, "workers": 2, "model_inference_s": 1.0,
                    "probe_embedding_s": 0.5, "total_s": 11.5, "metrics_cpu_per_job_s": 2.0, "metric_jobs": 3},
    })
    return res


def test_report_names_every_metric_row_and_paper_number(tmp_path):
    res = fake_results()
    path = report.write_report(res, tmp_path)
    text = path.read_text()
    for spec in scoring.METRICS:
        assert spec.label in text, spec.label
    for label in ("content input", "target", "transcribe + re-render", "model (fake)"):
        assert f"| {label} |" in text
    for task in ("Piano Recon.", "Violin Recon.", "Piano→Violin", "Violin→Piano"):
        assert task in text
    for number in ("1.758", "141.1", "0.4098", "-0.0038"):  # the paper's Table 1
        assert number in text
    assert "Task | Metric | Mean | Std" in text
    assert res["command"] in text
    assert "reliable for piano" in text and "monophonic" in text
    assert "(n=2)" in text  # cells where a clip is undefined or does not apply say so
    assert "| z_style | 1 | not measured | 0.5 |" in text  # reports from before the cross-validated probe
    assert "| z_content | 0.5 | 0.917 (5 folds) | 0.5 |" in text


def test_reconstruction_pitch_split_by_kind_of_music(tmp_path):
    res = fake_results()
    res["data"]["kinds"] = {"c0": "fiddle", "c1": "fiddle", "c2": "chorale"}
    agree = res["results"]["model"]["piano:piano"]["pitch_agree"]
    agree["per_clip"] = {"c0": 1.0, "c1": 0.5, "c2": 0.25}
    agree.update(mean=0.5833, std=0.3118, n=3)
    header, rows = report.recon_pitch_rows(res)
    assert header[2:] == [f"pitch {m} ↑, {k}" for m in ("correlation", "agreement") for k in ("all", "chorale", "fiddle")]
    assert [r[:2] for r in rows] == [["Piano Recon.", "model (fake)"], ["Piano Recon.", "transcribe + re-render"],
                                     ["Violin Recon.", "model (fake)"], ["Violin Recon.", "transcribe + re-render"]]
    assert rows[0][2 + 1] == "n/a"  # c2, the only chorale, has an undefined correlation
    assert rows[0][5:] == ["0.5833 ± 0.312", "0.25 ± 0", "0.75 ± 0.25"]
    text = report.render_markdown(res)
    assert "### Reconstruction pitch by kind of music" in text and "| 0.75 ± 0.25 |" in text
    assert report.subset_stats(agree, {"c0", "c9"}) == {"mean": 1.0, "std": 0.0, "n": 1}
    assert report.subset_stats(agree, set()) is None


def test_results_json_is_strict_and_complete(tmp_path):
    res = fake_results()
    res["results"]["model"]["piano:piano"]["pitch_corr"]["weird"] = float("inf")
    report.write_results(res, tmp_path)
    data = json.loads((tmp_path / "results.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    stats = data["results"]["model"]["piano:piano"]["pitch_corr"]
    assert stats["n"] == 2 and stats["n_undefined"] == 1 and stats["per_clip"]["c2"] is None and stats["weird"] is None
    assert set(stats) >= {"mean", "std", "n", "per_clip"}
    rpa = data["results"]["target"]["piano:violin"]["rpa"]
    assert rpa["n"] == 2 and "c2" not in rpa["per_clip"]  # not applicable: left out, not undefined
    assert data["classifier"]["accuracy_on_real"] == 1.0


def test_aggregate_uses_population_std_over_defined_values():
    stats = scoring.summarize({"a": 1.0, "b": 3.0, "c": float("nan"), "d": None})
    assert stats["mean"] == 2.0 and stats["std"] == 1.0 and stats["n"] == 2 and stats["n_undefined"] == 2
    assert scoring.summarize({})["mean"] is None


def test_cell_and_number_formatting():
    assert report.fmt(None) == "n/a" and report.fmt(float("nan")) == "n/a" and report.fmt(7.85e-17) == "0"
    assert report.cell({"mean": 0.5, "std": 0.25, "n": 3}, 3) == "0.5 ± 0.25"
    assert report.cell({"mean": 0.5, "std": 0.25, "n": 2}, 3) == "0.5 ± 0.25 (n=2)"
    assert report.cell({"mean": None, "std": None, "n": 0}, 3) == "n/a"
    assert report.task_label("piano:piano") == "Piano Recon." and report.task_label("violin:piano") == "Violin→Piano"


def test_figures(tmp_path):
    res = fake_results()
    (tmp_path / "figures").mkdir()
    report.make_figures(res, tmp_path)
    assert (tmp_path / res["figures"]["metric table"]).read_bytes()[:4] == b"\x89PNG"
    t = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    path = report.spectrogram_figure(t, 0.5 * t, "clip", tmp_path / "spec.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_loss_curves_from_a_run_or_nothing(tmp_path):
    assert report.loss_curves(tmp_path / "absent.jsonl", tmp_path / "a.png") is None
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("\n".join(json.dumps({"step": s, "gen/recon/magnitude": 1.0 / s, "disc/total": 0.7})
                                 for s in range(1, 6)))
    assert report.loss_curves(metrics, tmp_path / "loss.png").is_file()
