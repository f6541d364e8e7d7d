"""On-disk feature cache and data-set statistics.

Computing the CQT costs ~70 ms per 10 s clip, far more than reading it back, so training reads
compressed features from ``DIR/cache/<key>/{split}/{instrument}/{clip}.npy`` (float16,
memory-mapped, ``(2, T, F + K)``). The key hashes the transform and compression settings, so a
change to either never mixes stale features in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from audiostyle.features.normalize import (
    STATS_FILE,
    FeatureNorm,
    channels_to_complex,
    complex_to_channels,
    compress,
    compute_stats,
)
from audiostyle.features.spectral import SpectralConfig, analyze
from audiostyle.fileio import atomic_output


def cache_key(cfg: SpectralConfig, power: float) -> str:
    blob = json.dumps({"spectral": asdict(cfg), "power": power, "v": 1}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def compressed_features(wave: np.ndarray, cfg: SpectralConfig, power: float) -> np.ndarray:
    """``(N,)`` samples -> compressed, un-standardised ``(2, T, F + K)`` float32."""
    raw = analyze(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))[None], cfg)
    return complex_to_channels(compress(channels_to_complex(raw), power))[0].numpy()


class FeatureStore:
    """Read-through cache of compressed features for the clips of a data set."""

    def __init__(self, data_root: str | Path, cfg: SpectralConfig = SpectralConfig(), power: float = 0.3):
        self.root = Path(data_root)
        self.cfg = cfg
        self.power = power
        self.dir = self.root / "cache" / cache_key(cfg, power)

    def path(self, split: str, instrument: str, clip_id: str) -> Path:
        return self.dir / split / instrument / f"{clip_id}.npy"

    def get(self, split: str, instrument: str, clip_id: str, audio_path: Path) -> np.ndarray:
        """Compressed features ``(2, T, F + K)`` float16 (memory-mapped when cached)."""
        path = self.path(split, instrument, clip_id)
        if not path.exists():
            from audiostyle.audio.io import load_audio

            feats = compressed_features(load_audio(audio_path, self.cfg.sr), self.cfg, self.power)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, feats.astype(np.float16))
        return np.load(path, mmap_mode="r")


def ensure_stats(corpus, store: FeatureStore, progress: bool = False) -> FeatureNorm:
    """Load ``DIR/feature_stats.json``, computing it from the train split if absent.

    Statistics come from the train split only, pooled over every instrument, and are tied to
    the store's transform settings (a mismatch recomputes them).
    """
    stats_path = store.root / STATS_FILE
    key = cache_key(store.cfg, store.power)
    if stats_path.exists():
        norm = FeatureNorm.load(stats_path)
        if norm.meta.get("cache_key") == key:
            return norm
    items = corpus.items("train")
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc="feature statistics (train split)", unit="clip")

    batches = (torch.from_numpy(store.get("train", inst, cid, p).astype(np.float32))[None] for inst, cid, p in items)
    meta = {"split": "train", "clips": len(corpus.items("train")), "cache_key": key}
    norm = compute_stats(batches, power=store.power, meta=meta)
    norm.save(stats_path)
    return norm
