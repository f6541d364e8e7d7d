"""Twin autoencoders on mel spectrograms: the baseline family of "Musical style transfer in sparse
audio representation domains" (F. Sanders, Columbia University; seed 003).

One convolutional encoder/decoder pair per instrument (domain), all on the 256-band normalised
mel spectrogram of :mod:`audiostyle.features.mel`. Transfer from domain ``k`` to ``j`` decodes
``k``'s latent with ``j``'s decoder. Four kinds, one module with three switches:

============== ===== ===== ===== ==========================================================
kind           vae   adain gan   the paper's section
============== ===== ===== ===== ==========================================================
twin-ae        no    no    no    3.1: reconstruction (eq. 1) + latent cycle (eq. 2)
twin-vae       yes   no    no    3.2: Gaussian latent (eq. 3) + KL (eq. 4)
twin-gan-adain no    yes   yes   3.3: latent = (content, style) joined by AdaIN (eq. 7),
                                 one discriminator per domain, least-squares GAN (eqs. 5-6)
twin-vae-gan   yes   yes   yes   3.4: both; translations use a style drawn from N(0, I)
============== ===== ===== ===== ==========================================================

The discriminators belong to training (:mod:`audiostyle.training.objectives.twin`); released
weights hold the autoencoders, the mel statistics and the per-instrument style prototypes.

Inference (``transfer(wave, to=..., source=...)``) encodes with the source instrument's
encoder, as the seed's translation does; without ``source`` the source domain is guessed as
the one whose own autoencoder reconstructs the input best (unreliable once the autoencoders
generalise: a trained twin-ae reconstructs piano better with the violin autoencoder).
``style_vector`` is ``[one-hot target ; style code]`` (the style code only for the AdaIN
kinds: the target's mean posterior style over its training clips, or a reference clip's).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audiostyle.errors import AudioStyleError
from audiostyle.features.mel import CacheInput, MelCodec, reference_windows, train_features
from audiostyle.features.spectral import SpectralConfig
from audiostyle.losses.autoencoders import reparameterize
from audiostyle.models.mel_nets import check_conv_config, ConvDecoder2d, ConvEncoder2d, pad_time
from audiostyle.models.base import WindowedModel


@dataclass
class TwinConfig:
    """Architecture of the twin autoencoders (the switches are fixed by the kind)."""

    kind: ClassVar[str] = "twin-ae"
    vae: ClassVar[bool] = False
    adain: ClassVar[bool] = False
    gan: ClassVar[bool] = False

    instruments: list[str] = field(default_factory=lambda: ["piano", "violin"])
    window_frames: int = 128  # training crop and inference window, in STFT frames (1.5 s)
    n_mels: int = 256
    cnn_channels: int = 16  # width of the first layer; layer i has cnn_channels * channel_mult[i]
    channel_mult: list[int] = field(default_factory=lambda: [1, 2, 4, 4])
    time_strides: list[int] = field(default_factory=lambda: [1, 2, 1, 2])
    freq_strides: list[int] = field(default_factory=lambda: [4, 2, 2, 2])
    latent_dim: int = 16  # channels of the content latent map
    style_dim: int = 8  # size of the style code (AdaIN kinds)
    style_hidden: int = 64
    power: float = 0.3  # compression of the shared feature cache (same value shares the flagship's)
    stats_clips: int = 64  # train clips per instrument for the mel statistics
    griffin_lim_iters: int = 32
    nnls_iters: int = 10

    def __post_init__(self):
        check_conv_config(self)

    @property
    def widths(self) -> list[int]:
        return [self.cnn_channels * m for m in self.channel_mult]

    @property
    def time_stride(self) -> int:
        return int(np.prod(self.time_strides))

    def to_dict(self) -> dict:
        return asdict(self)


class TwinVAEConfig(TwinConfig):
    kind, vae = "twin-vae", True


class TwinGanAdainConfig(TwinConfig):
    kind, adain, gan = "twin-gan-adain", True, True


class TwinVAEGanConfig(TwinConfig):
    kind, vae, adain, gan = "twin-vae-gan", True, True, True


VARIANTS = {c.kind: c for c in (TwinConfig, TwinVAEConfig, TwinGanAdainConfig, TwinVAEGanConfig)}


@dataclass
class Latent:
    """Encoder outputs for a batch. ``content``: the code that is decoded ``(B, C, T', M')``
    (a sample in training for the VAE kinds); ``style``: ``(B, S)`` for the AdaIN kinds.
    ``*_mu``/``*_logvar``: the Gaussian posterior (VAE kinds), else None."""

    content: torch.Tensor
    content_mu: torch.Tensor | None = None
    content_logvar: torch.Tensor | None = None
    style: torch.Tensor | None = None
    style_mu: torch.Tensor | None = None
    style_logvar: torch.Tensor | None = None


class TwinAutoencoders(WindowedModel, nn.Module):
    """One conv autoencoder per instrument over the normalised mel spectrogram."""

    INFERENCE_SETTINGS = {"griffin_lim_iters": int}
    USES_SOURCE = True  # the seed's translation starts from the source domain's encoder

    def __init__(self, cfg: TwinConfig, spectral: SpectralConfig = SpectralConfig()):
        super().__init__()
        self.cfg, self.spectral, self.kind = cfg, spectral, cfg.kind
        k, w = len(cfg.instruments), cfg.widths
        ts, fs = cfg.time_strides, cfg.freq_strides
        z_out = cfg.latent_dim * (2 if cfg.vae else 1)
        self.codec = MelCodec(cfg.n_mels, spectral, cfg.nnls_iters)
        self.encoders = nn.ModuleList(ConvEncoder2d(w, ts, fs, z_out) for _ in range(k))
        self.style_heads = None
        if cfg.adain:
            s_out = cfg.style_dim * (2 if cfg.vae else 1)
            self.style_heads = nn.ModuleList(nn.Linear(w[-1], s_out) for _ in range(k))
        style = cfg.style_dim if cfg.adain else None
        self.decoders = nn.ModuleList(
            ConvDecoder2d(w, ts, fs, cfg.latent_dim, style, cfg.style_hidden) for _ in range(k)
        )
        self.register_buffer("prototypes", torch.cat([torch.eye(k), torch.zeros(k, self.style_size - k)], dim=1))

    @property
    def num_domains(self) -> int:
        return len(self.cfg.instruments)

    @property
    def style_size(self) -> int:
        """Size of a style vector: one-hot target (+ style code for the AdaIN kinds)."""
        return self.num_domains + (self.cfg.style_dim if self.cfg.adain else 0)

    # -- features and statistics -----------------------------------------------------------------
    @property
    def norm(self) -> CacheInput:
        return CacheInput(lambda comp: self.codec.normalize(self.codec.mel_from_cache(comp, self.cfg.power)))

    def set_norm(self, norm) -> None:
        """The loop's complex-feature statistics are not used (mel statistics are separate), but
        the cache's compression must be the one this model decodes."""
        if abs(norm.power - self.cfg.power) > 1e-9:
            raise ValueError("feature statistics do not match the model's features")

    @torch.no_grad()
    def fit_statistics(self, corpus, store) -> None:
        """Mel normalisation statistics from the train split (up to ``stats_clips`` clips of each
        instrument, pooled over instruments)."""
        feats = lambda: (self.codec.mel_from_cache(torch.from_numpy(np.asarray(f, np.float32))[None], self.cfg.power)
                         for _, f in train_features(corpus, store, self.cfg.instruments, self.cfg.stats_clips))
        self.codec.fit(feats)

    def input_from_wave(self, wave: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` samples -> normalised mel ``(B, N // hop + 1, n_mels)``."""
        return self.codec.normalize(self.codec.mel_from_wave(wave))

    # -- encoders and decoders ------------------------------------------------------------------
    @staticmethod
    def _by_domain(domains: torch.Tensor, fn) -> list[torch.Tensor | None]:
        """Run ``fn(k, idx)`` (-> tuple of ``(len(idx), ...)`` tensors or None) once per domain
        present and gather the outputs back into batch order."""
        outs: list | None = None
        for k in domains.unique().tolist():
            idx = (domains == k).nonzero().squeeze(1)
            parts = fn(int(k), idx)
            if outs is None:
                outs = [None if p is None else p.new_zeros((len(domains), *p.shape[1:])) for p in parts]
            outs = [o if p is None else o.index_copy(0, idx, p) for o, p in zip(outs, parts)]
        return outs or []

    def encode(self, x: torch.Tensor, domains: torch.Tensor, sample: bool = False) -> Latent:
        """Normalised mel ``(B, T, M)`` encoded by each sample's domain encoder (``domains``
        ``(B,)``); VAE kinds sample the posterior when ``sample`` (else use its mean)."""
        xp = pad_time(x, self.cfg.time_stride)[:, None]
        vae, adain = self.cfg.vae, self.cfg.adain

        def run(k, idx):
            h, head = self.encoders[k](xp[idx])
            c_mu, c_lv = head.chunk(2, dim=1) if vae else (head, None)
            s_mu = s_lv = None
            if adain:
                s = self.style_heads[k](h.mean(dim=(2, 3)))
                s_mu, s_lv = s.chunk(2, dim=1) if vae else (s, None)
            return c_mu, c_lv, s_mu, s_lv

        c_mu, c_lv, s_mu, s_lv = self._by_domain(domains, run)
        content = reparameterize(c_mu, c_lv, sample) if vae else c_mu
        style = None if s_mu is None else (reparameterize(s_mu, s_lv, sample) if vae else s_mu)
        return Latent(content, c_mu if vae else None, c_lv, style, s_mu if vae else None, s_lv)

    def decode(self, content: torch.Tensor, domains: torch.Tensor, style: torch.Tensor | None = None,
               frames: int | None = None) -> torch.Tensor:
        """Content ``(B, C, T', M')`` (+ style ``(B, S)``, AdaIN kinds) decoded by each sample's
        domain decoder -> normalised mel ``(B, T, M)``, cropped to ``frames`` if given."""
        if self.cfg.adain and style is None:
            raise ValueError(f"{self.kind} decodes content with a style code; pass style")

        def run(k, idx):
            return (self.decoders[k](content[idx], None if style is None else style[idx]),)

        out = self._by_domain(domains, run)[0][:, 0]
        return out if frames is None else out[:, :frames]

    def encode_style(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Style vectors ``(B, style_size)``: one-hot of ``labels`` ``(B,)`` (+ the posterior mean
        style of ``x`` ``(B, T, M)`` under that instrument's encoder, AdaIN kinds)."""
        if labels is None:
            raise ValueError("twin autoencoders need the instrument of each clip (one encoder per instrument)")
        onehot = F.one_hot(labels, self.num_domains).to(x.dtype)
        if not self.cfg.adain:
            return onehot
        lat = self.encode(x, labels, sample=False)
        return torch.cat([onehot, lat.style], dim=1)

    @torch.no_grad()
    def reconstruction_errors(self, x: torch.Tensor) -> torch.Tensor:
        """Mean L1 self-reconstruction error of ``x`` ``(B, T, M)`` under each domain's own
        autoencoder, over the whole batch -> ``(K,)``."""
        errors = []
        for k in range(self.num_domains):
            d = torch.full((x.shape[0],), k, dtype=torch.long, device=x.device)
            lat = self.encode(x, d)
            errors.append((self.decode(lat.content, d, lat.style, x.shape[1]) - x).abs().mean())
        return torch.stack(errors)

    def detect_source(self, x: torch.Tensor) -> int:
        """The domain whose autoencoder reconstructs the windows ``x`` ``(B, T, M)`` best."""
        return int(self.reconstruction_errors(x).argmin())

    # -- inference -------------------------------------------------------------------------------
    @torch.no_grad()
    def style_vector(self, to: str, reference: torch.Tensor | None = None) -> torch.Tensor:
        """Target style ``(style_size,)`` for instrument ``to``: its prototype, or with
        ``reference`` ``(M,)`` samples (AdaIN kinds only), that clip's mean style code."""
        k = self.cfg.instruments.index(to)
        if reference is None:
            return self.prototypes[k]
        if not self.cfg.adain:
            raise AudioStyleError(f"{self.kind} has no style code (the target is a decoder); it cannot take a reference clip")
        x = self.input_from_wave(reference_windows(reference, self.window_samples))
        return self.encode_style(x, torch.full((x.shape[0],), k, device=x.device)).mean(dim=0)

    @torch.no_grad()
    def transfer_window(self, wave: torch.Tensor, style: torch.Tensor, source: int | None = None) -> torch.Tensor:
        """One window: ``(B, N)`` waveform and target styles ``(B, style_size)`` -> ``(B, N)``.

        ``source``: the input's domain index; None guesses it (:meth:`detect_source`)."""
        k = self.num_domains
        x = self.input_from_wave(wave)
        if source is None:
            source = self.detect_source(x)
        source = torch.full((x.shape[0],), int(source), dtype=torch.long, device=x.device)
        target = style[:, :k].argmax(dim=1)
        lat = self.encode(x, source)
        out = self.decode(lat.content, target, style[:, k:] if self.cfg.adain else None, x.shape[1])
        return self.codec.to_wave(out, wave.shape[1], self.cfg.griffin_lim_iters)
