"""Hand-computed clip descriptors: the feature-VAE's style input (after its seed paper).

All in torch and batched, from a complex STFT ``(B, F, T)`` (n_fft 1024, hop 256) and, for the
time-domain descriptors, its waveform ``(B, N)``:

* MFCCs: DCT-II (orthonormal) of the mel spectrogram in dB (as ``librosa.feature.mfcc``);
* spectral centroid and bandwidth of the magnitude spectrum (as librosa, ``p = 2``), in kHz;
* zero-crossing rate per frame (sign changes per sample) and frame RMS (``log10``), framed
  like the STFT (centred, ``n_fft`` samples, hop ``hop``);
* tempo: the autocorrelation peak of the mel spectral-flux onset envelope between 40 and 240
  BPM, weighted by a log-normal prior around 120 BPM (as librosa's estimator), divided by 100.

Frame-wise descriptors are summarised by their mean and standard deviation over the clip, so a
clip becomes one vector ``(B, D)`` with ``D = 2 * n_mfcc + 9`` (names: :func:`descriptor_names`).
Frames that are silent in the whole clip still count; a digitally silent clip gives finite zeros.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from audiostyle.features.spectral import SpectralConfig, istft

FRAME_DESCRIPTORS = ("centroid_khz", "bandwidth_khz", "zcr", "log_rms")


def descriptor_names(n_mfcc: int = 20) -> list[str]:
    """Names of the entries of :func:`clip_descriptors`' vector, in order."""
    frame = [f"mfcc{i}" for i in range(n_mfcc)] + list(FRAME_DESCRIPTORS)
    return [f"{n}_mean" for n in frame] + [f"{n}_std" for n in frame] + ["tempo_100bpm"]


@lru_cache(maxsize=4)
def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II, ``(n_out, n_in)`` (``scipy.fft.dct(..., norm="ortho")`` rows)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


def mfcc_from_mel(mel: torch.Tensor, n_mfcc: int = 20, top_db: float = 80.0) -> torch.Tensor:
    """Mel power ``(B, T, M)`` -> MFCCs ``(B, T, n_mfcc)`` (dB with librosa's floor, then DCT-II)."""
    db = 10 * torch.log10(mel.float().clamp_min(1e-10))
    db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - top_db)
    return db @ torch.from_numpy(_dct_matrix(mel.shape[-1], n_mfcc)).to(mel.device).T


