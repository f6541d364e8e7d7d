"""STFT helpers and numerically safe primitives shared by the losses.

The transform follows the project's convention (see :mod:`audiostyle.features.spectral`): a
periodic Hann window, ``center=True`` with **zero** padding (``pad_mode="constant"``), so a clip
of ``N`` samples has ``N // hop + 1`` frames and ``istft(stft(x))`` reproduces ``x``. It is
duplicated here (a few lines) rather than imported so the losses accept any ``n_fft``/``hop``
(the multi-resolution loss needs several) and do not depend on the feature pipeline's config.
The padding mode matters for the STFT-consistency loss: a spectrum counts as "consistent" when it
is exactly the STFT of some real signal under *this* convention.
"""

from __future__ import annotations

import torch

# Added to squared magnitudes before fractional powers / reciprocals so that gradients stay
# finite at |X| = 0 (the power-law |X|^c has an infinite derivative there for c < 1).
POWER_EPS = 1e-8


def _window(n_fft: int, like: torch.Tensor) -> torch.Tensor:
    dtype = like.real.dtype if like.is_complex() else like.dtype
    return torch.hann_window(n_fft, periodic=True, device=like.device, dtype=dtype)


def stft(wave: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> torch.Tensor:
    """Complex STFT with the project's convention.

    Args:
        wave: ``(B, N)`` or ``(N,)`` real samples.
    Returns:
        ``(B, n_fft // 2 + 1, N // hop + 1)`` complex (``(F, T)`` for a 1-D input).
    """
    return torch.stft(
        wave, n_fft, hop, window=_window(n_fft, wave), center=True, pad_mode="constant",
        return_complex=True,
    )


def istft(spec: torch.Tensor, length: int | None = None, n_fft: int = 1024, hop: int = 256) -> torch.Tensor:
    """Inverse of :func:`stft` (least-squares overlap-add; exact for a consistent spectrum).

    Args:
        spec: ``(B, F, T)`` or ``(F, T)`` complex, ``F = n_fft // 2 + 1``.
        length: samples to return; default ``(T - 1) * hop``.
    Returns:
        ``(B, N)`` real (``(N,)`` for a 2-D input).
    """
    if length is None:
        length = (spec.shape[-1] - 1) * hop
    return torch.istft(spec, n_fft, hop, window=_window(n_fft, spec), center=True, length=length)


def power(spec: torch.Tensor) -> torch.Tensor:
    """``|X|^2`` of a complex tensor via real/imag parts (differentiable everywhere)."""
    return spec.real.square() + spec.imag.square()


def compressed_magnitude(spec: torch.Tensor, c: float = 0.3, eps: float = POWER_EPS) -> torch.Tensor:
    """Power-law compressed magnitude ``≈ |X|^c``, exactly 0 at ``X = 0``, finite gradient.

    Computed as ``|X|^2 · (|X|^2 + eps)^(c/2 - 1)``, which avoids ``sqrt`` (infinite slope at 0)
    and any additive offset: silence maps to exactly 0 (so magnitude-based weights ignore silent
    bins), the gradient at ``X = 0`` is 0, and the relative error w.r.t. ``|X|^c`` is about
    ``(1 - c/2) · eps / |X|^2`` (< 1% for ``|X| > 1e-3`` with the default eps).

    Args:
        spec: complex tensor of any shape.
    Returns:
        real tensor of the same shape, ``>= 0``.
    """
    p = power(spec)
    return p * (p + eps).pow(c / 2 - 1)


def compress(spec: torch.Tensor, c: float = 0.3, eps: float = POWER_EPS) -> torch.Tensor:
    """Power-law compressed complex spectrum ``≈ |X|^c · X/|X|``, 0 at ``X = 0``.

    Computed as ``X · (|X|^2 + eps)^((c-1)/2)`` (relative error about ``(1 - c)/2 · eps / |X|^2``);
    the gradient at ``X = 0`` is ``eps^((c-1)/2)`` (≈ 631 for the defaults), large but finite,
    instead of infinite.

    Args:
        spec: complex tensor of any shape.
    Returns:
        complex tensor of the same shape.
    """
    return spec * (power(spec) + eps).pow((c - 1) / 2)


def unit_phasor(spec: torch.Tensor, eps: float = POWER_EPS) -> torch.Tensor:
    """``≈ X/|X|`` (unit-modulus phase), smoothly going to 0 for ``|X| << sqrt(eps)``."""
    return spec * torch.rsqrt(power(spec) + eps)


def safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """``sqrt(x)`` for ``x >= 0`` whose gradient at 0 is 0 instead of inf/NaN (exact value)."""
    positive = x > 0
    # Double-where: the masked branch never sees 0, so no inf enters the backward pass.
    return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))), torch.zeros_like(x))
