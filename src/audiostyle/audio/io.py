"""Load audio of any format, rate and channel count as float32 mono; save atomically.

Every failure a user can cause is raised as :class:`~audiostyle.errors.AudioFileError` with the
file name and the problem in one line, never as a traceback from inside libsndfile or soxr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.errors import AudioFileError
from audiostyle.fileio import atomic_output

MIN_SR = 1000
MAX_SR = 768_000
MIN_SECONDS = 0.1
SUPPORTED_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def resample(wave: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """High-quality (soxr VHQ) resampling of a mono signal.

    Args:
        wave: ``(N,)`` float samples.
    Returns:
        ``(round(N * sr_out / sr_in),)`` float32 samples.
    """
    if sr_in == sr_out:
        return np.asarray(wave, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(wave, dtype=np.float32), sr_in, sr_out, quality="VHQ").astype(np.float32)


def rms_normalize(wave: np.ndarray, target_rms: float = 0.07, eps: float = 1e-8) -> np.ndarray:
    """Scale ``(N,)`` samples to the given RMS (the paper normalises every clip to 0.07)."""
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64))))
    if rms < eps:
        return np.asarray(wave, dtype=np.float32)
    return (wave * (target_rms / rms)).astype(np.float32)


def load_audio(
    path: str | os.PathLike,
    sr: int = MODEL_SR,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float | None = None,
) -> np.ndarray:
    """Read an audio file into float32 mono at ``sr``.

    Accepts WAV, FLAC, OGG and MP3 (libsndfile, no ffmpeg needed), any channel count and any
    sample rate in [1 kHz, 768 kHz]. Channels are averaged; the rate is converted with soxr.

    Returns:
        ``(N,)`` float32 samples at ``sr``.
    Raises:
        AudioFileError: missing or unreadable file, corrupt data, absurd sample rate, no
            samples, fewer than ``min_seconds`` of audio, more than ``max_seconds``, or
            non-finite samples.
    """
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioFileError(path, "no such file")
    if path.is_dir():
        raise AudioFileError(path, "is a directory, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioFileError(path, "permission denied")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile's messages are long and vary by version
        detail = _short(exc).replace(f"Error opening {str(path)!r}: ", "")
        if "does not exist" in detail:  # libsndfile's words when no decoder (its MPEG one last) takes the file
            detail = "format not recognised"
        raise AudioFileError(path, f"not a readable audio file ({detail})") from None
    if not MIN_SR <= info.samplerate <= MAX_SR:
        raise AudioFileError(path, f"absurd sample rate {info.samplerate} Hz (expected {MIN_SR}-{MAX_SR} Hz)")
    if info.channels < 1:
        raise AudioFileError(path, "has no audio channels")
    declared = info.frames / info.samplerate if info.frames > 0 else 0.0
    if max_seconds is not None and declared > max_seconds:
        raise AudioFileError(path, f"is {declared:.1f} s long; the limit is {max_seconds:.1f} s")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioFileError(path, f"corrupt or truncated audio data ({_short(exc)})") from None
    if data.size == 0:
        raise AudioFileError(path, "contains no audio samples")
    if not np.all(np.isfinite(data)):
        raise AudioFileError(path, "contains non-finite samples (NaN or infinity)")
    seconds = data.shape[0] / file_sr
    if seconds < min_seconds:
        raise AudioFileError(path, f"is too short ({seconds:.3f} s; at least {min_seconds:g} s needed)")
    if max_seconds is not None and seconds > max_seconds:
        raise AudioFileError(path, f"is {seconds:.1f} s long; the limit is {max_seconds:.1f} s")
    # Channels are summed in float64: in float32, samples near its limit (3.4e38) overflow to inf.
    mono = data.mean(axis=1, dtype=np.float64).astype(np.float32)
    wave = resample(mono, int(file_sr), sr)
    if not np.all(np.isfinite(wave)):  # the resampling filter overshoots past the float32 limit
        raise AudioFileError(path, f"samples too large to process (peak {float(np.max(np.abs(mono))):.3g})")
    return wave


def save_audio(path: str | os.PathLike, wave: np.ndarray, sr: int = MODEL_SR) -> Path:
    """Write ``(N,)`` samples as 16-bit PCM WAV (or the format the suffix names), atomically.

    The data goes to a temporary file in the target folder, which is renamed over the target
    only when complete, so a crash or a full disk never leaves a half-written output.

    Raises:
        AudioFileError: non-finite samples, or a folder that does not exist or is not writable.
    """
    import soundfile as sf

    path = Path(path)
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(wave)):
        raise AudioFileError(path, "refusing to write non-finite samples")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise AudioFileError(path, f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise AudioFileError(path, f"output folder {folder} is not writable")
    fmt = {".flac": "FLAC", ".ogg": "OGG"}.get(path.suffix.lower(), "WAV")
    subtype = {"FLAC": "PCM_16", "OGG": "VORBIS"}.get(fmt, "PCM_16")
    try:
        with atomic_output(path) as tmp:
            sf.write(str(tmp), np.clip(wave, -1.0, 1.0), sr, format=fmt, subtype=subtype)
    except OSError as exc:
        raise AudioFileError(path, f"cannot write ({exc.strerror or exc})") from None
    return path


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native code writes to file descriptor 2 to /dev/null while the block runs.

    libsndfile's MPEG decoder (libmpg123) prints ``Note: Illegal Audio-MPEG-Header ...`` lines
    straight to descriptor 2 while it probes a file that is not MPEG, around the one clear error
    the loader raises. Process-wide: for single-threaded command-line use only (it would also
    swallow other threads' standard error).
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 to redirect
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return text[:160]
