"""One training step of the feature-VAE, with the seed paper's augmentations.

Terms (all parts trained together):

* ``recon/mel``: L1 between the recombined mel ``D(z_content, s)`` and the input (normalised mel);
* ``recon/style``: MSE between the style decoder's output and the standardised descriptors;
* ``kl``: KL of the content posterior to N(0, I).

Augmentations (the paper's three; each a switch, drawn per clip with probability ``prob``),
applied to the batch's complex STFT ``(B, F, T)`` before any feature is computed, so input and
target are the same augmented clip. Cheap spectral-domain versions:

* ``pitch_shift`` (semitones, uniform in ±value; 0 = off): the magnitude is resampled along
  frequency by ``2^(n/12)`` (linear interpolation); phases are rebuilt phase-vocoder style from
  the nearest source bin's instantaneous frequency, scaled by the same ratio;
* ``time_stretch`` (fraction, rate uniform in 1 ± value; 0 = off): frames resampled along time
  (linear interpolation of magnitudes; phases accumulated from the local instantaneous
  frequencies, phase-vocoder style), the clip keeping its length (zeros past the end when faster);
* ``noise_snr_db`` (``[low, high]``; null = off): white Gaussian noise added to the waveform at
  an SNR drawn uniformly in that range.

The result is made consistent by one inverse STFT (plus the noise) and STFT, which also gives
the waveform the zero-crossing rate and RMS descriptors read.
"""

from __future__ import annotations

import math

import torch

from audiostyle.config import take
from audiostyle.features.spectral import SpectralConfig, istft, stft
from audiostyle.losses.autoencoders import kl_standard_normal, l1_loss

DEFAULTS = {
    "weights": {"recon": 1.0, "style": 1.0, "kl": 0.01},
    "augment": {"prob": 0.5, "pitch_shift": 2.0, "time_stretch": 0.2, "noise_snr_db": [20.0, 40.0]},
}


def _gather_bins(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B, F, T)``, ``index`` ``(B, F)`` -> ``x[b, index[b, f], t]``."""
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


def _phase_advance(spec: torch.Tensor, hop: int) -> torch.Tensor:
    """Unwrapped phase advance of every bin from frame ``t - 1`` to ``t`` ``(B, F, T)`` (the bin's
    nominal advance at ``t = 0``): the phase vocoder's instantaneous frequency times the hop."""
    n_bins = spec.shape[1]
    nominal = 2 * math.pi * torch.arange(n_bins, device=spec.device) * hop / (2 * (n_bins - 1))
    nominal = nominal[None, :, None]
    diff = torch.angle(spec[..., 1:] * spec[..., :-1].conj()) - nominal
    wrapped = torch.remainder(diff + math.pi, 2 * math.pi) - math.pi
    return torch.cat([nominal.expand(spec.shape[0], -1, 1), nominal + wrapped], dim=2)


def pitch_shift(spec: torch.Tensor, semitones: torch.Tensor, hop: int = 256) -> torch.Tensor:
    """Complex STFT ``(B, F, T)`` shifted by ``semitones`` ``(B,)`` (0: unchanged)."""
    n_bins = spec.shape[1]
    ratio = 2.0 ** (semitones.float() / 12)
    src = torch.arange(n_bins, device=spec.device)[None, :] / ratio[:, None]  # (B, F)
    lo = src.floor().long().clamp(0, n_bins - 1)
    hi = (lo + 1).clamp(max=n_bins - 1)
    frac = (src - lo)[:, :, None]
    mag = spec.abs()
    new_mag = _gather_bins(mag, lo) * (1 - frac) + _gather_bins(mag, hi) * frac
    new_mag = new_mag * (src <= n_bins - 1)[:, :, None]
    nearest = _gather_bins(spec, src.round().long().clamp(0, n_bins - 1))
    # each partial's phase advances ratio times as fast: a frequency-scaled phase vocoder
    advance = _phase_advance(nearest, hop) * ratio[:, None, None]
    advance[..., 0] = torch.angle(nearest[..., 0])
    shifted = torch.polar(new_mag, advance.cumsum(dim=2))
    return torch.where((ratio == 1)[:, None, None], spec, shifted)


