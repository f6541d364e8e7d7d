"""Contrastive losses on style embeddings: supervised InfoNCE, prototype margin, prototypes.

Conventions: ``z`` is ``(B, D)`` float, ``labels`` is ``(B,)`` long (instrument ids).
Every loss returns a 0-dim tensor that stays attached to the graph even when it is 0 (so
``loss.backward()`` never fails on a degenerate batch).
"""

from __future__ import annotations

import math
from collections import Counter

import torch
import torch.nn.functional as F

from audiostyle.losses._spectral import safe_sqrt

__all__ = ["class_prototypes", "info_nce", "info_nce_bounds", "margin_loss"]


def _check_z_labels(z: torch.Tensor, labels: torch.Tensor) -> None:
    if z.dim() != 2:
        raise ValueError(f"z must be (B, D), got shape {tuple(z.shape)}")
    if labels.dim() != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(f"labels must be (B,) with B = {z.shape[0]}, got shape {tuple(labels.shape)}")


def info_nce(z: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised-contrastive InfoNCE (Khosla et al. 2020, "Supervised Contrastive Learning", L_out).

    With ``s_ij = cos(z_i, z_j) / temperature``, ``A(i) = {j != i}`` and
    ``P(i) = {j != i : labels_j == labels_i}``::

        L_i = -1/|P(i)| * sum_{p in P(i)} log( exp(s_ip) / sum_{a in A(i)} exp(s_ia) )
        L   = mean of L_i over anchors with |P(i)| > 0

    Self-similarity is excluded from numerator and denominator. Anchors without a positive are
    skipped; if no anchor has one the loss is 0 (attached to the graph).

    Args:
        z: ``(B, D)`` embeddings (need not be normalised; they are L2-normalised here).
        labels: ``(B,)`` long class ids.
        temperature: softmax temperature ``tau > 0``.
    Returns:
        0-dim tensor. See :func:`info_nce_bounds` for its reference values.
    """
    _check_z_labels(z, labels)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    b = z.shape[0]
    zn = F.normalize(z, dim=1, eps=1e-12)
    sim = zn @ zn.T / temperature
    self_mask = torch.eye(b, dtype=torch.bool, device=z.device)
    # -inf on the diagonal removes self-similarity from the log-sum-exp denominator.
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = pos.sum(dim=1)
    has_pos = n_pos > 0
    if not bool(has_pos.any()):
        return z.sum() * 0.0
    # Zero the diagonal before multiplying: -inf * 0 would be NaN.
    pos_log_prob = torch.where(pos, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
    per_anchor = -pos_log_prob[has_pos] / n_pos[has_pos].to(z.dtype)
    return per_anchor.mean()


def info_nce_bounds(
    labels: torch.Tensor | list[int], temperature: float = 0.1, negative_similarity: float | None = None,
) -> tuple[float, float]:
    """Reference values ``(floor, chance)`` of :func:`info_nce` for a batch's labels.

    *chance* — the value when **all** embeddings coincide (total collapse): every similarity is
    ``1/tau``, so each anchor's term is ``-log(1/(B-1)) = ln(B-1)``, independent of the labels
    and the temperature. A loss sitting here means the style encoder outputs a constant.

    *floor* — the value when the classes are perfectly collapsed and separated: same-class
    embeddings coincide (similarity 1) and every pair of classes has cosine
    ``negative_similarity``. For an anchor of a class with ``n_c`` members::

        L_i = log( (n_c - 1) + (B - n_c) * exp((s_neg - 1) / tau) )

    and the floor is the mean of ``L_i`` over anchors with a positive (``n_c >= 2``). By default
    ``s_neg = -1/(K-1)`` with ``K`` the number of classes in the batch: the regular simplex,
    the most separated configuration of ``K`` unit vectors (needs ``D >= K - 1``; ``-1`` i.e.
    antipodal for ``K = 2``). For balanced classes this is the minimum of the loss at fixed
    temperature (Graf et al. 2021, "Dissecting Supervised Contrastive Learning"); for imbalanced
    batches it is a close, not exact, lower reference. Note it is *not* ``0`` nor ``ln K``:
    with ``n_c - 1`` positives, each sharing the softmax mass, the floor is about
    ``mean ln(n_c - 1)``. A loss sitting at the floor gives (almost) no gradient.

    If only one class is present there are no negatives and floor == chance == ``ln(B-1)``.
    If no anchor has a positive, both are 0 (the loss is 0).

    Args:
        labels: ``(B,)`` class ids of the batch.
        temperature: the temperature used in :func:`info_nce`.
        negative_similarity: cosine between different classes at the floor; default simplex.
    Returns:
        ``(floor, chance)`` as Python floats, ``floor <= chance``.
    """
    lab = labels.tolist() if isinstance(labels, torch.Tensor) else list(labels)
    b = len(lab)
    counts = Counter(lab)
    k = len(counts)
    sizes = [n for n in counts.values() if n >= 2]  # classes whose members are anchors
    if not sizes:
        return 0.0, 0.0
    chance = math.log(b - 1)
    if negative_similarity is None:
        negative_similarity = -1.0 / (k - 1) if k >= 2 else 1.0
    neg_w = math.exp((negative_similarity - 1.0) / temperature)
    # A class of size n contributes n anchors, all with the same term.
    floor = sum(n * math.log((n - 1) + (b - n) * neg_w) for n in sizes) / sum(sizes)
    return floor, chance


def class_prototypes(
    z: torch.Tensor, labels: torch.Tensor, num_classes: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean embedding per class (differentiable w.r.t. ``z``).

    Args:
        z: ``(B, D)`` embeddings.
        labels: ``(B,)`` long ids in ``[0, num_classes)``.
        num_classes: ``K``.
    Returns:
        ``(prototypes (K, D), present (K,) bool)``; rows of absent classes are 0 and
        ``present`` is False for them.
    """
    _check_z_labels(z, labels)
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range "
                         f"[{int(labels.min())}, {int(labels.max())}]")
    onehot = F.one_hot(labels.long(), num_classes).to(z.dtype)  # (B, K)
    counts = onehot.sum(dim=0)  # (K,)
    protos = onehot.T @ z / counts.clamp_min(1.0)[:, None]
    return protos, counts > 0


