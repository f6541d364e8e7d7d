"""Constant-Q magnitude distance between waveforms, the analysis behind the ``cqt``
reconstruction term (:func:`audiostyle.losses.reconstruction.cqt_loss`).

The waveforms are at :data:`audiostyle.MODEL_SR`; they are band-limited and decimated to the
analysis config's rate first, since the top bin lies far below Nyquist and the long windows of
the low notes then cost a fraction of the samples.
"""

from __future__ import annotations

import torch

from audiostyle import MODEL_SR
from audiostyle.features.spectral import SpectralConfig, cqt
from audiostyle.losses._spectral import compressed_magnitude

CQT_LOSS_DECIMATION = 4
"""Default decimation of the CQT term: its top bin (C7) lies below a quarter of the model
rate's Nyquist, and the long low-note windows then cost a quarter of the samples."""

CQT_LOSS_CONFIG = SpectralConfig(
    sr=MODEL_SR / CQT_LOSS_DECIMATION, hop=256 // CQT_LOSS_DECIMATION,
    cqt_bins=120, cqt_bins_per_octave=24, cqt_fmin=65.40639132514966,
)
"""Default analysis of the CQT term: quarter tones from C2 over five octaves (to C7), on the
STFT's frame grid, at the decimated rate. At 22050 Hz an STFT bin is 21.5 Hz wide, more than a
semitone below ~370 Hz, so the STFT terms cannot tell a bass note from its neighbour; this
analysis can."""


def decimate(wave: torch.Tensor, factor: int) -> torch.Tensor:
    """Ideal low-pass (FFT truncation) and downsampling: ``(B, N)`` -> ``(B, N // factor)``."""
    if factor == 1:
        return wave
    n, m = wave.shape[-1], wave.shape[-1] // factor
    return torch.fft.irfft(torch.fft.rfft(wave)[..., : m // 2 + 1], n=m) * (m / n)


def decimation(cfg: SpectralConfig) -> int:
    """Integer factor from the model rate down to ``cfg.sr``, the rate the CQT analyses."""
    factor = round(MODEL_SR / cfg.sr)
    if factor < 1 or abs(MODEL_SR / factor - cfg.sr) > 1e-6 * MODEL_SR:
        raise ValueError(f"the CQT loss analyses at {MODEL_SR} Hz divided by an integer, got sr={cfg.sr}")
    return factor


def cqt_distance(pred_wave: torch.Tensor, target_wave: torch.Tensor, compress: float, cfg: SpectralConfig) -> torch.Tensor:
    """Mean L1 distance of ``|CQT|^compress`` of two ``(B, N)`` waveforms at the model rate,
    decimated to ``cfg.sr`` first; the target's side carries no gradient. Returns a 0-dim tensor."""
    factor = decimation(cfg)
    with torch.no_grad():
        mt = compressed_magnitude(cqt(decimate(target_wave, factor), cfg), compress)
    mp = compressed_magnitude(cqt(decimate(pred_wave, factor), cfg), compress)
    return (mp - mt).abs().mean()
