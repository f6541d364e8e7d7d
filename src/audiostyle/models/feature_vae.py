"""Feature-VAE: the system of "Style Transfer in Audio" (N. Banerji, Rice University; seed 002),
made complete.

* **Content**: a convolutional VAE encoder over the normalised 256-band mel spectrogram
  (:mod:`audiostyle.features.mel`), keeping a time axis (one step per 4 STFT frames).
* **Style**: a small linear (one hidden layer) encoder of hand-computed clip descriptors (MFCC
  statistics, spectral centroid and bandwidth, zero-crossing rate, RMS, tempo;
  :mod:`audiostyle.features.descriptors`), standardised with train-split statistics, and a
  matching decoder that reconstructs them.
* **Recombination**: a convolutional decoder of the content latent whose every block is
  re-styled by AdaIN from the style code, back to the normalised mel spectrogram; the waveform
  comes from the shared inversion (mel pseudo-inverse + fast Griffin-Lim).

What the paper left undone and this module does: the three parts are trained together (the
paper trained the content and style encoders separately and never the recombination), the
decoder's output always has its input's shape, and there is a waveform at the end.

Transfer: content of the input + the target instrument's style, i.e. the mean style code over
its training clips (``prototypes``) or a reference clip's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from audiostyle.features.descriptors import clip_descriptors, descriptor_names
from audiostyle.features.mel import CacheInput, MelCodec, reference_windows, train_features
from audiostyle.features.normalize import channels_to_complex, decompress
from audiostyle.features.spectral import SpectralConfig, stft
from audiostyle.losses.autoencoders import reparameterize
from audiostyle.models.mel_nets import check_conv_config, ConvDecoder2d, ConvEncoder2d, pad_time
from audiostyle.models.base import WindowedModel


@dataclass
class FeatureVAEConfig:
    """Architecture of the feature-VAE; stored in every checkpoint."""

    instruments: list[str] = field(default_factory=lambda: ["piano", "violin"])
    window_frames: int = 128  # training crop and inference window, in STFT frames (1.5 s)
    n_mels: int = 256
    cnn_channels: int = 16
    channel_mult: list[int] = field(default_factory=lambda: [1, 2, 4, 4])
    time_strides: list[int] = field(default_factory=lambda: [1, 2, 1, 2])
    freq_strides: list[int] = field(default_factory=lambda: [4, 2, 2, 2])
    latent_dim: int = 16  # channels of the content latent map
    style_dim: int = 16
    style_hidden: int = 64
    n_mfcc: int = 20
    power: float = 0.3  # compression of the shared feature cache
    stats_clips: int = 64  # train clips per instrument for the mel and descriptor statistics
    griffin_lim_iters: int = 32
    nnls_iters: int = 10

    def __post_init__(self):
        check_conv_config(self)

    @property
    def widths(self) -> list[int]:
        return [self.cnn_channels * m for m in self.channel_mult]

    def to_dict(self) -> dict:
        return asdict(self)


class FeatureVAE(WindowedModel, nn.Module):
    """Content VAE on mel + descriptor style autoencoder + AdaIN recombination decoder."""

    kind = "feature-vae"
    INFERENCE_SETTINGS = {"griffin_lim_iters": int}

    def __init__(self, cfg: FeatureVAEConfig, spectral: SpectralConfig = SpectralConfig()):
        super().__init__()
        self.cfg, self.spectral = cfg, spectral
        w, ts, fs = cfg.widths, cfg.time_strides, cfg.freq_strides
        n_desc = len(descriptor_names(cfg.n_mfcc))
        self.codec = MelCodec(cfg.n_mels, spectral, cfg.nnls_iters)
        self.content_encoder = ConvEncoder2d(w, ts, fs, 2 * cfg.latent_dim)
        self.style_encoder = nn.Sequential(
            nn.Linear(n_desc, cfg.style_hidden), nn.LeakyReLU(0.2), nn.Linear(cfg.style_hidden, cfg.style_dim),
        )
        self.style_decoder = nn.Sequential(
            nn.Linear(cfg.style_dim, cfg.style_hidden), nn.LeakyReLU(0.2), nn.Linear(cfg.style_hidden, n_desc),
        )
        self.recombination = ConvDecoder2d(w, ts, fs, cfg.latent_dim, cfg.style_dim, cfg.style_hidden)
        self.register_buffer("desc_mean", torch.zeros(n_desc))
        self.register_buffer("desc_std", torch.ones(n_desc))
        self.register_buffer("prototypes", torch.zeros(len(cfg.instruments), cfg.style_dim))

    # -- features and statistics -----------------------------------------------------------------
    def spectrum_from_cache(self, comp: torch.Tensor) -> torch.Tensor:
        """Cached compressed features ``(B, 2, T, n_bins)`` -> linear complex STFT ``(B, F, T)``."""
        part = comp[..., : self.spectral.stft_bins]
        return decompress(channels_to_complex(part), self.cfg.power).transpose(1, 2)

    @property
    def norm(self) -> CacheInput:
        return CacheInput(self.spectrum_from_cache)

    def set_norm(self, norm) -> None:
        """Only the cache's compression matters here (mel and descriptor statistics are separate)."""
        if abs(norm.power - self.cfg.power) > 1e-9:
            raise ValueError("feature statistics do not match the model's features")

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` samples -> the model's input, the complex STFT ``(B, F, N // hop + 1)``."""
        return stft(wave, self.spectral)

    def mel_input(self, spec: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(B, F, T)`` -> normalised mel ``(B, T, n_mels)``."""
        return self.codec.normalize(self.codec.mel_from_magnitude(spec.abs()))

    def raw_descriptors(self, spec: torch.Tensor, wave: torch.Tensor | None = None) -> torch.Tensor:
        """Complex STFT ``(B, F, T)`` (and its waveform ``(B, N)``, else rebuilt) -> ``(B, D)``."""
        mel = self.codec.mel_from_magnitude(spec.abs())
        return clip_descriptors(spec, mel, wave, self.cfg.n_mfcc, self.spectral)

    def descriptors(self, spec: torch.Tensor, wave: torch.Tensor | None = None) -> torch.Tensor:
        """Standardised descriptors ``(B, D)`` (train-split mean and std)."""
        return (self.raw_descriptors(spec, wave) - self.desc_mean) / self.desc_std

    @torch.no_grad()
    def fit_statistics(self, corpus, store) -> None:
        """Mel statistics over whole train clips and descriptor statistics over training-size
        crops (3 per clip), from up to ``stats_clips`` clips of each instrument."""
        clips = lambda: train_features(corpus, store, self.cfg.instruments, self.cfg.stats_clips)
        as_tensor = lambda f: torch.from_numpy(np.asarray(f, np.float32))[None]
        self.codec.fit(lambda: (self.codec.mel_from_cache(as_tensor(f), self.cfg.power) for _, f in clips()))
        rows = []
        for _, f in clips():
            span, n = max(1, f.shape[1] - self.cfg.window_frames + 1), self.cfg.window_frames
            starts = sorted(set(np.linspace(0, span - 1, 3).astype(int)))
            crops = torch.cat([as_tensor(f[:, s : s + n]) for s in starts])
            rows.append(self.raw_descriptors(self.spectrum_from_cache(crops)))
        rows = torch.cat(rows).double()
        self.desc_mean.copy_(rows.mean(0).float())
        self.desc_std.copy_(rows.std(0, unbiased=False).clamp_min(1e-3).float())

    # -- encoders and decoder --------------------------------------------------------------------
    def content_posterior(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised mel ``(B, T, M)`` -> posterior ``(mu, logvar)``, each ``(B, C, T', M')``."""
        _, head = self.content_encoder(pad_time(mel, int(np.prod(self.cfg.time_strides)))[:, None])
        return head.chunk(2, dim=1)

    def encode_content(self, spec: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(B, F, T)`` -> content posterior mean as a sequence ``(B, T', C * M')``."""
        mu, _ = self.content_posterior(self.mel_input(spec))
        return mu.permute(0, 2, 1, 3).flatten(2)

    def encode_style(self, spec: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Complex STFT ``(B, F, T)`` -> style code ``(B, style_dim)`` (``labels`` unused)."""
        return self.style_encoder(self.descriptors(spec))

    def decode(self, content: torch.Tensor, style: torch.Tensor, frames: int | None = None) -> torch.Tensor:
        """Content ``(B, C, T', M')`` + style ``(B, S)`` -> normalised mel ``(B, T, M)``."""
        out = self.recombination(content, style)[:, 0]
        return out if frames is None else out[:, :frames]

    def sample_content(self, mel: torch.Tensor, sample: bool = True):
        """``(z, mu, logvar)`` of the content posterior of ``mel`` ``(B, T, M)``."""
        mu, logvar = self.content_posterior(mel)
        return reparameterize(mu, logvar, sample), mu, logvar

    # -- inference -------------------------------------------------------------------------------
    @torch.no_grad()
    def style_vector(self, to: str, reference: torch.Tensor | None = None) -> torch.Tensor:
        """Target style ``(style_dim,)``: the mean style code of instrument ``to`` over its
        training clips, or with ``reference`` ``(M,)`` samples, that clip's mean style code."""
        if reference is None:
            return self.prototypes[self.cfg.instruments.index(to)]
        return self.encode_style(self.features(reference_windows(reference, self.window_samples))).mean(dim=0)

    @torch.no_grad()
    def transfer_window(self, wave: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """One window: ``(B, N)`` waveform and target style ``(B, style_dim)`` -> ``(B, N)``."""
        mel = self.mel_input(self.features(wave))
        mu, _ = self.content_posterior(mel)
        out = self.decode(mu, style, mel.shape[1])
        return self.codec.to_wave(out, wave.shape[1], self.cfg.griffin_lim_iters)