def time_stretch(spec: torch.Tensor, rate: torch.Tensor, hop: int = 256) -> torch.Tensor:
    """Complex STFT ``(B, F, T)`` played ``rate`` ``(B,)`` times as fast (1: unchanged), same length."""
    t = spec.shape[2]
    src = torch.arange(t, device=spec.device)[None, :] * rate.float()[:, None]  # (B, T)
    lo = src.floor().long().clamp(0, t - 1)
    hi = (lo + 1).clamp(max=t - 1)
    frac = (src - lo)[:, None, :]
    take_t = lambda x, i: x.gather(2, i[:, None, :].expand(-1, x.shape[1], -1))
    mag = spec.abs()
    new_mag = (take_t(mag, lo) * (1 - frac) + take_t(mag, hi) * frac) * (src <= t - 1)[:, None, :]
    advance = take_t(_phase_advance(spec, hop), hi)  # phase vocoder: the local advance per output hop
    advance[..., 0] = torch.angle(spec[..., 0])
    stretched = torch.polar(new_mag, advance.cumsum(dim=2))
    return torch.where((rate == 1)[:, None, None], spec, stretched)


def add_noise(wave: torch.Tensor, snr_db: torch.Tensor) -> torch.Tensor:
    """``(B, N)`` plus white Gaussian noise at ``snr_db`` ``(B,)`` (``inf``: none)."""
    rms = wave.square().mean(dim=1, keepdim=True).sqrt()
    return wave + torch.randn_like(wave) * rms * 10 ** (-snr_db.float()[:, None] / 20)


def augment(spec: torch.Tensor, cfg: dict, spectral: SpectralConfig = SpectralConfig()) -> tuple[torch.Tensor, torch.Tensor]:
    """Random augmentations of a batch ``(B, F, T)`` (see the module doc) -> ``(spec, wave)``.

    Clips drawn for no augmentation keep their spectrum exactly (a resynthesis would change the
    last frames, whose right half lies beyond the crop).
    """
    b, dev = spec.shape[0], spec.device
    touched = torch.zeros(b, dtype=torch.bool, device=dev)

    def on():
        nonlocal touched
        drawn = torch.rand(b, device=dev) < cfg["prob"]
        touched = touched | drawn
        return drawn

    uniform = lambda lo, hi: lo + (hi - lo) * torch.rand(b, device=dev)
    original = spec
    if cfg["pitch_shift"]:
        spec = pitch_shift(spec, torch.where(on(), uniform(-cfg["pitch_shift"], cfg["pitch_shift"]), 0.0), spectral.hop)
    if cfg["time_stretch"]:
        spec = time_stretch(spec, torch.where(on(), uniform(1 - cfg["time_stretch"], 1 + cfg["time_stretch"]), 1.0), spectral.hop)
    length = (spec.shape[2] - 1) * spectral.hop
    wave = istft(spec, length=length, cfg=spectral)
    if cfg["noise_snr_db"]:
        lo, hi = cfg["noise_snr_db"]
        wave = add_noise(wave, torch.where(on(), uniform(lo, hi), float("inf")))
    return torch.where(touched[:, None, None], stft(wave, spectral), original), wave


class FeatureVAEObjective:
    """Losses of the feature-VAE for one batch (no discriminator)."""

    discriminator = None

    def __init__(self, model, cfg: dict):
        weights = take(cfg.get("weights", {}), DEFAULTS["weights"], "train.objective.weights")
        aug = take(cfg.get("augment") or {}, DEFAULTS["augment"], "train.objective.augment")
        self.cfg = take({**cfg, "weights": weights, "augment": aug}, DEFAULTS, "train.objective")
        if aug["noise_snr_db"] and len(aug["noise_snr_db"]) != 2:
            raise ValueError("train.objective.augment.noise_snr_db must be [low, high] or null")
        self.model = model

    def generator_losses(self, batch, step: int, total: int) -> dict[str, torch.Tensor]:
        """Named terms and their weighted ``"total"`` for one batch."""
        m, w = self.model, self.cfg["weights"]
        spec = m.norm.standardize(batch.x)
        wave = None
        if any(self.cfg["augment"][k] for k in ("pitch_shift", "time_stretch", "noise_snr_db")):
            with torch.no_grad():
                spec, wave = augment(spec, self.cfg["augment"], m.spectral)
        with torch.no_grad():
            mel, desc = m.mel_input(spec), m.descriptors(spec, wave)
        z, mu, logvar = m.sample_content(mel)
        s = m.style_encoder(desc)
        out = {
            "recon/mel": l1_loss(m.decode(z, s, mel.shape[1]), mel),
            "recon/style": (m.style_decoder(s) - desc).square().mean(),
            "kl": kl_standard_normal(mu, logvar),
        }
        out["total"] = w["recon"] * out["recon/mel"] + w["style"] * out["recon/style"] + w["kl"] * out["kl"]
        return out
