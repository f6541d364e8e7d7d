import numpy as np
import pytest
import torch

from audiostyle.features.mel import MelCodec, mel_filterbank, reference_windows
from audiostyle.features.normalize import complex_to_channels, compress
from audiostyle.features.spectral import SpectralConfig, analyze, stft

CFG = SpectralConfig()


def _music_like(seconds=2.0, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * CFG.sr)) / CFG.sr
    wave = torch.zeros_like(t)
    for k in range(4):
        f0 = 110 * 2 ** (torch.randint(0, 36, (1,), generator=g).item() / 12)
        env = torch.exp(-3 * ((t - k * seconds / 4) % seconds))
        wave += sum(env * torch.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
    return 0.1 * wave / wave.abs().max()


def _fitted_codec(*waves) -> MelCodec:
    codec = MelCodec(256)
    mels = [codec.mel_from_wave(w[None]) for w in waves]
    codec.fit(lambda: iter(mels))
    return codec


def test_filterbank_matches_librosa_slaney():
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=CFG.sr, n_fft=CFG.n_fft, n_mels=256)
    assert np.allclose(mel_filterbank(256), ref, atol=1e-6)
    assert (mel_filterbank(256).sum(axis=1) > 0).all()  # no empty band at n_fft 1024


def test_mel_from_the_feature_cache_equals_mel_from_the_waveform():
    wave = _music_like()[None]
    codec = MelCodec(256)
    raw = analyze(wave)
    cached = complex_to_channels(compress(torch.complex(raw[:, 0], raw[:, 1]), 0.3)).half().float()
    direct = codec.mel_from_wave(wave)
    from_cache = codec.mel_from_cache(cached, 0.3)
    assert from_cache.shape == direct.shape == (1, wave.shape[1] // CFG.hop + 1, 256)
    assert float((from_cache - direct).norm() / direct.norm()) < 5e-3  # float16 cache rounding only


def test_normalisation_uses_train_statistics_and_inverts_exactly():
    a, b = _music_like(seed=1), 0.5 * _music_like(seed=2)
    codec = _fitted_codec(a, b)
    mels = torch.cat([codec.mel_from_wave(a[None]), codec.mel_from_wave(b[None])], dim=1)
    assert float(codec.global_std) == pytest.approx(float(mels.double().std(unbiased=False)), rel=1e-4)
    x = codec.normalize(mels)
    assert torch.allclose(x.reshape(-1, 256).std(0, unbiased=False), torch.ones(256), atol=5e-3)  # per-band std 1 (float32 rounding)
    assert float(x.min()) >= 0  # no mean subtracted: silence stays 0
    assert torch.allclose(codec.denormalize(x), mels, rtol=1e-3, atol=1e-6 * float(mels.max()))
    state = codec.state_dict()
    assert set(state) == {"global_std", "band_std"}  # the filterbank is rebuilt, not stored


def test_out_of_range_model_outputs_still_give_finite_audio():
    codec = _fitted_codec(_music_like(seed=1))
    t = torch.arange(22050) / 22050
    loudest = torch.sign(torch.sin(2 * torch.pi * 440 * t))[None]  # full-scale square wave
    x = codec.normalize(codec.mel_from_wave(loudest))
    assert torch.allclose(codec.denormalize(x), codec.mel_from_wave(loudest), rtol=1e-3)  # real audio: exact
    wild = torch.full((1, 40, 256), 1e3)  # what an untrained decoder may emit: 10^(1e3 * std) before the clip
    power = codec.denormalize(wild)
    assert torch.isfinite(power).all() and float(power.max()) <= codec.max_power() * 1.001
    assert torch.isfinite(codec.to_wave(wild, 39 * 256, n_iter=2)).all()


def test_mel_pseudo_inverse_is_non_negative_and_consistent():
    wave = _music_like()[None]
    mag = stft(wave).abs()
    codec = MelCodec(256)
    mel = codec.mel_from_magnitude(mag)
    power = codec.linear_power(mel)
    assert power.shape == mag.shape and float(power.min()) >= 0
    back = codec.mel_from_magnitude(power.sqrt())
    assert float((back - mel).norm() / mel.norm()) < 2e-3
    assert float((power.sqrt() - mag).norm() / mag.norm()) < 0.05


def test_griffin_lim_through_the_mel_path_converges_with_iterations():
    wave = _music_like()[None]
    codec = _fitted_codec(wave[0])
    x = codec.normalize(codec.mel_from_wave(wave))
    target = codec.linear_power(codec.denormalize(x)).sqrt()

    def convergence(n_iter):
        est = codec.to_wave(x, wave.shape[1], n_iter=n_iter)
        assert est.shape == wave.shape and torch.isfinite(est).all()
        return float((stft(est).abs() - target).norm() / target.norm())

    sc = [convergence(n) for n in (0, 8, 32)]
    assert sc[0] > sc[1] > sc[2]  # spectral convergence improves with iterations
    assert sc[2] < 0.3


def test_reference_windows_pad_short_clips_and_cap_long_ones():
    assert reference_windows(torch.ones(100), 256).shape == (1, 256)
    assert reference_windows(torch.ones(1024), 256).shape == (7, 256)
    assert reference_windows(torch.ones(100_000), 256, max_windows=5).shape == (5, 256)
