"""Random equalisation of compressed STFT+CQT features (a training augmentation).

Two renderings of one instrument by different sound fonts differ most in their spectral
envelope: which partials are loud, how bright the attack is. A content encoder trained on one
font learns that envelope along with the notes, and then neither reconstructs the unseen font
as well nor stays blind to the instrument there. Feeding it randomly equalised inputs (smooth
random gain curves over log-frequency, the notes left where they are) while the decoder still
reconstructs the untouched clip asks it to read the notes and ignore the envelope.
"""

from __future__ import annotations

import numpy as np
import torch

from audiostyle.features.spectral import SpectralConfig, cqt_frequencies

EQ_FMIN = 40.0  # Hz: the lowest control point; bins below it take its gain


def bin_frequencies(cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """Centre frequency in Hz of every input bin, ``(n_bins,)``: the STFT bins, then the CQT bins."""
    stft = np.arange(cfg.stft_bins) * cfg.sr / cfg.n_fft
    return torch.from_numpy(np.concatenate([stft, cqt_frequencies(cfg)])).float()


def _control_points(freqs: torch.Tensor, points: int, fmax: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each of the ``(F,)`` ``freqs`` (Hz) falls between ``points`` control frequencies
    spaced evenly in log-frequency from :data:`EQ_FMIN` to ``fmax`` (default: the highest bin):
    ``(right, frac)``, both ``(F,)``: the index of the control point at or above it and its
    fraction of the way there from the one below, in log-frequency; bins outside the range hold
    the end point's gain."""
    if points < 2:
        raise ValueError(f"an equaliser needs at least 2 control points, got {points}")
    top = float(freqs.max()) if fmax is None else float(fmax)
    knots = torch.linspace(np.log2(EQ_FMIN), np.log2(top), points)
    pos = torch.log2(freqs.clamp_min(EQ_FMIN)).clamp(max=knots[-1].item())
    right = torch.searchsorted(knots, pos).clamp(1, points - 1)
    return right, (pos - knots[right - 1]) / (knots[right] - knots[right - 1])


def eq_basis(freqs: torch.Tensor, points: int = 6, fmax: float | None = None) -> torch.Tensor:
    """``(F, points)`` hat functions of the equaliser's curves: a curve with gains ``g``
    ``(points,)`` at the control frequencies is ``eq_basis(freqs, points) @ g`` (the curves of
    :func:`random_eq_db`, for fitting a curve instead of drawing one).

    Args:
        freqs: ``(F,)`` bin frequencies in Hz (:func:`bin_frequencies`).
    """
    right, frac = _control_points(freqs, points, fmax)
    basis = torch.zeros(freqs.shape[0], points)
    rows = torch.arange(freqs.shape[0])
    basis[rows, right - 1] = 1.0 - frac
    basis[rows, right] += frac
    return basis


def random_eq_db(n: int, freqs: torch.Tensor, max_db: float, points: int = 6, fmax: float | None = None) -> torch.Tensor:
    """Random smooth gain curves ``(n, len(freqs))`` in dB.

    Each curve draws a gain uniformly in ``[-max_db, max_db]`` at ``points`` control frequencies
    spaced evenly in log-frequency from :data:`EQ_FMIN` to ``fmax`` (default: the highest
    bin) and interpolates linearly in log-frequency between them; outside that range it holds
    the end gains. Draws from the global torch RNG, so a resumed run repeats them exactly.

    Args:
        freqs: ``(F,)`` bin frequencies in Hz (:func:`bin_frequencies`).
    """
    right, frac = _control_points(freqs, points, fmax)
    gains = (torch.rand(n, points) * 2.0 - 1.0) * max_db
    frac = frac[None]
    return gains[:, right - 1] * (1.0 - frac) + gains[:, right] * frac


def random_eq_field_db(
    n: int, frames: int, freqs: torch.Tensor, max_db: float, points: int = 6, time_points: int = 1
) -> torch.Tensor:
    """Random gain fields ``(n, frames, len(freqs))`` in dB: an equaliser that changes over time.

    ``time_points`` curves from :func:`random_eq_db` are drawn per clip, spread evenly over the
    clip's ``frames`` and interpolated linearly between. With ``time_points`` 1 it is one
    curve held for the whole clip, drawn exactly as :func:`random_eq_db` draws it (same RNG
    use), so a static equaliser gives the same gains either way.

    Args:
        freqs: ``(F,)`` bin frequencies in Hz (:func:`bin_frequencies`).
    """
    if time_points < 1:
        raise ValueError(f"an equaliser needs at least 1 point in time, got {time_points}")
    curves = random_eq_db(n * time_points, freqs, max_db, points).view(n, time_points, -1)
    if time_points == 1:
        return curves.expand(n, frames, curves.shape[-1])
    along_time = torch.nn.functional.interpolate(curves.transpose(1, 2), size=frames, mode="linear", align_corners=True)
    return along_time.transpose(1, 2)


def equalize(comp: torch.Tensor, gain_db: torch.Tensor, power: float) -> torch.Tensor:
    """Apply gains to compressed features: ``(B, 2, T, F)`` and ``(B, F)`` or ``(B, T, F)`` dB
    -> ``(B, 2, T, F)``.

    A linear amplitude gain ``g`` scales a ``|X|^power``-compressed bin by ``g^power``.
    """
    scale = torch.pow(10.0, power * gain_db / 20.0).to(comp)
    if scale.dim() == 2:
        scale = scale[:, None, :]
    return comp * scale[:, None]
