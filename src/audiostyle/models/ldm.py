"""Latent diffusion for timbre transfer: the baseline of "Musical Style Transfer Using Latent
Diffusion Models" (Prioteasa & Stempel-Hauburger, 2025; seed 004), made to work. Kind ``ldm``.

Pipeline for one window (one 128-frame mel patch, ~1.5 s; ``window_frames``):

1. **Front end** — the shared mel front end (:class:`audiostyle.features.mel.MelCodec`,
   ``n_mels`` bands, train-split normalisation stored in the model): waveform ``(B, N)`` ->
   normalised mel patch ``(B, T, M)``.
2. **Spectrogram autoencoder** (:class:`~audiostyle.models.ldm_autoencoder.SpectrogramAutoencoder`)
   — patch -> Gaussian posterior mean ``(B, 4, T/8, M/8)`` (``(B, 4, 16, 16)`` at full size),
   divided by ``latent_std`` (measured when diffusion training starts) so the diffusion sees
   unit-scale latents (Rombach et al.'s scale factor).
3. **Style** — a style patch (a reference clip of the target instrument) -> multi-resolution
   style tokens (:class:`~audiostyle.models.ldm_autoencoder.StyleEncoder`), passed around as
   one flat vector ``(B, D)``. ``prototypes`` ``(K, D)`` hold each instrument's mean style over
   its training clips, for ``transfer(..., to=INSTRUMENT)`` without a reference.
4. **Image-to-image DDIM** (:class:`~audiostyle.models.ldm_diffusion.NoiseSchedule`) — the
   content latent is noised to ``t0 = strength * T`` and denoised in ``ddim_steps`` steps by the
   UNet (:class:`~audiostyle.models.ldm_unet.UNet`) conditioned on the target style. Below
   ``t0`` the content's structure (notes, timing) survives the noise and is kept; the UNet
   fills in what the target instrument's spectra look like.
5. **Decoder + inversion** — latent -> mel patch -> waveform by the shared mel inversion
   (filterbank pseudo-inverse + NNLS, fast Griffin-Lim; :meth:`MelCodec.to_wave`). Long
   inputs are windowed and cross-faded by :mod:`audiostyle.inference` at ``window_samples``.

Training (two stages in one run: autoencoder, then frozen encoder + diffusion) lives in
:mod:`audiostyle.training.objectives.ldm`; the feature network of its perceptual and style
losses is owned by training and not part of the released weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audiostyle.errors import AudioStyleError
from audiostyle.features.mel import CacheInput, MelCodec, reference_windows, train_features
from audiostyle.features.spectral import SpectralConfig
from audiostyle.models.ldm_autoencoder import SpectrogramAutoencoder, StyleEncoder
from audiostyle.models.ldm_diffusion import SCHEDULES, NoiseSchedule
from audiostyle.models.ldm_unet import UNet
from audiostyle.models.base import WindowedModel


@dataclass
class LDMConfig:
    """Architecture and sampling settings of the latent-diffusion model; stored in every checkpoint."""

    instruments: list[str] = field(default_factory=lambda: ["piano", "violin"])
    window_frames: int = 128  # mel patch length in STFT frames = training crop = inference window
    n_mels: int = 128
    power: float = 0.3  # compression of the shared feature cache
    stats_clips: int = 64  # train clips per instrument for the mel statistics
    # spectrogram autoencoder (3 stride-2 stages) and style encoder (one stage per UNet level)
    cnn_channels: int = 16
    ae_mult: list[int] = field(default_factory=lambda: [1, 2, 4])
    latent_channels: int = 4
    style_mult: list[int] = field(default_factory=lambda: [1, 2, 4])
    style_tokens: int = 8  # tokens per level (band groups)
    context_dim: int = 64
    # denoising UNet
    d_model: int = 64  # width of the UNet's first level
    unet_mult: list[int] = field(default_factory=lambda: [1, 2, 2])
    attn_levels: list[int] = field(default_factory=lambda: [1, 2])
    heads: int = 4
    # noise schedule
    diffusion_steps: int = 1000
    schedule: str = "linear"
    beta_start: float = 1e-4
    beta_end: float = 0.02
    # inference only: DDIM steps, image-to-image strength, stochasticity, noise seed
    ddim_steps: int = 25
    strength: float = 0.5
    eta: float = 0.0
    sample_seed: int = 0
    clip_latent: float = 5.0  # clamp of clean-latent estimates while sampling (0: none)
    griffin_lim_iters: int = 32
    nnls_iters: int = 10

    def __post_init__(self):
        if len(self.instruments) < 2 or len(set(self.instruments)) != len(self.instruments):
            raise ValueError(f"need at least two distinct instruments, got {self.instruments}")
        if len(self.ae_mult) != 3:
            raise ValueError(f"ae_mult needs 3 entries (the autoencoder's 3 stride-2 stages), got {self.ae_mult}")
        if len(self.style_mult) != len(self.unet_mult):
            raise ValueError(f"style_mult {self.style_mult} needs one entry per UNet level {self.unet_mult}")
        if any(not 0 <= i < len(self.unet_mult) for i in self.attn_levels):
            raise ValueError(f"attn_levels {self.attn_levels} must index the UNet levels 0..{len(self.unet_mult) - 1}")
        m = self.frame_multiple
        if self.window_frames % m or self.n_mels % m:
            raise ValueError(f"window_frames ({self.window_frames}) and n_mels ({self.n_mels}) must be multiples of {m}")
        if any(self.d_model * k % self.heads for k in self.unet_mult):
            raise ValueError(f"every UNet width (d_model {self.d_model} x {self.unet_mult}) must be divisible by heads {self.heads}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {self.strength}")
        if self.ddim_steps < 1 or self.eta < 0:
            raise ValueError("ddim_steps must be >= 1 and eta >= 0")

    @property
    def frame_multiple(self) -> int:
        """Patch sides must divide by this: the autoencoder's 8 times the UNet's downsampling."""
        return SpectrogramAutoencoder.downsample * 2 ** (len(self.unet_mult) - 1)

    def to_dict(self) -> dict:
        return asdict(self)


class LatentDiffusion(WindowedModel, nn.Module):
    """Spectrogram autoencoder + style encoder + style-conditioned latent DDPM/DDIM."""

    kind = "ldm"
    INFERENCE_SETTINGS = {"ddim_steps": int, "strength": float, "eta": float, "griffin_lim_iters": int}

    def __init__(self, cfg: LDMConfig, spectral: SpectralConfig = SpectralConfig()):
        super().__init__()
        self.cfg, self.spectral = cfg, spectral
        c = cfg.cnn_channels
        self.codec = MelCodec(cfg.n_mels, spectral, cfg.nnls_iters)
        self.autoencoder = SpectrogramAutoencoder([c * m for m in cfg.ae_mult], cfg.latent_channels)
        self.style_encoder = StyleEncoder([c * m for m in cfg.style_mult], cfg.context_dim, cfg.style_tokens)
        self.unet = UNet(cfg.latent_channels, cfg.d_model, cfg.unet_mult, cfg.attn_levels, cfg.context_dim, cfg.heads)
        self.schedule = NoiseSchedule(cfg.diffusion_steps, cfg.schedule, cfg.beta_start, cfg.beta_end)
        self.register_buffer("latent_std", torch.zeros(1))  # (1,); 0 until diffusion training measures it
        self.register_buffer("prototypes", torch.zeros(len(cfg.instruments), self.style_encoder.size))

    # -- features and statistics -----------------------------------------------------------------
    @property
    def norm(self) -> CacheInput:
        """Cached compressed features ``(B, 2, T, n_bins)`` -> normalised mel ``(B, T, M)``."""
        return CacheInput(lambda comp: self.codec.normalize(self.codec.mel_from_cache(comp, self.cfg.power)))

    def set_norm(self, norm) -> None:
        """The complex-feature statistics are not used (mel statistics are separate), but the
        cache's compression must be the one this model decodes."""
        if abs(norm.power - self.cfg.power) > 1e-9:
            raise ValueError("feature statistics do not match the model's features")

    @torch.no_grad()
    def fit_statistics(self, corpus, store) -> None:
        """Mel normalisation statistics from up to ``stats_clips`` train clips per instrument."""
        feats = lambda: (self.codec.mel_from_cache(torch.from_numpy(np.asarray(f, np.float32))[None], self.cfg.power)
                         for _, f in train_features(corpus, store, self.cfg.instruments, self.cfg.stats_clips))
        self.codec.fit(feats)

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` samples -> normalised mel ``(B, T, M)``, ``T`` cut (or zero-padded) to a
        multiple of :attr:`LDMConfig.frame_multiple` (``T = window_frames`` for one window)."""
        x = self.codec.normalize(self.codec.mel_from_wave(wave))
        m = self.cfg.frame_multiple
        frames = max(m, x.shape[1] // m * m)
        return F.pad(x, (0, 0, 0, frames - x.shape[1])) if x.shape[1] < frames else x[:, :frames]

    # -- latents ---------------------------------------------------------------------------------
    @property
    def latent_scale(self) -> torch.Tensor:
        """The standard deviation latents are divided by (1 while unmeasured)."""
        return torch.where(self.latent_std > 0, self.latent_std, torch.ones_like(self.latent_std))

    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """Mel patch ``(B, T, M)`` -> scaled posterior mean ``(B, C, T/8, M/8)`` (diffusion scale)."""
        mu, _ = self.autoencoder.posterior(x)
        return mu / self.latent_scale

    def decode_latent(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled latent ``(B, C, T/8, M/8)`` -> mel patch ``(B, T, M)``."""
        return self.autoencoder.decode(z * self.latent_scale)

    # -- style -----------------------------------------------------------------------------------
    def encode_style(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Style patch ``(B, T, M)`` -> flat style vector ``(B, D)`` (``labels`` unused)."""
        return self.style_encoder.flatten(self.style_encoder(x))

    def encode_content(self, x: torch.Tensor) -> torch.Tensor:
        """Mel patch ``(B, T, M)`` -> content latent as a sequence ``(B, T/8, C * M/8)`` (for probes)."""
        z = self.encode_latent(x)
        return z.permute(0, 2, 1, 3).flatten(2)

    def predict_noise(self, zt: torch.Tensor, t: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """UNet: ``z_t`` ``(B, C, H, W)``, steps ``(B,)``, flat styles ``(B, D)`` -> noise ``(B, C, H, W)``."""
        return self.unet(zt, t, self.style_encoder.unflatten(style))

    @torch.no_grad()
    def sample(self, z0: torch.Tensor, style: torch.Tensor, steps: int | None = None,
               strength: float | None = None, eta: float | None = None, seed: int | None = None) -> torch.Tensor:
        """Image-to-image DDIM from content latents ``z0`` ``(B, C, H, W)`` towards styles
        ``(B, D)``; unset arguments come from the config. Returns ``(B, C, H, W)``."""
        cfg = self.cfg
        gen = torch.Generator().manual_seed(cfg.sample_seed if seed is None else seed)
        return self.schedule.ddim_sample(
            lambda z, t: self.predict_noise(z, t, style), z0,
            cfg.ddim_steps if steps is None else steps, cfg.strength if strength is None else strength,
            cfg.eta if eta is None else eta, generator=gen, clip_x0=cfg.clip_latent or None,
        )

    # -- inference -------------------------------------------------------------------------------
    def mel_to_wave(self, mel: torch.Tensor, length: int) -> torch.Tensor:
        """Normalised mel ``(B, T, M)`` -> waveform ``(B, length)`` by the shared inversion; the
        last frame is repeated up to the STFT's ``length // hop + 1`` frames."""
        need = length // self.spectral.hop + 1
        if mel.shape[1] < need:
            mel = torch.cat([mel, mel[:, -1:].expand(-1, need - mel.shape[1], -1)], dim=1)
        return self.codec.to_wave(mel[:, :need], length, self.cfg.griffin_lim_iters)

    @torch.no_grad()
    def style_vector(self, to: str, reference: torch.Tensor | None = None) -> torch.Tensor:
        """Target style ``(D,)``: instrument ``to``'s prototype, or with ``reference`` ``(M,)``
        samples, the mean style vector over that clip's windows (one-shot transfer)."""
        if to not in self.cfg.instruments:
            raise AudioStyleError(f"this model cannot play {to!r}; it plays: {', '.join(self.cfg.instruments)}")
        if reference is None:
            if float(self.prototypes[self.cfg.instruments.index(to)].abs().sum()) == 0:
                raise AudioStyleError(f"this model has no style prototype for {to!r} (not trained); pass a reference clip")
            return self.prototypes[self.cfg.instruments.index(to)]
        windows = reference_windows(reference, self.window_samples)
        return self.encode_style(self.features(windows.to(self.latent_std.device))).mean(dim=0)

    @torch.no_grad()
    def transfer_mel(self, x: torch.Tensor, style: torch.Tensor, **sampling) -> torch.Tensor:
        """Mel patches ``(B, T, M)`` re-rendered with styles ``(B, D)`` -> ``(B, T, M)``
        (``sampling``: overrides of :meth:`sample`'s arguments)."""
        return self.decode_latent(self.sample(self.encode_latent(x), style, **sampling))

    @torch.no_grad()
    def transfer_window(self, wave: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """One window: ``(B, N)`` waveform and target styles ``(B, D)`` -> ``(B, N)`` waveform."""
        x = self.features(wave)
        return self.mel_to_wave(self.transfer_mel(x, style.to(x)), wave.shape[1])
