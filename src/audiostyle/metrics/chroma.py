"""Chroma (pitch-class) content metrics on whole clips.

Waveforms are mono float32 ``(N,)`` at ``sr`` Hz (normally 22050). Features are librosa
``chroma_cqt`` with a fixed configuration (hop 512 samples = 23.2 ms at 22050 Hz, 12 bins,
tuning fixed at A440 so a detuned output is *not* re-tuned away, lowest CQT bin C1 (32.7 Hz),
7 octaves). Each frame is normalised to unit L2 norm; silent frames (raw chroma norm 80 dB
below the clip's loudest frame, or digital silence) are set all-zero rather than normalising
numerical noise up to a unit vector.

When the two clips have different frame counts, the longer is trimmed to the shorter.
"""

from __future__ import annotations

import warnings

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.metrics._common import check_sr, check_wave, pad_to, pearson, trim_frames

CHROMA_HOP = 512
"""Chroma hop in samples (fixed)."""

_SILENT = 1e-8  # a frame whose raw chroma L2 norm is below this is silent (all-zero)
_REL_SILENT = 1e-4  # ... or below -80 dB relative to the clip's loudest frame


def chroma_features(wave: np.ndarray, sr: int = MODEL_SR) -> np.ndarray:
    """L2-normalised CQT chroma of a ``(N,)`` waveform.

    Returns:
        ``(12, F)`` float64, ``F = 1 + N // 512``; row 0 is C. Silent frames are all-zero.
    """
    wave = check_wave(wave)
    sr = check_sr(sr)
    n = wave.shape[0]
    # Peak-normalise for the CQT (chroma is scale-free after the L2 norm, and this keeps very
    # quiet clips above librosa's internal thresholds). Clips that are digitally silent stay 0.
    peak = float(np.max(np.abs(wave)))
    y = pad_to(wave / peak if peak > 0 else wave, 2 * CHROMA_HOP)
    with warnings.catch_warnings():
        # The CQT's downsampled low octaves warn "n_fft too large" on clips under ~3 s; harmless.
        warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
        c = _chroma_cqt(y, sr)
    c = c[:, : 1 + n // CHROMA_HOP]
    if peak == 0:
        return np.zeros_like(c)
    norms = np.linalg.norm(c, axis=0, keepdims=True)
    out = np.zeros_like(c)
    ok = norms[0] > max(_SILENT, _REL_SILENT * float(norms.max()))
    out[:, ok] = c[:, ok] / norms[:, ok]
    return out


def _chroma_cqt(y: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    return librosa.feature.chroma_cqt(
        y=y,
        sr=sr,
        hop_length=CHROMA_HOP,
        fmin=librosa.note_to_hz("C1"),
        n_octaves=7,
        bins_per_octave=36,
        n_chroma=12,
        tuning=0.0,
        norm=None,
    ).astype(np.float64)


def _pair(ref, est, sr) -> tuple[np.ndarray, np.ndarray]:
    return trim_frames(chroma_features(ref, sr), chroma_features(est, sr))


def chroma_distance(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR) -> float:
    """Mean per-frame Euclidean distance between the unit-norm chroma vectors of two clips.

    Identical clips score 0; a silent frame (zero vector) against a sounding one scores 1;
    the maximum for two sounding frames is sqrt(2). Lower is better.

    Returns:
        mean distance over frames (both ``(N,)`` clips trimmed to the shorter frame count).
    """
    c_ref, c_est = _pair(ref, est, sr)
    return float(np.mean(np.linalg.norm(c_ref - c_est, axis=0)))


def chroma_similarity(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR) -> float:
    """Mean over the 12 pitch classes of the Pearson r over time between the two chromagrams.

    A pitch class whose row is constant in either clip (e.g. never sounding) has no defined
    correlation and is left out of the mean.

    Returns:
        r in [-1, 1] (1 for identical clips); **NaN** if every pitch class is constant in one
        of the clips (e.g. a silent clip) or the clips share fewer than 2 frames.
    """
    c_ref, c_est = _pair(ref, est, sr)
    rs = np.array([pearson(c_ref[k], c_est[k]) for k in range(c_ref.shape[0])])
    if np.all(np.isnan(rs)):
        return float("nan")
    return float(np.nanmean(rs))


def chroma_cosine(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR) -> float:
    """Mean per-frame cosine similarity of the chroma vectors (the ground-truth content metric).

    Frames silent in either clip are left out (cosine undefined for a zero vector).

    Returns:
        cosine in [0, 1] (chroma is non-negative; 1 for identical clips); **NaN** when no frame
        is sounding in both clips.
    """
    c_ref, c_est = _pair(ref, est, sr)
    both = (np.linalg.norm(c_ref, axis=0) > 0.5) & (np.linalg.norm(c_est, axis=0) > 0.5)
    if not np.any(both):
        return float("nan")
    return float(np.mean(np.sum(c_ref[:, both] * c_est[:, both], axis=0)))
