"""Note-activation loss: a head on the content tokens names the pitches that sound."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def note_activation_loss(logits: torch.Tensor, roll: torch.Tensor, clips: torch.Tensor | None = None) -> torch.Tensor:
    """Multi-label binary cross-entropy, summed over pitches and averaged over tokens.

    Summed over pitches so that a token's few sounding notes are not drowned by the many
    silent pitches' average.

    Args:
        logits: ``(B, S, P)`` pitch logits per content token.
        roll: ``(B, S, P)`` 0/1 targets (:func:`audiostyle.data.pianoroll.token_roll`).
        clips: optional ``(B,)`` bool, the clips that count; the average runs over their
            tokens only, and with none selected the loss is a zero that keeps the graph.
    Returns:
        0-dim tensor.
    """
    if logits.shape != roll.shape:
        raise ValueError(f"note logits {tuple(logits.shape)} and piano roll {tuple(roll.shape)} differ in shape")
    bce = F.binary_cross_entropy_with_logits(logits.float(), roll.float(), reduction="none").sum(dim=-1)
    if clips is None:
        return bce.mean()
    if clips.shape != logits.shape[:1]:
        raise ValueError(f"clip mask {tuple(clips.shape)} does not match {logits.shape[0]} clips")
    if not bool(clips.any()):
        return bce.sum() * 0.0
    return bce[clips].mean()


@torch.no_grad()
def note_f1(logits: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """Micro F1 of ``logits > 0`` against ``roll`` (both ``(..., P)``); 1 when nothing is
    predicted and nothing sounds (silence named correctly)."""
    pred = (logits > 0).float()
    tp = (pred * roll).sum()
    denom = pred.sum() + roll.sum()
    return 2 * tp / denom if float(denom) > 0 else torch.tensor(1.0)
