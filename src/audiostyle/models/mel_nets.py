"""Convolutional building blocks of the mel baselines: 2-D conv encoder/decoder, AdaIN, a
PatchGAN discriminator.

Spectrogram maps are ``(B, C, T, M)``: time first, then mel band, as everywhere in the project.
A layer with stride ``s`` (1 or even) in a dimension uses kernel ``2s`` and padding ``s/2``
(kernel 3, padding 1 for ``s = 1``), so an encoder divides that size by exactly ``s`` and the
mirrored transposed convolution multiplies it back by ``s``: decoded maps always have their
input's shape (the feature-VAE paper's ResNet decoder did not, and was never usable). Inputs
are padded in time to a multiple of the total time stride and the outputs cropped back.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SOFTPLUS_ONE = math.log(math.e - 1)  # softplus(SOFTPLUS_ONE) == 1


def _geometry(stride: int) -> tuple[int, int]:
    if stride == 1:
        return 3, 1
    if stride % 2:
        raise ValueError(f"strides must be 1 or even, got {stride}")
    return 2 * stride, stride // 2


def conv_geometry(time_stride: int, freq_stride: int) -> dict:
    """Kernel/stride/padding of a layer that divides ``(T, M)`` exactly by the strides."""
    (kt, pt), (kf, pf) = _geometry(time_stride), _geometry(freq_stride)
    return {"kernel_size": (kt, kf), "stride": (time_stride, freq_stride), "padding": (pt, pf)}


def pad_time(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """``(B, T, M)`` -> ``(B, T', M)`` zero-padded at the end so that ``T'`` is a multiple."""
    extra = (-x.shape[1]) % multiple
    return F.pad(x, (0, 0, 0, extra)) if extra else x


def adain(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Adaptive instance normalisation (eq. 7 of the twin-autoencoder paper; Huang & Belongie 2017):
    ``std * (x - mu_x) / sigma_x + mean`` per sample and channel.

    Args:
        x: content maps ``(B, C, ...)``.
        mean, std: the style's per-channel statistics ``(B, C)``.
    Returns:
        ``(B, C, ...)`` whose per-channel mean is ``mean`` and standard deviation ``std``
        (up to ``eps``).
    """
    dims = tuple(range(2, x.dim()))
    mu = x.mean(dim=dims, keepdim=True)
    sigma = (x.var(dim=dims, keepdim=True, unbiased=False) + eps).sqrt()
    shape = (*mean.shape, *([1] * len(dims)))
    return std.reshape(shape) * (x - mu) / sigma + mean.reshape(shape)


class ConvEncoder2d(nn.Module):
    """``(B, 1, T, M)`` -> hidden maps ``(B, widths[-1], T/st, M/sf)`` and head output
    ``(B, out_channels, T/st, M/sf)`` (``st``, ``sf``: products of the strides)."""

    def __init__(self, widths: list[int], time_strides: list[int], freq_strides: list[int], out_channels: int,
                 in_channels: int = 1):
        super().__init__()
        layers, prev = [], in_channels
        for w, st, sf in zip(widths, time_strides, freq_strides):
            layers += [nn.Conv2d(prev, w, **conv_geometry(st, sf)), nn.LeakyReLU(0.2)]
            prev = w
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(prev, out_channels, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return h, self.head(h)


class ConvDecoder2d(nn.Module):
    """Mirror of :class:`ConvEncoder2d`: ``(B, in_channels, T/st, M/sf)`` -> ``(B, 1, T, M)``.

    With ``style_dim``, every block's output is re-styled by AdaIN whose per-channel mean and
    standard deviation an MLP predicts from a style code ``(B, style_dim)`` (MUNIT's decoder).
    """

    def __init__(self, widths: list[int], time_strides: list[int], freq_strides: list[int], in_channels: int,
                 style_dim: int | None = None, style_hidden: int = 64):
        super().__init__()
        n = len(widths)
        self.inp = nn.Conv2d(in_channels, widths[-1], 3, padding=1)
        # The last transposed convolution writes the single output channel directly: a layer
        # with several channels at full resolution costs more than the rest of the decoder on CPU.
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(widths[i], widths[i - 1] if i else 1, **conv_geometry(time_strides[i], freq_strides[i]))
            for i in reversed(range(n))
        )
        self.channels = [widths[-1]] + [widths[i - 1] for i in reversed(range(1, n))]  # AdaIN'd layer outputs
        self.style_mlp = None
        if style_dim:
            self.style_mlp = nn.Sequential(
                nn.Linear(style_dim, style_hidden), nn.LeakyReLU(0.2), nn.Linear(style_hidden, 2 * sum(self.channels)),
            )

    def forward(self, z: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        params = None
        if self.style_mlp is not None:
            if style is None:
                raise ValueError("this decoder is styled by AdaIN: pass a style code")
            params = self.style_mlp(style).split([c for c in self.channels for _ in (0, 1)], dim=1)
        layers = [self.inp, *self.ups]
        h = z
        for i, layer in enumerate(layers[:-1]):
            h = layer(h)
            if params is not None:
                h = adain(h, params[2 * i], F.softplus(params[2 * i + 1] + SOFTPLUS_ONE))
            h = F.leaky_relu(h, 0.2)
        return layers[-1](h)


class PatchDiscriminator(nn.Module):
    """``(B, 1, T, M)`` -> raw realness scores ``(B, 1, T', M')``, one per patch (no sigmoid:
    the least-squares losses work on scores)."""

    def __init__(self, widths: list[int], time_strides: list[int], freq_strides: list[int]):
        super().__init__()
        layers, prev = [], 1
        for w, st, sf in zip(widths, time_strides, freq_strides):
            layers += [nn.Conv2d(prev, w, **conv_geometry(st, sf)), nn.LeakyReLU(0.2)]
            prev = w
        layers.append(nn.Conv2d(prev, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DomainDiscriminators(nn.Module):
    """One :class:`PatchDiscriminator` per domain (instrument), as one module with one optimiser."""

    def __init__(self, num_domains: int, widths: list[int], time_strides: list[int], freq_strides: list[int]):
        super().__init__()
        self.nets = nn.ModuleList(PatchDiscriminator(widths, time_strides, freq_strides) for _ in range(num_domains))

    def forward(self, x: torch.Tensor, domain: int) -> torch.Tensor:
        """Normalised mel ``(B, T, M)`` of domain ``domain`` -> scores ``(B, 1, T', M')``."""
        return self.nets[domain](x[:, None])


def check_conv_config(cfg) -> None:
    """Validate the geometry shared by the mel conv models' configs (``instruments``,
    ``channel_mult``, ``time_strides``, ``freq_strides``, ``n_mels``, ``window_frames``)."""
    if len(cfg.instruments) < 2 or len(set(cfg.instruments)) != len(cfg.instruments):
        raise ValueError(f"need at least two distinct instruments, got {cfg.instruments}")
    n = len(cfg.channel_mult)
    if not n or len(cfg.time_strides) != n or len(cfg.freq_strides) != n:
        raise ValueError("channel_mult, time_strides and freq_strides need the same (non-zero) length")
    if cfg.n_mels % int(np.prod(cfg.freq_strides)):
        raise ValueError(f"n_mels {cfg.n_mels} is not divisible by the frequency strides {cfg.freq_strides}")
    if cfg.window_frames < int(np.prod(cfg.time_strides)):
        raise ValueError(f"window_frames {cfg.window_frames} is shorter than the total time stride")
