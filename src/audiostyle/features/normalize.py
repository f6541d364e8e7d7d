"""Magnitude compression and normalisation of complex features, with exact inverses.

Two lessons from the flagship paper's code shape this module (see docs/design.md):

* Raw real/imaginary values let losses follow loud bins and noise, so magnitudes are
  power-law compressed (``|X|^c``, phase kept) before anything else.
* Statistics must be **shared by all instruments**: per-instrument per-bin z-scoring divides
  each class's average spectral envelope (its timbre) out of the data. They are computed on the
  train split only and stored with the data set, and every model output is de-normalised and
  decompressed before the inverse STFT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch

from audiostyle.errors import AudioStyleError
from audiostyle.fileio import write_json

STATS_FILE = "feature_stats.json"
STATS_VERSION = 1


def compress(x: torch.Tensor, power: float) -> torch.Tensor:
    """Power-law compress a complex tensor's magnitude, keeping its phase: ``|x|^p · x/|x|``.

    Args:
        x: complex tensor of any shape.
    """
    mag = x.abs()
    scale = torch.where(mag > 0, mag.clamp_min(1e-30).pow(power - 1.0), torch.zeros_like(mag))
    return x * scale


def decompress(y: torch.Tensor, power: float) -> torch.Tensor:
    """Exact inverse of :func:`compress`."""
    return compress(y, 1.0 / power)


def channels_to_complex(x: torch.Tensor) -> torch.Tensor:
    """``(B, 2, T, F)`` real/imag channels -> ``(B, T, F)`` complex."""
    return torch.complex(x[:, 0].float(), x[:, 1].float())


def complex_to_channels(z: torch.Tensor) -> torch.Tensor:
    """``(B, T, F)`` complex -> ``(B, 2, T, F)`` real/imag channels."""
    return torch.stack([z.real, z.imag], dim=1)


@dataclass
class FeatureNorm:
    """Compression power and per-channel, per-bin statistics shared by every instrument.

    ``mean`` and ``std`` have shape ``(2, n_bins)`` (real, imaginary) over the compressed
    features of the train split.
    """

    power: float = 0.3
    mean: torch.Tensor = field(default_factory=lambda: torch.zeros(2, 1))
    std: torch.Tensor = field(default_factory=lambda: torch.ones(2, 1))
    meta: dict = field(default_factory=dict)

    def normalize(self, raw: torch.Tensor) -> torch.Tensor:
        """``(B, 2, T, F)`` raw real/imag -> compressed, standardised ``(B, 2, T, F)``."""
        comp = complex_to_channels(compress(channels_to_complex(raw), self.power))
        return self.standardize(comp)

    def standardize(self, comp: torch.Tensor) -> torch.Tensor:
        """``(B, 2, T, F)`` compressed -> standardised (the model's working scale)."""
        f = comp.shape[-1]
        return (comp - self.mean[:, None, :f].to(comp)) / self.std[:, None, :f].to(comp)

    def destandardize(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`standardize`: ``(B, 2, T, F)`` -> compressed."""
        f = x.shape[-1]
        return x * self.std[:, None, :f].to(x) + self.mean[:, None, :f].to(x)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize`: standardised ``(B, 2, T, F)`` -> linear complex ``(B, T, F)``."""
        return decompress(channels_to_complex(self.destandardize(x)), self.power)

    def to_dict(self) -> dict:
        return {
            "format_version": STATS_VERSION,
            "power": self.power,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict, source: str = "statistics") -> "FeatureNorm":
        if d.get("format_version") != STATS_VERSION:
            raise AudioStyleError(f"{source}: unsupported feature statistics version {d.get('format_version')!r}")
        mean, std = torch.tensor(d["mean"]), torch.tensor(d["std"])
        if mean.shape != std.shape or mean.ndim != 2 or mean.shape[0] != 2 or not bool((std > 0).all()):
            raise AudioStyleError(f"{source}: malformed feature statistics")
        return cls(power=float(d["power"]), mean=mean, std=std, meta=dict(d.get("meta", {})))

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "FeatureNorm":
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except FileNotFoundError:
            raise AudioStyleError(f"{path}: no feature statistics (run `audiostyle data stats`)") from None
        except (OSError, ValueError) as exc:
            raise AudioStyleError(f"{path}: unreadable feature statistics ({exc})") from None
        return cls.from_dict(d, str(path))


def compute_stats(compressed: Iterable[torch.Tensor], power: float = 0.3, meta: dict | None = None) -> FeatureNorm:
    """Per-channel, per-bin mean and std of compressed features, pooled over all batches.

    Args:
        compressed: features ``(B, 2, T, F)`` already compressed with ``power`` (see
            :func:`compress`), e.g. every train clip of every instrument.
    """
    total = sq = None
    count = 0
    for comp in compressed:
        comp = comp.double()
        s = comp.sum(dim=(0, 2))
        s2 = comp.square().sum(dim=(0, 2))
        total = s if total is None else total + s
        sq = s2 if sq is None else sq + s2
        count += comp.shape[0] * comp.shape[2]
    if count == 0:
        raise AudioStyleError("no training frames to compute feature statistics from")
    mean = total / count
    std = (sq / count - mean.square()).clamp_min(0).sqrt().clamp_min(1e-4)
    return FeatureNorm(power=power, mean=mean.float(), std=std.float(), meta=dict(meta or {}, frames=count))
