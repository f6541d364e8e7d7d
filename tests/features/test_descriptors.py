import numpy as np
import pytest
import torch

from audiostyle.features.descriptors import (
    clip_descriptors, descriptor_names, frame_rms, mfcc_from_mel, onset_envelope, spectral_bandwidth,
    spectral_centroid, tempo, zero_crossing_rate,
)
from audiostyle.features.mel import MelCodec
from audiostyle.features.spectral import SpectralConfig, stft

CFG = SpectralConfig()
SR = CFG.sr


def _sine(f, amp=0.5, seconds=1.0):
    t = torch.arange(int(seconds * SR)) / SR
    return (amp * torch.sin(2 * np.pi * f * t))[None]


def _inner(x):  # frames away from the zero-padded edges
    return x[:, 4:-4]


def test_centroid_and_bandwidth_of_a_sine():
    wave = _sine(1000.0)
    mag = stft(wave).abs()
    assert float(_inner(spectral_centroid(mag)).mean()) == pytest.approx(1000.0, rel=0.02)
    assert float(_inner(spectral_bandwidth(mag)).mean()) < 150  # a few bins of Hann leakage


def test_zero_crossing_rate_and_rms_of_a_sine():
    f, amp = 441.0, 0.4
    wave = _sine(f, amp)
    assert float(_inner(zero_crossing_rate(wave)).mean()) == pytest.approx(2 * f / SR, rel=0.03)
    assert float(_inner(frame_rms(wave)).mean()) == pytest.approx(amp / np.sqrt(2), rel=0.01)


def test_tempo_of_a_click_train_at_120_bpm():
    wave = torch.zeros(1, 6 * SR)
    for k in range(12):  # a click every 0.5 s
        s = int(k * 0.5 * SR)
        wave[0, s : s + 200] = torch.randn(200) * 0.5
    mel = MelCodec(128).mel_from_wave(wave)
    assert float(tempo(onset_envelope(mel))[0]) == pytest.approx(120.0, rel=0.04)


def test_mfcc_matches_librosa():
    librosa = pytest.importorskip("librosa")
    mel = MelCodec(64).mel_from_wave(_sine(300.0) + 0.01 * torch.randn(1, SR))
    ours = mfcc_from_mel(mel, 13)[0].T.numpy()
    ref = librosa.feature.mfcc(S=librosa.power_to_db(mel[0].T.numpy()), n_mfcc=13)
    assert np.allclose(ours, ref, atol=1e-2 * np.abs(ref).max())


def test_clip_vector_names_and_silence():
    spec = stft(torch.cat([_sine(500.0), torch.zeros(1, SR)]))
    mel = MelCodec(64).mel_from_magnitude(spec.abs())
    d = clip_descriptors(spec, mel, n_mfcc=20)
    assert d.shape == (2, len(descriptor_names(20))) == (2, 49)
    assert torch.isfinite(d).all()
    names = descriptor_names(20)
    assert float(d[0, names.index("centroid_khz_mean")]) == pytest.approx(0.5, rel=0.05)
    assert float(d[1, names.index("log_rms_mean")]) == pytest.approx(-5.0)  # log10 of the floor
