import math

import numpy as np
import pytest

from audiostyle.errors import AudioStyleError
from audiostyle.metrics.spectral import (
    instrumentation_similarity,
    log_mel,
    lsd,
    mfcc_distance,
    self_similarity,
    spectrogram_mse,
    ssm_distance,
)


@pytest.fixture(scope="module")
def pieces(synth):
    notes, total = synth.melody(seed=2, n=16, low=48, high=80, ioi=(0.2, 0.4))
    rng = np.random.default_rng(0)
    ref = synth.render(notes, total)
    return {
        "ref": ref,
        "noisy": (ref + rng.normal(0, 0.003, ref.shape)).astype(np.float32),
        "silent": np.zeros_like(ref),
        "saw": synth.render(notes, total, n_harm=30, rolloff=1.0),
        "sine": synth.render(notes, total, n_harm=1),
        "other_melody": synth.render(*synth.melody(seed=9, n=16, low=48, high=80, ioi=(0.2, 0.4))),
    }


def test_lsd(pieces):
    ref = pieces["ref"]
    assert lsd(ref, ref) == 0.0
    assert lsd(ref, ref, reduce="bins") == 0.0
    assert lsd(ref, 0.3 * ref) < 1e-3  # RMS-normalised: gain-invariant
    noisy, silent = lsd(ref, pieces["noisy"]), lsd(ref, pieces["silent"])
    assert 0 < noisy < silent
    assert lsd(ref, pieces["silent"], reduce="bins") > lsd(ref, pieces["noisy"], reduce="bins")
    with pytest.raises(AudioStyleError):
        lsd(ref, ref, reduce="time")


def test_log_mel_floor(pieces):
    db = log_mel(pieces["silent"])
    assert db.shape == (128, 1 + pieces["silent"].shape[0] // 512)
    assert np.all(db == -100.0)
    ref_db = log_mel(pieces["ref"])
    assert ref_db.min() >= ref_db.max() - 80.0 - 1e-9


def test_lsd_known_value(synth):
    # A sine and the same sine with a second partial of equal power: known mel-domain change.
    t = np.arange(22050) / 22050
    a = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    assert lsd(a, a) == 0.0
    assert lsd(a, -a) == pytest.approx(0.0, abs=1e-6)  # phase inversion is inaudible


def test_spectrogram_mse(pieces):
    ref = pieces["ref"]
    assert spectrogram_mse(ref, ref) == 0.0
    assert spectrogram_mse(ref, ref, scale="db") == 0.0
    # Against silence the MSE is the mean squared magnitude; halving the gain leaves 1/4 of it.
    full = spectrogram_mse(ref, pieces["silent"])
    assert spectrogram_mse(ref, 0.5 * ref) == pytest.approx(full / 4, rel=1e-4)
    assert spectrogram_mse(ref, pieces["noisy"]) < full
    with pytest.raises(AudioStyleError):
        spectrogram_mse(ref, ref, scale="mel")


def test_mfcc_distance(pieces):
    ref = pieces["ref"]
    assert mfcc_distance(ref, ref) == 0.0
    assert mfcc_distance(pieces["saw"], pieces["sine"]) > mfcc_distance(pieces["saw"], pieces["saw"] * 0.9)


def test_instrumentation_similarity(pieces):
    ref = pieces["ref"]
    assert instrumentation_similarity(ref, ref) == pytest.approx(1.0)
    assert instrumentation_similarity(ref, 0.2 * ref) == pytest.approx(1.0)
    assert instrumentation_similarity(pieces["saw"], pieces["sine"]) < 0.95
    assert math.isnan(instrumentation_similarity(ref, pieces["silent"]))


def test_ssm_distance(pieces):
    ref = pieces["ref"]
    for features in ("chroma", "mfcc"):
        assert ssm_distance(ref, ref, features=features) == pytest.approx(0.0, abs=1e-12)
        assert ssm_distance(ref, 0.5 * ref, features=features) < 1e-6
        assert ssm_distance(ref, pieces["other_melody"], features=features) > 0.05
    with pytest.raises(AudioStyleError):
        ssm_distance(ref, ref, features="tempogram")


def test_ssm_resamples_to_common_length(pieces):
    ref = pieces["ref"]
    slowed = np.repeat(ref, 2)  # half speed: same structure, twice the frames
    assert ssm_distance(ref, slowed) < ssm_distance(ref, pieces["other_melody"])


def test_self_similarity_of_zero_frames():
    f = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(self_similarity(f), [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


@pytest.mark.parametrize("fn", [lsd, spectrogram_mse, mfcc_distance, instrumentation_similarity, ssm_distance])
def test_bad_input_raises(fn, pieces):
    with pytest.raises(AudioStyleError):
        fn(pieces["ref"], np.zeros(0, np.float32))
    with pytest.raises(AudioStyleError):
        fn(np.array([0.0, np.inf], np.float32), pieces["ref"])
