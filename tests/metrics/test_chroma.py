import math

import numpy as np
import pytest

from audiostyle.errors import AudioStyleError
from audiostyle.metrics.chroma import chroma_cosine, chroma_distance, chroma_features, chroma_similarity


@pytest.fixture(scope="module")
def pieces(synth):
    notes, total = synth.melody(seed=1, n=20, low=50, high=80, ioi=(0.2, 0.4))
    return {
        "ref": synth.render(notes, total),
        "up1": synth.render(synth.transpose(notes, 1), total),  # +1 semitone
        "octave": synth.render(synth.transpose(notes, 12), total),
        "quiet": 0.01 * synth.render(notes, total),
    }


def test_features_shape_and_pitch_class(synth):
    wave = synth.tone(440.0, 1.0, decay=0.5)  # A4
    c = chroma_features(wave)
    assert c.shape == (12, 1 + wave.shape[0] // 512)
    np.testing.assert_allclose(np.linalg.norm(c[:, 5:-5], axis=0), 1.0, atol=1e-9)
    assert np.all(np.argmax(c[:, 5:-5], axis=0) == 9)


def test_identical_is_perfect(pieces):
    ref = pieces["ref"]
    assert chroma_distance(ref, ref) == 0.0
    assert chroma_similarity(ref, ref) == pytest.approx(1.0)
    assert chroma_cosine(ref, ref) == pytest.approx(1.0)


def test_gain_does_not_matter(pieces):
    assert chroma_distance(pieces["ref"], pieces["quiet"]) < 1e-4
    assert chroma_cosine(pieces["ref"], pieces["quiet"]) > 0.9999


def test_detuned_scores_low(pieces):
    ref, up1 = pieces["ref"], pieces["up1"]
    assert chroma_cosine(ref, up1) < 0.5
    assert chroma_similarity(ref, up1) < 0.3
    assert chroma_distance(ref, up1) > 0.9


def test_octave_keeps_chroma(pieces):
    ref, octave = pieces["ref"], pieces["octave"]
    assert chroma_cosine(ref, octave) > 0.95
    assert chroma_similarity(ref, octave) > 0.9
    assert chroma_distance(ref, octave) < 0.3


def test_silent_output(pieces):
    ref = pieces["ref"]
    silent = np.zeros_like(ref)
    assert chroma_distance(ref, silent) == pytest.approx(1.0, abs=0.05)  # sounding frames vs zero vectors
    assert math.isnan(chroma_similarity(ref, silent))
    assert math.isnan(chroma_cosine(ref, silent))


def test_length_mismatch_is_trimmed(pieces):
    ref = pieces["ref"]
    half = ref[: ref.shape[0] // 2]
    # Only the last frames differ (the long low-octave CQT kernels see the cut).
    assert chroma_distance(ref, half) < 0.05
    assert chroma_cosine(half, ref) > 0.98
    assert chroma_distance(ref, half) == pytest.approx(chroma_distance(half, ref))


def test_bad_input_raises(pieces):
    with pytest.raises(AudioStyleError):
        chroma_distance(pieces["ref"], np.zeros(0, np.float32))
    with pytest.raises(AudioStyleError):
        chroma_cosine(np.full(1000, np.nan, np.float32), pieces["ref"])
