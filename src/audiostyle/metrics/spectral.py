"""Spectral and timbral distances between two whole clips.

Waveforms are mono float32 ``(N,)`` at ``sr`` Hz (normally 22050). Where two spectrograms have
different frame counts, the longer is trimmed to the shorter, except in :func:`ssm_distance`,
which compares structure and resamples both to a common length.
"""

from __future__ import annotations

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.errors import AudioStyleError
from audiostyle.metrics._common import check_sr, check_wave, pad_to, pearson, trim_frames

# LSD (Cifka et al., ICASSP 2021)
LSD_N_FFT = 2048
LSD_HOP = 512
LSD_N_MELS = 128
LSD_AMIN = 1e-10
"""Power floor of the dB conversion: -100 dB (librosa ``power_to_db`` default)."""
LSD_TOP_DB = 80.0
"""Each spectrogram is also floored at its own maximum minus 80 dB (librosa default)."""

# Spectrogram MSE
MSE_N_FFT = 1024
MSE_HOP = 256

# MFCC / instrumentation / SSM
N_MFCC = 20
FEAT_N_FFT = 2048
FEAT_HOP = 512
SSM_MAX_FRAMES = 1024


def _two(ref, est, sr) -> tuple[np.ndarray, np.ndarray, int]:
    return check_wave(ref, "ref"), check_wave(est, "est"), check_sr(sr)


def _rms_normalize(wave: np.ndarray) -> np.ndarray:
    """Scale to unit RMS, as Cifka et al.'s ``normalize_power`` (silence stays silence)."""
    w = wave.astype(np.float64)
    return w / (np.sqrt(np.mean(w**2)) + np.finfo(np.float32).eps)


