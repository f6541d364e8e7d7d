"""One training step of the twin autoencoders (every kind of :mod:`audiostyle.models.twin`).

For a class-balanced batch ``x`` ``(B, T, M)`` (normalised mel) with instruments ``k``:

1. encode with each clip's own encoder: ``h = E_k(x)`` (a posterior sample for the VAE kinds);
2. self-reconstruction ``D_k(h)`` -> ``recon/self`` = L1 to ``x`` (eq. 1);
3. translation to ``j = (k + r) mod K`` (``r`` cycles through ``1..K-1`` with the step, so every
   domain receives the same number of translations): ``x_kj = D_j(h)``. The AdaIN kinds decode
   ``(content_k, s)`` with ``s`` the style of a real clip of ``j`` in the batch (twin-gan-adain)
   or drawn from N(0, I) (twin-vae-gan, MUNIT);
4. latent cycle: ``E_j(x_kj)`` must give back the code it was decoded from -> ``recon/cycle``
   (eq. 2; content) and ``recon/cycle_style`` (AdaIN kinds), by default per latent channel
   relative to that channel's spread (``cycle: relative``; ``absolute`` keeps eq. 2 as printed).
   In absolute terms the encoders meet it with latents that collapse towards a constant and
   reconstruction stalls: on one batch, recon/self 0.31 after 300 steps against 0.15 without the
   cycle term; relative and ramped (below), 0.24 after 200 steps;
5. ``kl`` (+ ``kl_style``): KL of the posteriors to N(0, I) (eq. 4, VAE kinds);
6. ``gan``: each domain's discriminator scores its real clips and the translations into it,
   relativistic-average least-squares losses (eq. 6 for the generators, eq. 5 for the
   discriminators, which train on the detached batch with their own optimiser).

The cycle and GAN weights ramp up linearly over the first ``ramp`` fraction of the run (logged
as ``ramp``), so the autoencoders learn to reconstruct before their latents are constrained.

Per-domain terms are averaged over the domains, each counted once. (The paper's code added
one side's style term twice and never the other's.)
"""

from __future__ import annotations

import torch

from audiostyle.config import take
from audiostyle.losses.autoencoders import (
    domain_mean, kl_standard_normal, l1_loss, ralsgan_discriminator_loss, ralsgan_generator_loss, relative_l1_loss,
)
from audiostyle.models.mel_nets import DomainDiscriminators

DEFAULTS = {
    "weights": {"recon": 1.0, "cycle": 1.0, "kl": 0.01, "gan": 0.1},
    "disc_channels": 16,  # width of the discriminators' first layer (then x2, x4)
    # "relative": the latent cycle per channel over that channel's spread (a collapsed latent
    # gains nothing); "absolute": eq. 2 as printed (latents collapse, reconstruction stalls).
    "cycle": "relative",
    # Fraction of the run over which the cycle and GAN weights ramp up linearly from 0 (0: full
    # weight from the start).
    "ramp": 0.3,
}
DISC_TIME_STRIDES, DISC_FREQ_STRIDES, DISC_MULT = [1, 2, 2], [4, 2, 2], [1, 2, 4]


def translation_targets(labels: torch.Tensor, step: int, num_domains: int) -> torch.Tensor:
    """Target domain of every clip ``(B,)``: ``(label + r) mod K`` with ``r = 1 + step mod (K-1)``."""
    return (labels + 1 + step % (num_domains - 1)) % num_domains


