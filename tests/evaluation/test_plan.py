"""The evaluation plan's pure parts: clip selection, transfer directions, the report folder."""

import pytest

from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import plan


def test_select_clips_is_seeded_and_limited():
    ids = [f"c{i:02d}" for i in range(20)]
    a, b = plan.select_clips(ids, 5, seed=1), plan.select_clips(ids, 5, seed=1)
    assert a == b and len(a) == 5 and a == sorted(a) and set(a) <= set(ids)
    assert plan.select_clips(ids, 5, seed=2) != a
    assert plan.select_clips(ids, None, 0) == ids == plan.select_clips(ids, 50, 0)


def test_parse_directions():
    assert plan.parse_directions(None, ["piano", "violin"]) == [("piano", "violin"), ("violin", "piano")]
    assert plan.parse_directions("Piano:40", []) == [("piano", "violin")]
    for bad in ("piano", "piano:piano", "piano:violin,piano:violin", "", "piano:"):
        with pytest.raises(AudioStyleError):
            plan.parse_directions(bad, ["piano", "violin"])


def test_output_folder_must_be_new_empty_or_an_earlier_report(tmp_path):
    plan.check_output(tmp_path / "new")
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "notes.txt").write_text("mine")
    with pytest.raises(AudioStyleError, match="not empty"):
        plan.check_output(tmp_path / "stray")
    (tmp_path / "file").write_text("x")
    with pytest.raises(AudioStyleError, match="not a folder"):
        plan.check_output(tmp_path / "file")
    old = tmp_path / "old"
    (old / "figures").mkdir(parents=True)
    (old / "figures" / "stale.png").write_bytes(b"x")
    (old / "results.json").write_text("{}")
    plan.check_output(old)
    plan.prepare_output(old)
    assert list((old / "figures").iterdir()) == []
