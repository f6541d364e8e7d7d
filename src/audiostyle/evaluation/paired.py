"""Paired differences between two evaluations of the same clips, with bootstrap intervals.

Two models scored on the same clips differ clip by clip. The mean of those per-clip differences,
with a percentile bootstrap over the clips, says whether a gap between two means is larger than
the choice of clips alone would produce. It says nothing about training noise: a second seed of
the same recipe differs from the first by more than its clips explain, and only retraining
measures that (docs/training.md records one such pair).
"""

from __future__ import annotations

import math

import numpy as np

HEADLINE = {"recon": ("pitch_corr", "pitch_agree", "onset_f1"), "transfer": ("lsd", "chroma_cos", "style_acc")}
"""The metrics the paired table reports: the issue's bars and the ground-truth transfer scores."""


def _finite(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def paired_difference(first: dict, second: dict, n_boot: int = 2000, level: float = 0.95,
                      seed: int = 0) -> dict | None:
    """Mean of ``second - first`` over the clips scored (finitely) in both, with its interval.

    ``first`` and ``second`` map clip id -> value (``None`` or NaN where the metric is undefined
    for that clip). The interval is the percentile bootstrap of the mean difference: ``n_boot``
    resamplings of the clips with replacement, seeded so that a table is reproducible.
    Returns ``{"mean", "low", "high", "n"}``, or ``None`` with fewer than two shared clips.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    clips = sorted(c for c in first if c in second and _finite(first[c]) and _finite(second[c]))
    if len(clips) < 2:
        return None
    diff = np.array([second[c] - first[c] for c in clips], dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n_boot, len(diff)))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return {"mean": float(diff.mean()), "low": float(low), "high": float(high), "n": len(clips)}


def verdict(diff: dict | None, higher_is_better: bool) -> str:
    """``"better"`` / ``"worse"`` when the interval excludes 0, else ``"within noise of the clips"``."""
    if diff is None:
        return "n/a"
    if diff["low"] > 0 or diff["high"] < 0:
        up = diff["low"] > 0
        return "better" if up == higher_is_better else "worse"
    return "within noise of the clips"


__all__ = ["HEADLINE", "paired_difference", "verdict"]
