"""Rendering paired clips: layout, pairing, ranges, splits, determinism, fonts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiostyle import MODEL_SR
from audiostyle.data import TEST_FONT, TRAIN_FONT
from audiostyle.data import render as R
from audiostyle.data.instruments import resolve_instrument
from audiostyle.data.layout import Corpus
from audiostyle.errors import AudioStyleError

SECONDS = 2.0
N = int(SECONDS * MODEL_SR)
INSTRUMENTS = ("piano", "violin")

pytestmark = pytest.mark.skipif(not (Path(TRAIN_FONT).is_file() and Path(TEST_FONT).is_file()),
                                reason="GM soundfonts not installed (make setup)")


def _render(out, seed=0, workers=1, clips=6, **kw):
    return R.render_corpus(out, instruments=INSTRUMENTS, clips_per_instrument=clips, seconds=SECONDS,
                           seed=seed, workers=workers, progress=False, **kw)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "set"
    summary = _render(out)
    return out, summary


def test_layout_and_counts(rendered):
    out, summary = rendered
    assert summary["counts"] == {"train": {"piano": 4, "violin": 4}, "val": {"piano": 1, "violin": 1},
                                 "test": {"piano": 1, "violin": 1}}
    ds = Corpus(out)
    assert ds.splits() == ["train", "val", "test"]
    for split, n in (("train", 4), ("val", 1), ("test", 1)):
        assert ds.instruments(split) == ["piano", "violin"]
        assert len(ds.clip_ids(split)) == n  # every clip exists for both instruments
        assert all(ds.notes(split, cid) for cid in ds.clip_ids(split))
    assert not (out / ".partial-render").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sample_rate"] == MODEL_SR and manifest["seconds"] == SECONDS and manifest["seed"] == 0
    assert [(i["name"], i["program"]) for i in manifest["instruments"]] == [("piano", 0), ("violin", 40)]
    assert len(manifest["clips"]) == 6
    for clip in manifest["clips"]:
        assert {"clip_id", "split", "source_work", "source_kind", "transposition", "bpm", "font"} <= set(clip)
        assert clip["source_kind"] in ("chorale", "fiddle")


def test_wavs_are_mono_22050_exact_length_rms_and_start_sounding(rendered):
    out, _ = rendered
    for _, _, path in Corpus(out).items("train") + Corpus(out).items("test"):
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.frames) == (MODEL_SR, 1, N)
        wave, _ = sf.read(str(path), dtype="float32")
        assert np.sqrt(np.mean(wave.astype(np.float64) ** 2)) == pytest.approx(0.07, abs=1e-3)
        head = wave[: int(0.1 * MODEL_SR)]
        assert np.sqrt(np.mean(head ** 2)) > 0.005  # the clip opens on a note


def test_notes_in_every_instrument_range_and_window(rendered):
    out, _ = rendered
    ds = Corpus(out)
    tail = min(R.TAIL_SECONDS, 0.2 * SECONDS)
    for split in ds.splits():
        for cid in ds.clip_ids(split):
            notes = ds.notes(split, cid)
            assert len(notes) >= 4
            for name in INSTRUMENTS:
                inst = resolve_instrument(name)
                assert all(inst.low <= p <= inst.high for _, _, p in notes)
            assert all(0 <= on < off <= SECONDS - tail + 1e-6 for on, off, _ in notes)


def test_every_wav_is_exactly_its_notes_json_rendered(rendered):
    """Re-synthesise each clip from its notes file: both instruments of a pair hold those notes."""
    out, _ = rendered
    ds = Corpus(out)
    clips = {c["clip_id"]: c for c in ds.manifest["clips"]}
    for stream, split in enumerate(("train", "val", "test")):
        for cid in ds.clip_ids(split):
            notes = ds.notes(split, cid)
            index = int(cid.rsplit("_", 1)[1])
            _, vels = R.note_velocities(0, stream, index, len(notes))
            for name in INSTRUMENTS:
                program = resolve_instrument(name).program
                expected = R.finish(R.render_notes(clips[cid]["font"], program, notes, vels, N))
                got, _ = sf.read(str(ds.audio_path(split, name, cid)), dtype="float32")
                assert np.max(np.abs(got - np.clip(expected, -1, 1))) <= 1.5 / 32768, (split, name, cid)
                again = np.clip(R.rerender(out, split, cid, name), -1, 1)
                assert np.max(np.abs(got - again)) <= 1.5 / 32768, (split, name, cid)


def test_rerender_with_the_training_font_and_its_refusals(rendered):
    """A test clip re-rendered in the training font is the training font's rendering of its
    notes: not the stored test-font WAV, the same length and level."""
    out, _ = rendered
    ds = Corpus(out)
    cid = ds.clip_ids("test")[0]
    notes = ds.notes("test", cid)
    _, vels = R.note_velocities(0, 2, int(cid.rsplit("_", 1)[1]), len(notes))
    expected = R.finish(R.render_notes(TRAIN_FONT, 40, notes, vels, N))
    got = R.rerender(out, "test", cid, "violin", font=TRAIN_FONT)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(R.rerender(ds, "test", cid, "violin", font=TRAIN_FONT), expected)
    stored, _ = sf.read(str(ds.audio_path("test", "violin", cid)), dtype="float32")
    assert got.shape == stored.shape and np.max(np.abs(got - stored)) > 0.05
    with pytest.raises(AudioStyleError, match="no clip 'test_99999'"):
        R.rerender(out, "test", "test_99999", "violin")
    (out / "test" / "notes" / f"{cid}.json").rename(out / "notes.bak")
    try:
        with pytest.raises(AudioStyleError, match="has no notes file"):
            R.rerender(out, "test", cid, "violin")
    finally:
        (out / "notes.bak").rename(out / "test" / "notes" / f"{cid}.json")


def test_split_by_work_and_fonts(rendered):
    out, _ = rendered
    m = json.loads((out / "manifest.json").read_text())
    works = {s: set(m["splits"][s]["works"]) for s in ("train", "val", "test")}
    train, val, test = works["train"], works["val"], works["test"]
    assert not (train & val or train & test or val & test)
    seen: dict[str, str] = {}
    for clip in m["clips"]:
        assert clip["source_work"] in works[clip["split"]]
        assert seen.setdefault(clip["source_work"], clip["split"]) == clip["split"]
        assert clip["font"] == (TEST_FONT if clip["split"] == "test" else TRAIN_FONT)
    assert m["fonts"] == {"train": TRAIN_FONT, "val": TRAIN_FONT, "test": TEST_FONT}


def test_several_train_fonts_are_taken_in_turn(tmp_path):
    out = tmp_path / "set"
    summary = _render(out, clips=10, train_font=[TRAIN_FONT, TEST_FONT])
    m = json.loads((out / "manifest.json").read_text())
    assert m["fonts"] == summary["fonts"] == {"train": [TRAIN_FONT, TEST_FONT], "val": [TRAIN_FONT, TEST_FONT],
                                              "test": TEST_FONT}
    for split in ("train", "val"):
        clips = [c for c in m["clips"] if c["split"] == split]
        assert [c["font"] for c in clips] == [(TRAIN_FONT, TEST_FONT)[i % 2] for i in range(len(clips))]
    assert R.split_font(m, "train") == TRAIN_FONT and R.split_font(m, "test") == TEST_FONT
    # The second train excerpt really is in the second font: its WAV is that font's rendering.
    ds = Corpus(out)
    cid = ds.clip_ids("train")[1]
    notes = ds.notes("train", cid)
    _, vels = R.note_velocities(0, 0, 1, len(notes))
    got, _ = sf.read(str(ds.audio_path("train", "violin", cid)), dtype="float32")
    np.testing.assert_allclose(got, R.finish(R.render_notes(TEST_FONT, 40, notes, vels, N)), atol=1 / 32767)
    np.testing.assert_array_equal(R.rerender(ds, "train", cid, "violin"), R.rerender(ds, "train", cid, "violin",
                                                                                     font=TEST_FONT))


def test_missing_second_font_names_its_package(tmp_path):
    absent = tmp_path / "OPL-3_FM_128M.sf2"
    with pytest.raises(AudioStyleError, match="apt-get install opl3-soundfont"):
        R.check_font(absent)


def test_font_lists_are_checked(tmp_path):
    with pytest.raises(AudioStyleError, match="named twice"):
        _render(tmp_path / "a", train_font=[TRAIN_FONT, TRAIN_FONT])
    with pytest.raises(AudioStyleError, match="no soundfont given"):
        _render(tmp_path / "b", train_font=[])
    with pytest.raises(AudioStyleError, match="test split takes one soundfont"):
        _render(tmp_path / "c", test_font=[TRAIN_FONT, TEST_FONT])
    assert not any((tmp_path / d).exists() for d in "abc")
    assert R.split_font({}, "train") is None and R.split_font({"fonts": {"train": []}}, "train") is None


def test_test_font_changes_the_sound(rendered):
    out, _ = rendered
    ds = Corpus(out)
    cid = ds.clip_ids("test")[0]
    notes = ds.notes("test", cid)
    _, vels = R.note_velocities(0, 2, 0, len(notes))
    with_train_font = R.finish(R.render_notes(TRAIN_FONT, 40, notes, vels, N))
    got, _ = sf.read(str(ds.audio_path("test", "violin", cid)), dtype="float32")
    assert np.max(np.abs(got - with_train_font)) > 0.05


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_byte_identical_whatever_the_workers(rendered, tmp_path):
    out, _ = rendered
    _render(tmp_path / "again", workers=2)
    assert _tree(tmp_path / "again") == _tree(out)
    _render(tmp_path / "other", seed=1)
    other = _tree(tmp_path / "other")
    assert other.keys() == _tree(out).keys()
    assert other["train/notes/train_00000.json"] != _tree(out)["train/notes/train_00000.json"]


def test_rerender_replaces_previous_set_and_refuses_foreign_folder(tmp_path):
    out = tmp_path / "set"
    _render(out, clips=6)
    _render(out, clips=3)  # a previous data set may be overwritten...
    assert len(list((out / "train" / "piano").glob("*.wav"))) == 1  # ...and stale clips go
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(AudioStyleError, match="not an audiostyle data set"):
        _render(foreign, clips=3)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]


def test_missing_or_bad_font(tmp_path):
    with pytest.raises(AudioStyleError, match="apt-get install fluid-soundfont-gm"):
        _render(tmp_path / "a", train_font=tmp_path / "nope.sf2")
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"not a soundfont" * 10)
    with pytest.raises(AudioStyleError, match="bad.sf2"):
        _render(tmp_path / "b", test_font=bad)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_failed_render_leaves_no_data_set(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise AudioStyleError("synth exploded")

    monkeypatch.setattr(R, "render_notes", broken)
    out = tmp_path / "set"
    with pytest.raises(AudioStyleError, match="synth exploded"):
        _render(out, clips=3)
    assert not (out / "manifest.json").exists() and not (out / ".partial-render").exists()
    assert not any((out / s).exists() for s in ("train", "val", "test"))
