"""Note transcription with basic-pitch (Bittner et al., ICASSP 2022) and note-level F1.

:func:`transcribe` runs the ICASSP-2022 model bundled in the ``basic-pitch`` wheel through
onnxruntime (no TensorFlow, nothing downloaded), in memory: the waveform is windowed and the
model outputs are decoded to notes with basic-pitch's own functions, exactly as
``basic_pitch.inference.predict`` does for a file, without writing a temporary file.
The loaded model is cached per process.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import math
from typing import Sequence

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.data.pianoroll import midi_hz
from audiostyle.errors import AudioStyleError
from audiostyle.metrics._common import check_sr, check_wave

Note = tuple[float, float, int]

ONSET_TOLERANCE_S = 0.05
"""Note onset tolerance for :func:`note_f1` (mir_eval's standard 50 ms)."""

# basic-pitch's defaults for predict()
ONSET_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.3
MIN_NOTE_MS = 127.70


@contextlib.contextmanager
def _quiet():
    """Silence basic-pitch's import-time root-logger warnings and its prints.

    ``logging.warning`` configures the root logger when it has no handler; a temporary
    NullHandler prevents that side effect.
    """
    root = logging.getLogger()
    level = root.level
    guard = logging.NullHandler()
    root.addHandler(guard)
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)
        root.removeHandler(guard)


@functools.lru_cache(maxsize=1)
def _model():
    """Load basic-pitch's bundled ONNX model once per process."""
    with _quiet():
        from basic_pitch import build_icassp_2022_model_path, FilenameSuffix
        from basic_pitch.inference import Model

    path = build_icassp_2022_model_path(FilenameSuffix.onnx)
    if not path.exists():
        raise AudioStyleError(f"{path}: basic-pitch's ONNX model is missing from the installation")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise AudioStyleError("onnxruntime is not installed; basic-pitch transcription needs it") from None
    with _quiet():
        model = Model(path)
    _bound_threads(model, path)
    return model


def _bound_threads(model, path) -> None:
    """Rebuild basic-pitch's ONNX session with as many threads as torch uses, not spinning.

    basic-pitch opens the session with onnxruntime's defaults: one spinning thread per core.
    In the evaluation's worker processes (one torch thread each, one worker per core) those
    threads fight each other for the same cores; the outputs do not depend on the thread count.
    """
    import onnxruntime as ort
    import torch

    if not isinstance(getattr(model, "model", None), ort.InferenceSession):
        return
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, torch.get_num_threads())
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model.model = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def transcribe(
    wave: np.ndarray,
    sr: int = MODEL_SR,
    onset_threshold: float = ONSET_THRESHOLD,
    frame_threshold: float = FRAME_THRESHOLD,
    min_note_ms: float = MIN_NOTE_MS,
) -> list[Note]:
    """Transcribe a ``(N,)`` waveform to notes with basic-pitch (polyphonic).

    The waveform is resampled to 22050 Hz (basic-pitch's rate) if needed. Parameters default
    to basic-pitch's own defaults (melodia trick on, no frequency limits).

    Returns:
        ``[(onset_s, offset_s, midi_pitch), ...]`` sorted by onset then pitch; ``midi_pitch``
        is an int. Empty for silence.
    """
    wave = check_wave(wave)
    sr = check_sr(sr)
    with _quiet():
        from basic_pitch import note_creation
        from basic_pitch.constants import AUDIO_N_SAMPLES, AUDIO_SAMPLE_RATE, FFT_HOP
        from basic_pitch.inference import unwrap_output, window_audio_file

    if sr != AUDIO_SAMPLE_RATE:
        from audiostyle.audio.io import resample

        wave = resample(wave, sr, AUDIO_SAMPLE_RATE)
    model = _model()

    # Same windowing as basic_pitch.inference.run_inference, from memory instead of a file.
    n_overlap_frames = 30
    overlap_len = n_overlap_frames * FFT_HOP
    hop = AUDIO_N_SAMPLES - overlap_len
    n = wave.shape[0]
    padded = np.concatenate([np.zeros(overlap_len // 2, dtype=np.float32), wave.astype(np.float32)])
    outputs: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for window, _times in window_audio_file(padded, hop):
        for key, value in model.predict(window[np.newaxis].astype(np.float32)).items():
            outputs[key].append(value)
    model_output = {k: unwrap_output(np.concatenate(v), n, n_overlap_frames) for k, v in outputs.items()}

    min_note_len = int(np.round(min_note_ms / 1000 * (AUDIO_SAMPLE_RATE / FFT_HOP)))
    with _quiet(), np.errstate(divide="ignore", invalid="ignore"):  # 0/0 on silent input
        _midi, events = note_creation.model_output_to_notes(
            model_output,
            onset_thresh=onset_threshold,
            frame_thresh=frame_threshold,
            min_note_len=min_note_len,
            min_freq=None,
            max_freq=None,
            multiple_pitch_bends=False,
            melodia_trick=True,
        )
    notes = [(float(on), float(off), int(pitch)) for on, off, pitch, *_rest in events]
    return sorted(notes, key=lambda x: (x[0], x[2]))


def note_f1(
    ref_notes: Sequence[tuple[float, float, float]],
    est_notes: Sequence[tuple[float, float, float]],
    onset_tolerance: float = ONSET_TOLERANCE_S,
) -> float:
    """Note-level F1 (onset and pitch, no offsets) via ``mir_eval.transcription``.

    ``precision_recall_f1_overlap`` with ``onset_tolerance=0.05`` s, ``pitch_tolerance=50``
    cents and ``offset_ratio=None``: a note matches when its onset is within 50 ms and its
    pitch within half a semitone of an unmatched reference note.

    Args:
        ref_notes, est_notes: ``[(onset_s, offset_s, midi_pitch), ...]``.
    Returns:
        F1 in [0, 1]; **NaN** when the reference has no notes (undefined); 0 when the
        estimate is empty but the reference is not.
    """
    import mir_eval

    ref_i, ref_p = _notes_to_arrays(ref_notes, "reference notes")
    est_i, est_p = _notes_to_arrays(est_notes, "estimated notes")
    if ref_p.size == 0:
        return float("nan")
    if est_p.size == 0:
        return 0.0
    _p, _r, f, _o = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, onset_tolerance=onset_tolerance, pitch_tolerance=50.0, offset_ratio=None
    )
    return float(f)


def _notes_to_arrays(notes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``[(on, off, midi)]`` -> intervals ``(K, 2)`` seconds and pitches ``(K,)`` Hz for mir_eval."""
    rows = []
    for i, note in enumerate(notes):
        try:
            on, off, midi = (float(v) for v in tuple(note)[:3])
        except (TypeError, ValueError):
            raise AudioStyleError(f"{name}: note {i} is not (onset_s, offset_s, midi_pitch): {note!r}") from None
        if not all(math.isfinite(v) for v in (on, off, midi)) or on < 0:
            raise AudioStyleError(f"{name}: note {i} has a negative or non-finite value: {note!r}")
        if off < on:
            raise AudioStyleError(f"{name}: note {i} ends before it starts: {note!r}")
        # mir_eval requires strictly positive durations; offsets are not scored here.
        rows.append((on, max(off, on + 1e-3), midi_hz(midi)))
    if not rows:
        return np.zeros((0, 2)), np.zeros(0)
    arr = np.asarray(rows, dtype=np.float64)
    return arr[:, :2], arr[:, 2]
