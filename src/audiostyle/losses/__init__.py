"""Losses of the flagship disentangling model (pure functions returning 0-dim tensors).

* :mod:`.contrastive` — supervised InfoNCE on style embeddings, prototype margin, prototypes.
* :mod:`.hsic` — HSIC independence penalty between style and (time-pooled) content.
* :mod:`.adversarial` — instrument discriminator and the bounded generator objectives.
* :mod:`.erasure` — gap between class means of pooled content statistics (linear erasure).
* :mod:`.content_match` — gap between the content sequences of paired renderings.
* :mod:`.reconstruction` — composite complex-STFT reconstruction loss (paper §3.5).
* :mod:`.notes` — note-activation loss of an optional head on the content tokens.
* :mod:`.bounds` — warnings for losses stuck at their bounds.

Importing this package only imports torch, numpy and the project's spectral transforms, and
defines functions.
"""

from __future__ import annotations

from audiostyle.losses.adversarial import (
    discriminator_accuracy, discriminator_loss, generator_ce_loss, generator_entropy_loss, max_entropy,
)
from audiostyle.losses.bounds import MONITORED_KEYS, BoundContext, BoundMonitor, check_bounds
from audiostyle.losses.content_match import paired_content_gap
from audiostyle.losses.contrastive import class_prototypes, info_nce, info_nce_bounds, margin_loss
from audiostyle.losses.erasure import RunningClassMeans, class_mean_gap, running_class_mean_gap
from audiostyle.losses.hsic import hsic, hsic_style_content, normalized_hsic
from audiostyle.losses.notes import note_activation_loss, note_f1
from audiostyle.losses.reconstruction import (
    CQT_LOSS_CONFIG, DEFAULT_RESOLUTIONS, DEFAULT_WEIGHTS, TERMS, complex_mse_loss, consistency_loss, cqt_loss,
    magnitude_loss, mr_stft_loss, phase_loss, reconstruction_losses, spectral_loss, temporal_loss,
)

__all__ = [
    "CQT_LOSS_CONFIG", "DEFAULT_RESOLUTIONS", "DEFAULT_WEIGHTS", "MONITORED_KEYS", "TERMS", "BoundContext", "BoundMonitor",
    "RunningClassMeans",
    "check_bounds", "class_mean_gap", "class_prototypes", "complex_mse_loss", "consistency_loss", "cqt_loss", "discriminator_accuracy",
    "discriminator_loss", "generator_ce_loss", "generator_entropy_loss", "hsic", "hsic_style_content",
    "info_nce", "info_nce_bounds", "magnitude_loss", "margin_loss", "max_entropy", "mr_stft_loss",
    "normalized_hsic", "note_activation_loss", "note_f1", "paired_content_gap", "phase_loss", "reconstruction_losses",
    "running_class_mean_gap",
    "spectral_loss",
    "temporal_loss",
]