def partner_indices(labels: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """For each clip, the index of a clip whose label is its target ``(B,)``: the i-th clip of a
    class is paired with the i-th clip of its target class (cycling if that class is smaller)."""
    idx = torch.empty_like(labels)
    members = {int(k): (labels == k).nonzero().squeeze(1) for k in labels.unique()}
    rank = torch.zeros_like(labels)
    for k, m in members.items():
        rank[m] = torch.arange(len(m), device=labels.device)
    for i in range(len(labels)):
        pool = members.get(int(targets[i]))
        if pool is None:
            raise ValueError(f"the batch has no clip of domain {int(targets[i])} to take a style from")
        idx[i] = pool[int(rank[i]) % len(pool)]
    return idx


class TwinObjective:
    """Losses of the twin autoencoders for one batch; owns the discriminators of the GAN kinds."""

    def __init__(self, model, cfg: dict):
        weights = take(cfg.get("weights", {}), DEFAULTS["weights"], "train.objective.weights")
        self.cfg = take({**cfg, "weights": weights}, DEFAULTS, "train.objective")
        if self.cfg["cycle"] not in ("relative", "absolute"):
            raise ValueError(f"train.objective.cycle must be 'relative' or 'absolute', got {self.cfg['cycle']!r}")
        self.model = model
        self.discriminator = None
        if model.cfg.gan:
            widths = [self.cfg["disc_channels"] * m for m in DISC_MULT]
            self.discriminator = DomainDiscriminators(model.num_domains, widths, DISC_TIME_STRIDES, DISC_FREQ_STRIDES)
        self._cache: dict = {}

    def generator_losses(self, batch, step: int, total: int) -> dict[str, torch.Tensor]:
        """Named terms and their weighted ``"total"`` for one batch."""
        m, w, mc = self.model, self.cfg["weights"], self.model.cfg
        x, labels = m.norm.standardize(batch.x), batch.labels
        frames, k = x.shape[1], m.num_domains
        targets = translation_targets(labels, step, k)
        ramp = 1.0 if self.cfg["ramp"] <= 0 else min(1.0, step / (self.cfg["ramp"] * max(1, total)))

        lat = m.encode(x, labels, sample=True)
        out = {"recon/self": l1_loss(m.decode(lat.content, labels, lat.style, frames), x)}
        style = None
        if mc.adain:
            style = torch.randn_like(lat.style) if mc.vae else lat.style[partner_indices(labels, targets)]
        x_tr = m.decode(lat.content, targets, style, frames)
        back = m.encode(x_tr, targets, sample=False)
        cycle = relative_l1_loss if self.cfg["cycle"] == "relative" else l1_loss
        out["recon/cycle"] = cycle(back.content, lat.content)
        total_loss = w["recon"] * out["recon/self"] + ramp * w["cycle"] * out["recon/cycle"]
        if mc.adain:
            out["recon/cycle_style"] = cycle(back.style, style)
            total_loss = total_loss + ramp * w["cycle"] * out["recon/cycle_style"]
        if mc.vae:
            out["kl"] = kl_standard_normal(lat.content_mu, lat.content_logvar)
            total_loss = total_loss + w["kl"] * out["kl"]
            if mc.adain:
                out["kl_style"] = kl_standard_normal(lat.style_mu, lat.style_logvar)
                total_loss = total_loss + w["kl"] * out["kl_style"]
        if self.discriminator is not None:
            d = self.discriminator
            d.requires_grad_(False)  # generator step: no gradient into the discriminators

            def gen_term(j):
                real, fake = x[labels == j], x_tr[targets == j]
                return ralsgan_generator_loss(d(real, j), d(fake, j)) if len(real) and len(fake) else None

            out["gan"] = domain_mean(gen_term, range(k))
            d.requires_grad_(True)
            total_loss = total_loss + ramp * w["gan"] * out["gan"]
            self._cache = {"real": x.detach(), "fake": x_tr.detach(), "labels": labels, "targets": targets}
        out["total"] = total_loss
        out["ramp"] = torch.tensor(ramp)
        return out

    def discriminator_losses(self) -> dict[str, torch.Tensor]:
        """Eq. 5 per domain on the last generator step's detached real clips and translations."""
        c, d = self._cache, self.discriminator
        scores = {}

        def disc_term(j):
            real, fake = c["real"][c["labels"] == j], c["fake"][c["targets"] == j]
            if not (len(real) and len(fake)):
                return None
            sr, sf = d(real.float(), j), d(fake.float(), j)
            scores[j] = (sr.detach().mean(), sf.detach().mean())
            return ralsgan_discriminator_loss(sr, sf)

        loss = domain_mean(disc_term, range(self.model.num_domains))
        return {
            "total": loss,
            "real_score": torch.stack([s[0] for s in scores.values()]).mean(),
            "fake_score": torch.stack([s[1] for s in scores.values()]).mean(),
        }
