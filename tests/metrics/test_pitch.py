import math
import subprocess
import sys

import numpy as np
import pytest

from audiostyle.errors import AudioStyleError
from audiostyle.metrics import pitch as P


@pytest.fixture(scope="module")
def scale(synth):
    notes = [(0.2 + 0.45 * i, 0.2 + 0.45 * i + 0.4, m) for i, m in enumerate([57, 60, 62, 64, 65, 67, 69, 72])]
    total = notes[-1][1] + 0.3
    return notes, total, synth.render(notes, total, decay=1.0)


def test_importing_metrics_loads_nothing_heavy():
    code = ("import sys, audiostyle.metrics; "
            "print(','.join(m for m in ('torch', 'pesto', 'torchaudio', 'librosa', 'basic_pitch', 'sklearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_steady_tone_contour(synth):
    wave = synth.tone(220.0, 2.0, decay=0.3)
    times, f0, conf = P.f0_contour(wave)
    n = wave.shape[0]
    assert times.shape == f0.shape == conf.shape == (1 + n // 256,)
    assert times[0] == 0.0 and math.isclose(times[1], 256 / 22050)
    mid = slice(10, -20)
    assert np.all(conf[mid] > 0.9)
    cents = 1200 * np.log2(f0[mid] / 220.0)
    assert np.nanmax(np.abs(cents)) < 20


def test_silence_is_unvoiced():
    _t, f0, conf = P.f0_contour(np.zeros(22050, np.float32))
    assert np.all(np.isnan(f0))
    assert np.all(conf < P.DEFAULT_CONFIDENCE)


def test_glide_correlation(synth):
    up = synth.glide(150.0, 600.0, 2.0)
    assert P.pitch_correlation(up, up) > 0.999
    assert P.pitch_correlation(up, up[::-1].copy()) < -0.95
    # Transposition-invariant: the same glide an octave up still correlates perfectly.
    assert P.pitch_correlation(up, synth.glide(300.0, 1200.0, 2.0)) > 0.99


def test_glide_correlation_pyin(synth):
    up = synth.glide(150.0, 600.0, 1.5)
    assert P.pitch_correlation(up, up, method="pyin") > 0.999
    assert P.pitch_correlation(up, up[::-1].copy(), method="pyin") < -0.95


def test_correlation_nan_when_undefined(synth):
    up = synth.glide(150.0, 600.0, 1.0)
    silent = np.zeros_like(up)
    assert math.isnan(P.pitch_correlation(up, silent))
    steady = np.concatenate([np.zeros(2205, np.float32), synth.glide(220.0, 220.0, 1.0)])
    assert math.isnan(P.pitch_correlation(steady, steady))  # constant contour: r undefined
    assert math.isnan(P.pitch_correlation(up[:2000], up[:2000]))  # < 10 voiced frames


def test_pitch_agreement_counts_frames_where_correlation_collapses(scale, synth):
    notes, total, wave = scale
    assert P.pitch_agreement(wave, wave) == 1.0
    # The first two of eight notes an octave up (the tracker on another voice): three quarters
    # of the frames still agree, while the correlation of the contours collapses.
    switched = [(a, b, m + 12) if i < 2 else (a, b, m) for i, (a, b, m) in enumerate(notes)]
    other_voice = synth.render(switched, total, decay=1.0)
    assert 0.7 < P.pitch_agreement(wave, other_voice) < 0.8
    assert P.pitch_correlation(wave, other_voice) < 0.4
    # No transposition invariance, unlike the correlation: a semitone off agrees nowhere.
    up_semitone = synth.render(synth.transpose(notes, 1), total, decay=1.0)
    assert P.pitch_agreement(wave, up_semitone) == 0.0
    assert P.pitch_correlation(wave, up_semitone) > 0.99
    slightly_sharp = synth.render(synth.transpose(notes, 0.2), total, decay=1.0)  # +20 cents
    assert P.pitch_agreement(wave, slightly_sharp) == 1.0
    assert P.pitch_agreement(wave, slightly_sharp, cent_tolerance=10.0) < 0.05


def test_pitch_agreement_nan_when_too_few_frames(synth):
    up = synth.glide(150.0, 600.0, 1.0)
    assert math.isnan(P.pitch_agreement(up, np.zeros_like(up)))
    assert math.isnan(P.pitch_agreement(up[:2000], up[:2000]))  # < 10 voiced frames
    steady = synth.glide(220.0, 220.0, 1.0)
    assert P.pitch_agreement(steady, steady) == 1.0  # defined where r is not: no spread needed


def test_raw_pitch_accuracy(scale, synth):
    notes, total, wave = scale
    assert P.raw_pitch_accuracy(wave, notes) > 0.9
    up_semitone = synth.render(synth.transpose(notes, 1), total, decay=1.0)
    assert P.raw_pitch_accuracy(up_semitone, notes) < 0.1
    slightly_sharp = synth.render(synth.transpose(notes, 0.2), total, decay=1.0)  # +20 cents
    assert P.raw_pitch_accuracy(slightly_sharp, notes) > 0.9


def test_raw_pitch_accuracy_nan_without_reference_notes(scale):
    _notes, _total, wave = scale
    assert math.isnan(P.raw_pitch_accuracy(wave, []))
    assert math.isnan(P.raw_pitch_accuracy(wave, [(100.0, 101.0, 60)]))  # after the clip


def test_notes_to_f0():
    times = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    f0 = P.notes_to_f0([(0.4, 1.2, 69), (1.0, 1.6, 81)], times)
    np.testing.assert_allclose(f0, [0.0, 440.0, 880.0, 880.0, 0.0])


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.array([0.0, np.nan, 0.1], np.float32),
                                 np.zeros((2, 100), np.float32)])
def test_bad_input_raises(bad):
    with pytest.raises(AudioStyleError):
        P.f0_contour(bad)


def test_bad_arguments_raise(synth):
    wave = synth.tone(220.0, 0.5)
    with pytest.raises(AudioStyleError, match="unknown f0 method"):
        P.f0_contour(wave, method="crepe")
    with pytest.raises(AudioStyleError):
        P.raw_pitch_accuracy(wave, [(1.0, 0.5, 60)])


def test_voiced_in_both_trims_and_needs_both():
    nan = float("nan")
    ref = np.array([440.0, nan, 220.0, 0.0, 330.0, 110.0])
    est = np.array([441.0, 440.0, nan, 220.0, 331.0])  # one frame shorter
    assert P.voiced_in_both(ref, est).tolist() == [0, 4]
    assert P.voiced_in_both(ref[:0], est).tolist() == []
