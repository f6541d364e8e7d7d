"""Adversarial losses for the instrument discriminator.

The discriminator (an MLP) predicts the instrument from an embedding. It is trained with
:func:`discriminator_loss` on both style and content embeddings. The encoders are trained so
that *content* embeddings carry no instrument information, with one of two bounded objectives:

* :func:`generator_entropy_loss` — ``-H(softmax(logits))``, i.e. ``KL(p || u) - ln K``;
  minimum ``-ln K`` at uniform predictions.
* :func:`generator_ce_loss` — the "cross-entropy" option: cross-entropy from the *uniform*
  distribution to the predictions, ``-1/K sum_k log p_k = ln K + KL(u || p)``; minimum ``ln K``.
  Its gradient grows without bound as any class probability goes to 0, so it pushes harder
  than the entropy loss on confident wrong predictions.

"Maximise the CE to the true label" is deliberately not offered: it is unbounded (the encoder
can win by making the discriminator confidently wrong, which still leaks the label).

Logits may be ``(N, K)`` or carry extra leading dims (e.g. per-frame ``(B, S, K)`` on content);
they are flattened. Labels of shape ``(B,)`` are broadcast over frames.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "discriminator_accuracy", "discriminator_loss", "generator_ce_loss", "generator_entropy_loss",
    "max_entropy",
]


def max_entropy(num_classes: int) -> float:
    """``ln K``: entropy of the uniform distribution over ``K`` classes."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return math.log(num_classes)


def _flatten(logits: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    if logits.dim() < 2:
        raise ValueError(f"logits must be (N, K) or (..., K), got shape {tuple(logits.shape)}")
    k = logits.shape[-1]
    if labels is not None:
        lead = logits.shape[:-1]
        if labels.shape != lead:
            if labels.dim() == 1 and labels.shape[0] == lead[0]:
                # (B,) labels for (B, S, K) per-frame logits: same label for every frame.
                labels = labels.reshape((-1,) + (1,) * (len(lead) - 1)).expand(lead)
            else:
                raise ValueError(f"labels shape {tuple(labels.shape)} does not match logits {tuple(logits.shape)}")
        labels = labels.reshape(-1).long()
    return logits.reshape(-1, k), labels


def discriminator_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the discriminator on the true instrument.

    Args:
        logits: ``(N, K)`` (or ``(B, S, K)``).
        labels: ``(N,)`` long (or ``(B,)`` / ``(B, S)`` for per-frame logits).
    Returns:
        0-dim tensor; ``ln K`` for uniform predictions.
    """
    flat, lab = _flatten(logits, labels)
    return F.cross_entropy(flat, lab)


def generator_entropy_loss(logits: torch.Tensor) -> torch.Tensor:
    """Minus the mean entropy of ``softmax(logits)``; minimising it maximises entropy.

    Args:
        logits: ``(N, K)`` (or ``(..., K)``).
    Returns:
        0-dim tensor in ``[-ln K, 0]``; ``-ln K`` exactly for uniform predictions.
    """
    flat, _ = _flatten(logits)
    logp = F.log_softmax(flat, dim=-1)
    # sum p log p computed from log-probs: stable, and p -> 0 terms give 0 * finite, not NaN.
    return (logp.exp() * logp).sum(dim=-1).mean()


def generator_ce_loss(logits: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy from the uniform distribution to ``softmax(logits)`` (the "CE" option).

    ``-1/K sum_k log p_k``, averaged over rows. It does not use the true labels (accepted only
    so both generator options share a call signature); making predictions uniform is what
    "uninformative" means, and unlike "maximise CE to the true label" it is bounded below.

    Args:
        logits: ``(N, K)`` (or ``(..., K)``).
        labels: ignored.
    Returns:
        0-dim tensor ``>= ln K``; ``ln K`` exactly for uniform predictions.
    """
    del labels
    flat, _ = _flatten(logits)
    return -F.log_softmax(flat, dim=-1).mean(dim=-1).mean()


@torch.no_grad()
def discriminator_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy (a float, for logging and :mod:`audiostyle.losses.bounds`); chance is ``1/K``."""
    flat, lab = _flatten(logits, labels)
    return float((flat.argmax(dim=-1) == lab).float().mean())
