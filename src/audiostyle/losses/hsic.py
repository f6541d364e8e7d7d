"""Hilbert-Schmidt Independence Criterion between style and content embeddings.

Biased empirical estimator of Gretton et al. 2005 ("Measuring Statistical Dependence with
Hilbert-Schmidt Norms") with Gaussian (RBF) kernels::

    HSIC(x, y) = tr(K H L H) / (B - 1)^2,   K_ij = exp(-||x_i - x_j||^2 / (2 sigma_x^2)),
    H = I - 11^T / B

It is >= 0; for independent samples its expectation is not 0 but a positive O(1/B) bias.
Minimising it pushes style and content embeddings towards statistical independence.
"""

from __future__ import annotations

import torch

__all__ = ["hsic", "hsic_style_content", "normalized_hsic"]

_EPS = 1e-12


def _sq_dists(x: torch.Tensor) -> torch.Tensor:
    """``(B, B)`` squared Euclidean distances; Gram form avoids a (B, B, D) intermediate."""
    sq = x.square().sum(dim=1)
    # clamp: round-off can make the Gram form slightly negative (and the diagonal nonzero).
    return (sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)).clamp_min(0.0)


def _median_sigma(d2: torch.Tensor) -> torch.Tensor:
    """Median heuristic: the median of the distinct pairwise distances (i < j), without gradient.

    Guard: if the median is 0 (over half the pairs coincide, e.g. a collapsed encoder), fall back
    to the mean of the nonzero distances, and to 1.0 if all points coincide, so the kernel never
    divides by 0.
    """
    with torch.no_grad():
        b = d2.shape[0]
        iu = torch.triu_indices(b, b, offset=1, device=d2.device)
        d = d2[iu[0], iu[1]].sqrt()
        if d.numel() == 0:
            return torch.ones((), dtype=d2.dtype, device=d2.device)
        # Mean of the two middle values for an even count (Tensor.median returns the lower one;
        # torch.quantile has an input-size limit).
        ds, n = d.sort().values, d.numel()
        sigma = 0.5 * (ds[(n - 1) // 2] + ds[n // 2])
        if sigma <= _EPS:
            nz = d[d > _EPS]
            sigma = nz.mean() if nz.numel() else torch.ones((), dtype=d2.dtype, device=d2.device)
        return sigma


def _centered_rbf(x: torch.Tensor, sigma: float | None) -> torch.Tensor:
    """``H K H`` for the RBF kernel of ``x`` ``(B, D)``."""
    if x.dim() != 2:
        raise ValueError(f"expected (B, D), got shape {tuple(x.shape)}")
    d2 = _sq_dists(x)
    s = _median_sigma(d2) if sigma is None else torch.as_tensor(float(sigma), dtype=x.dtype, device=x.device)
    k = torch.exp(-d2 / (2.0 * s * s))
    # Double centring (H K H) via row/column means, O(B^2) instead of two matrix products.
    return k - k.mean(dim=0, keepdim=True) - k.mean(dim=1, keepdim=True) + k.mean()


def _hsic_from_centered(kc: torch.Tensor, lc: torch.Tensor) -> torch.Tensor:
    b = kc.shape[0]
    # tr(K H L H) = tr((HKH)(HLH)) since H is idempotent = sum of the elementwise product
    # (both matrices are symmetric).
    return (kc * lc).sum() / float((b - 1) ** 2)


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.dim() != 2 or y.dim() != 2:
        raise ValueError(f"x and y must be (B, Dx) and (B, Dy), got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y need the same batch size, got {x.shape[0]} and {y.shape[0]}")
    if x.shape[0] < 2:
        raise ValueError("HSIC needs at least 2 samples")


def hsic(
    x: torch.Tensor, y: torch.Tensor, sigma_x: float | None = None, sigma_y: float | None = None,
) -> torch.Tensor:
    """Biased HSIC with RBF kernels.

    Args:
        x: ``(B, Dx)``.
        y: ``(B, Dy)`` (paired with ``x`` row by row).
        sigma_x, sigma_y: kernel bandwidths; ``None`` = median heuristic (median pairwise
            distance of the batch, computed without gradient).
    Returns:
        0-dim tensor ``>= 0`` (up to round-off); scale depends on the bandwidths, so compare
        values only under the same bandwidths, or use :func:`normalized_hsic`.
    """
    _check_pair(x, y)
    return _hsic_from_centered(_centered_rbf(x, sigma_x), _centered_rbf(y, sigma_y))


def normalized_hsic(
    x: torch.Tensor, y: torch.Tensor, sigma_x: float | None = None, sigma_y: float | None = None,
) -> torch.Tensor:
    """``HSIC(x, y) / sqrt(HSIC(x, x) * HSIC(y, y))``, in ``[0, 1]`` (centred kernel alignment).

    Scale-free, so it can be thresholded (e.g. by :mod:`audiostyle.losses.bounds`). Returns 0 if
    either input is constant over the batch (its centred kernel is 0).

    Args:
        x: ``(B, Dx)``; y: ``(B, Dy)``; bandwidths as in :func:`hsic`.
    Returns:
        0-dim tensor in ``[0, 1]``.
    """
    _check_pair(x, y)
    kc = _centered_rbf(x, sigma_x)
    lc = _centered_rbf(y, sigma_y)
    # The (B-1)^2 factors cancel; use the raw Frobenius products.
    num = (kc * lc).sum()
    den = torch.sqrt((kc * kc).sum() * (lc * lc).sum() + _EPS)
    return (num / den).clamp(0.0, 1.0)


def hsic_style_content(
    z_style: torch.Tensor,
    z_content: torch.Tensor,
    content_mask: torch.Tensor | None = None,
    normalized: bool = False,
) -> torch.Tensor:
    """HSIC between instance style embeddings and time-pooled content sequences.

    HSIC needs one vector per example, so ``z_content`` is mean-pooled over time first. This
    measures dependence between style and the clip's *average* content; frame-level leakage that
    averages out is not penalised (pool-then-compare keeps the cost O(B^2) rather than
    O((B S)^2), and style is a clip-level quantity anyway).

    Args:
        z_style: ``(B, D)``.
        z_content: ``(B, S, D)`` sequence (or ``(B, D)`` already pooled).
        content_mask: optional ``(B, S)`` bool, True for valid (non-padding) frames.
        normalized: return :func:`normalized_hsic` instead of :func:`hsic`.
    Returns:
        0-dim tensor.
    """
    if z_content.dim() == 3:
        if content_mask is None:
            pooled = z_content.mean(dim=1)
        else:
            m = content_mask.to(z_content.dtype)[..., None]
            pooled = (z_content * m).sum(dim=1) / m.sum(dim=1).clamp_min(1.0)
    elif z_content.dim() == 2:
        pooled = z_content
    else:
        raise ValueError(f"z_content must be (B, S, D) or (B, D), got shape {tuple(z_content.shape)}")
    fn = normalized_hsic if normalized else hsic
    return fn(z_style, pooled)
