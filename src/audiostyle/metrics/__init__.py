"""Evaluation metrics: pure functions on mono float32 waveforms ``(N,)`` at 22050 Hz.

Every metric works on whole clips (never a cherry-picked window) with standard tolerances
(50 ms onsets, 50 cents pitch). Inputs that are empty or non-finite raise
:class:`~audiostyle.errors.AudioStyleError`; a metric that is undefined for its inputs (no
reference onsets, a silent clip's correlation, ...) returns NaN, never a silent 0.

Importing this package is cheap: librosa, torch, PESTO, basic-pitch, mir_eval and scikit-learn
load on first use.

Modules: :mod:`.pitch` (f0 contours, pitch correlation and agreement, RPA), :mod:`.onsets` (onset F1),
:mod:`.chroma` (chroma distance / similarity / cosine), :mod:`.spectral` (LSD, spectrogram
MSE, MFCC distance, instrumentation similarity, SSM distance), :mod:`.transcription`
(basic-pitch notes, note F1), :mod:`.classifier` (instrument classifier for style accuracy).
"""

from __future__ import annotations

from audiostyle.metrics.chroma import chroma_cosine, chroma_distance, chroma_features, chroma_similarity
from audiostyle.metrics.classifier import InstrumentClassifier, clip_features, load_split, train_or_load
from audiostyle.metrics.onsets import onset_f1, onset_f1_from_times, onset_times
from audiostyle.metrics.pitch import f0_contour, notes_to_f0, pitch_agreement, pitch_correlation, raw_pitch_accuracy
from audiostyle.metrics.spectral import (
    instrumentation_similarity,
    lsd,
    mfcc_distance,
    spectrogram_mse,
    ssm_distance,
)
from audiostyle.metrics.transcription import note_f1, transcribe

__all__ = [
    "InstrumentClassifier",
    "chroma_cosine",
    "chroma_distance",
    "chroma_features",
    "chroma_similarity",
    "clip_features",
    "f0_contour",
    "instrumentation_similarity",
    "load_split",
    "lsd",
    "mfcc_distance",
    "note_f1",
    "notes_to_f0",
    "onset_f1",
    "onset_f1_from_times",
    "onset_times",
    "pitch_agreement",
    "pitch_correlation",
    "raw_pitch_accuracy",
    "spectrogram_mse",
    "ssm_distance",
    "train_or_load",
    "transcribe",
]