def spectral_centroid(mag: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """Magnitude ``(B, F, T)`` -> centroid in Hz ``(B, T)`` (0 for silent frames)."""
    freqs = torch.linspace(0, cfg.sr / 2, mag.shape[1], device=mag.device)
    weight = mag.float() / mag.float().sum(dim=1, keepdim=True).clamp_min(1e-10)
    return (freqs[None, :, None] * weight).sum(dim=1)


def spectral_bandwidth(mag: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """Magnitude ``(B, F, T)`` -> bandwidth in Hz ``(B, T)``: the magnitude-weighted standard
    deviation of frequency around the centroid (librosa's ``p = 2``)."""
    freqs = torch.linspace(0, cfg.sr / 2, mag.shape[1], device=mag.device)
    weight = mag.float() / mag.float().sum(dim=1, keepdim=True).clamp_min(1e-10)
    centroid = (freqs[None, :, None] * weight).sum(dim=1, keepdim=True)
    return ((freqs[None, :, None] - centroid).square() * weight).sum(dim=1).sqrt()


def frames(wave: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """``(B, N)`` -> centred frames ``(B, N // hop + 1, n_fft)`` on the STFT's grid (zero-padded)."""
    half = cfg.n_fft // 2
    padded = torch.nn.functional.pad(wave.float(), (half, half))
    return padded.unfold(1, cfg.n_fft, cfg.hop)


def zero_crossing_rate(wave: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """``(B, N)`` -> sign changes per sample in each frame ``(B, T)`` (zeros count as positive)."""
    f = frames(wave, cfg)
    signs = f >= 0
    return (signs[..., 1:] != signs[..., :-1]).float().mean(dim=-1)


def frame_rms(wave: torch.Tensor, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """``(B, N)`` -> root mean square of each frame ``(B, T)``."""
    return frames(wave, cfg).square().mean(dim=-1).sqrt()


def onset_envelope(mel: torch.Tensor) -> torch.Tensor:
    """Mel power ``(B, T, M)`` -> spectral flux of the dB mel spectrum, mean over bands ``(B, T)``."""
    db = 10 * torch.log10(mel.float().clamp_min(1e-10))
    db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - 80.0)
    flux = (db[:, 1:] - db[:, :-1]).clamp_min(0).mean(dim=-1)
    return torch.nn.functional.pad(flux, (1, 0))


def tempo(envelope: torch.Tensor, cfg: SpectralConfig = SpectralConfig(), lo_bpm: float = 40.0,
          hi_bpm: float = 240.0, prior_bpm: float = 120.0, prior_octaves: float = 1.0) -> torch.Tensor:
    """Onset envelope ``(B, T)`` -> tempo in BPM ``(B,)``.

    The lag of the highest autocorrelation between ``lo_bpm`` and ``hi_bpm``, weighted by a
    log-normal prior (``prior_octaves`` wide) around ``prior_bpm``; ``prior_bpm`` when the
    envelope is flat or the clip shorter than one beat at ``lo_bpm``.
    """
    fps = cfg.sr / cfg.hop
    env = envelope.float() - envelope.float().mean(dim=1, keepdim=True)
    t = env.shape[1]
    lo_lag, hi_lag = max(1, int(math.floor(60 * fps / hi_bpm))), min(t - 1, int(math.ceil(60 * fps / lo_bpm)))
    if hi_lag <= lo_lag:
        return torch.full((env.shape[0],), prior_bpm, device=env.device)
    spec = torch.fft.rfft(env, n=2 * t)
    acf = torch.fft.irfft(spec.abs().square(), n=2 * t)[:, : t]
    acf = acf / torch.arange(t, 0, -1, device=env.device)  # unbiased: fewer products at long lags
    lags = torch.arange(lo_lag, hi_lag + 1, device=env.device)
    bpm = 60 * fps / lags.float()
    prior = torch.exp(-0.5 * (torch.log2(bpm / prior_bpm) / prior_octaves) ** 2)
    score = acf[:, lags].clamp_min(0) * prior
    best = bpm[score.argmax(dim=1)]
    flat = acf[:, 0] <= 1e-12
    return torch.where(flat, torch.full_like(best, prior_bpm), best)


def clip_descriptors(spec: torch.Tensor, mel: torch.Tensor, wave: torch.Tensor | None = None,
                     n_mfcc: int = 20, cfg: SpectralConfig = SpectralConfig()) -> torch.Tensor:
    """One descriptor vector per clip.

    Args:
        spec: complex STFT ``(B, F, T)``.
        mel: its mel power ``(B, T, M)``.
        wave: its waveform ``(B, N)``; the inverse STFT of ``spec`` when None.
    Returns:
        ``(B, 2 * n_mfcc + 9)`` float32, ordered as :func:`descriptor_names`.
    """
    if wave is None:
        wave = istft(spec, length=(spec.shape[-1] - 1) * cfg.hop, cfg=cfg)
    mag = spec.abs()
    t = spec.shape[-1]
    per_frame = torch.cat([
        mfcc_from_mel(mel, n_mfcc),
        spectral_centroid(mag, cfg)[..., None] / 1000,
        spectral_bandwidth(mag, cfg)[..., None] / 1000,
        zero_crossing_rate(wave, cfg)[:, :t, None],
        torch.log10(frame_rms(wave, cfg)[:, :t, None] + 1e-5),
    ], dim=-1)  # (B, T, n_mfcc + 4)
    bpm = tempo(onset_envelope(mel), cfg)[:, None] / 100
    return torch.cat([per_frame.mean(dim=1), per_frame.std(dim=1, unbiased=False), bpm], dim=1)
