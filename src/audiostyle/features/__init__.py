"""Model input features: complex STFT + CQT, compression, shared normalisation, caching."""

from audiostyle.features.normalize import FeatureNorm, compress, compute_stats, decompress
from audiostyle.features.spectral import SpectralConfig, analyze, cqt, istft, stft

__all__ = [
    "FeatureNorm", "SpectralConfig", "analyze", "compress", "compute_stats", "cqt", "decompress", "istft", "stft",
]
