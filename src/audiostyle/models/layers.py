"""Building blocks shared by the flagship's encoders and decoder."""

from __future__ import annotations

import math

import torch
from torch import nn


class ResBlock2d(nn.Module):
    """Pre-activation residual block over ``(B, C, T, F)`` maps (shape preserved)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(min(8, channels), channels), nn.GELU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.GroupNorm(min(8, channels), channels), nn.GELU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResBlock1d(nn.Module):
    """Pre-activation residual block over ``(B, C, S)`` sequences (shape preserved)."""

    def __init__(self, channels: int, kernel: int = 3):
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(min(8, channels), channels), nn.GELU(),
            nn.Conv1d(channels, channels, kernel, padding=kernel // 2),
            nn.GroupNorm(min(8, channels), channels), nn.GELU(),
            nn.Conv1d(channels, channels, kernel, padding=kernel // 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def sinusoidal_positions(length: int, dim: int, offset: int = 0, device=None) -> torch.Tensor:
    """Fixed sinusoidal position encodings (Vaswani et al.), ``(length, dim)``."""
    pos = torch.arange(offset, offset + length, device=device, dtype=torch.float32)[:, None]
    i = torch.arange(0, dim, 2, device=device, dtype=torch.float32)
    angle = pos / torch.pow(10000.0, i / dim)
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : dim // 2])
    return pe


def low_gain_init(module: nn.Module, gain: float = 0.5) -> None:
    """Xavier init with reduced gain for linear/conv weights, zero biases.

    The paper's appendix traced its NaNs to standard-gain initialisation that exploded
    gradients and collapsed LayerNorm; a gain below 1 keeps early activations small.
    """
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def transformer_encoder(d_model: int, layers: int, heads: int, dropout: float) -> nn.TransformerEncoder:
    """A pre-norm Transformer encoder over ``(B, S, d_model)``."""
    layer = nn.TransformerEncoderLayer(
        d_model, heads, dim_feedforward=4 * d_model, dropout=dropout,
        activation="gelu", batch_first=True, norm_first=True,
    )
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

