"""DDPM noise schedule and DDIM sampling for the latent-diffusion baseline (kind ``ldm``).

Timesteps are 0-indexed, ``t = 0 .. T-1`` (``T`` = ``num_steps``). With ``beta_1 .. beta_T``
stored as ``betas[0 .. T-1]``:

* ``alpha_bar[t] = prod_{s <= t} (1 - betas[s])``, so ``alpha_bar[0] = 1 - beta_1``;
* the forward process (Ho et al. 2020) is
  ``z_t = sqrt(alpha_bar[t]) * z_0 + sqrt(1 - alpha_bar[t]) * eps`` with ``eps ~ N(0, I)``;
* the network predicts ``eps`` (training loss: MSE to the true noise).

DDIM (Song et al. 2021) samples with any number of steps; ``eta = 0`` is deterministic given
the starting latent. Image-to-image (SDEdit, Meng et al. 2022) starts from a *given* latent
noised to ``t0 = round(strength * T) - 1`` instead of pure noise: ``strength`` 0 changes nothing,
1 starts from (almost) pure noise. ``steps`` network evaluations are spread evenly over
``[0, t0]``, so the cost is ``steps`` UNet passes whatever the strength.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

SCHEDULES = ("linear", "scaled_linear", "cosine")


def beta_schedule(kind: str, num_steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """``(T,)`` float64 betas.

    * ``linear``: evenly spaced from ``beta_start`` to ``beta_end`` (DDPM);
    * ``scaled_linear``: evenly spaced in ``sqrt(beta)`` (Stable Diffusion's latent schedule);
    * ``cosine``: Nichol & Dhariwal 2021 (``beta_start``/``beta_end`` unused), betas capped at 0.999.
    """
    if num_steps < 2:
        raise ValueError(f"a noise schedule needs at least 2 steps, got {num_steps}")
    if kind == "linear":
        return torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    if kind == "scaled_linear":
        return torch.linspace(beta_start**0.5, beta_end**0.5, num_steps, dtype=torch.float64) ** 2
    if kind == "cosine":
        s = 0.008
        t = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        return (1 - f[1:] / f[:-1]).clamp(max=0.999)
    raise ValueError(f"unknown noise schedule {kind!r}; known: {SCHEDULES}")


class NoiseSchedule(nn.Module):
    """The DDPM forward process and DDIM reverse steps. Buffers are rebuilt from the config
    (not stored in model files): ``betas``, ``alpha_bar`` ``(T,)`` float32."""

    def __init__(self, num_steps: int = 1000, kind: str = "linear", beta_start: float = 1e-4, beta_end: float = 0.02):
        super().__init__()
        betas = beta_schedule(kind, num_steps, beta_start, beta_end)
        if not (0 < betas.min() and betas.max() < 1):
            raise ValueError(f"betas must lie in (0, 1); got {float(betas.min())}..{float(betas.max())}")
        self.num_steps = num_steps
        self.register_buffer("betas", betas.float(), persistent=False)
        self.register_buffer("alpha_bar", torch.cumprod(1 - betas, dim=0).float(), persistent=False)

    def _ab(self, t: torch.Tensor) -> torch.Tensor:
        """``alpha_bar`` at integer steps ``t`` ``(B,)`` -> ``(B, 1, 1, 1)``; ``t = -1`` means clean (1)."""
        ab = torch.cat([self.alpha_bar.new_ones(1), self.alpha_bar])[t.long() + 1]
        return ab.view(-1, 1, 1, 1)

    def q_sample(self, z0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Noised latents ``z_t`` ``(B, C, H, W)`` from clean ``z0`` and ``noise`` (same shape) at ``t`` ``(B,)``."""
        ab = self._ab(t).to(z0.dtype)
        return ab.sqrt() * z0 + (1 - ab).sqrt() * noise

    def predict_x0(self, zt: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """The clean-latent estimate ``(z_t - sqrt(1 - ab) * eps) / sqrt(ab)`` ``(B, C, H, W)``."""
        ab = self._ab(t).to(zt.dtype)
        return (zt - (1 - ab).sqrt() * eps) / ab.sqrt()

    def start_step(self, strength: float) -> int:
        """``t0 = round(strength * T) - 1``: the step an image-to-image run starts from (-1: none)."""
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        return int(round(strength * self.num_steps)) - 1

    def ddim_timesteps(self, steps: int, strength: float = 1.0) -> list[int]:
        """The descending steps an image-to-image DDIM run visits: ``steps`` values evenly spread
        over ``[0, t0]`` and starting at ``t0`` (fewer if ``t0 + 1 < steps``; none for strength 0)."""
        if steps < 1:
            raise ValueError(f"DDIM needs at least one step, got {steps}")
        t0 = self.start_step(strength)
        if t0 < 0:
            return []
        n = min(steps, t0 + 1)
        ts = torch.linspace(t0, 0, n, dtype=torch.float64).round().long().tolist() if n > 1 else [t0]
        return sorted(set(ts), reverse=True)

    @torch.no_grad()
    def ddim_sample(
        self, eps_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], z_start: torch.Tensor,
        steps: int, strength: float = 1.0, eta: float = 0.0, noise: torch.Tensor | None = None,
        generator: torch.Generator | None = None, clip_x0: float | None = None,
    ) -> torch.Tensor:
        """Image-to-image DDIM: noise ``z_start`` ``(B, C, H, W)`` to ``t0`` and denoise to ``t = 0``.

        Args:
            eps_fn: ``(z_t (B, C, H, W), t (B,) long) -> predicted noise (B, C, H, W)``.
            z_start: the content latent (clean, in the diffusion's scale).
            steps: network evaluations (see :meth:`ddim_timesteps`).
            strength: in ``[0, 1]``; 0 returns ``z_start`` unchanged.
            eta: 0 = deterministic DDIM, 1 = DDPM-like ancestral noise.
            noise: the noise that takes ``z_start`` to ``t0`` (default: drawn from ``generator``).
            clip_x0: clamp each clean-latent estimate to ``[-clip_x0, clip_x0]`` (None: no clamp).
        Returns:
            ``(B, C, H, W)`` the denoised latent.
        """
        ts = self.ddim_timesteps(steps, strength)
        if not ts:
            return z_start.clone()
        draw = lambda: torch.randn(z_start.shape, generator=generator, dtype=z_start.dtype).to(z_start.device)
        noise = draw() if noise is None else noise
        b = z_start.shape[0]
        z = self.q_sample(z_start, torch.full((b,), ts[0], device=z_start.device), noise)
        for i, t in enumerate(ts):
            t_prev = ts[i + 1] if i + 1 < len(ts) else -1
            tt = torch.full((b,), t, device=z.device, dtype=torch.long)
            eps = eps_fn(z, tt)
            x0 = self.predict_x0(z, tt, eps)
            if clip_x0 is not None:
                x0 = x0.clamp(-clip_x0, clip_x0)
                eps = (z - self._ab(tt).sqrt() * x0) / (1 - self._ab(tt)).sqrt()
            ab, ab_prev = self._ab(tt), self._ab(torch.full_like(tt, t_prev))
            sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).clamp_min(0).sqrt()
            z = ab_prev.sqrt() * x0 + (1 - ab_prev - sigma**2).clamp_min(0).sqrt() * eps
            if eta > 0 and t_prev >= 0:
                z = z + sigma * draw()
        return z
