import math

import pytest
import torch

from audiostyle.features.spectral import SpectralConfig, cqt
from audiostyle.losses._spectral import compress, compressed_magnitude, istft, stft
from audiostyle.losses.reconstruction import (
    CQT_LOSS_CONFIG, CQT_LOSS_DECIMATION, TERMS, complex_mse_loss, consistency_loss, cqt_loss, decimate,
    magnitude_loss, mr_stft_loss, phase_loss, reconstruction_losses, spectral_loss, temporal_loss,
)

SR, HOP, N = 22050, 256, 256 * 40  # 41 frames


def _notes(seed: int, n: int = N + 2048) -> torch.Tensor:
    """Decaying harmonic notes at random onsets: time-varying magnitudes and clean phases."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n + 4096)
    t = torch.arange(4096) / SR
    for _ in range(8):
        onset = int(torch.randint(0, n, (1,), generator=g))
        f0 = 110 * 2 ** (float(torch.randint(0, 36, (1,), generator=g)) / 12)
        note = sum(torch.sin(2 * math.pi * h * f0 * t) / h for h in range(1, 6)) * torch.exp(-8 * t)
        x[onset:onset + 4096] += note
    return x


_BASE = torch.stack([_notes(1), _notes(2)])


def _wave(shift: int = 0) -> torch.Tensor:
    return _BASE[:, 1024 - shift: 1024 - shift + N]


def _target() -> torch.Tensor:
    return stft(_wave())


def _values(pred, target, **kw):
    return {k: v.item() for k, v in reconstruction_losses(pred, target, **kw).items()}


def test_stft_helpers_follow_project_convention():
    wave = _wave()
    spec = stft(wave)
    assert spec.shape == (2, 513, 41) and spec.dtype == torch.complex64
    assert torch.allclose(istft(spec), wave, atol=1e-5)
    from audiostyle.features.spectral import stft as feature_stft
    assert torch.allclose(spec, feature_stft(wave), atol=1e-4)


def test_compression_values():
    x = torch.tensor([0, 1e-2, 3 + 4j, -2j], dtype=torch.complex64)
    mags = compressed_magnitude(x)
    assert mags[0].item() == 0.0
    assert mags[2].item() == pytest.approx(5**0.3, rel=1e-5)
    c = compress(x)
    assert c[0].item() == 0
    assert torch.allclose(c[2], torch.tensor(5**0.3 * (0.6 + 0.8j), dtype=torch.complex64), atol=1e-5)
    assert torch.allclose(c[3], torch.tensor(-(2**0.3) * 1j, dtype=torch.complex64), atol=1e-5)


@pytest.mark.parametrize(
    "kw", [{}, {"phase_mode": "wrapped", "magnitude_scale": "log", "magnitude_distance": "mse"}])
def test_all_terms_zero_for_identical_inputs(kw):
    target = _target()
    values = _values(target.clone(), target, **kw)
    assert set(values) == set(TERMS) | {"total"}
    for name, v in values.items():
        assert abs(v) < 1e-5, (name, v)


def _assert_increasing(seq, names):
    for name in names:
        vals = [v[name] for v in seq]
        assert vals[0] > 0, (name, vals)
        assert all(a < b for a, b in zip(vals, vals[1:])), (name, vals)


def test_terms_grow_with_noise():
    target = _target()
    noise = torch.randn(target.shape, dtype=torch.complex64, generator=torch.Generator().manual_seed(0))
    seq = [_values(target + a * noise, target) for a in (0.01, 0.1, 1.0)]
    _assert_increasing(seq, TERMS)


def test_phase_sensitive_terms_grow_with_phase_rotation():
    target = _target()
    seq = [_values(target * complex(math.cos(p), math.sin(p)), target) for p in (0.1, 0.5, 1.0)]
    _assert_increasing(seq, ["complex_mse", "phase", "consistency", "mr_stft"])
    # A global phase rotation leaves magnitudes alone.
    for name in ("magnitude", "temporal", "spectral"):
        assert seq[-1][name] < 1e-5
    wrapped = [phase_loss(target * complex(math.cos(p), math.sin(p)), target, mode="wrapped").item() for p in (0.1, 1.0)]
    assert wrapped == pytest.approx([0.1, 1.0], abs=1e-3)  # |Δ| exactly, in radians


def test_terms_grow_with_time_shift():
    target = _target()
    seq = [_values(stft(_wave(s)), target) for s in (1, 4, 16)]
    _assert_increasing(seq, [t for t in TERMS if t != "consistency"])
    # A shifted real signal is still a consistent spectrogram.
    assert all(v["consistency"] < 1e-5 for v in seq)


def _tone(f0: float, amp: float = 0.3, n: int = 66048) -> torch.Tensor:
    return (amp * torch.sin(2 * math.pi * f0 * torch.arange(n) / SR))[None]


def test_decimate_keeps_the_band_and_drops_what_is_above():
    low = decimate(_tone(1000.0), CQT_LOSS_DECIMATION)
    assert low.shape == (1, 66048 // CQT_LOSS_DECIMATION)
    mid = slice(2000, 14000)  # away from the circular edges
    assert low[:, mid].pow(2).mean().sqrt().item() == pytest.approx(0.3 / math.sqrt(2), rel=1e-3)
    high = decimate(_tone(4000.0), CQT_LOSS_DECIMATION)  # above the decimated Nyquist (2756 Hz)
    assert high[:, mid].pow(2).mean().sqrt().item() < 1e-3


def test_cqt_loss_analysis_puts_a_tone_in_its_bin():
    # A2 = 110 Hz is 18 quarter tones above C2.
    c = cqt(decimate(_tone(110.0), CQT_LOSS_DECIMATION), CQT_LOSS_CONFIG).abs()
    assert c.shape == (1, 120, 259)  # on the STFT's frame grid
    assert int(c[0, :, 100].argmax()) == 18
    assert c[0, 18, 100].item() == pytest.approx(0.15, rel=0.02)  # half the amplitude (unit-L1 atoms)


def test_cqt_loss_hears_a_bass_semitone_that_the_stft_terms_barely_do():
    g2 = _tone(98.0)
    semitone, quieter = _tone(98.0 * 2 ** (1 / 12)), _tone(98.0, amp=0.15)
    assert cqt_loss(stft(g2), stft(g2)).item() == 0.0

    def ratio(loss):  # cost of the wrong note over the cost of the right note 6 dB too quiet
        return loss(stft(semitone), stft(g2)).item() / loss(stft(quieter), stft(g2)).item()

    assert ratio(cqt_loss) > 2.5
    assert ratio(magnitude_loss) < 1.5
    assert ratio(mr_stft_loss) < 1.0
    # The waveform reference gives the same value as the spectrum reference.
    wave_ref = cqt_loss(stft(semitone), target_wave=g2[:, : (stft(g2).shape[-1] - 1) * HOP])
    assert wave_ref.item() == pytest.approx(cqt_loss(stft(semitone), stft(g2)).item(), rel=1e-3)


def test_cqt_loss_decimates_to_its_analysis_rate():
    # The decimation follows the analysis config: a full-rate analysis of the same bins gives
    # nearly the same value, and a rate that is not the model rate over an integer is refused.
    full_rate = SpectralConfig(cqt_bins=120, cqt_bins_per_octave=24, cqt_fmin=CQT_LOSS_CONFIG.cqt_fmin)
    pred, target = stft(_tone(98.0 * 2 ** (1 / 12))), stft(_tone(98.0))
    assert cqt_loss(pred, target, cfg=full_rate).item() == pytest.approx(cqt_loss(pred, target).item(), rel=0.05)
    with pytest.raises(ValueError, match="divided by an integer"):
        cqt_loss(pred, target, cfg=SpectralConfig(sr=8000, hop=64, cqt_bins=60, cqt_fmin=65.4))


def test_phase_ignores_silent_bins():
    target = _target()
    target[:, 200:] = 0  # silent above bin 200
    pred = target.clone()
    pred[:, 200:] = torch.randn(pred[:, 200:].shape, dtype=torch.complex64)
    for mode in ("cosine", "wrapped"):
        assert phase_loss(pred, target, mode=mode).item() == 0.0
    # A sign flip in near-silent bins costs far less than the same flip in loud bins.
    quiet = target.abs() < target.abs().flatten().quantile(0.2)
    flip_quiet = torch.where(quiet, -target, target)
    flip_loud = torch.where(~quiet & (target.abs() > 0), -target, target)
    assert phase_loss(flip_quiet, target).item() < 0.05 * phase_loss(flip_loud, target).item()


def test_phase_hand_value_cosine():
    target = torch.full((1, 513, 3), 2.0 + 0j, dtype=torch.complex64)
    pred = target * complex(0.0, 1.0)  # 90 degrees everywhere: 1 - cos = 1
    assert phase_loss(pred, target).item() == pytest.approx(1.0, abs=1e-5)
    assert phase_loss(pred, target, mode="wrapped").item() == pytest.approx(math.pi / 2, abs=1e-5)


def test_complex_mse_and_magnitude_hand_values():
    target = torch.full((1, 513, 2), 1.0 + 0j, dtype=torch.complex64)
    pred = torch.full((1, 513, 2), 2.0 + 0j, dtype=torch.complex64)
    assert complex_mse_loss(pred, target).item() == pytest.approx((2**0.3 - 1) ** 2, rel=1e-4)
    assert magnitude_loss(pred, target).item() == pytest.approx(2**0.3 - 1, rel=1e-4)
    assert magnitude_loss(pred, target, scale="log").item() == pytest.approx(math.log(2), rel=1e-4)
    assert magnitude_loss(pred, target, distance="mse").item() == pytest.approx((2**0.3 - 1) ** 2, rel=1e-4)
    # Constant offsets have no temporal or spectral gradient.
    assert temporal_loss(pred, target).item() == pytest.approx(0.0, abs=1e-7)
    assert spectral_loss(pred, target).item() == pytest.approx(0.0, abs=1e-7)


def test_temporal_and_spectral_hand_values():
    target = torch.zeros(1, 513, 3, dtype=torch.complex64)
    pred = target.clone()
    pred[0, 0, 1] = 1.0  # one bin of (compressed) magnitude 1
    # time diffs of pred at bin 0: (+1, -1) over 513 * 2 entries
    assert temporal_loss(pred, target).item() == pytest.approx(2 / (513 * 2), rel=1e-4)
    # frequency diffs at frame 1: (-1) once over 512 * 3 entries
    assert spectral_loss(pred, target).item() == pytest.approx(1 / (512 * 3), rel=1e-4)


def test_consistency_real_signal_vs_noise():
    target = _target()
    assert consistency_loss(target).item() < 1e-5
    noise = torch.randn(2, 513, 41, dtype=torch.complex64, generator=torch.Generator().manual_seed(1))
    noise.requires_grad_(True)
    loss = consistency_loss(noise)
    assert loss.item() > 0.1
    loss.backward()
    assert torch.isfinite(noise.grad).all() and noise.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        consistency_loss(target, length=100)


def test_mr_stft_with_target_wave_matches_istft_of_target():
    target = _target()
    pred = target + 0.1 * torch.randn(target.shape, dtype=torch.complex64, generator=torch.Generator().manual_seed(2))
    a = mr_stft_loss(pred, target).item()
    b = mr_stft_loss(pred, target_wave=_wave()).item()
    assert a == pytest.approx(b, rel=1e-3)
    assert mr_stft_loss(target, target_wave=_wave()).item() < 1e-3
    d = reconstruction_losses(pred, target, target_wave=_wave())
    assert d["mr_stft"].item() == pytest.approx(b, rel=1e-5)
    # A reference longer than the frame grid covers: pred is inverted to its length.
    longer = _BASE[:, 1024: 1024 + N + 100]
    spec = stft(longer)
    assert spec.shape[-1] == 41
    assert reconstruction_losses(spec, spec, target_wave=longer)["mr_stft"].item() < 1e-3


def _grad_cases():
    z = torch.zeros(1, 513, 8, dtype=torch.complex64)
    x = torch.randn(1, 513, 8, dtype=torch.complex64, generator=torch.Generator().manual_seed(3))
    return [(z, z), (z, x), (x, z), (x, x)]


@pytest.mark.parametrize("case", range(4), ids=["zero-zero", "zero-pred", "zero-target", "equal"])
@pytest.mark.parametrize("kw", [{}, {"phase_mode": "wrapped", "magnitude_scale": "log"}])
def test_gradients_finite_everywhere(case, kw):
    pred0, target = _grad_cases()[case]
    pred = pred0.clone().requires_grad_(True)
    out = reconstruction_losses(pred, target, **kw)
    for name in (*TERMS, "total"):
        assert torch.isfinite(out[name]), name
        (grad,) = torch.autograd.grad(out[name], pred, retain_graph=True)
        assert torch.isfinite(grad).all(), name


def test_weights_total_and_zero_weight_reporting():
    target = _target()
    pred = (target + 0.3 * torch.randn(target.shape, dtype=torch.complex64)).requires_grad_(True)
    weights = {"complex_mse": 2.0, "phase": 0.0, "mr_stft": 0.5}
    out = reconstruction_losses(pred, target, weights=weights)
    w = {t: 1.0 for t in TERMS} | weights
    expected = sum(w[t] * out[t].item() for t in TERMS)
    assert out["total"].item() == pytest.approx(expected, rel=1e-5)
    assert out["phase"].item() > 0 and not out["phase"].requires_grad
    assert out["total"].requires_grad and out["mr_stft"].requires_grad
    skipped = reconstruction_losses(pred, target, weights={"phase": 0}, report_zero_weight=False)
    assert "phase" not in skipped and "total" in skipped
    with pytest.raises(ValueError, match="unknown"):
        reconstruction_losses(pred, target, weights={"phaes": 1.0})
    nothing = reconstruction_losses(pred, target, weights={t: 0.0 for t in TERMS})
    assert nothing["total"].item() == 0.0
    nothing["total"].backward()  # still attached to pred


def test_input_validation():
    x = torch.zeros(1, 513, 4, dtype=torch.complex64)
    with pytest.raises(ValueError):
        reconstruction_losses(x.real, x.real)
    with pytest.raises(ValueError):
        reconstruction_losses(x, x[:, :, :3])
    with pytest.raises(ValueError):
        reconstruction_losses(x[:, :100], x[:, :100])
    with pytest.raises(ValueError):
        magnitude_loss(x, x, scale="db")
    with pytest.raises(ValueError):
        phase_loss(x, x, mode="unwrapped")
