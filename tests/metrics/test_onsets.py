import math

import numpy as np
import pytest

from audiostyle.errors import AudioStyleError
from audiostyle.metrics.onsets import onset_f1, onset_f1_from_times, onset_times


@pytest.fixture(scope="module")
def clip(synth):
    notes, total = synth.melody(seed=3, n=16, ioi=(0.25, 0.5))
    return notes, synth.render(notes, total, voice=synth.piano)


def test_detects_the_true_onsets(clip):
    notes, wave = clip
    detected = onset_times(wave)
    assert detected.ndim == 1 and np.all(np.diff(detected) > 0)
    assert onset_f1_from_times([n[0] for n in notes], detected) == 1.0


def test_slow_attack_tones(synth):
    notes, total = synth.melody(seed=5, n=12, ioi=(0.3, 0.5))
    bowed = synth.render(notes, total, attack=0.05, decay=0.5)
    assert onset_f1_from_times([n[0] for n in notes], onset_times(bowed)) >= 0.9


def test_identical_is_perfect(clip):
    _notes, wave = clip
    assert onset_f1(wave, wave) == 1.0


@pytest.mark.parametrize("seconds", [0.02, 0.035])
def test_small_shift_keeps_f1(clip, synth, seconds):
    _notes, wave = clip
    assert onset_f1(wave, synth.shift(wave, seconds)) >= 0.9


@pytest.mark.parametrize("seconds", [0.08, 0.12])
def test_large_shift_drops_f1(clip, synth, seconds):
    _notes, wave = clip
    assert onset_f1(wave, synth.shift(wave, seconds)) <= 0.2


def test_silence(clip):
    _notes, wave = clip
    silent = np.zeros_like(wave)
    assert onset_times(silent).shape == (0,)
    assert math.isnan(onset_f1(silent, wave))  # no reference onsets: undefined
    assert onset_f1(wave, silent) == 0.0


def test_f1_from_times_known_answers():
    ref = [1.0, 2.0, 3.0, 4.0]
    assert onset_f1_from_times(ref, ref) == 1.0
    assert onset_f1_from_times(ref, [1.049, 2.0, 3.0, 4.0]) == 1.0
    assert onset_f1_from_times(ref, [1.0, 2.0]) == pytest.approx(2 / 3)  # P=1, R=1/2
    assert onset_f1_from_times(ref, [1.06, 2.06, 3.06, 4.06]) == 0.0
    assert onset_f1_from_times(ref, [1.06], window=0.1) == pytest.approx(0.4)
    assert math.isnan(onset_f1_from_times([], [1.0]))
    assert onset_f1_from_times(ref, []) == 0.0


@pytest.mark.parametrize("bad", [[], [0.0, float("inf")]])
def test_bad_waves_raise(bad):
    with pytest.raises(AudioStyleError):
        onset_times(np.asarray(bad, np.float32))


def test_bad_times_raise():
    with pytest.raises(AudioStyleError):
        onset_f1_from_times([1.0, float("nan")], [1.0])
    with pytest.raises(AudioStyleError):
        onset_f1_from_times([1.0], [1.0], window=0.0)
