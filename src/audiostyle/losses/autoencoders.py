"""Losses of the autoencoder baselines (twin autoencoders, feature-VAE): pure functions.

Equation numbers refer to the twin-autoencoder paper (seed 003). Every function returns a
0-dim tensor averaged over its elements, so terms are comparable whatever the tensor sizes.

* :func:`l1_loss` — self-reconstruction (eq. 1) and latent cycle (eq. 2); :func:`relative_l1_loss`
  — the cycle relative to the latent's spread, so that collapsing the latent cannot satisfy it.
* :func:`kl_standard_normal` — KL of a diagonal Gaussian posterior to N(0, I) (eq. 4).
* :func:`ralsgan_discriminator_loss`, :func:`ralsgan_generator_loss` — the relativistic-average
  least-squares GAN losses (eqs. 5-6) on raw discriminator scores (not probabilities).
* :func:`domain_mean` — averages a per-domain term over every domain once (the paper's code
  counted one domain twice and left the other out).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def l1_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of two tensors of the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    return (a.float() - b.float()).abs().mean()


def relative_l1_loss(a: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """:func:`l1_loss` per channel (dim 1) divided by that channel's standard deviation in
    ``target``, averaged over channels: invariant to each channel's scale and offset.

    The latent cycle (eq. 2) in absolute terms is met by latents that shrink towards a constant,
    whatever the input: in our runs the twin autoencoders' cycle term fell to ~0.001 within 100
    steps while reconstruction stalled. Measured against each channel's spread, a collapsed
    channel gains nothing, and one large, easily preserved channel cannot hide the others.

    Args:
        a, target: ``(B, C, ...)``.
    """
    if a.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(target.shape)}")
    a, target = a.float().transpose(0, 1).flatten(1), target.float().transpose(0, 1).flatten(1)  # (C, N)
    return ((a - target).abs().mean(dim=1) / target.std(dim=1).clamp_min(eps)).mean()


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per latent element, averaged (eq. 4):
    ``0.5 * (sigma^2 + mu^2 - 1 - log sigma^2)``."""
    mu, logvar = mu.float(), logvar.float()
    return 0.5 * (logvar.exp() + mu.square() - 1.0 - logvar).mean()


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, sample: bool = True) -> torch.Tensor:
    """``z = sigma * zeta + mu`` with ``zeta ~ N(0, I)`` (eq. 3); ``mu`` when ``sample`` is False."""
    if not sample:
        return mu
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def ralsgan_discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Eq. 5: real scores pushed 1 above the mean fake score, fake scores 1 below the mean real one.

    Args:
        real: discriminator scores of real samples, any shape ``(N, ...)`` (e.g. patch maps).
        fake: scores of generated samples ``(N', ...)``.
    """
    real, fake = real.float(), fake.float()
    return 0.5 * ((real - fake.mean() - 1).square().mean() + (fake - real.mean() + 1).square().mean())


def ralsgan_generator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Eq. 6: the discriminator's targets swapped (fakes 1 above the mean real score)."""
    real, fake = real.float(), fake.float()
    return 0.5 * ((real - fake.mean() + 1).square().mean() + (fake - real.mean() - 1).square().mean())


def domain_mean(term: Callable[[int], torch.Tensor | None], domains: Sequence[int]) -> torch.Tensor:
    """Mean of ``term(k)`` over ``domains``, each domain counted exactly once; ``term`` returns
    None for a domain with nothing to score (skipped). Raises ValueError when every domain does."""
    values = [v for v in (term(k) for k in domains) if v is not None]
    if not values:
        raise ValueError("no domain had anything to score")
    return torch.stack(values).mean()
