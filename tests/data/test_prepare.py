"""Preparing real recordings: clipping, silence rejection, bad files, split by file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiostyle import MODEL_SR
from audiostyle.data.layout import Corpus
from audiostyle.data.prepare import active_fraction, clip_starts, prepare_recordings
from audiostyle.errors import AudioStyleError

SECONDS = 2.0


def _tone(seconds: float, sr: int = 44100, freq: float = 440.0, amp: float = 0.3, seed: int = 0):
    """``(round(seconds * sr),)`` float32: a sine with a little noise."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    return (amp * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("rec") / "src"
    for inst, freq in (("violin", 660.0), ("piano", 220.0)):
        (src / inst).mkdir(parents=True)
        for i in range(4):
            wave = _tone(4.5 + 1.5 * i, freq=freq * (1 + 0.1 * i), seed=i)
            if i == 0:
                wave = np.stack([wave, wave * 0.5], axis=1)  # stereo is mixed down
            sf.write(str(src / inst / f"take{i}.{'flac' if i == 3 else 'wav'}"), wave, 44100)
    bad = src / "piano"
    (bad / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 20)
    nan = _tone(5.0)
    nan[1000:1100] = np.nan
    sf.write(str(bad / "nan.wav"), nan, 44100, subtype="FLOAT")
    sf.write(str(bad / "short.wav"), _tone(1.0), 44100)
    silent = np.zeros(int(4.0 * 44100), dtype=np.float32)
    silent[:4000] = _tone(4000 / 44100)  # a blip, then digital silence
    sf.write(str(bad / "silent.wav"), silent, 44100)
    (bad / "notes.txt").write_text("not audio")
    return src


@pytest.fixture(scope="module")
def prepared(recordings, tmp_path_factory):
    out = tmp_path_factory.mktemp("prep") / "set"
    return out, prepare_recordings(recordings, out, seconds=SECONDS, seed=0, progress=False)


def test_bad_files_reported_and_skipped(prepared):
    out, summary = prepared
    reasons = {s["file"]: s["reason"] for s in summary["skipped"]}
    assert set(reasons) == {"piano/corrupt.wav", "piano/nan.wav", "piano/short.wav", "piano/notes.txt"}
    assert "non-finite" in reasons["piano/nan.wav"]
    assert "shorter than 2 s" in reasons["piano/short.wav"]
    assert "supported" in reasons["piano/notes.txt"]
    assert summary["rejected"] and {r["file"] for r in summary["rejected"]} == {"piano/silent.wav"}
    manifest = json.loads((out / "manifest.json").read_text())
    sources = {c["source_file"] for c in manifest["clips"]}
    takes = {f"{i}/take{k}.{'flac' if k == 3 else 'wav'}" for i in ("violin", "piano") for k in range(4)}
    assert sources == takes
    assert manifest["skipped"] == summary["skipped"] and manifest["rejected"] == summary["rejected"]


def test_clips_are_exact_normalised_and_non_overlapping(prepared):
    out, summary = prepared
    ds = Corpus(out)
    manifest = ds.manifest
    assert manifest["kind"] == "recordings" and manifest["activity_rule"]["threshold_dbfs"] == -45.0
    per_file: dict[str, list[float]] = {}
    for c in manifest["clips"]:
        per_file.setdefault(c["source_file"], []).append(c["start_s"])
        path = ds.audio_path(c["split"], c["instrument"], c["clip_id"])
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.frames) == (MODEL_SR, 1, int(SECONDS * MODEL_SR))
        wave, _ = sf.read(str(path), dtype="float32")
        assert np.sqrt(np.mean(wave.astype(np.float64) ** 2)) == pytest.approx(0.07, abs=1e-3)
        assert ds.notes(c["split"], c["clip_id"]) is None
    for file, starts in per_file.items():
        assert 1 <= len(starts) <= 3
        assert all(b - a >= SECONDS - 1e-3 for a, b in zip(sorted(starts), sorted(starts)[1:])), file
    assert sum(len(v) for v in per_file.values()) > 8  # longer files give more than one clip
    total = sum(n for per in summary["counts"].values() for n in per.values())
    assert total == len(manifest["clips"]) == sum(len(ds.items(s)) for s in ds.splits())


def test_split_by_source_file_per_instrument(prepared):
    out, summary = prepared
    manifest = json.loads((out / "manifest.json").read_text())
    split_of: dict[str, str] = {}
    for c in manifest["clips"]:
        assert split_of.setdefault(c["source_file"], c["split"]) == c["split"]
    for inst in ("violin", "piano"):
        splits = [s for f, s in split_of.items() if f.startswith(inst + "/")]
        assert sorted(splits) == ["test", "train", "train", "val"]  # 4 files: 2/1/1
        assert summary["counts"]["train"][inst] >= 2


def test_deterministic_for_seed(recordings, prepared, tmp_path):
    out, _ = prepared
    again = tmp_path / "again"
    prepare_recordings(recordings, again, seconds=SECONDS, seed=0, progress=False)
    a = json.loads((out / "manifest.json").read_text())["clips"]
    b = json.loads((again / "manifest.json").read_text())["clips"]
    assert a == b
    for c in a:
        rel = Path(c["split"]) / c["instrument"] / f"{c['clip_id']}.wav"
        assert (out / rel).read_bytes() == (again / rel).read_bytes()
    other = tmp_path / "other"
    prepare_recordings(recordings, other, seconds=SECONDS, seed=5, progress=False)
    assert json.loads((other / "manifest.json").read_text())["clips"] != a


def test_active_fraction():
    tone = _tone(2.0, sr=MODEL_SR)
    assert active_fraction(tone) == 1.0
    assert active_fraction(np.zeros(MODEL_SR, dtype=np.float32)) == 0.0
    half = tone.copy()
    half[len(half) // 2:] = 0
    assert 0.45 < active_fraction(half) < 0.55
    assert active_fraction(tone * 10 ** (-50 / 20)) == 0.0  # a -53 dBFS tone counts as silent


def test_clip_starts():
    rng = np.random.default_rng(0)
    for _ in range(50):
        starts = clip_starts(10_000, 3000, (1, 3), rng)
        assert 1 <= len(starts) <= 3 and starts == sorted(starts)
        assert all(b - a >= 3000 for a, b in zip(starts, starts[1:]))
        assert starts[0] >= 0 and starts[-1] + 3000 <= 10_000
    assert clip_starts(2999, 3000, (1, 3), rng) == []
    assert len(clip_starts(3000, 3000, (2, 3), rng)) == 1


def test_bad_arguments(tmp_path, recordings):
    with pytest.raises(AudioStyleError, match="not found"):
        prepare_recordings(tmp_path / "none", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioStyleError, match="no instrument folders"):
        prepare_recordings(tmp_path / "empty", tmp_path / "out", progress=False)
    with pytest.raises(AudioStyleError, match="inside the recordings"):
        prepare_recordings(recordings, recordings / "out", progress=False)