def margin_loss(
    prototypes: torch.Tensor, margin: float = 1.0, present: torch.Tensor | None = None,
) -> torch.Tensor:
    """Hinge on pairwise distances between L2-normalised class prototypes.

    ``mean over pairs i < j of relu(margin - ||p_i - p_j||)`` with ``p = P / ||P||``. It is
    exactly 0 once every pair is farther apart than ``margin``. Distances between unit vectors
    lie in ``[0, 2]``; ``K`` prototypes can all be ``sqrt(2 + 2/(K-1)) >= sqrt(2)`` apart (regular
    simplex), so the default margin 1.0 is attainable for any ``K`` (with ``D >= K - 1``).

    Args:
        prototypes: ``(K, D)``.
        margin: hinge margin on the Euclidean distance of normalised prototypes.
        present: optional ``(K,)`` bool (from :func:`class_prototypes`); absent classes are
            left out of the pairs.
    Returns:
        0-dim tensor; 0 (attached to the graph) when fewer than 2 prototypes are present.
    """
    if prototypes.dim() != 2:
        raise ValueError(f"prototypes must be (K, D), got shape {tuple(prototypes.shape)}")
    p = prototypes if present is None else prototypes[present]
    k = p.shape[0]
    if k < 2:
        return prototypes.sum() * 0.0
    pn = F.normalize(p, dim=1, eps=1e-12)
    i, j = torch.triu_indices(k, k, offset=1, device=p.device)
    # safe_sqrt: identical prototypes (distance 0) must not produce a NaN gradient.
    dist = safe_sqrt((pn[i] - pn[j]).square().sum(dim=1))
    return F.relu(margin - dist).mean()
