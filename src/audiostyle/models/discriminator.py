"""The instrument discriminator (seed paper §3.3): one MLP over style and content embeddings."""

from __future__ import annotations

import torch
from torch import nn

from audiostyle import MODEL_SR


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


def band_matrix(n_freq: int, sr: int, bands: int = 16, fmin: float = 60.0, fmax: float = 5000.0) -> torch.Tensor:
    """``(bands, n_freq)`` 0/1 matrix summing STFT bins into log-spaced bands between ``fmin``
    and ``fmax`` (each band at least one bin)."""
    hz_per_bin = sr / 2 / (n_freq - 1)
    edges = [round(fmin * (fmax / fmin) ** (i / bands) / hz_per_bin) for i in range(bands + 1)]
    for i in range(1, len(edges)):
        edges[i] = max(edges[i], edges[i - 1] + 1)
    if edges[-1] > n_freq:
        raise ValueError(f"{bands} bands up to {fmax} Hz do not fit {n_freq} bins")
    m = torch.zeros(bands, n_freq)
    for i in range(bands):
        m[i, edges[i] : edges[i + 1]] = 1.0
    return m


def band_dynamics(log_mag: torch.Tensor, bands: torch.Tensor) -> torch.Tensor:
    """Log-magnitude spectrogram ``(B, T, F)`` and a ``(nb, F)`` band matrix -> ``(B, nb, T)``:
    each band's log-energy over time minus its mean over time.

    What is left is how energy rises, decays and moves in each band (a piano note's attack and
    decay against a bowed note's sustain), not the spectral envelope or the loudness.
    """
    energy = (2.0 * log_mag).exp() @ bands.t()
    log_e = (energy + 1e-10).log()
    return (log_e - log_e.mean(dim=1, keepdim=True)).transpose(1, 2)


class TemporalHead(nn.Module):
    """Instrument classifier over a ``z_content`` sequence: ``(B, S, D)`` -> ``(B, K)``.

    A 1-D CNN over time (receptive field 13 tokens, ~0.6 s), pooled by mean and max. The
    per-token MLP sees each step alone and the pooled head only clip-wide statistics; neither
    sees how content moves over a note. A piano note decays where a bowed one sustains, and
    if ``z_content`` keeps that shape the decoder copies the source's envelope whatever
    ``z_class`` asks for; this head lets the adversarial game reach it.
    """

    def __init__(self, latent_dim: int, hidden: int, num_classes: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(latent_dim, hidden, 5, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, hidden, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, hidden, 3, padding=1), nn.LeakyReLU(0.2),
        )
        self.out = nn.Linear(2 * hidden, num_classes)

    def forward(self, z_content: torch.Tensor) -> torch.Tensor:
        h = self.conv(z_content.transpose(1, 2))
        return self.out(torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=-1))


class SpectralCritic(nn.Module):
    """Instrument classifier over band dynamics: ``(B, T, F)`` log-magnitude -> ``(B, K)``.

    A 1-D CNN over time on :func:`band_dynamics` (16 log-spaced bands, 60 Hz - 5 kHz), pooled
    by mean and max. It ignores the spectral envelope on purpose: a decoder gets that from
    ``z_class`` readily, and a critic allowed to read it is satisfied before the temporal
    character of the target instrument appears (seen in training: 100% at step 225).
    """

    def __init__(self, n_freq: int, sr: int, num_classes: int, channels: int = 64, bands: int = 16):
        super().__init__()
        self.register_buffer("bands", band_matrix(n_freq, sr, bands), persistent=False)
        layers, c_in = [], bands
        for _ in range(3):
            layers += [nn.Conv1d(c_in, channels, 5, stride=2, padding=2), nn.LeakyReLU(0.2)]
            c_in = channels
        self.conv = nn.Sequential(*layers)
        self.out = nn.Linear(2 * channels, num_classes)

    def forward(self, log_mag: torch.Tensor) -> torch.Tensor:
        h = self.conv(band_dynamics(log_mag, self.bands))
        return self.out(torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=-1))


class Discriminator(nn.Module):
    """MLP predicting the instrument from an embedding: ``(N, latent_dim)`` -> logits ``(N, K)``.

    A single network sees ``z_style``, ``z_class`` and every ``z_content`` step, so the clues it
    learns from style also let it catch timbre hiding in content (the paper's argument for one
    discriminator rather than two). With ``pooled`` it also has a head over each clip's
    :func:`pooled_statistics` (beyond the paper): a per-token discriminator at chance can leave
    a per-token bias that a whole clip's statistics turn into a clear instrument signal. With
    ``temporal`` it has a :class:`TemporalHead` over the ``z_content`` sequence, which sees how
    content moves over time (a note's envelope).

    With ``spectral_bins`` (and ``sr``) it also has an instrument classifier over spectrograms,
    :class:`SpectralCritic` (beyond the paper), trained on real clips only; the generator uses
    it to check that a decode with another instrument's ``z_class`` sounds like that instrument
    (the flagship objective's ``style_transfer`` term).
    """

    def __init__(
        self, latent_dim: int, num_classes: int, hidden: int = 128, pooled: bool = False,
        spectral_bins: int = 0, sr: int = MODEL_SR, temporal: bool = False,
    ):
        super().__init__()
        self.net = _mlp(latent_dim, hidden, num_classes)
        self.pooled = _mlp(2 * latent_dim, hidden, num_classes) if pooled else None
        self.temporal = TemporalHead(latent_dim, hidden, num_classes) if temporal else None
        self.spectral = SpectralCritic(spectral_bins, sr, num_classes) if spectral_bins > 0 else None

    def forward(
        self, z: torch.Tensor, clip: bool = False, spectrum: bool = False, sequence: bool = False,
    ) -> torch.Tensor:
        """``z`` ``(N, latent_dim)`` -> ``(N, K)``; with ``clip``, ``z`` is a ``z_content``
        ``(B, S, D)`` judged by the pooled head from its statistics -> ``(B, K)``; with
        ``sequence``, a ``z_content`` ``(B, S, D)`` judged by the temporal head -> ``(B, K)``; with
        ``spectrum``, ``z`` is a log-magnitude spectrogram ``(B, T, F)`` judged by the spectral
        critic -> ``(B, K)``.

        Every use goes through ``forward`` so a data-parallel wrapper sees it.
        """
        if spectrum:
            if self.spectral is None:
                raise RuntimeError("this discriminator was built without a spectral head (spectral_bins=0)")
            return self.spectral(z)
        if sequence:
            if self.temporal is None:
                raise RuntimeError("this discriminator was built without a temporal head (temporal=False)")
            return self.temporal(z)
        if not clip:
            return self.net(z)
        if self.pooled is None:
            raise RuntimeError("this discriminator was built without a pooled head (pooled=False)")
        return self.pooled(pooled_statistics(z))
