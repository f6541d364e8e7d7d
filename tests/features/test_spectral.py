import numpy as np
import pytest
import torch

from audiostyle.features.normalize import FeatureNorm, compress, compute_stats, decompress
from audiostyle.features.spectral import SpectralConfig, analyze, cqt, istft, stft, to_complex

CFG = SpectralConfig()


def _snr_db(ref: torch.Tensor, est: torch.Tensor) -> float:
    return float(10 * torch.log10(ref.square().sum() / (ref - est).square().sum()))


def _music_like(seconds=3.0, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(int(seconds * CFG.sr)) / CFG.sr
    wave = torch.zeros_like(t)
    for k in range(6):
        f0 = 110 * 2 ** (torch.randint(0, 36, (1,), generator=g).item() / 12)
        env = torch.exp(-3 * ((t - k * seconds / 6) % seconds))
        wave += sum(env * torch.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
    return 0.1 * wave / wave.abs().max()


def test_frame_grids_align():
    wave = torch.randn(2, 12345)
    spec, q = stft(wave), cqt(wave)
    assert spec.shape == (2, 513, CFG.num_frames(12345))
    assert q.shape == (2, 84, CFG.num_frames(12345))
    assert analyze(wave).shape == (2, 2, CFG.num_frames(12345), CFG.n_bins)


def test_cqt_peaks_at_the_played_note():
    t = torch.arange(CFG.sr * 2) / CFG.sr
    for midi in (45, 69, 93):
        f = 440 * 2 ** ((midi - 69) / 12)
        mag = cqt(torch.cos(2 * np.pi * f * t)[None]).abs()[0, :, 40]
        assert int(mag.argmax()) == midi - 24  # bin 0 is C1 = MIDI 24
        assert float(mag.max()) == pytest.approx(0.5, rel=0.02)  # half the amplitude, as documented


def test_features_to_waveform_round_trip_snr_at_least_60db():
    wave = _music_like()[None]
    raw = analyze(wave)
    norm = compute_stats([compress_channels(raw, 0.3)], power=0.3)
    model_scale = norm.normalize(raw)
    assert model_scale.abs().mean() < 5  # standardised, not raw
    spec = norm.denormalize(model_scale).transpose(1, 2)  # (B, F+K, T) complex
    back = istft(spec[:, : CFG.stft_bins], length=wave.shape[1])
    assert _snr_db(wave, back) >= 60.0


def compress_channels(raw: torch.Tensor, power: float) -> torch.Tensor:
    z = compress(torch.complex(raw[:, 0], raw[:, 1]), power)
    return torch.stack([z.real, z.imag], 1)


def test_compression_is_exactly_invertible_and_keeps_phase():
    z = torch.randn(4, 100, dtype=torch.complex64) * torch.logspace(-4, 1, 100)
    z[0, 0] = 0
    c = compress(z, 0.3)
    assert torch.allclose(torch.angle(c[z != 0]), torch.angle(z[z != 0]), atol=1e-5)
    assert torch.allclose(decompress(c, 0.3), z, rtol=1e-4, atol=1e-8)


def test_stats_are_pooled_over_batches_and_saved(tmp_path):
    a = torch.randn(1, 2, 50, 8)
    b = 3 * torch.randn(1, 2, 70, 8)
    norm = compute_stats([a, b], power=0.3)
    pooled = torch.cat([a, b], dim=2)
    assert torch.allclose(norm.mean, pooled.mean(dim=(0, 2)), atol=1e-5)
    assert torch.allclose(norm.std, pooled.std(dim=(0, 2), unbiased=False), atol=1e-4)
    norm.save(tmp_path / "s.json")
    again = FeatureNorm.load(tmp_path / "s.json")
    assert torch.equal(again.mean, norm.mean) and again.power == norm.power


def test_to_complex_reads_the_stft_part():
    wave = torch.randn(1, 4000)
    assert torch.allclose(to_complex(analyze(wave)), stft(wave), atol=1e-6)
    assert _snr_db(wave, istft(to_complex(analyze(wave)), length=4000)) > 100


def test_griffin_lim_converges_on_a_known_signal():
    from audiostyle.features.spectral import griffin_lim

    wave = _music_like(2.0)[None]
    mag = stft(wave).abs()

    def convergence(n_iter):
        est = griffin_lim(mag, wave.shape[1], n_iter=n_iter)
        return float((stft(est).abs() - mag).norm() / mag.norm())

    sc = [convergence(n) for n in (0, 8, 32)]
    assert sc[0] > sc[1] > sc[2]  # spectral convergence improves with iterations
    assert sc[2] < 0.25
    exact = griffin_lim(mag, wave.shape[1], n_iter=4, init=stft(wave))
    assert _snr_db(wave, exact) > 40  # started from the true phase it stays there
