"""Mel spectrograms for the baselines: analysis, the twin-autoencoder normalisation, inversion.

The mel baselines (twin autoencoders, feature-VAE) work on a power mel spectrogram
``(B, T, n_mels)`` computed from the same STFT as every other model (n_fft 1024, hop 256, Hann;
:mod:`audiostyle.features.spectral`), so they read the same on-disk feature cache: the cache's
compressed complex STFT is decompressed and projected onto a Slaney-style mel filterbank.

Normalisation (the twin-autoencoder paper's three steps), with statistics from the train split
only, shared by every instrument and stored in the model (buffers of :class:`MelCodec`):

1. ``X1 = X / sigma_X``          (``sigma_X``: standard deviation of every mel value)
2. ``X2 = log10(1 + X1)``
3. ``Xn = X2 / sigma_f``         (``sigma_f``: standard deviation of ``X2`` in band ``f``)

Every step is inverted exactly before inversion to audio. Zero stays zero (no mean is
subtracted), so silence is 0 at every stage.

Inversion: mel power -> linear power by the filterbank's pseudo-inverse clipped at zero, then a
few multiplicative non-negative least-squares updates (Lee & Seung), square root, then the
project's batched fast Griffin-Lim (:func:`audiostyle.features.spectral.griffin_lim`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from audiostyle.errors import AudioStyleError
from audiostyle.features.spectral import SpectralConfig, griffin_lim, stft


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``): linear below 1 kHz, log above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=8)
def _filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    fb = np.maximum(0, np.minimum(lower, upper))
    fb *= (2.0 / (edges[2:] - edges[:-2]))[:, None]  # Slaney area normalisation
    return fb.astype(np.float32), np.linalg.pinv(fb).astype(np.float32)


def mel_filterbank(n_mels: int = 256, cfg: SpectralConfig = SpectralConfig(), fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Slaney-style triangular mel filters (area-normalised), as ``librosa.filters.mel``.

    Returns:
        ``(n_mels, n_fft // 2 + 1)`` float32.
    """
    fmax = cfg.sr / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= cfg.sr / 2:
        raise AudioStyleError(f"mel range {fmin}-{fmax} Hz is not within 0-{cfg.sr / 2} Hz")
    return _filterbank(cfg.sr, cfg.n_fft, n_mels, float(fmin), float(fmax))[0].copy()


