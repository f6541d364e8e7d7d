"""Sub-octave cut: known answers on hand-made note lists, and its effect on a rendered tone."""

import numpy as np
import pytest
import torch

from audiostyle.data.subharmonics import SubharmonicCut, bin_reach_hz, subharmonic_gain
from audiostyle.features.normalize import channels_to_complex, complex_to_channels, compress
from audiostyle.features.spectral import SpectralConfig, analyze

CFG = SpectralConfig()
HOP_S = CFG.hop / CFG.sr
CENTRE, HALF = bin_reach_hz(CFG)
STFT_HZ = CENTRE[: CFG.stft_bins]
A5 = 81  # 880 Hz: its f0/2 is A4, 440 Hz


def _cut_hz(gain_row: np.ndarray) -> np.ndarray:
    return STFT_HZ[gain_row[: CFG.stft_bins] < 1]


def test_bin_reach_matches_the_transforms():
    assert CENTRE.shape == HALF.shape == (CFG.n_bins,)
    assert np.allclose(HALF[: CFG.stft_bins], 2 * CFG.sr / CFG.n_fft)  # Hann main lobe: 2 bins
    # CQT bin b is MIDI 24 + b; its main lobe spans about two semitones either side
    cqt_c, cqt_h = CENTRE[CFG.stft_bins :], HALF[CFG.stft_bins :]
    assert cqt_c[69 - 24] == pytest.approx(440.0)
    assert 2 ** (1.9 / 12) < (cqt_c + cqt_h)[69 - 24] / 440.0 < 2 ** (2.1 / 12)


def test_a_high_note_loses_its_odd_half_multiples_and_keeps_its_harmonics():
    gain = subharmonic_gain([(0.0, 1.0, A5)], 40, HOP_S, CENTRE, HALF, depth_db=30.0)
    cut = _cut_hz(gain[10])
    assert gain[10][gain[10] < 1] == pytest.approx(10 ** (-30 / 20))
    for k in (0.5, 1.5, 2.5, 3.5):  # every odd multiple of f0/2 reaches a cut bin
        assert np.abs(cut - k * 880.0).min() <= HALF[0]
    assert (np.abs(cut[:, None] - 880.0 * np.arange(1, 13)[None, :]) > HALF[0]).all()  # no harmonic touched
    assert set(np.nonzero(gain[10, CFG.stft_bins :] < 1)[0] + 24) >= {68, 69, 70}  # A4 +- 1 in the CQT
    assert gain[10, CFG.stft_bins + A5 - 24] == 1.0  # the note's own CQT bin


def test_orders_keeps_the_cut_to_the_first_odd_multiples():
    full = _cut_hz(subharmonic_gain([(0.0, 1.0, A5)], 40, HOP_S, CENTRE, HALF)[10])
    first = _cut_hz(subharmonic_gain([(0.0, 1.0, A5)], 40, HOP_S, CENTRE, HALF, orders=1)[10])
    two = _cut_hz(subharmonic_gain([(0.0, 1.0, A5)], 40, HOP_S, CENTRE, HALF, orders=2)[10])
    assert np.abs(first - 440.0).max() <= HALF[0]  # only f0/2 (STFT bins) ...
    assert np.abs(two - 1320.0).min() <= HALF[0] and np.abs(two - 2200.0).min() > HALF[0]  # ... then 3 f0/2
    assert set(first) < set(two) < set(full)
    # a lower note: its odd multiples fill the gaps between its harmonics up to the top, f0/2 alone does not
    bass = [(0.0, 1.0, 57)]  # A3, 220 Hz
    many = (subharmonic_gain(bass, 40, HOP_S, CENTRE, HALF, min_hz=60.0)[10] < 1).sum()
    one = (subharmonic_gain(bass, 40, HOP_S, CENTRE, HALF, min_hz=60.0, orders=1)[10] < 1).sum()
    assert 0 < one < many / 20
    with pytest.raises(ValueError, match="orders"):
        subharmonic_gain(bass, 40, HOP_S, CENTRE, HALF, orders=-1)


def test_a_note_an_octave_below_protects_every_bin():
    # A4 sounding with A5: A4's harmonics lie on all of A5's half multiples
    gain = subharmonic_gain([(0.0, 1.0, A5), (0.0, 1.0, A5 - 12)], 40, HOP_S, CENTRE, HALF)
    assert (gain == 1.0).all()


def test_low_notes_and_silence_are_untouched():
    low = subharmonic_gain([(0.0, 1.0, 76)], 40, HOP_S, CENTRE, HALF, min_hz=700.0)  # E5, 659 Hz
    assert (low == 1.0).all()
    assert (subharmonic_gain([], 40, HOP_S, CENTRE, HALF) == 1.0).all()
    assert (subharmonic_gain([(0.0, 1.0, A5)], 40, HOP_S, CENTRE, HALF, depth_db=0.0) == 1.0).all()


def test_the_cut_follows_the_note_with_its_window_and_release():
    # note sounds 0.5-1.0 s; counted from half a window before to 0.3 s after
    gain = subharmonic_gain([(0.5, 1.0, A5)], 200, HOP_S, CENTRE, HALF, window_seconds=0.02, release_seconds=0.3)
    active = (gain < 1).any(axis=1)
    times = np.arange(200) * HOP_S
    assert np.array_equal(active, (times >= 0.48) & (times < 1.3))


def test_features_of_a_tone_with_a_ghost_lose_it_and_keep_the_note():
    sr, n = CFG.sr, int(CFG.sr)
    t = np.arange(n) / sr
    wave = np.sin(2 * np.pi * 880.0 * t) + 10 ** (-30 / 20) * np.sin(2 * np.pi * 440.0 * t)
    feats = complex_to_channels(compress(channels_to_complex(analyze(torch.from_numpy(wave).float()[None], CFG)), 0.3))[0]
    cut = SubharmonicCut(30.0)
    gain = cut.clip_gain([(0.0, 1.0, A5)], feats.shape[1], CFG, 0.3)
    mag = channels_to_complex((feats * torch.from_numpy(gain)[None])[None])[0].abs() ** (1 / 0.3)  # (T, n_bins)
    before = channels_to_complex(feats[None])[0].abs() ** (1 / 0.3)
    mid = feats.shape[1] // 2
    k440, k880 = round(440.0 * CFG.n_fft / sr), round(880.0 * CFG.n_fft / sr)
    ghost_before = 20 * np.log10((before[mid, k440] / before[mid, k880]).item())
    ghost_after = 20 * np.log10((mag[mid, k440] / mag[mid, k880]).item())
    assert ghost_before == pytest.approx(-30.0, abs=2.0)  # off bin centres: scalloping
    assert ghost_after - ghost_before == pytest.approx(-30.0, abs=1e-3)
    assert mag[mid, k880] == pytest.approx(before[mid, k880].item(), rel=1e-4)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="depth_db > 0"):
        SubharmonicCut(0.0)
    with pytest.raises(ValueError, match="min_hz > 0"):
        SubharmonicCut(30.0, min_hz=-1.0)
    with pytest.raises(ValueError, match="orders >= 0"):
        SubharmonicCut(30.0, orders=-1)

