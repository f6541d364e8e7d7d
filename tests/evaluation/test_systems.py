"""The evaluation's rows: what each system outputs for a clip."""

import pickle

import numpy as np
import pytest

from audiostyle.data.layout import Corpus
from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import scoring, systems
from audiostyle.evaluation.systems import ClipAudio, ContentInput, ModelSystem, Target


@pytest.fixture(scope="module")
def clip(tiny_data):
    corpus = Corpus(tiny_data)
    cid = corpus.clip_ids("test")[0]
    return ClipAudio(cid, {i: str(corpus.audio_path("test", i, cid)) for i in ("piano", "violin")},
                     corpus.notes("test", cid), "fiddle")


@pytest.fixture(scope="module")
def manifest(tiny_data):
    return Corpus(tiny_data).manifest


def test_content_input_and_target(clip):
    x, t = clip.rendering("piano"), clip.rendering("violin")
    assert np.array_equal(ContentInput().produce(clip, "piano", "violin"), x)
    assert np.array_equal(Target().produce(clip, "piano", "violin"), t)
    assert np.array_equal(Target().produce(clip, "piano", "piano"), x)  # reconstruction: the input itself
    assert not np.array_equal(x, t)
    with pytest.raises(AudioStyleError, match="no flute rendering"):
        clip.rendering("flute")


def test_baselines_use_the_split_font_and_programs(manifest):
    rows, skipped = systems.baseline_systems(manifest, "test", ["piano", "violin"])
    assert [r.name for r in rows] == ["content_input", "target", "transcribe_rerender"] and not skipped
    rerender = rows[-1]
    assert rerender.font.endswith(manifest["fonts"]["test"].rsplit("/", 1)[-1])
    assert rerender.programs == {"piano": 0, "violin": 40}
    assert rerender.cache_token()["font_size"] > 0
    assert all(not r.cacheable for r in [ModelSystem(object())]) and all(r.cacheable for r in rows)


def test_transcribe_rerender_renders_the_inputs_transcription(clip, manifest, monkeypatch):
    from audiostyle.data import render

    rerender = systems.baseline_systems(manifest, "test", ["piano", "violin"])[0][-1]
    calls = []
    real = render.render_notes
    monkeypatch.setattr(render, "render_notes", lambda *a: calls.append(a) or real(*a))
    y = rerender.produce(clip, "piano", "violin")
    x = clip.rendering("piano")
    font, program, notes, velocities, n = calls[0]
    assert program == 40 and n == len(x) and font == rerender.font
    assert notes == scoring.cached_transcribe(x) and len(notes) > 0
    assert set(velocities) == {systems.RERENDER_VELOCITY}
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))
    assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(0.07, rel=1e-3)  # the data set's level


def test_transcribe_rerender_outputs_silence_when_nothing_is_heard(clip, manifest, monkeypatch):
    rerender = systems.baseline_systems(manifest, "test", ["piano", "violin"])[0][-1]
    monkeypatch.setattr(scoring, "cached_transcribe", lambda wave: [])
    y = rerender.produce(clip, "violin", "piano")
    assert y.shape == clip.rendering("violin").shape and not np.any(y)


def test_missing_font_skips_the_rerender_baseline_with_a_reason(manifest, tmp_path):
    broken = {**manifest, "fonts": {"test": str(tmp_path / "absent.sf2")}}
    rows, skipped = systems.baseline_systems(broken, "test", ["piano", "violin"])
    assert [r.name for r in rows] == ["content_input", "target"]
    assert "not found" in skipped["transcribe_rerender"]


class _Fake:
    name = "fake"

    def __init__(self, make):
        self.make = make
        self.calls = []

    def transfer(self, wave, sr, to, reference=None):
        self.calls.append(to)
        return self.make(wave, sr)


def test_model_system_asks_for_the_target_and_fits_the_length(clip):
    x = clip.rendering("piano")
    longer = _Fake(lambda w, sr: (np.concatenate([w, w]), sr))
    y = ModelSystem(longer).produce(clip, "piano", "violin")
    assert longer.calls == ["violin"] and np.array_equal(y, x)
    shorter = ModelSystem(_Fake(lambda w, sr: (w[:100], sr))).produce(clip, "piano", "piano")
    assert shorter.shape == x.shape and not np.any(shorter[100:])
    resampled = ModelSystem(_Fake(lambda w, sr: (np.zeros(len(w) * 2, np.float32), 2 * sr))).produce(clip, "piano", "violin")
    assert resampled.shape == x.shape
    with pytest.raises(AudioStyleError, match="non-finite"):
        ModelSystem(_Fake(lambda w, sr: (np.full(len(w), np.nan, np.float32), sr))).produce(clip, "piano", "violin")


def test_clips_travel_to_workers_without_their_audio(clip):
    clip.rendering("piano")
    copy = pickle.loads(pickle.dumps(clip))
    assert copy._waves == {} and copy.paths == clip.paths and copy.notes == clip.notes
    assert np.array_equal(copy.rendering("piano"), clip.rendering("piano"))
