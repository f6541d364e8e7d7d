"""Fundamental-frequency (f0) metrics on whole clips: f0 contours, contour correlation and
agreement, RPA.

All functions take mono float32 waveforms of shape ``(N,)`` at ``sr`` Hz (normally
:data:`audiostyle.MODEL_SR`, 22050 Hz).

Two trackers are available:

* ``"pesto"`` (default): PESTO (Riou et al., ISMIR 2023), the ``mir-1k_g7`` checkpoint that ships
  inside the ``pesto-pitch`` wheel; nothing is downloaded. Its confidence is a voicing
  probability in [0, 1].
* ``"pyin"``: librosa's probabilistic YIN (C2-C7 search range); confidence is pYIN's voiced
  probability.

PESTO is built by :func:`audiostyle.metrics.pesto_model.load_pesto` on first use, never at import.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.data.pianoroll import midi_hz
from audiostyle.errors import AudioStyleError
from audiostyle.metrics._common import check_sr, check_wave, pad_to, pearson
from audiostyle.metrics.pesto_model import load_pesto

DEFAULT_HOP_S = 256 / MODEL_SR
"""Default f0 frame hop in seconds (256 samples at 22050 Hz, ~11.6 ms)."""

DEFAULT_CONFIDENCE = 0.5
"""Frames whose tracker confidence is below this count as unvoiced."""

MIN_COMMON_FRAMES = 10
"""Fewer frames voiced in both signals than this make :func:`pitch_correlation` NaN."""

MIN_SPREAD_CENTS = 1.0
"""A contour whose standard deviation over the common frames is below this is constant."""

PYIN_FMIN_HZ = 65.40639132514966  # C2
PYIN_FMAX_HZ = 2093.004522404789  # C7

METHODS = ("pesto", "pyin")


# --------------------------------------------------------------------------------------------
# f0 tracking
# --------------------------------------------------------------------------------------------


def f0_contour(
    wave: np.ndarray,
    sr: int = MODEL_SR,
    method: str = "pesto",
    hop_s: float = DEFAULT_HOP_S,
    confidence_threshold: float = DEFAULT_CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track the f0 of a monophonic ``(N,)`` waveform.

    Args:
        wave: ``(N,)`` float samples at ``sr`` Hz.
        sr: sample rate in Hz.
        method: ``"pesto"`` or ``"pyin"``.
        hop_s: frame hop in seconds (default 256/22050 s).
        confidence_threshold: frames with confidence below this are unvoiced.

    Returns:
        ``times`` ``(T,)`` frame centres in seconds (``k * hop``), ``f0_hz`` ``(T,)`` with
        **NaN where unvoiced**, ``confidence`` ``(T,)`` in [0, 1].
    Raises:
        AudioStyleError: empty or non-finite input, bad ``sr``/``hop_s``, unknown ``method``.
    """
    times, f0, conf = _f0_raw(wave, sr, method, hop_s)
    f0 = f0.copy()
    f0[~(conf >= confidence_threshold)] = np.nan
    return times, f0, conf


