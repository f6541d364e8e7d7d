"""Paired differences with bootstrap intervals: known answers, and their table in `compare`."""

import pytest

from audiostyle.cli import main
from audiostyle.evaluation.compare import comparison_markdown
from audiostyle.evaluation.paired import paired_difference, verdict

from .test_compare import TASKS, _results


def test_a_constant_gap_has_a_zero_width_interval():
    first = {f"c{i}": 0.5 + 0.01 * i for i in range(6)}
    second = {c: v + 0.1 for c, v in first.items()}
    d = paired_difference(first, second)
    assert d["n"] == 6
    assert d["mean"] == pytest.approx(0.1) and d["low"] == pytest.approx(0.1) and d["high"] == pytest.approx(0.1)
    assert verdict(d, higher_is_better=True) == "better" and verdict(d, higher_is_better=False) == "worse"


def test_the_interval_matches_the_normal_approximation_on_many_clips():
    # differences alternate 0 and 1 over 400 clips: mean 0.5, standard error 0.5 / 20 = 0.025
    first = {f"c{i}": 0.0 for i in range(400)}
    second = {f"c{i}": float(i % 2) for i in range(400)}
    d = paired_difference(first, second, n_boot=4000)
    assert d["mean"] == pytest.approx(0.5)
    assert d["low"] == pytest.approx(0.5 - 1.96 * 0.025, abs=0.006)
    assert d["high"] == pytest.approx(0.5 + 1.96 * 0.025, abs=0.006)
    assert paired_difference(first, second, n_boot=4000) == d  # seeded: the same table twice


def test_gaps_that_cancel_are_within_noise_and_undefined_clips_are_left_out():
    first = {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": None, "f": 0.3, "g": 0.0}
    second = {"a": 1.0, "b": -1.0, "c": 1.0, "d": -1.0, "e": 0.9, "f": float("nan"), "h": 5.0}
    d = paired_difference(first, second)
    assert d["n"] == 4 and d["mean"] == pytest.approx(0.0)
    assert d["low"] < 0 < d["high"]
    assert verdict(d, higher_is_better=True) == "within noise of the clips"
    assert paired_difference({"a": 1.0}, {"a": 2.0}) is None and verdict(None, True) == "n/a"
    with pytest.raises(ValueError, match="level"):
        paired_difference(first, second, level=1.0)


def test_compare_lists_each_later_model_against_the_first():
    clips = ("test_1", "test_2", "test_3")
    a, b = _results(12.5, clips=clips), _results(8.25, clips=clips)
    for r, values in ((a, (0.70, 0.80, 0.90)), (b, (0.75, 0.85, 0.95))):
        for task in TASKS:
            r["results"]["model"][task]["pitch_corr"]["per_clip"] = dict(zip(clips, values))
    a["results"]["model"]["piano:violin"]["lsd"]["per_clip"] = dict(zip(clips, (15.0, 14.0, 16.0)))
    b["results"]["model"]["piano:violin"]["lsd"]["per_clip"] = dict(zip(clips, (14.0, 13.0, 15.0)))
    assert "Paired differences" not in comparison_markdown([("old", a), ("new", b)])  # only when asked
    text = comparison_markdown([("old", a), ("new", b)], paired=True)
    assert "**Paired differences from old**" in text
    assert "| Piano Recon. | **new** | pitch correlation ↑ | 0.05 [0.05, 0.05] | 3 | better |" in text
    assert "| Piano→Violin | **new** | LSD (dB) ↓ | -1 [-1, -1] | 3 | better |" in text
    assert "Paired differences" not in comparison_markdown([("old", a)], paired=True)  # nothing to pair with


def test_cli_paired_flag(tmp_path, capsys):
    import json

    clips = ("test_1", "test_2")
    for name, values in (("a", (0.5, 0.6)), ("b", (0.4, 0.5))):
        r = _results(12.5, clips=clips)
        r["results"]["model"]["violin:violin"]["pitch_corr"]["per_clip"] = dict(zip(clips, values))
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(r))
    assert main(["compare", f"{tmp_path / 'a'}=a", f"{tmp_path / 'b'}=b", "--paired"]) == 0
    assert "| Violin Recon. | **b** | pitch correlation ↑ | -0.1 [-0.1, -0.1] | 2 | worse |" in capsys.readouterr().out
