"""The flagship's random equalisers: what the style encoder, the reconstruction target and the
content encoder read of a training batch (``train.objective.clip_eq_db``, ``content_eq_db``).

The training set is one sound font per instrument. A random equaliser on the content encoder's
input asks ``z_content`` to hold the notes and not that font's spectral balance; one on the
whole clip makes clips of one instrument differ in their balance of registers, which only
``z_style`` can carry to the decoder. Both are drawn anew for every clip of every batch.
"""

from __future__ import annotations

import torch

from audiostyle.features.equalize import bin_frequencies, equalize, random_eq_field_db


class Equalizers:
    """Random per-clip equalisers of the objective config ``cfg`` for ``model``'s spectra."""

    def __init__(self, model, cfg: dict):
        for key in ("content_eq_db", "clip_eq_db"):
            if cfg[key] < 0:
                raise ValueError(f"train.objective.{key} must be >= 0, got {cfg[key]}")
        if cfg["content_eq_time_points"] < 1:
            raise ValueError(f"train.objective.content_eq_time_points must be >= 1, got {cfg['content_eq_time_points']}")
        self.clip_db = float(cfg["clip_eq_db"])
        self.content_db = float(cfg["content_eq_db"])
        self.points = int(cfg["content_eq_points"])
        self.time_points = int(cfg["content_eq_time_points"])
        self.power = model.cfg.power
        self.norm = model.norm
        self.bin_hz = bin_frequencies(model.spectral)

    def _apply(self, comp: torch.Tensor, max_db: float, time_points: int) -> torch.Tensor:
        """Compressed batch ``(B, 2, T, n_bins)`` through one random equaliser per clip (gains
        up to ``max_db``, its curve drawn at ``time_points`` points in time); returned as it is
        when ``max_db`` is 0."""
        if max_db <= 0:
            return comp
        b, _, frames, _ = comp.shape
        gain_db = random_eq_field_db(b, frames, self.bin_hz, max_db, self.points, time_points)
        return equalize(comp, gain_db.to(comp.device), self.power)

    def clip(self, comp: torch.Tensor) -> torch.Tensor:
        """The whole clip as the style encoder and the reconstruction target see it:
        compressed ``(B, 2, T, n_bins)`` in, same shape out."""
        return self._apply(comp, self.clip_db, 1)

    def content_input(self, comp: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """What the content encoder reads, ``(B, 2, T, n_bins)``: the standardised batch ``x``
        (standardised from ``comp`` when not given), or with ``content_eq_db`` > 0 the
        compressed batch ``comp`` randomly equalised, then standardised."""
        if self.content_db <= 0:
            return self.norm.standardize(comp) if x is None else x
        return self.norm.standardize(self._apply(comp, self.content_db, self.time_points))