def _f0_raw(wave, sr: int, method: str, hop_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`f0_contour` but ``f0_hz`` holds the tracker's best pitch guess in every frame
    where it has one (voiced or not) and NaN only where it has none."""
    wave = check_wave(wave)
    sr = check_sr(sr)
    if method not in METHODS:
        raise AudioStyleError(f"unknown f0 method {method!r} (expected one of {', '.join(METHODS)})")
    if not (isinstance(hop_s, (int, float)) and math.isfinite(hop_s) and hop_s > 0):
        raise AudioStyleError(f"f0 hop must be a positive number of seconds, got {hop_s!r}")
    hop = max(1, int(round(hop_s * sr)))
    if method == "pesto":
        f0, conf = _pesto_track(wave, sr, hop)
    else:
        f0, conf = _pyin_track(wave, sr, hop)
    times = np.arange(f0.shape[0], dtype=np.float64) * (hop / sr)
    return times, f0.astype(np.float64), np.clip(conf.astype(np.float64), 0.0, 1.0)


def _pyin_track(wave: np.ndarray, sr: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    frame_length = 2048 if sr <= 24000 else 4096
    n = wave.shape[0]
    f0, _voiced, prob = librosa.pyin(
        pad_to(wave, frame_length),
        fmin=PYIN_FMIN_HZ,
        fmax=min(PYIN_FMAX_HZ, sr / 4),
        sr=sr,
        frame_length=frame_length,
        hop_length=hop,
        center=True,
        fill_na=None,  # best guess in unvoiced frames (needed by RPA)
    )
    t = 1 + n // hop
    return np.asarray(f0[:t]), np.nan_to_num(np.asarray(prob[:t]), nan=0.0)


def _pesto_track(wave: np.ndarray, sr: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    import torch

    model = load_pesto(hop * 1000.0 / sr, sr)
    # Short inputs: PESTO's CQT needs a few kernel lengths; pad with zeros and trim after.
    n = wave.shape[0]
    x = torch.from_numpy(pad_to(wave, 4096))
    with torch.inference_mode():
        pred, conf, _vol, _act = model(x, sr=sr, convert_to_freq=True, return_activations=True)
    t = 1 + n // hop
    return pred.numpy()[:t], conf.numpy()[:t]


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def voiced_in_both(f_ref: np.ndarray, f_est: np.ndarray) -> np.ndarray:
    """Indices of the frames :func:`pitch_correlation` compares: voiced in both contours.

    Args:
        f_ref, f_est: ``(T1,)`` and ``(T2,)`` f0 in Hz on one frame grid, NaN (or 0) unvoiced.
    Returns:
        ``(K,)`` ascending frame indices below ``min(T1, T2)`` (the contours are trimmed to the
        shorter one).
    """
    t = min(f_ref.shape[0], f_est.shape[0])
    f_ref, f_est = f_ref[:t], f_est[:t]
    return np.flatnonzero(np.isfinite(f_ref) & np.isfinite(f_est) & (f_ref > 0) & (f_est > 0))


def pitch_correlation(
    ref: np.ndarray,
    est: np.ndarray,
    sr: int = MODEL_SR,
    method: str = "pesto",
    confidence_threshold: float = DEFAULT_CONFIDENCE,
    min_frames: int = MIN_COMMON_FRAMES,
) -> float:
    """Pearson r between the f0 contours (in cents) of two ``(N,)`` waveforms.

    Both clips are tracked with the same ``method`` and hop; the contours are trimmed to the
    shorter one and compared over the frames voiced (confidence >= threshold) in **both**.
    Pearson r is invariant to a constant transposition, so a melody moved by an octave still
    scores 1; it measures the shape of the melody, not its key.

    Returns:
        r in [-1, 1]; **NaN** when fewer than ``min_frames`` (default 10) frames are voiced in
        both, or when either contour is constant over those frames (standard deviation below
        1 cent: r would only measure tracker jitter), i.e. r is undefined.
    """
    c_ref, c_est = _common_cents(ref, est, sr, method, confidence_threshold)
    if len(c_ref) < min_frames:
        return float("nan")
    if min(np.std(c_ref), np.std(c_est)) < MIN_SPREAD_CENTS:
        return float("nan")  # a (near-)constant contour: r would only correlate tracker jitter
    return pearson(c_ref, c_est)


def pitch_agreement(
    ref: np.ndarray,
    est: np.ndarray,
    sr: int = MODEL_SR,
    method: str = "pesto",
    confidence_threshold: float = DEFAULT_CONFIDENCE,
    min_frames: int = MIN_COMMON_FRAMES,
    cent_tolerance: float = 50.0,
) -> float:
    """Share of the frames :func:`pitch_correlation` compares whose two f0s agree within 50 cents.

    The same contours and frames as the correlation (tracked with ``method``, voiced in both),
    scored frame by frame instead of as one Pearson r. On polyphonic music a monophonic tracker
    follows whichever voice it hears as dominant: a few frames on another voice, 5-12
    semitones away, can dominate the variance of a contour that otherwise moves by a few
    semitones and pull r to zero or below, while here they cost only their share of frames.
    No octave folding and no transposition: an output an octave off agrees nowhere.

    Args:
        ref, est: ``(N,)`` waveforms at ``sr`` Hz (input and output of a reconstruction).
        cent_tolerance: largest |difference| in cents counted as agreement (mir_eval's 50).
    Returns:
        agreement in [0, 1]; **NaN** when fewer than ``min_frames`` frames are voiced in both.
    """
    c_ref, c_est = _common_cents(ref, est, sr, method, confidence_threshold)
    if len(c_ref) < min_frames:
        return float("nan")
    return float(np.mean(np.abs(c_est - c_ref) <= cent_tolerance))


def _common_cents(ref, est, sr: int, method: str, confidence_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(K,)`` and ``(K,)``: the two f0 contours in cents over the frames voiced in both."""
    _t, f_ref, _c = f0_contour(ref, sr, method=method, confidence_threshold=confidence_threshold)
    _t, f_est, _c = f0_contour(est, sr, method=method, confidence_threshold=confidence_threshold)
    both = voiced_in_both(f_ref, f_est)
    return _hz_to_cents(f_ref[both]), _hz_to_cents(f_est[both])


def notes_to_f0(notes: Sequence[tuple[float, float, float]], times: np.ndarray) -> np.ndarray:
    """Reference f0 (Hz) at ``times`` ``(T,)`` from monophonic notes ``[(onset_s, offset_s, midi)]``.

    A frame at time t is voiced by a note when ``onset <= t < offset``; where notes overlap the
    most recent onset wins. Unvoiced frames are 0 Hz (mir_eval's convention).
    """
    times = np.asarray(times, dtype=np.float64)
    f0 = np.zeros_like(times)
    for onset, offset, midi in sorted(_check_notes(notes), key=lambda n: n[0]):
        inside = (times >= onset) & (times < offset)
        f0[inside] = midi_hz(midi)
    return f0


def raw_pitch_accuracy(
    wave: np.ndarray,
    notes: Sequence[tuple[float, float, float]],
    sr: int = MODEL_SR,
    method: str = "pesto",
    cent_tolerance: float = 50.0,
) -> float:
    """Raw pitch accuracy (mir_eval.melody, 50 cents) of ``wave``'s f0 against known notes.

    The reference contour is built with :func:`notes_to_f0` on the tracker's frame grid. As in
    mir_eval, RPA is the fraction of reference-voiced frames whose estimated pitch lies within
    ``cent_tolerance`` of the reference, *whatever the estimate's voicing decision* (the
    tracker's best pitch guess is used in every frame; a frame with no guess counts as wrong).
    No octave folding (that would be raw chroma accuracy).

    Args:
        wave: ``(N,)`` output waveform.
        notes: ``[(onset_s, offset_s, midi_pitch), ...]`` of monophonic reference material.
    Returns:
        RPA in [0, 1]; **NaN** when no reference note covers any frame of the clip.
    """
    import mir_eval

    times, f0_est, conf = _f0_raw(wave, sr, method, DEFAULT_HOP_S)
    f0_ref = notes_to_f0(notes, times)
    if not np.any(f0_ref > 0):
        return float("nan")
    est_hz = np.nan_to_num(f0_est, nan=0.0)
    ref_c, ref_v = mir_eval.melody.freq_to_voicing(f0_ref)
    est_c, est_v = mir_eval.melody.freq_to_voicing(est_hz)
    ref_cent = mir_eval.melody.hz2cents(ref_c)
    est_cent = mir_eval.melody.hz2cents(est_c)
    return float(mir_eval.melody.raw_pitch_accuracy(ref_v, ref_cent, est_v, est_cent, cent_tolerance=cent_tolerance))


def _check_notes(notes) -> list[tuple[float, float, float]]:
    out = []
    for i, note in enumerate(notes):
        try:
            onset, offset, midi = (float(v) for v in note[:3])
        except (TypeError, ValueError, IndexError):
            raise AudioStyleError(f"note {i}: expected (onset_s, offset_s, midi_pitch), got {note!r}") from None
        if not (math.isfinite(onset) and math.isfinite(offset) and math.isfinite(midi)):
            raise AudioStyleError(f"note {i}: non-finite value in {note!r}")
        if offset < onset:
            raise AudioStyleError(f"note {i}: offset {offset} s is before onset {onset} s")
        out.append((onset, offset, midi))
    return out


def _hz_to_cents(f: np.ndarray) -> np.ndarray:
    return 1200.0 * np.log2(np.asarray(f, dtype=np.float64) / 440.0)