class MelCodec(nn.Module):
    """Waveform/STFT/cache -> normalised mel ``(B, T, n_mels)`` and back to a waveform.

    Buffers ``global_std`` ``(1,)`` and ``band_std`` ``(n_mels,)`` are the normalisation
    statistics (persisted with the model); the filterbank and its pseudo-inverse are rebuilt
    from the configuration and not stored.
    """

    def __init__(self, n_mels: int = 256, spectral: SpectralConfig = SpectralConfig(), nnls_iters: int = 10):
        super().__init__()
        self.spectral, self.n_mels, self.nnls_iters = spectral, n_mels, nnls_iters
        fb, pinv = _filterbank(spectral.sr, spectral.n_fft, n_mels, 0.0, spectral.sr / 2)
        self.register_buffer("fb", torch.from_numpy(fb.copy()), persistent=False)  # (M, F)
        self.register_buffer("fb_pinv", torch.from_numpy(pinv.copy()), persistent=False)  # (F, M)
        self.register_buffer("global_std", torch.ones(1))
        self.register_buffer("band_std", torch.ones(n_mels))

    # -- analysis ------------------------------------------------------------------------------
    def mel_from_magnitude(self, mag: torch.Tensor) -> torch.Tensor:
        """Linear STFT magnitude ``(B, F, T)`` -> mel power ``(B, T, n_mels)``."""
        return mag.float().square().transpose(1, 2) @ self.fb.T

    def mel_from_wave(self, wave: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` samples -> mel power ``(B, N // hop + 1, n_mels)``."""
        return self.mel_from_magnitude(stft(wave, self.spectral).abs())

    def mel_from_cache(self, comp: torch.Tensor, power: float) -> torch.Tensor:
        """Cached compressed features ``(B, 2, T, n_bins)`` (``|X|^power``, phase kept; see
        :mod:`audiostyle.features.store`) -> mel power ``(B, T, n_mels)``."""
        part = comp[..., : self.spectral.stft_bins].float()
        mag_c_sq = part.square().sum(dim=1)  # (B, T, F) = |X|^(2 power)
        return mag_c_sq.clamp_min(0).pow(1.0 / power) @ self.fb.T

    # -- normalisation -------------------------------------------------------------------------
    def normalize(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel power ``(B, T, M)`` -> normalised ``(B, T, M)`` (the three steps above)."""
        return torch.log10(1 + mel.clamp_min(0) / self.global_std) / self.band_std

    def max_power(self) -> float:
        """An upper bound of any mel power of audio in [-1, 1]: ``|X_f| <= sum(window) <= n_fft``,
        so a band's power is at most ``n_fft**2`` times its filter's sum."""
        return float(self.spectral.n_fft) ** 2 * float(self.fb.sum(dim=1).max())

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize`, exact for every value real audio can give. Model outputs
        are clipped to that range: negatives to silence, and values above :meth:`max_power`
        (which would overflow float32 in the inversion and yield non-finite audio) to it."""
        ceiling = math.log10(1.0 + self.max_power() / float(self.global_std))
        exponent = (x.float() * self.band_std).clamp(0.0, ceiling)
        return (torch.pow(10.0, exponent) - 1) * self.global_std

    @torch.no_grad()
    def fit(self, mel_batches: Callable[[], Iterable[torch.Tensor]]) -> None:
        """Set the statistics from mel powers ``(B, T, M)`` of the train split.

        ``mel_batches`` is called twice (two passes: ``sigma_X`` first, then ``sigma_f`` of the
        log-compressed values), so it must return a fresh iterable each time.
        """
        total = sq = 0.0
        count = 0
        for mel in mel_batches():
            mel = mel.double()
            total, sq, count = total + float(mel.sum()), sq + float(mel.square().sum()), count + mel.numel()
        if count == 0:
            raise AudioStyleError("no training frames to compute mel statistics from")
        global_std = max((sq / count - (total / count) ** 2) ** 0.5, 1e-12)
        s = s2 = None
        frames = 0
        for mel in mel_batches():
            x2 = torch.log10(1 + mel.double().clamp_min(0) / global_std).reshape(-1, self.n_mels)
            s = x2.sum(0) if s is None else s + x2.sum(0)
            s2 = x2.square().sum(0) if s2 is None else s2 + x2.square().sum(0)
            frames += x2.shape[0]
        band_std = (s2 / frames - (s / frames).square()).clamp_min(0).sqrt()
        floor = max(float(band_std.median()) * 1e-3, 1e-8)  # a band silent in all training data
        self.global_std.fill_(global_std)
        self.band_std.copy_(band_std.clamp_min(floor).float())

    # -- inversion -----------------------------------------------------------------------------
    def linear_power(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel power ``(B, T, M)`` -> non-negative linear power ``(B, F, T)`` whose mel projection
        approximates ``mel`` (pseudo-inverse clipped at zero, then multiplicative NNLS steps)."""
        mel = mel.float().clamp_min(0)
        eps = 1e-10
        power = (mel @ self.fb_pinv.T).clamp_min(0) + eps  # (B, T, F)
        numerator = mel @ self.fb  # F^T mel, fixed
        for _ in range(self.nnls_iters):
            power = power * numerator / ((power @ self.fb.T) @ self.fb + eps)
        return power.transpose(1, 2)

    def to_wave(self, x: torch.Tensor, length: int, n_iter: int = 32, momentum: float = 0.99) -> torch.Tensor:
        """Normalised mel ``(B, T, M)`` -> waveform ``(B, length)`` by fast Griffin-Lim."""
        magnitude = self.linear_power(self.denormalize(x)).sqrt()
        return griffin_lim(magnitude, length, n_iter, momentum, cfg=self.spectral)


def train_features(corpus, store, instruments: list[str], clips_per_instrument: int) -> Iterator[tuple[str, np.ndarray]]:
    """``(instrument, cached features (2, T, n_bins))`` for up to ``clips_per_instrument`` train
    clips of each instrument, evenly spaced over the sorted clip ids (deterministic, so every
    process of a distributed run computes the same statistics)."""
    for inst in instruments:
        ids = corpus.clip_ids("train", inst)
        if not ids:
            raise AudioStyleError(f"{corpus.root}: no '{inst}' clips in the train split")
        picks = sorted(set(np.linspace(0, len(ids) - 1, min(len(ids), clips_per_instrument)).round().astype(int)))
        for i in picks:
            yield inst, store.get("train", inst, ids[i], corpus.audio_path("train", inst, ids[i]))


def reference_windows(wave: torch.Tensor, window: int, max_windows: int = 32) -> torch.Tensor:
    """A reference clip ``(N,)`` -> half-overlapping windows ``(n, window)`` (zero-padded when
    shorter than one window; at most ``max_windows``)."""
    wave = torch.nn.functional.pad(wave.float(), (0, max(0, window - wave.shape[0])))
    starts = range(0, wave.shape[0] - window + 1, max(1, window // 2))
    return torch.stack([wave[s : s + window] for s in starts])[:max_windows]


class CacheInput:
    """``model.norm.standardize(cached features)`` -> a mel model's input: the protocol by which
    :func:`audiostyle.training.prototypes.compute_prototypes` turns cached STFT features into
    what a model encodes, for models whose input is not the flagship's."""

    def __init__(self, fn):
        self.standardize = fn
