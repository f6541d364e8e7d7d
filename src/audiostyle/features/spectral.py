"""Batched complex STFT and CQT on one frame grid, and the exact inverse STFT.

The flagship's input (seed paper §3.1) concatenates a complex STFT (n_fft 1024, hop 256, Hann)
and an 84-bin CQT (hop 256) as real/imaginary channels. Both are computed here in torch so they
batch and run on any device. Frames are centred (``center=True``): frame ``t`` is centred on
sample ``t * hop``, so a clip of ``N`` samples has ``N // hop + 1`` frames in both transforms.

The CQT uses the frequency-domain kernel of Brown & Puckette ("An efficient algorithm for the
calculation of a constant Q transform", 1992): a long-window STFT multiplied by a precomputed
spectral kernel, one complex matrix product per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from audiostyle import MODEL_SR


@dataclass(frozen=True)
class SpectralConfig:
    """Transform parameters shared by features, models and inversion."""

    sr: float = MODEL_SR  # a float only for analyses of decimated signals (losses.cqt_loss)
    n_fft: int = 1024
    hop: int = 256
    cqt_bins: int = 84
    cqt_bins_per_octave: int = 12
    cqt_fmin: float = 32.703195662574764  # C1

    @property
    def stft_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def n_bins(self) -> int:
        """Bins of the concatenated STFT+CQT input."""
        return self.stft_bins + self.cqt_bins

    def num_frames(self, num_samples: int) -> int:
        return num_samples // self.hop + 1


def _window(n_fft: int, device: torch.device) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True, device=device)


def stft(wave: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """Complex STFT.

    Args:
        wave: ``(B, N)`` float samples.
    Returns:
        ``(B, F, T)`` complex64 with ``F = n_fft // 2 + 1`` and ``T = N // hop + 1``.
    """
    return torch.stft(
        wave.float(), cfg.n_fft, cfg.hop, window=_window(cfg.n_fft, wave.device),
        center=True, pad_mode="constant", return_complex=True,
    )


def istft(spec: torch.Tensor, length: int | None = None, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """Inverse of :func:`stft` (exact up to float error for an unmodified STFT).

    Args:
        spec: ``(B, F, T)`` complex.
        length: samples to return; default ``(T - 1) * hop``.
    Returns:
        ``(B, N)`` float32.
    """
    return torch.istft(
        spec, cfg.n_fft, cfg.hop, window=_window(cfg.n_fft, spec.device), center=True, length=length,
    )


def cqt_frequencies(cfg: SpectralConfig = SpectralConfig()) -> np.ndarray:
    """Centre frequency in Hz of every CQT bin, ``(cqt_bins,)``, from ``cqt_fmin`` upwards."""
    return cfg.cqt_fmin * 2.0 ** (np.arange(cfg.cqt_bins) / cfg.cqt_bins_per_octave)


@lru_cache(maxsize=4)
def _cqt_kernel_np(cfg: SpectralConfig) -> tuple[np.ndarray, int, int]:
    """Spectral CQT kernel, trimmed to its non-zero columns.

    Returns:
        ``(kernel (K, hi - lo) complex64, n_long, lo)``: the kernel covers FFT bins ``[lo, hi)``
        of an ``n_long``-point FFT.
    """
    q = 1.0 / (2.0 ** (1.0 / cfg.cqt_bins_per_octave) - 1.0)
    freqs = cqt_frequencies(cfg)
    if freqs[-1] * (1 + 0.5 / q) >= cfg.sr / 2:
        raise ValueError(f"CQT top bin {freqs[-1]:.0f} Hz is above Nyquist for sr={cfg.sr}")
    lengths = np.ceil(q * cfg.sr / freqs).astype(int)
    n_long = 1 << int(math.ceil(math.log2(lengths.max())))
    kernel = np.zeros((cfg.cqt_bins, n_long), dtype=np.complex128)
    for k, (f, n) in enumerate(zip(freqs, lengths)):
        t = np.arange(n) - (n - 1) / 2.0
        atom = np.hanning(n) * np.exp(2j * np.pi * f * t / cfg.sr)
        atom /= np.abs(atom).sum()  # unit L1 norm: a full-scale sinusoid gives magnitude ~0.5
        start = n_long // 2 - n // 2
        kernel[k, start:start + n] = atom
    # Conjugate spectrum of each atom; X_cqt[k, t] = sum_f X_long[f, t] * conj(A_k[f]) / n_long
    spec = np.fft.fft(kernel, axis=1)[:, : n_long // 2 + 1]
    spec[np.abs(spec) < 1e-3 * np.abs(spec).max()] = 0.0
    cols = np.nonzero(np.abs(spec).sum(axis=0))[0]
    lo, hi = int(cols.min()), int(cols.max()) + 1
    return (np.conj(spec[:, lo:hi]) / n_long).astype(np.complex64), n_long, lo


def cqt(wave: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """Complex constant-Q transform on the STFT's frame grid.

    Args:
        wave: ``(B, N)`` float samples.
    Returns:
        ``(B, K, T)`` complex64, ``K = cqt_bins``, ``T = N // hop + 1``.
    """
    kernel_np, n_long, lo = _cqt_kernel_np(cfg)
    kernel = torch.from_numpy(kernel_np).to(wave.device)
    # The long window is centred on the same sample as the 1024-point frame, so both grids align.
    long = torch.stft(
        wave.float(), n_long, cfg.hop, window=torch.ones(n_long, device=wave.device),
        center=True, pad_mode="constant", return_complex=True,
    )
    # Atoms are analytic (no negative frequencies), so the positive half-spectrum carries the
    # whole inner product <frame, atom> (Parseval).
    return kernel @ long[:, lo : lo + kernel.shape[1]]


def analyze(wave: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """The model input: STFT and CQT stacked along frequency, real/imag as channels.

    Args:
        wave: ``(B, N)`` float samples at ``cfg.sr``.
    Returns:
        ``(B, 2, T, F + K)`` float32: channel 0 real, 1 imaginary; bins ``[0, F)`` are the STFT,
        ``[F, F + K)`` the CQT.
    """
    spec = torch.cat([stft(wave, cfg), cqt(wave, cfg)], dim=1)  # (B, F+K, T)
    return torch.stack([spec.real, spec.imag], dim=1).transpose(2, 3).contiguous()


def to_complex(features: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """The STFT part of :func:`analyze` output back as a complex spectrogram.

    Args:
        features: ``(B, 2, T, F[+K])`` float.
    Returns:
        ``(B, F, T)`` complex64.
    """
    stft_part = features[:, :, :, : cfg.stft_bins].float()
    return torch.complex(stft_part[:, 0], stft_part[:, 1]).transpose(1, 2)


def griffin_lim(
    magnitude: torch.Tensor, length: int, n_iter: int = 32, momentum: float = 0.99,
    init: torch.Tensor | None = None, cfg: SpectralConfig = SpectralConfig(),
) -> torch.Tensor:
    """Fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013): a consistent phase for a magnitude.

    Args:
        magnitude: ``(B, F, T)`` target magnitudes.
        length: samples of the output.
        n_iter: projection iterations (0 returns the inverse of the initial spectrum).
        momentum: the "fast" acceleration (0 gives classic Griffin-Lim).
        init: ``(B, F, T)`` complex initial estimate (its phase is used); random phase if None.
    Returns:
        ``(B, length)`` waveform.
    """
    if init is None:
        phase = torch.rand(magnitude.shape, generator=torch.Generator().manual_seed(0)) * 2 * math.pi
        spec = torch.polar(magnitude, phase.to(magnitude.device))
    else:
        spec = torch.polar(magnitude, torch.angle(init))
    # polar(|X|, angle) rather than |X| * exp(1j * angle): the same value, ten times faster on CPU
    previous = torch.zeros_like(spec)
    for _ in range(n_iter):
        rebuilt = stft(istft(spec, length, cfg), cfg)
        accelerated = rebuilt + (momentum / (1 + momentum)) * (rebuilt - previous)
        previous = rebuilt
        spec = torch.polar(magnitude, torch.angle(accelerated))
    return istft(spec, length, cfg)
