"""Paired content matching: two renderings of the same notes should have the same ``z_content``.

The rendered corpus plays every excerpt on each instrument with the same notes, velocities and
timing (and, with several training fonts, in the same font), so a training crop and the same
span of another instrument's rendering differ in timbre and nothing else. Whatever differs
between their content sequences is timbre carried by ``z_content``; :func:`paired_content_gap`
is that difference, token by token. It is the per-example form of what the linear-erasure term
(:mod:`.erasure`) asks of the class means: when both renderings of every work have the same
content sequence, no probe can read the instrument from it, linear or not.

The gap is measured in units of the sequences' own variance (without gradient through that
scale), so shrinking ``z_content`` as a whole does not lower it; the reconstruction terms keep
the sequence informative.
"""

from __future__ import annotations

import torch

__all__ = ["paired_content_gap"]


def paired_content_gap(z_a: torch.Tensor, z_b: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of time-aligned content sequences, relative to their variance.

    Args:
        z_a: ``(B, S, D)`` content sequences of a batch of crops.
        z_b: ``(B, S, D)`` content sequences of the same crops rendered by another instrument.
    Returns:
        0-dim tensor: the mean over ``B``, ``S`` and ``D`` of ``(z_a - z_b)^2``, divided by the
        per-channel variance over all ``2 B S`` tokens of both, averaged over channels (no
        gradient through the divisor). 0 for equal sequences; about 2 for independent ones of
        the same distribution; unchanged when both are scaled or shifted alike.
    Raises:
        ValueError: the two sequences differ in shape or are not ``(B, S, D)``.
    """
    if z_a.dim() != 3 or z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must both be (B, S, D), got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    tokens = torch.cat([z_a, z_b]).detach().reshape(-1, z_a.shape[-1])
    scale = tokens.var(dim=0, unbiased=False).mean().clamp_min(1e-8)
    return (z_a - z_b).pow(2).mean() / scale
