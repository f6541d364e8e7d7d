"""Input checks and small helpers shared by the metric modules.

Every public metric validates its waveforms here, so a bad input fails with a one-line
:class:`~audiostyle.errors.AudioStyleError` instead of a traceback from inside librosa.
"""

from __future__ import annotations

import numpy as np

from audiostyle.errors import AudioStyleError


def check_wave(wave, name: str = "wave", min_samples: int = 1) -> np.ndarray:
    """Return ``wave`` as a contiguous float32 ``(N,)`` array, or raise.

    Accepts ``(N,)`` arrays and ``(1, N)`` / ``(N, 1)`` arrays (squeezed to ``(N,)``).

    Raises:
        AudioStyleError: not array-like, more than one channel, fewer than ``min_samples``
            samples (empty), or non-finite samples.
    """
    try:
        arr = np.asarray(wave, dtype=np.float32)
    except (TypeError, ValueError):
        raise AudioStyleError(f"{name}: not a numeric array") from None
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise AudioStyleError(f"{name}: expected a mono waveform of shape (N,), got shape {arr.shape}")
    if arr.size == 0:
        raise AudioStyleError(f"{name}: empty waveform (0 samples)")
    if arr.size < min_samples:
        raise AudioStyleError(f"{name}: too short ({arr.size} samples; at least {min_samples} needed)")
    if not np.all(np.isfinite(arr)):
        raise AudioStyleError(f"{name}: contains non-finite samples (NaN or infinity)")
    return np.ascontiguousarray(arr)


def check_sr(sr) -> int:
    """Return ``sr`` as a positive int, or raise :class:`AudioStyleError`."""
    try:
        value = int(sr)
    except (TypeError, ValueError):
        raise AudioStyleError(f"sample rate must be an integer, got {sr!r}") from None
    if value != sr or value <= 0:
        raise AudioStyleError(f"sample rate must be a positive integer, got {sr!r}")
    return value


def pad_to(wave: np.ndarray, n: int) -> np.ndarray:
    """Zero-pad ``(N,)`` at the end to at least ``n`` samples (avoids librosa short-input warnings)."""
    if wave.shape[0] >= n:
        return wave
    return np.pad(wave, (0, n - wave.shape[0]))


def trim_frames(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trim two ``(..., T)`` feature arrays along the last axis to the shorter length."""
    t = min(a.shape[-1], b.shape[-1])
    return a[..., :t], b[..., :t]


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two equal-length 1-D arrays; NaN if either is constant or length < 2."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 2:
        return float("nan")
    xc = x - x.mean()
    yc = y - y.mean()
    sx = np.sqrt(np.dot(xc, xc))
    sy = np.sqrt(np.dot(yc, yc))
    # Relative test: a row that is constant up to float rounding has no defined correlation.
    scale_x = np.sqrt(x.size) * max(np.max(np.abs(x)), 1e-30)
    scale_y = np.sqrt(y.size) * max(np.max(np.abs(y)), 1e-30)
    if sx <= 1e-9 * scale_x or sy <= 1e-9 * scale_y:
        return float("nan")
    return float(np.clip(np.dot(xc, yc) / (sx * sy), -1.0, 1.0))
