"""Linear erasure of the instrument from clip features: the gap between class means.

When every class has the same mean, every linear function of the features has the same mean
in every class, and no linear predictor fitted with a convex loss (the logistic regression of
the evaluation's probe is one) does better than a constant one (Belrose et al., "LEACE:
Perfect linear concept erasure in closed form", 2023). An adversary
plays a moving game that a probe fitted afterwards can still win ("Adversarial Removal of
Demographic Attributes from Text Data", Elazar and Goldberg, 2018); this term asks for the
condition itself, in closed form on every batch, so there is no opponent to outrun.

:func:`class_mean_gap` is the squared distance between two classes' batch means, each feature
divided by its batch standard deviation (as a probe standardises its inputs), with the sampling
variance of the two means taken off so that it estimates the true gap without bias: its
expectation is 0 for classes with equal means, whatever the batch size, and minimising it does
not reward shrinking the spread within a class.
"""

from __future__ import annotations

import torch

__all__ = ["class_mean_gap"]


def class_mean_gap(features: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Unbiased squared gap between class means of standardised features, averaged over the
    features and over the pairs of classes with at least two rows in the batch.

    For classes ``a`` and ``b`` with ``n_a`` and ``n_b`` rows, per feature ``f``::

        ((m_a - m_b)^2 - v_a / n_a - v_b / n_b) / s^2

    with ``m`` the class means, ``v`` the unbiased class variances and ``s^2`` the feature's
    variance over the whole batch (no gradient). A gap of ``delta`` batch standard deviations
    in one of ``F`` features scores about ``delta^2 / F``.

    Args:
        features: ``(B, F)``, e.g. pooled ``z_content`` statistics ``(B, 2D)``.
        labels: ``(B,)`` long class indices in ``[0, num_classes)``.
        num_classes: ``K``.
    Returns:
        0-dim tensor; 0 (with a gradient path) when fewer than two classes have two rows.
    """
    if features.dim() != 2 or labels.shape != features.shape[:1]:
        raise ValueError(f"features must be (B, F) and labels (B,), got {tuple(features.shape)} and {tuple(labels.shape)}")
    scale = features.detach().var(dim=0, unbiased=False).clamp_min(1e-8)
    means, variances, counts = [], [], []
    for c in range(num_classes):
        rows = features[labels == c]
        if rows.shape[0] >= 2:
            means.append(rows.mean(dim=0))
            variances.append(rows.var(dim=0, unbiased=True))
            counts.append(rows.shape[0])
    gaps = [((means[i] - means[j]).square() - variances[i] / counts[i] - variances[j] / counts[j]) / scale
            for i in range(len(means)) for j in range(i + 1, len(means))]
    if not gaps:
        return features.sum() * 0.0
    return torch.stack([g.mean() for g in gaps]).mean()
