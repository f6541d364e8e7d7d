"""Style and content encoders of the flagship (seed paper §3.2).

Both share a blueprint: a ResBlock CNN over the STFT+CQT input that turns frames into tokens,
then a Transformer encoder. The style encoder prepends a learnable [CLS] token and returns its
output as the instance embedding ``z_style``; the content encoder returns the whole token
sequence ``z_content``.

Unlike the paper's own implementation, which average-pooled each 3.3 s chunk to one vector,
content tokens keep a time resolution notes survive: one token per ``frames_per_token`` STFT
frames (4 frames = 46 ms at hop 256 and 22 050 Hz; the content encoder can use 2 or 1).
"""

from __future__ import annotations

import torch
from torch import nn

from audiostyle.models.layers import ResBlock1d, ResBlock2d, sinusoidal_positions, transformer_encoder


def with_magnitude(x: torch.Tensor) -> torch.Tensor:
    """``(B, 2, ...)`` real/imag -> ``(B, 3, ...)`` with the magnitude as a third channel.

    Real and imaginary parts rotate with phase from frame to frame, so a pitch shows up in them
    only through a nonlinearity the network would first have to learn; handing it the magnitude
    makes notes visible from the first layer while keeping the complex input.
    """
    mag = (x[:, 0].square() + x[:, 1].square() + 1e-8).sqrt()
    return torch.cat([x, mag[:, None]], dim=1)


def frame_normalize(x: torch.Tensor, floor: float = 0.03) -> torch.Tensor:
    """``(B, 2, T, F)`` -> ``(B, 2, T, F)``, each frame divided by its RMS magnitude.

    The divisor is ``rms_t + floor * max_t rms_t``, so frames well above ``floor`` times the
    clip's loudest frame come out at about the same level, whatever their energy was, while
    near-silent frames stay near silent instead of being blown up to noise at full scale.
    What survives is each frame's spectral pattern (which notes sound, and where one starts);
    how the energy of a note evolves -- a piano's decay, a bowed note's sustain -- does not.
    """
    rms = x.square().sum(dim=1).mean(dim=-1).sqrt()  # (B, T)
    scale = rms + floor * rms.amax(dim=1, keepdim=True) + 1e-6
    return x / scale[:, None, :, None]


# frames per token -> time strides of the frontend's two strided convolutions
_TIME_STRIDES = {1: (1, 1), 2: (1, 2), 4: (2, 2)}
FRAMES_PER_TOKEN = tuple(_TIME_STRIDES)


