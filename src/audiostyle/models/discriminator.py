"""The instrument discriminator (seed paper §3.3): one MLP over style and content embeddings."""

from __future__ import annotations

import torch
from torch import nn


def _mlp(d_in: int, hidden: int, num_classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, num_classes),
    )


def pooled_statistics(z_content: torch.Tensor) -> torch.Tensor:
    """``(B, S, D)`` -> ``(B, 2D)``: each channel's mean and standard deviation over time.

    The content encoder instance-normalises before its output layer, so the mean alone is
    nearly constant; how much a channel moves over the clip is where a clip-level instrument
    signal can still hide (and what the evaluation's linear probe reads).
    """
    mean = z_content.mean(dim=1)
    std = (z_content.var(dim=1, unbiased=False) + 1e-5).sqrt()
    return torch.cat([mean, std], dim=-1)


def spectral_statistics(log_mag: torch.Tensor) -> torch.Tensor:
    """Log-magnitude spectrogram ``(B, T, F)`` -> ``(B, 3F)``: per bin, the mean over time, the
    standard deviation over time and the mean absolute frame-to-frame change.

    The spectral envelope (mean), how much each bin moves (std) and how fast it moves (a piano
    note's attack and decay against a bowed note's sustain) are what tells instruments apart.
    """
    mean = log_mag.mean(dim=1)
    std = (log_mag.var(dim=1, unbiased=False) + 1e-5).sqrt()
    change = (log_mag[:, 1:] - log_mag[:, :-1]).abs().mean(dim=1)
    return torch.cat([mean, std, change], dim=-1)


class Discriminator(nn.Module):
    """MLP predicting the instrument from an embedding: ``(N, latent_dim)`` -> logits ``(N, K)``.

    A single network sees ``z_style``, ``z_class`` and every ``z_content`` step, so the clues it
    learns from style also let it catch timbre hiding in content (the paper's argument for one
    discriminator rather than two). With ``pooled`` it also has a head over each clip's
    :func:`pooled_statistics` (beyond the paper): a per-token discriminator at chance can leave
    a per-token bias that a whole clip's statistics turn into a clear instrument signal.

    With ``spectral_bins`` it also has an instrument classifier over spectrograms (beyond the
    paper), trained on real clips only; the generator uses it to check that a decode with
    another instrument's ``z_class`` sounds like that instrument (see the flagship objective's
    ``style_transfer`` term). Its input is layer-normalised, so loudness does not count.
    """

    def __init__(self, latent_dim: int, num_classes: int, hidden: int = 128, pooled: bool = False, spectral_bins: int = 0):
        super().__init__()
        self.net = _mlp(latent_dim, hidden, num_classes)
        self.pooled = _mlp(2 * latent_dim, hidden, num_classes) if pooled else None
        self.spectral = (
            nn.Sequential(nn.LayerNorm(3 * spectral_bins), _mlp(3 * spectral_bins, hidden, num_classes))
            if spectral_bins > 0 else None
        )

    def forward(self, z: torch.Tensor, clip: bool = False, spectrum: bool = False) -> torch.Tensor:
        """``z`` ``(N, latent_dim)`` -> ``(N, K)``; with ``clip``, ``z`` is a ``z_content``
        ``(B, S, D)`` judged by the pooled head from its statistics -> ``(B, K)``; with
        ``spectrum``, ``z`` is a log-magnitude spectrogram ``(B, T, F)`` judged by the spectral
        head from :func:`spectral_statistics` -> ``(B, K)``.

        Every use goes through ``forward`` so a data-parallel wrapper sees it.
        """
        if spectrum:
            if self.spectral is None:
                raise RuntimeError("this discriminator was built without a spectral head (spectral_bins=0)")
            return self.spectral(spectral_statistics(z))
        if not clip:
            return self.net(z)
        if self.pooled is None:
            raise RuntimeError("this discriminator was built without a pooled head (pooled=False)")
        return self.pooled(pooled_statistics(z))
