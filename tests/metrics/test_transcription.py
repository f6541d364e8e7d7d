import math
import subprocess
import sys

import numpy as np
import pytest

from audiostyle.audio.io import resample
from audiostyle.errors import AudioStyleError
from audiostyle.metrics.transcription import note_f1, transcribe


@pytest.fixture(scope="module")
def piece(synth):
    # Mid-range, non-overlapping piano-like notes: where basic-pitch is reliable.
    notes, total = synth.melody(seed=1, n=12, low=55, high=75)
    return notes, total, synth.render(notes, total, voice=synth.piano)


def test_transcribes_clean_sequence_perfectly(piece):
    notes, _total, wave = piece
    est = transcribe(wave)
    assert all(isinstance(p, int) for _on, _off, p in est)
    assert est == sorted(est, key=lambda n: (n[0], n[2]))
    assert note_f1(notes, est) == 1.0
    assert note_f1(est, est) == 1.0


def test_detuned_output_scores_zero(piece, synth):
    notes, total, _wave = piece
    up = synth.render(synth.transpose(notes, 1), total, voice=synth.piano)
    assert note_f1(notes, transcribe(up)) == 0.0


def test_other_sample_rate_is_resampled(piece):
    notes, _total, wave = piece
    assert note_f1(notes, transcribe(resample(wave, 22050, 44100), sr=44100)) == 1.0


def test_silence_has_no_notes():
    assert transcribe(np.zeros(22050, np.float32)) == []


def test_runs_on_onnx_without_tensorflow():
    code = ("import sys, numpy as np; from audiostyle.metrics.transcription import transcribe, _model; "
            "transcribe(np.zeros(4096, np.float32)); "
            "print(type(_model().model).__module__, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["onnxruntime.capi.onnxruntime_inference_collection", "False"]
    assert "WARNING" not in out.stderr  # basic-pitch's import-time warnings are silenced


def test_note_f1_known_answers():
    ref = [(0.0, 0.5, 60), (1.0, 1.5, 62), (2.0, 2.5, 64), (3.0, 3.5, 65)]
    assert note_f1(ref, ref) == 1.0
    shifted = [(on + 0.04, off + 0.3, p) for on, off, p in ref]  # onsets within 50 ms; offsets ignored
    assert note_f1(ref, shifted) == 1.0
    late = [(on + 0.06, off, p) for on, off, p in ref]
    assert note_f1(ref, late) == 0.0
    assert note_f1(ref, ref[:2]) == pytest.approx(2 / 3)
    assert note_f1(ref, [(0.0, 0.5, 61)] + ref[1:]) == pytest.approx(0.75)
    assert math.isnan(note_f1([], ref))
    assert note_f1(ref, []) == 0.0


def test_bad_notes_and_waves_raise():
    with pytest.raises(AudioStyleError):
        note_f1([(1.0, 0.5, 60)], [])
    with pytest.raises(AudioStyleError):
        note_f1([("a", 0.5, 60)], [])
    with pytest.raises(AudioStyleError):
        transcribe(np.zeros(0, np.float32))
