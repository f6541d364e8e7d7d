import numpy as np
import pytest
import torch

from audiostyle.features.equalize import EQ_FMIN, bin_frequencies, eq_basis, equalize, random_eq_db, random_eq_field_db
from audiostyle.features.normalize import compress, decompress
from audiostyle.features.spectral import SpectralConfig

CFG = SpectralConfig()


def test_bin_frequencies_are_stft_then_cqt_centres():
    hz = bin_frequencies(CFG)
    assert hz.shape == (CFG.n_bins,)
    assert hz[0] == 0 and hz[1] == pytest.approx(CFG.sr / CFG.n_fft)
    assert hz[CFG.stft_bins - 1] == pytest.approx(CFG.sr / 2)
    assert hz[CFG.stft_bins] == pytest.approx(CFG.cqt_fmin)
    assert hz[CFG.stft_bins + 12] == pytest.approx(2 * CFG.cqt_fmin, rel=1e-5)  # one octave up


def test_gain_curve_passes_through_the_drawn_gains_and_interpolates_in_log_frequency():
    points, top = 4, 8 * EQ_FMIN
    knots = EQ_FMIN * 2.0 ** np.arange(points)  # 40, 80, 160, 320 Hz: one octave apart
    between = np.sqrt(knots[:-1] * knots[1:])  # half-way in log-frequency
    freqs = torch.tensor(np.concatenate([knots, between, [10.0, 1000.0]]), dtype=torch.float32)
    torch.manual_seed(3)
    curves = random_eq_db(5, freqs, 9.0, points, fmax=top)
    torch.manual_seed(3)
    drawn = (torch.rand(5, points) * 2 - 1) * 9.0
    torch.testing.assert_close(curves[:, :points], drawn, atol=1e-4, rtol=0)
    torch.testing.assert_close(curves[:, points : 2 * points - 1], (drawn[:, :-1] + drawn[:, 1:]) / 2, atol=1e-4, rtol=0)
    torch.testing.assert_close(curves[:, -2], drawn[:, 0])  # below the lowest knot: its gain
    torch.testing.assert_close(curves[:, -1], drawn[:, -1])  # above the highest: its gain
    assert curves.abs().max() <= 9.0


def test_basis_times_the_drawn_gains_is_the_drawn_curve():
    hz = bin_frequencies(CFG)
    torch.manual_seed(5)
    curves = random_eq_db(3, hz, 12.0, 6)
    torch.manual_seed(5)
    drawn = (torch.rand(3, 6) * 2 - 1) * 12.0
    basis = eq_basis(hz, 6)
    assert basis.shape == (CFG.n_bins, 6)
    torch.testing.assert_close(drawn @ basis.T, curves, atol=1e-4, rtol=0)
    torch.testing.assert_close(basis.sum(dim=1), torch.ones(CFG.n_bins))  # hats partition unity
    assert (basis >= 0).all() and ((basis > 0).sum(dim=1) <= 2).all()  # at most two neighbours per bin
    with pytest.raises(ValueError, match="at least 2"):
        eq_basis(hz, 1)


def test_zero_range_is_identity_and_too_few_points_refused():
    hz = bin_frequencies(CFG)
    assert torch.equal(random_eq_db(3, hz, 0.0), torch.zeros(3, CFG.n_bins))
    with pytest.raises(ValueError, match="at least 2"):
        random_eq_db(1, hz, 6.0, points=1)


def test_equalize_scales_the_linear_magnitude_by_the_gain():
    g = torch.Generator().manual_seed(0)
    raw = torch.complex(torch.randn(2, 3, 5, generator=g), torch.randn(2, 3, 5, generator=g))
    comp = compress(raw, 0.3)
    channels = torch.stack([comp.real, comp.imag], dim=1)  # (B, 2, T, F)
    gain_db = torch.tensor([[20.0, 0.0, -6.0, 0.0, 0.0], [0.0] * 5])
    out = equalize(channels, gain_db, 0.3)
    linear = decompress(torch.complex(out[:, 0], out[:, 1]), 0.3)
    expected = raw * torch.pow(10.0, gain_db / 20.0)[:, None, :]
    torch.testing.assert_close(linear, expected, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(linear.angle(), raw.angle(), rtol=0, atol=1e-5)  # phase untouched


def test_static_field_is_the_curve_drawn_as_before_held_over_time():
    hz = bin_frequencies(CFG)
    torch.manual_seed(4)
    field = random_eq_field_db(3, 7, hz, 12.0, 6, time_points=1)
    torch.manual_seed(4)
    curves = random_eq_db(3, hz, 12.0, 6)
    assert field.shape == (3, 7, CFG.n_bins)
    torch.testing.assert_close(field, curves[:, None, :].expand(3, 7, CFG.n_bins))


def test_changing_field_passes_through_its_curves_and_interpolates_in_time():
    hz = bin_frequencies(CFG)
    torch.manual_seed(6)
    field = random_eq_field_db(2, 9, hz, 12.0, 6, time_points=3)  # curves at frames 0, 4 and 8
    torch.manual_seed(6)
    curves = random_eq_db(6, hz, 12.0, 6).view(2, 3, -1)
    torch.testing.assert_close(field[:, [0, 4, 8]], curves, atol=1e-4, rtol=0)
    torch.testing.assert_close(field[:, 2], (curves[:, 0] + curves[:, 1]) / 2, atol=1e-4, rtol=0)
    torch.testing.assert_close(field[:, 5], 0.75 * curves[:, 1] + 0.25 * curves[:, 2], atol=1e-4, rtol=0)
    assert field.abs().max() <= 12.0
    with pytest.raises(ValueError, match="at least 1 point in time"):
        random_eq_field_db(1, 9, hz, 12.0, 6, time_points=0)


def test_equalize_applies_a_gain_per_frame():
    g = torch.Generator().manual_seed(1)
    raw = torch.complex(torch.randn(1, 4, 3, generator=g), torch.randn(1, 4, 3, generator=g))  # (B, T, F)
    comp = compress(raw, 0.3)
    channels = torch.stack([comp.real, comp.imag], dim=1)
    gain_db = torch.tensor([[[0.0, 0.0, 0.0], [20.0, 0.0, 0.0], [0.0, -20.0, 0.0], [6.0, 6.0, 6.0]]])  # (B, T, F)
    linear = decompress(torch.complex(*equalize(channels, gain_db, 0.3).unbind(1)), 0.3)
    torch.testing.assert_close(linear, raw * torch.pow(10.0, gain_db / 20.0), rtol=1e-4, atol=1e-6)
