"""The instrument discriminator (seed paper §3.3): one MLP over style and content embeddings."""

from __future__ import annotations

import torch
from torch import nn


class Discriminator(nn.Module):
    """MLP predicting the instrument from an embedding: ``(N, latent_dim)`` -> logits ``(N, K)``.

    A single network sees ``z_style``, ``z_class`` and every ``z_content`` step, so the clues it
    learns from style also let it catch timbre hiding in content (the paper's argument for one
    discriminator rather than two).
    """

    def __init__(self, latent_dim: int, num_classes: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