def log_mel(wave: np.ndarray, sr: int = MODEL_SR) -> np.ndarray:
    """LSD's spectrogram: RMS-normalised, 128-band mel power spectrogram in dB.

    n_fft 2048, hop 512, Hann window, centred frames; ``power_to_db(ref=1, amin=1e-10,
    top_db=80)``, so every value is at least ``max(-100 dB, max - 80 dB)``.

    Returns:
        ``(128, F)`` float64 dB values, ``F = 1 + N // 512``.
    """
    import librosa

    wave = check_wave(wave)
    sr = check_sr(sr)
    n = wave.shape[0]
    y = pad_to(_rms_normalize(wave), LSD_N_FFT)
    s = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=LSD_N_FFT, hop_length=LSD_HOP, n_mels=LSD_N_MELS, power=2.0)
    db = librosa.power_to_db(s, ref=1.0, amin=LSD_AMIN, top_db=LSD_TOP_DB)
    return db[:, : 1 + n // LSD_HOP].astype(np.float64)


def lsd(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR, reduce: str = "frames") -> float:
    """Log-spectral distance (dB) on mel spectrograms, after Cifka et al. (ICASSP 2021).

    Both ``(N,)`` signals are RMS-normalised, turned into 128-band log-mel spectrograms
    (:func:`log_mel`: n_fft 2048, hop 512, dB floor ``max(-100 dB, own max - 80 dB)``), trimmed
    to the shorter frame count, and compared:

    * ``reduce="frames"`` (default): RMSE over the mel bins of each frame, mean over frames
      (the usual LSD definition).
    * ``reduce="bins"``: RMSE over time for each mel bin, mean over bins; this is what the
      released ss-vq-vae evaluation notebook computes (``np.mean(..., axis=1)`` on a
      ``(mels, frames)`` array). By Jensen's inequality the two agree exactly only when the
      error is uniform; both are 0 for identical signals.

    Returns:
        LSD in dB, >= 0 (0 for identical signals; lower is better).
    """
    ref, est, sr = _two(ref, est, sr)
    a, b = trim_frames(log_mel(ref, sr), log_mel(est, sr))
    sq = (a - b) ** 2
    if reduce == "frames":
        return float(np.mean(np.sqrt(np.mean(sq, axis=0))))
    if reduce == "bins":
        return float(np.mean(np.sqrt(np.mean(sq, axis=1))))
    raise AudioStyleError(f"unknown LSD reduction {reduce!r} (expected 'frames' or 'bins')")


def _stft_mag(wave: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    import librosa

    n = wave.shape[0]
    s = np.abs(librosa.stft(pad_to(wave, n_fft), n_fft=n_fft, hop_length=hop, window="hann", center=True))
    return s[:, : 1 + n // hop].astype(np.float64)


def spectrogram_mse(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR, scale: str = "linear") -> float:
    """Mean squared error between the STFT magnitudes of two ``(N,)`` waveforms.

    The waveforms are used as given ("de-normalised": no RMS normalisation, so a level
    difference counts). STFT: n_fft 1024, hop 256, Hann window, centred frames, magnitudes
    in raw FFT units (not divided by the window sum); trimmed to the shorter frame count.

    Args:
        scale: ``"linear"`` (default, the paper's definition: MSE of linear magnitudes) or
            ``"db"`` (MSE of ``20*log10(max(|X|, 1e-5))``, in dB^2).
    Returns:
        MSE, >= 0 (0 for identical signals).
    """
    ref, est, sr = _two(ref, est, sr)
    a, b = trim_frames(_stft_mag(ref, MSE_N_FFT, MSE_HOP), _stft_mag(est, MSE_N_FFT, MSE_HOP))
    if scale == "db":
        a = 20.0 * np.log10(np.maximum(a, 1e-5))
        b = 20.0 * np.log10(np.maximum(b, 1e-5))
    elif scale != "linear":
        raise AudioStyleError(f"unknown spectrogram scale {scale!r} (expected 'linear' or 'db')")
    return float(np.mean((a - b) ** 2))


def mfcc(wave: np.ndarray, sr: int = MODEL_SR, n_mfcc: int = N_MFCC) -> np.ndarray:
    """librosa MFCCs (n_fft 2048, hop 512, 128 mels, dB with ref 1 and 80 dB range, DCT-II ortho).

    Returns:
        ``(n_mfcc, F)`` float64, coefficient 0 (log energy) included.
    """
    import librosa

    wave = check_wave(wave)
    sr = check_sr(sr)
    n = wave.shape[0]
    m = librosa.feature.mfcc(y=pad_to(wave, FEAT_N_FFT), sr=sr, n_mfcc=n_mfcc, n_fft=FEAT_N_FFT, hop_length=FEAT_HOP)
    return m[:, : 1 + n // FEAT_HOP].astype(np.float64)


def mfcc_distance(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR) -> float:
    """Euclidean distance between the time-averaged 20-MFCC vectors of two ``(N,)`` clips.

    Coefficient 0 is included and the signals are not level-normalised (the paper-like
    definition), so a pure gain change moves mostly c0.

    Returns:
        distance >= 0 (0 for identical clips; lower means more similar timbre).
    """
    ref, est, sr = _two(ref, est, sr)
    return float(np.linalg.norm(mfcc(ref, sr).mean(axis=1) - mfcc(est, sr).mean(axis=1)))


def instrumentation_similarity(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR) -> float:
    """Pearson r between the time-summed STFT magnitude spectra (n_fft 2048, hop 512) of two clips.

    Compares the long-term spectral envelope (which instrument, roughly), ignoring timing.

    Returns:
        r in [-1, 1] (1 for identical clips, also for a pure gain change); **NaN** if either
        long-term spectrum is constant (e.g. a silent clip).
    """
    ref, est, sr = _two(ref, est, sr)
    a = _stft_mag(ref, FEAT_N_FFT, FEAT_HOP).sum(axis=1)
    b = _stft_mag(est, FEAT_N_FFT, FEAT_HOP).sum(axis=1)
    return pearson(a, b)


def self_similarity(features: np.ndarray) -> np.ndarray:
    """Cosine self-similarity matrix of ``(D, F)`` features -> ``(F, F)``.

    Frames with (near-)zero norm have similarity 0 with every frame, themselves included.
    """
    f = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(f, axis=0)
    unit = np.zeros_like(f)
    ok = norms > 1e-8 * max(float(norms.max(initial=0.0)), 1e-30)
    unit[:, ok] = f[:, ok] / norms[ok]
    return unit.T @ unit


def _resample_frames(f: np.ndarray, length: int) -> np.ndarray:
    """Linearly interpolate ``(D, F)`` features to ``(D, length)`` frames."""
    if f.shape[1] == length:
        return f
    src = np.linspace(0.0, 1.0, f.shape[1]) if f.shape[1] > 1 else np.zeros(1)
    dst = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(dst, src, row) for row in f])


def ssm_distance(ref: np.ndarray, est: np.ndarray, sr: int = MODEL_SR, features: str = "chroma") -> float:
    """Mean absolute difference between the self-similarity matrices of two clips.

    Features are :func:`audiostyle.metrics.chroma.chroma_features` (``"chroma"``, hop 512) or
    MFCCs 1-19 (``"mfcc"``, c0 dropped so loudness does not dominate the cosine). Both feature
    sequences are linearly resampled in time to the shorter frame count (at most 1024), so
    clips of different lengths or tempi compare by structure; SSMs are cosine similarities.

    Returns:
        distance in [0, 2] for MFCCs, [0, 1] for chroma (non-negative); 0 for identical clips.
    """
    ref, est, sr = _two(ref, est, sr)
    if features == "chroma":
        from audiostyle.metrics.chroma import chroma_features

        fa, fb = chroma_features(ref, sr), chroma_features(est, sr)
    elif features == "mfcc":
        fa, fb = mfcc(ref, sr)[1:], mfcc(est, sr)[1:]
    else:
        raise AudioStyleError(f"unknown SSM features {features!r} (expected 'chroma' or 'mfcc')")
    length = min(fa.shape[1], fb.shape[1], SSM_MAX_FRAMES)
    sa = self_similarity(_resample_frames(fa, length))
    sb = self_similarity(_resample_frames(fb, length))
    return float(np.mean(np.abs(sa - sb)))
