"""Convolutional parts of the latent-diffusion baseline (kind ``ldm``) that work on mel patches.

Mel patches are ``(B, T, M)`` normalised mel spectrograms (time first, then band, as everywhere
in the project; :mod:`audiostyle.features.mel`), seen by the 2-D convolutions as ``(B, 1, T, M)``.
At full size ``T = M = 128`` (the seed's 128x128 spectrogram patch).

* :class:`SpectrogramAutoencoder` — KL-regularised autoencoder ``(B, T, M)`` -> latent
  ``(B, C, T/8, M/8)`` (``(B, 4, 16, 16)`` at full size) -> ``(B, T, M)``. The seed's
  BatchNorm/tanh decoder is replaced by GroupNorm (batch-size independent, same in training
  and inference) and a linear output (the normalised mel is not bounded to [-1, 1]).
* :class:`StyleEncoder` — multi-resolution style tokens from a style patch: one token set per
  UNet level, taken from increasingly deep activation maps, each pooled over time (timbre is a
  property of the instrument, not of the moment, and a time-free embedding can be averaged
  over clips into a per-instrument prototype).
* :class:`MelFeatureNet` — a small instrument classifier whose activation maps are the feature
  space of the perceptual and Gram-matrix style losses (in place of the seed's VGGish, which
  cannot be downloaded here). It is trained inside the same run by
  :mod:`audiostyle.training.objectives.ldm`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with the largest of 8, 4, 2, 1 groups that divides ``channels``."""
    return nn.GroupNorm(next(g for g in (8, 4, 2, 1) if channels % g == 0), channels)


class ResBlock(nn.Module):
    """Pre-activation residual block ``(B, C, H, W)`` -> same shape."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            group_norm(channels), nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
            group_norm(channels), nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SpectrogramEncoder(nn.Module):
    """``(B, 1, T, M)`` -> posterior ``(mu, logvar)``, each ``(B, latent, T/8, M/8)``.

    Three stride-2 stages of widths ``widths``: a kernel-4 strided convolution straight from
    the patch plus one 3x3 convolution at half resolution, then a strided convolution and a
    residual block at each of the quarter and eighth resolutions. (No layer runs at the full
    128x128 resolution: on a CPU such layers cost more than the rest of the network.)
    """

    def __init__(self, widths: list[int], latent_channels: int):
        super().__init__()
        w0, w1, w2 = widths
        self.body = nn.Sequential(
            nn.Conv2d(1, w0, 4, stride=2, padding=1), group_norm(w0), nn.SiLU(),
            nn.Conv2d(w0, w0, 3, padding=1), group_norm(w0), nn.SiLU(),
            nn.Conv2d(w0, w1, 3, stride=2, padding=1), ResBlock(w1),
            nn.Conv2d(w1, w2, 3, stride=2, padding=1), ResBlock(w2),
            group_norm(w2), nn.SiLU(),
        )
        self.head = nn.Conv2d(w2, 2 * latent_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.body(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)


class SpectrogramDecoder(nn.Module):
    """Latent ``(B, latent, T/8, M/8)`` -> ``(B, 1, T, M)``; mirror of :class:`SpectrogramEncoder`
    with stride-2 transposed convolutions (kernel 4, padding 1: exact doubling). The last one
    produces the single output channel at full resolution directly."""

    def __init__(self, widths: list[int], latent_channels: int):
        super().__init__()
        w0, w1, w2 = widths
        up = lambda a, b: nn.ConvTranspose2d(a, b, 4, stride=2, padding=1)
        self.body = nn.Sequential(
            nn.Conv2d(latent_channels, w2, 3, padding=1), ResBlock(w2),
            group_norm(w2), nn.SiLU(), up(w2, w1), ResBlock(w1),
            group_norm(w1), nn.SiLU(), up(w1, w0),
            group_norm(w0), nn.SiLU(), nn.Conv2d(w0, w0, 3, padding=1),
            group_norm(w0), nn.SiLU(), up(w0, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z)


class SpectrogramAutoencoder(nn.Module):
    """The seed's spectrogram encoder/decoder pair with a Gaussian (KL-regularised) latent."""

    downsample = 8

    def __init__(self, widths: list[int], latent_channels: int):
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"the spectrogram autoencoder has 3 stride-2 stages; got widths {widths}")
        self.encoder = SpectrogramEncoder(widths, latent_channels)
        self.decoder = SpectrogramDecoder(widths, latent_channels)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mel patch ``(B, T, M)`` -> ``(mu, logvar)``, each ``(B, C, T/8, M/8)``."""
        return self.encoder(x[:, None])

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent ``(B, C, T/8, M/8)`` (unscaled) -> mel patch ``(B, T, M)``."""
        return self.decoder(z)[:, 0]


