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

:func:`running_class_mean_gap` takes the gap's direction from running class means
(:class:`RunningClassMeans`) instead of one batch's: once most of the gap is gone, what is left
of it is smaller than one batch's sampling noise, and only an average over batches still points
along it.
"""

from __future__ import annotations

import torch

from audiostyle.losses.contrastive import class_prototypes

__all__ = ["RunningClassMeans", "class_mean_gap", "running_class_mean_gap"]


def _check_shapes(features: torch.Tensor, labels: torch.Tensor) -> None:
    if features.dim() != 2 or labels.shape != features.shape[:1]:
        raise ValueError(f"features must be (B, F) and labels (B,), got {tuple(features.shape)} and {tuple(labels.shape)}")


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
    _check_shapes(features, labels)
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


class RunningClassMeans(torch.nn.Module):
    """Exponential running means of each class's features ``(K, F)`` and of each feature's
    variance over all classes ``(F,)``: a class-mean gap averaged over many batches.

    At 8 clips a class the gap one batch shows is at its own noise level once the encoder has
    removed most of it; the running gap averages ``1 / (1 - momentum)`` batches. Buffers only,
    so a checkpoint of the module restores it exactly.
    """

    def __init__(self, num_classes: int, num_features: int, momentum: float = 0.99):
        super().__init__()
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"momentum must be in (0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.register_buffer("means", torch.zeros(num_classes, num_features))
        self.register_buffer("seen", torch.zeros(num_classes, dtype=torch.bool))
        self.register_buffer("variance", torch.ones(num_features))
        self.register_buffer("variance_seen", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def update(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Fold a batch ``(B, F)`` with ``labels`` ``(B,)`` into the running values; a class
        seen for the first time starts at its batch mean. Returns the classes present ``(K,)``."""
        features = features.detach()
        means, present = class_prototypes(features, labels, self.means.shape[0])
        return self.fold(means, present, features.var(dim=0, unbiased=False))

    @torch.no_grad()
    def fold(self, means: torch.Tensor, present: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
        """:meth:`update` from a batch's class means ``(K, F)`` (rows where ``present`` ``(K,)``
        is True) and feature variance ``(F,)``. Returns the classes folded in ``(K,)``: none when
        the batch holds a non-finite value (a step the loop will skip leaves no trace)."""
        means, present, variance = means.to(self.means), present.to(self.seen.device), variance.to(self.variance)
        if not (bool(torch.isfinite(means[present]).all()) and bool(torch.isfinite(variance).all())):
            return torch.zeros_like(self.seen)
        m = self.momentum
        blended = torch.where(self.seen[:, None], m * self.means + (1 - m) * means, means)
        self.means.copy_(torch.where(present[:, None], blended, self.means))
        self.seen |= present
        variance = variance.clamp_min(1e-8)
        self.variance.copy_(torch.where(self.variance_seen, m * self.variance + (1 - m) * variance, variance))
        self.variance_seen.fill_(True)
        return present


def running_class_mean_gap(features: torch.Tensor, labels: torch.Tensor,
                           running: RunningClassMeans) -> tuple[torch.Tensor, torch.Tensor]:
    """The class-mean gap with its direction taken from ``running`` (updated here with this
    batch first): ``(loss, gap)``, both 0-dim.

    ``gap`` (no gradient) is the running squared gap, per feature in running standard
    deviations, averaged over features and pairs of classes present in the batch. ``loss`` is
    ``(2 g_f (m_a - m_b)_f - g_f^2) / s_f^2`` averaged the same way, with ``g`` the running gap
    (no gradient) and ``m`` this batch's class means: its gradient is that of the squared gap
    with the batch's noisy gap replaced by the running one, so each step moves the class means
    together along the gap that persists over batches; where the batch agrees with the running
    gap its value is ``gap``.

    ``features`` ``(B, F)``, ``labels`` ``(B,)``.
    """
    _check_shapes(features, labels)
    batch_means, present = class_prototypes(features, labels, running.means.shape[0])
    present = running.fold(batch_means.detach(), present, features.detach().var(dim=0, unbiased=False))
    classes = torch.nonzero(present).flatten().tolist()
    scale = running.variance.to(features)
    losses, gaps = [], []
    for i, a in enumerate(classes):
        for b in classes[i + 1:]:
            g = (running.means[a] - running.means[b]).to(features)
            batch_gap = batch_means[a] - batch_means[b]
            losses.append(((2 * g * batch_gap - g.square()) / scale).mean())
            gaps.append((g.square() / scale).mean())
    if not losses:
        zero = features.sum() * 0.0
        return zero, zero.detach()
    return torch.stack(losses).mean(), torch.stack(gaps).mean()
