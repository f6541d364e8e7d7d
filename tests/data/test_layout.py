"""Reading a data set folder, and guarding output folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audiostyle.data.layout import Corpus, check_output_dir, held_out_sizes, install_staged, is_dataset
from audiostyle.errors import AudioStyleError


def _touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def dataset(tmp_path) -> Path:
    root = tmp_path / "ds"
    for cid in ("b", "a", "c"):
        _touch(root / "train" / "violin" / f"{cid}.wav")
    for cid in ("a", "b", "d"):
        _touch(root / "train" / "piano" / f"{cid}.wav")
    _touch(root / "train" / "notes" / "a.json", json.dumps([[0.0, 0.5, 60], [0.25, 1.0, 67]]))
    _touch(root / "train" / "notes" / "b.json", "{broken")
    _touch(root / "test" / "piano" / "x.wav")
    _touch(root / "train" / "piano" / ".a.wav.1234.part")  # an in-flight atomic write
    _touch(root / "manifest.json", json.dumps({"format": "audiostyle-dataset", "seed": 3}))
    return root


def test_reads_splits_instruments_and_pairs(dataset):
    ds = Corpus(str(dataset))
    assert ds.root == dataset and ds.manifest["seed"] == 3
    assert ds.splits() == ["train", "test"]
    assert ds.instruments() == ["piano", "violin"] == ds.instruments("train")
    assert ds.instruments("test") == ["piano"] and ds.instruments("val") == []
    assert ds.clip_ids("train", "violin") == ["a", "b", "c"]
    assert ds.clip_ids("train") == ["a", "b"]  # the pairs: ids every instrument has
    assert ds.clip_ids("test") == ["x"] and ds.clip_ids("val") == []
    assert ds.audio_path("train", "piano", "d") == dataset / "train" / "piano" / "d.wav"
    assert ds.items("train") == [("piano", c, dataset / "train" / "piano" / f"{c}.wav") for c in "abd"] + [
        ("violin", c, dataset / "train" / "violin" / f"{c}.wav") for c in "abc"]


def test_notes(dataset):
    ds = Corpus(dataset)
    assert ds.notes("train", "a") == [(0.0, 0.5, 60), (0.25, 1.0, 67)]
    assert isinstance(ds.notes("train", "a")[0][2], int)
    assert ds.notes("train", "c") is None
    with pytest.raises(AudioStyleError, match="b.json"):
        ds.notes("train", "b")


def test_not_a_dataset(tmp_path):
    with pytest.raises(AudioStyleError, match="not found"):
        Corpus(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    _touch(tmp_path / "plain" / "song.wav")
    with pytest.raises(AudioStyleError, match="plain.*not an audiostyle data set"):
        Corpus(tmp_path / "plain")
    _touch(tmp_path / "corrupt" / "manifest.json", "[1, 2")
    with pytest.raises(AudioStyleError, match="manifest.json"):
        Corpus(tmp_path / "corrupt")
    (tmp_path / "splits-only" / "val" / "cello").mkdir(parents=True)
    assert Corpus(tmp_path / "splits-only").manifest == {}


def test_output_guard(tmp_path, dataset):
    check_output_dir(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty")
    check_output_dir(dataset)
    assert is_dataset(dataset)
    _touch(tmp_path / "other" / "manifest.json", json.dumps({"format": "something-else"}))
    _touch(tmp_path / "code" / "main.py")
    _touch(tmp_path / "afile")
    for bad in ("other", "code", "afile"):
        with pytest.raises(AudioStyleError, match=bad):
            check_output_dir(tmp_path / bad)
    assert not is_dataset(tmp_path / "other") and not is_dataset(tmp_path / "code")


def test_install_staged_replaces_splits_and_writes_manifest_last(tmp_path, dataset):
    staging = dataset / ".partial"
    _touch(staging / "val" / "cello" / "n.wav")
    install_staged(staging, dataset, {"format": "audiostyle-dataset", "seed": 9})
    ds = Corpus(dataset)
    assert ds.splits() == ["val"] and ds.manifest["seed"] == 9 and not staging.exists()


def test_held_out_sizes():
    assert held_out_sizes(100) == (10, 10)
    assert held_out_sizes(3) == (1, 1)
    assert held_out_sizes(2) == (0, 0)