class StyleEncoder(nn.Module):
    """Style patch ``(B, T, M)`` -> one token set per UNet level, each ``(B, tokens, context_dim)``.

    A strided stem, then one stage per level (stride 2, widths ``widths``). Stage ``i``'s
    activation map ``(B, C_i, T_i, M_i)`` becomes level ``i``'s tokens: mean and standard
    deviation over time ``(B, 2 C_i, M_i)``, average-pooled over bands to ``tokens`` band groups,
    linearly projected to ``context_dim``, plus a learned embedding of the band group.
    """

    def __init__(self, widths: list[int], context_dim: int, tokens: int):
        super().__init__()
        self.tokens, self.context_dim = tokens, context_dim
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, stride=2, padding=1), nn.SiLU())
        stages, prev = [], widths[0]
        for w in widths:
            stages.append(nn.Sequential(
                nn.Conv2d(prev, w, 3, stride=2, padding=1), group_norm(w), nn.SiLU(),
                nn.Conv2d(w, w, 3, padding=1), group_norm(w), nn.SiLU(),
            ))
            prev = w
        self.stages = nn.ModuleList(stages)
        self.proj = nn.ModuleList(nn.Linear(2 * w, context_dim) for w in widths)
        self.band_embed = nn.Parameter(torch.zeros(len(widths), tokens, context_dim))
        self.out_norm = nn.LayerNorm(context_dim)

    @property
    def size(self) -> int:
        """Length of the flat style vector: levels x tokens x context_dim."""
        return len(self.stages) * self.tokens * self.context_dim

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.stem(x[:, None])
        out = []
        for i, (stage, proj) in enumerate(zip(self.stages, self.proj)):
            h = stage(h)
            std = (h.var(dim=2, unbiased=False) + 1e-5).sqrt()  # eps: silent patches give constant maps
            stats = torch.cat([h.mean(dim=2), std], dim=1)  # (B, 2C, M_i)
            pooled = F.adaptive_avg_pool1d(stats, self.tokens).transpose(1, 2)  # (B, tokens, 2C)
            out.append(self.out_norm(proj(pooled) + self.band_embed[i]))
        return out

    def flatten(self, levels: list[torch.Tensor]) -> torch.Tensor:
        """Token sets ``[(B, tokens, d)] * L`` -> flat style vectors ``(B, L * tokens * d)``."""
        return torch.cat([t.flatten(1) for t in levels], dim=1)

    def unflatten(self, style: torch.Tensor) -> list[torch.Tensor]:
        """Inverse of :meth:`flatten`: ``(B, L * tokens * d)`` -> ``[(B, tokens, d)] * L``."""
        if style.shape[-1] != self.size:
            raise ValueError(f"style vectors have {style.shape[-1]} values; this model's have {self.size}")
        return list(style.reshape(style.shape[0], len(self.stages), self.tokens, self.context_dim).unbind(1))


class MelFeatureNet(nn.Module):
    """Instrument classifier over mel patches ``(B, T, M)``; its activation maps are the
    feature space of the perceptual and style losses.

    Four stride-2 conv stages (widths ``widths``), each ``conv -> GroupNorm -> LeakyReLU``; the
    logits come from the global average of the last map.
    """

    def __init__(self, num_classes: int, widths: list[int]):
        super().__init__()
        stages, prev = [], 1
        for w in widths:
            stages.append(nn.Sequential(nn.Conv2d(prev, w, 3, stride=2, padding=1), group_norm(w), nn.LeakyReLU(0.2)))
            prev = w
        self.stages = nn.ModuleList(stages)
        self.head = nn.Linear(prev, num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(B, T, M)`` -> ``(logits (B, K), [activation maps (B, C_l, H_l, W_l)] * L)``."""
        h, feats = x[:, None], []
        for stage in self.stages:
            h = stage(h)
            feats.append(h)
        return self.head(h.mean(dim=(2, 3))), feats
