"""The denoising UNet of the latent-diffusion baseline (kind ``ldm``).

``(z_t (B, C, H, W), t (B,), style tokens [(B, N, d)] * L) -> predicted noise (B, C, H, W)``;
at full size ``(B, 4, 16, 16)`` latents. As in the seed: skip connections between the
down and up paths, a sinusoidal timestep embedding (added inside every residual block), and
cross-attention from the feature maps to the style tokens. Level ``i`` (resolution ``H / 2^i``)
attends to the style encoder's level-``i`` tokens, so shallow (fine) style features condition
the high-resolution path and deep ones the low-resolution path and the middle block.

The seed's UNet had mismatched strides/paddings between its two listings and never consumed
its time embedding in the shown code; here every block gets the embedding and the shapes are
exact for any ``H, W`` divisible by ``2^(L-1)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from audiostyle.models.ldm_autoencoder import group_norm


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer steps ``t`` ``(B,)`` -> ``(B, dim)`` (``[cos | sin]``,
    frequencies geometrically spaced from 1 to ``1 / max_period``)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


def zero_(module: nn.Module) -> nn.Module:
    """Zero a module's parameters (residual branches that start as the identity)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class TimeResBlock(nn.Module):
    """Residual block ``(B, C_in, H, W)`` + time embedding ``(B, E)`` -> ``(B, C_out, H, W)``."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.in_layers = nn.Sequential(group_norm(c_in), nn.SiLU(), nn.Conv2d(c_in, c_out, 3, padding=1))
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, c_out))
        self.out_layers = nn.Sequential(group_norm(c_out), nn.SiLU(), zero_(nn.Conv2d(c_out, c_out, 3, padding=1)))
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.in_layers(x) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.out_layers(h)


class CrossAttention(nn.Module):
    """Feature map ``(B, C, H, W)`` attends to context tokens ``(B, N, d)``; residual, same shape."""

    def __init__(self, channels: int, context_dim: int, heads: int):
        super().__init__()
        if channels % heads:
            raise ValueError(f"{channels} channels are not divisible by {heads} attention heads")
        self.norm = group_norm(channels)
        self.attn = nn.MultiheadAttention(channels, heads, kdim=context_dim, vdim=context_dim, batch_first=True)
        zero_(self.attn.out_proj)  # starts as the identity; the style's influence is learned

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.norm(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        out, _ = self.attn(q, context, context, need_weights=False)
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class UNet(nn.Module):
    """Noise predictor over latents, conditioned on a timestep and per-level style tokens.

    Args:
        latent_channels: ``C`` of the latents.
        base: width of the first level; level ``i`` has ``base * mult[i]`` channels.
        mult: one entry per level; each level below the first halves ``H`` and ``W``.
        attn_levels: levels with cross-attention (the middle block always has it).
        context_dim: width ``d`` of the style tokens.
        heads: attention heads (must divide every level's width).
    """

    def __init__(self, latent_channels: int, base: int, mult: list[int], attn_levels: list[int], context_dim: int, heads: int):
        super().__init__()
        chans = [base * m for m in mult]
        emb_dim = 4 * base
        self.base, self.levels = base, len(chans)
        self.time_mlp = nn.Sequential(nn.Linear(base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.conv_in = nn.Conv2d(latent_channels, base, 3, padding=1)
        attn = lambda i: CrossAttention(chans[i], context_dim, heads) if i in attn_levels else None
        self.down, self.down_attn, self.downsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        prev = base
        for i, c in enumerate(chans):
            self.down.append(TimeResBlock(prev, c, emb_dim))
            self.down_attn.append(attn(i) or nn.Identity())
            self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1) if i < len(chans) - 1 else nn.Identity())
            prev = c
        self.mid1 = TimeResBlock(prev, prev, emb_dim)
        self.mid_attn = CrossAttention(prev, context_dim, heads)
        self.mid2 = TimeResBlock(prev, prev, emb_dim)
        self.up, self.up_attn, self.upsample = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(len(chans))):
            self.upsample.append(nn.Conv2d(prev, prev, 3, padding=1) if i < len(chans) - 1 else nn.Identity())
            self.up.append(TimeResBlock(prev + chans[i], chans[i], emb_dim))
            self.up_attn.append(attn(i) or nn.Identity())
            prev = chans[i]
        self.out = nn.Sequential(group_norm(prev), nn.SiLU(), zero_(nn.Conv2d(prev, latent_channels, 3, padding=1)))

    @staticmethod
    def _attend(layer: nn.Module, h: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return h if isinstance(layer, nn.Identity) else layer(h, context)

    def forward(self, z: torch.Tensor, t: torch.Tensor, context: list[torch.Tensor]) -> torch.Tensor:
        """``z`` ``(B, C, H, W)``, ``t`` ``(B,)`` integer steps, ``context`` one ``(B, N, d)`` per
        level -> predicted noise ``(B, C, H, W)``."""
        if len(context) != self.levels:
            raise ValueError(f"the UNet has {self.levels} levels but got {len(context)} style token sets")
        stride = 2 ** (self.levels - 1)
        if z.shape[2] % stride or z.shape[3] % stride:
            raise ValueError(f"latent size {tuple(z.shape[2:])} is not divisible by {stride}")
        emb = self.time_mlp(timestep_embedding(t, self.base))
        h = self.conv_in(z)
        skips = []
        for i in range(self.levels):
            h = self._attend(self.down_attn[i], self.down[i](h, emb), context[i])
            skips.append(h)
            h = self.downsample[i](h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), context[-1]), emb)
        for j, i in enumerate(reversed(range(self.levels))):
            if i < self.levels - 1:
                h = self.upsample[j](F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = self._attend(self.up_attn[j], self.up[j](torch.cat([h, skips[i]], dim=1), emb), context[i])
        return self.out(h)
