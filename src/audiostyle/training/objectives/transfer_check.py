"""The flagship's unpaired transfer check (beyond the paper).

A few clips of a batch are decoded with another instrument's prototype, every decoder input
masked as at inference, and the discriminator's spectral head, trained on real clips only,
scores what comes out. Without it nothing in the unpaired recipe asks the decoder to follow
``z_class`` when the content says otherwise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiostyle.losses import discriminator_accuracy
from audiostyle.models.decoder import LOG_MAG_RANGE


def real_log_magnitude(spectrum: torch.Tensor) -> torch.Tensor:
    """Linear complex STFT ``(B, F, T)`` -> log-magnitude ``(B, T, F)``, clamped to the
    decoder's output range so real and decoded spectra meet the spectral head on one scale."""
    return spectrum.abs().clamp_min(1e-12).log().clamp(*LOG_MAG_RANGE).transpose(1, 2).detach()


def interleaved_by_class(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Indices ``(N,)`` of ``labels`` ``(N,)`` reordered as the first clip of each class, then
    the second of each, ...: any prefix holds the classes as evenly as the batch allows."""
    rank = torch.zeros_like(labels)
    for c in range(num_classes):
        mask = labels == c
        rank[mask] = torch.arange(int(mask.sum()), device=labels.device)
    return torch.argsort(rank * num_classes + labels, stable=True)


def other_present_class(labels: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """For each label ``(N,)``, a random class other than it among the ``present`` ones ``(K,)``
    bool; ``-1`` where there is none. Uses the global torch RNG (so resume stays exact)."""
    k = present.shape[0]
    allowed = present[None, :].expand(labels.shape[0], k).clone()
    allowed[torch.arange(labels.shape[0]), labels] = False
    has = allowed.any(dim=1)
    pick = torch.multinomial(allowed.float() + (~has).float()[:, None], 1).flatten()
    return torch.where(has, pick, torch.full_like(pick, -1))


def style_transfer_terms(decoder, discriminator, z_content: torch.Tensor, prototypes: torch.Tensor,
                         present: torch.Tensor, labels: torch.Tensor, clips: int) -> dict[str, torch.Tensor]:
    """Decode ``clips`` clips (as many of each instrument) with another instrument's prototype
    and score the result with the spectral head: ``"style_transfer"``, the cross-entropy to that
    instrument, and ``"style_transfer_acc"``, the accuracy (logged only; NaN when no clip has
    another instrument in its batch to turn into).

    ``z_content`` ``(B, S, D)``, ``prototypes`` ``(K, D)``, ``present`` ``(K,)`` bool,
    ``labels`` ``(B,)``.
    """
    idx = interleaved_by_class(labels, prototypes.shape[0])[:clips]
    to = other_present_class(labels[idx], present)
    keep = to >= 0
    if not bool(keep.any()):
        zero = z_content.sum() * 0.0
        return {"style_transfer": zero, "style_transfer_acc": torch.tensor(float("nan"))}
    idx, to = idx[keep], to[keep]
    log_mag, _ = decoder.masked_forward(z_content[idx], prototypes[to])
    logits = discriminator(log_mag, spectrum=True)
    return {
        "style_transfer": F.cross_entropy(logits, to),
        "style_transfer_acc": torch.tensor(discriminator_accuracy(logits.detach(), to)),
    }