class SpectralFrontend(nn.Module):
    """ResBlock CNN: ``(B, 2, T, n_bins)`` features -> ``(B, T // fpt, d_model)`` tokens.

    Channels are real, imaginary and magnitude (:func:`with_magnitude`). Frequency is strided
    early (the input has ~600 bins, and a full-resolution 2-D conv would dominate CPU time);
    time is strided by 2 in up to two layers, giving one token per ``frames_per_token``
    (``fpt``: 1, 2 or 4) frames.
    """

    def __init__(self, n_bins: int, d_model: int, channels: int = 16, pitch_bins: int = 0, frames_per_token: int = 4):
        super().__init__()
        if frames_per_token not in FRAMES_PER_TOKEN:
            raise ValueError(f"frames_per_token must be one of {FRAMES_PER_TOKEN}, got {frames_per_token}")
        self.frames_per_token = frames_per_token
        t1, t2 = _TIME_STRIDES[frames_per_token]
        c = channels
        self.cnn = nn.Sequential(
            nn.Conv2d(3, c // 2, kernel_size=(3, 8), stride=(1, 4), padding=(1, 2)),
            nn.GELU(),
            nn.Conv2d(c // 2, c, kernel_size=(3, 4), stride=(t1, 4), padding=(1, 0)),
            ResBlock2d(c),
            nn.Conv2d(c, 2 * c, kernel_size=3, stride=(t2, 2), padding=1),
            ResBlock2d(2 * c),
        )
        with torch.no_grad():
            probe = self.cnn(torch.zeros(1, 3, 8, n_bins))
        self.proj = nn.Linear(probe.shape[1] * probe.shape[3], d_model)
        # The CNN strides frequency by 16 with few channels, which blurs the CQT's semitone
        # grid (a bass note is under one STFT bin wide); the pitch path hands each token the
        # magnitudes of the last `pitch_bins` input bins (the CQT) of its frames unstrided.
        self.pitch_bins = pitch_bins
        self.pitch = nn.Linear(pitch_bins * self.frames_per_token, d_model) if pitch_bins > 0 else None
        self.res = ResBlock1d(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 2, T, n_bins)`` with ``T`` a multiple of ``fpt`` -> ``(B, T // fpt, d_model)``."""
        x = with_magnitude(x)
        h = self.cnn(x)  # (B, C, T/fpt, F')
        b, c, s, f = h.shape
        h = self.proj(h.permute(0, 2, 1, 3).reshape(b, s, c * f))
        if self.pitch is not None:
            h = h + self.pitch(x[:, 2, : s * self.frames_per_token, -self.pitch_bins :].reshape(b, s, -1))
        return self.res(h.transpose(1, 2)).transpose(1, 2)


class StyleEncoder(nn.Module):
    """``(B, 2, T, n_bins)`` -> ``z_style`` ``(B, latent_dim)`` from a [CLS] token."""

    def __init__(self, n_bins: int, d_model: int, latent_dim: int, layers: int, heads: int, dropout: float, channels: int):
        super().__init__()
        self.frontend = SpectralFrontend(n_bins, d_model, channels)
        self.cls = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        self.transformer = transformer_encoder(d_model, layers, heads, dropout)
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.frontend(x)
        b, s, d = tokens.shape
        tokens = tokens + sinusoidal_positions(s, d, device=x.device)
        h = self.transformer(torch.cat([self.cls.expand(b, 1, d), tokens], dim=1))
        return self.out(self.norm(h[:, 0]))


class ContentEncoder(nn.Module):
    """``(B, 2, T, n_bins)`` -> ``z_content`` ``(B, T // fpt, latent_dim)``, time-ordered
    (``fpt`` = ``frames_per_token``, see :class:`SpectralFrontend`).

    With ``instance_norm`` each clip's per-channel mean and variance over time are removed
    before the output projection: a clip-wide constant is exactly what a static timbre looks
    like, so the content path is pushed not to carry it (as in AdaIN-VC, Chou et al. 2019).
    ``pitch_bins`` > 0 adds the frontend's unstrided pitch path (see :class:`SpectralFrontend`).
    With ``frame_norm`` the input's frames are levelled first (:func:`frame_normalize`), so the
    content path cannot hand the decoder the source instrument's energy envelope.
    """

    def __init__(
        self, n_bins: int, d_model: int, latent_dim: int, layers: int, heads: int, dropout: float,
        channels: int, instance_norm: bool = True, pitch_bins: int = 0, frame_norm: bool = False,
        frames_per_token: int = 4,
    ):
        super().__init__()
        self.frame_norm = frame_norm
        self.frontend = SpectralFrontend(n_bins, d_model, channels, pitch_bins, frames_per_token)
        self.transformer = transformer_encoder(d_model, layers, heads, dropout)
        self.instance_norm = nn.InstanceNorm1d(d_model, affine=False) if instance_norm else None
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.frontend(frame_normalize(x) if self.frame_norm else x)
        s, d = tokens.shape[1:]
        h = self.transformer(tokens + sinusoidal_positions(s, d, device=x.device))
        if self.instance_norm is not None and s > 1:
            h = self.instance_norm(h.transpose(1, 2)).transpose(1, 2)
        return self.out(self.norm(h))


class ClassStyle(nn.Module):
    """Ablation: the style encoder replaced by a per-class vector (learned, or fixed one-hot).

    Returns ``(B, latent_dim)`` for labels ``(B,)``; audio is ignored.
    """

    def __init__(self, num_classes: int, latent_dim: int, learned: bool):
        super().__init__()
        table = torch.randn(num_classes, latent_dim) * 0.5 if learned else torch.eye(num_classes, latent_dim)
        if learned:
            self.table = nn.Parameter(table)
        else:
            if latent_dim < num_classes:
                raise ValueError(f"one-hot style needs latent_dim >= {num_classes} classes")
            self.register_buffer("table", table)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.table[labels]
