"""One training step of the latent-diffusion model (kind ``ldm``): two stages in one run.

``x`` ``(B, T, M)``: the batch's normalised mel patches (class-balanced, unpaired). The stage
switch is ``ae_fraction`` of the run's steps (``train.steps``):

**Stage 1 — autoencoder** (steps ``< ae_fraction * steps``): the seed's reconstruction loss

* ``recon/mel``: MSE of ``D(z)`` to ``x``, ``z`` a posterior sample;
* ``recon/perceptual``: feature-space MSE to ``x`` (see below);
* ``kl``: KL of the posterior to N(0, I) (the seed's formula used the sample ``z`` in place of
  the posterior's mean and variance; this is the standard Gaussian KL).

**Stage 2 — diffusion** (the rest): the encoder is frozen (no gradient reaches it; the latent
scale ``latent_std`` is measured on the first stage-2 batch), the decoder keeps training, and
the UNet and style encoder train:

* ``recon/mel``: MSE of ``D(mu)`` to ``x`` (keeps the decoder a decoder);
* ``diffusion``: DDPM noise-prediction MSE at a uniform random step ``t`` (seed eq. 3). The
  style is that of *another* clip of the same instrument from the batch, so the UNet must get
  the timbre from the style tokens and the notes from ``z_t``;
* ``x0_perceptual``, ``style``: on the decoded clean estimate
  ``x0 = D((z_t - sqrt(1 - ab_t) eps_hat) / sqrt(ab_t))``: feature MSE to ``x`` and
  Gram-matrix MSE to the style clip, each sample weighted by ``ab_t`` (estimates from nearly
  pure noise carry little information and would dominate otherwise).

**Feature network** (the seed's VGGish, which cannot be downloaded here): an instrument
classifier CNN over mel patches (:class:`~audiostyle.models.ldm_autoencoder.MelFeatureNet`),
trained in the same run on the real patches by cross-entropy. It is the objective's
``discriminator`` so the loop gives it its own optimiser and step; it is not released. The
seed computed its perceptual/style losses under ``torch.no_grad()``, so they never trained
anything; here they are ordinary differentiable terms: gradients flow through the feature
network into the decoder, the UNet and the style encoder. During the generator step the
feature network's own weights are held fixed (``requires_grad_(False)``, as for a GAN
discriminator) — otherwise the cheapest way to lower a perceptual loss is to make the feature
network blind — and they learn from the classification loss alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from audiostyle.config import take
from audiostyle.losses.autoencoders import kl_standard_normal, reparameterize
from audiostyle.models.ldm_autoencoder import MelFeatureNet

DEFAULTS = {
    "ae_fraction": 0.3,  # share of the run's steps spent on the autoencoder (stage 1)
    "weights": {
        "recon": 1.0, "perceptual": 0.1, "kl": 1e-4,
        "diffusion": 1.0, "x0_perceptual": 0.1, "style": 1.0,
    },
    "feature_channels": [16, 32, 64, 64],  # widths of the feature network's stages
    "clip_x0": 5.0,  # clamp of the clean-latent estimate fed to the x0 losses
}


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices ``(B, C, C)`` of maps ``(B, C, H, W)``, normalised by ``H * W``."""
    f = features.float().flatten(2)
    return f @ f.transpose(1, 2) / f.shape[2]


def feature_distance(fh: list[torch.Tensor], ft: list[torch.Tensor]) -> torch.Tensor:
    """Per-sample ``(B,)`` mean over layers of the MSE between two lists of maps ``(B, C, H, W)``."""
    return torch.stack([(a.float() - b.float()).square().flatten(1).mean(1) for a, b in zip(fh, ft)]).mean(0)


def gram_distance(fh: list[torch.Tensor], fs: list[torch.Tensor]) -> torch.Tensor:
    """Per-sample ``(B,)`` mean over layers of the MSE between the maps' Gram matrices."""
    return torch.stack([(gram(a) - gram(b)).square().flatten(1).mean(1) for a, b in zip(fh, fs)]).mean(0)


def perceptual_loss(net, x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Feature-space MSE between ``x_hat`` and ``x`` (both ``(B, T, M)``), averaged over the
    feature network's layers; the target's features are detached, ``x_hat``'s are not."""
    with torch.no_grad():
        _, ft = net(x)
    return feature_distance(net(x_hat)[1], ft).mean()


def style_loss(net, x_hat: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Gram-matrix MSE between ``x_hat`` and the style patch ``style`` (both ``(B, T, M)``),
    averaged over layers; the style's Gram matrices are detached."""
    with torch.no_grad():
        _, fs = net(style)
    return gram_distance(net(x_hat)[1], fs).mean()


def same_class_partners(labels: torch.Tensor) -> torch.Tensor:
    """``(B,)`` indices: each clip's partner is the next clip of the same instrument (cyclically);
    a clip alone in its class is its own partner."""
    idx = torch.arange(len(labels), device=labels.device)
    out = idx.clone()
    for k in labels.unique():
        members = idx[labels == k]
        out[members] = members.roll(-1)
    return out


class LDMObjective:
    """Losses of the latent-diffusion model for one batch; owns the feature network."""

    def __init__(self, model, cfg: dict):
        weights = take(cfg.get("weights", {}), DEFAULTS["weights"], "train.objective.weights")
        self.cfg = take({**cfg, "weights": weights}, DEFAULTS, "train.objective")
        if not 0.0 <= float(self.cfg["ae_fraction"]) < 1.0:
            raise ValueError(f"train.objective.ae_fraction must be in [0, 1), got {self.cfg['ae_fraction']}")
        self.model = model
        self.discriminator = MelFeatureNet(len(model.cfg.instruments), list(self.cfg["feature_channels"]))
        self._cache: dict = {}

    def stage(self, step: int, total: int) -> int:
        """1 (autoencoder) for the first ``ae_fraction`` of the run, then 2 (diffusion)."""
        return 1 if step < round(float(self.cfg["ae_fraction"]) * total) else 2

    def generator_losses(self, batch, step: int, total: int) -> dict[str, torch.Tensor]:
        """Named terms and their weighted ``"total"`` for one batch."""
        m = self.model
        x = m.norm.standardize(batch.x)
        self._cache = {"x": x.detach(), "labels": batch.labels}
        net = self.discriminator
        net.requires_grad_(False)  # generator step: the feature network's weights stay fixed
        try:
            stage = self.stage(step, total)
            out = self._autoencoder_terms(x) if stage == 1 else self._diffusion_terms(x, batch.labels)
        finally:
            net.requires_grad_(True)
        out["stage"] = torch.tensor(float(stage))
        return out

    def _autoencoder_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        m, w = self.model, self.cfg["weights"]
        mu, logvar = m.autoencoder.posterior(x)
        x_hat = m.autoencoder.decode(reparameterize(mu, logvar))
        out = {
            "recon/mel": F.mse_loss(x_hat.float(), x.float()),
            "recon/perceptual": perceptual_loss(self.discriminator, x_hat, x),
            "kl": kl_standard_normal(mu, logvar),
        }
        out["total"] = w["recon"] * out["recon/mel"] + w["perceptual"] * out["recon/perceptual"] + w["kl"] * out["kl"]
        return out

    def _diffusion_terms(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        m, w, net = self.model, self.cfg["weights"], self.discriminator
        with torch.no_grad():  # stage 2: the encoder is frozen
            mu, _ = m.autoencoder.posterior(x)
            if float(m.latent_std) == 0:
                m.latent_std.fill_(float(mu.float().std().clamp_min(1e-3)))
            z0 = mu / m.latent_scale
        out = {"recon/mel": F.mse_loss(m.decode_latent(z0).float(), x.float())}

        partners = same_class_partners(labels)
        style_x = x[partners]
        style = m.encode_style(style_x)
        sched = m.schedule
        t = torch.randint(0, sched.num_steps, (x.shape[0],), device=x.device)
        noise = torch.randn_like(z0)
        zt = sched.q_sample(z0, t, noise)
        eps = m.predict_noise(zt, t, style)
        out["diffusion"] = F.mse_loss(eps.float(), noise.float())

        clip = float(self.cfg["clip_x0"])
        x0 = sched.predict_x0(zt, t, eps)
        x0_mel = m.decode_latent(x0.clamp(-clip, clip) if clip > 0 else x0)
        weight = sched.alpha_bar[t].to(x0_mel.dtype)  # (B,)
        with torch.no_grad():
            _, f_x = net(x)
            _, f_style = net(style_x)
        _, f_hat = net(x0_mel)
        out["x0_perceptual"] = (weight * feature_distance(f_hat, f_x)).mean()
        out["style"] = (weight * gram_distance(f_hat, f_style)).mean()
        out["total"] = (w["recon"] * out["recon/mel"] + w["diffusion"] * out["diffusion"]
                        + w["x0_perceptual"] * out["x0_perceptual"] + w["style"] * out["style"])
        with torch.no_grad():
            out["latent_std"] = m.latent_std.detach().clone()
        return out

    def discriminator_losses(self) -> dict[str, torch.Tensor]:
        """Cross-entropy of the feature network (instrument classifier) on the last batch's real patches."""
        c = self._cache
        logits, _ = self.discriminator(c["x"].float())
        return {
            "total": F.cross_entropy(logits, c["labels"]),
            "accuracy": (logits.argmax(dim=1) == c["labels"]).float().mean(),
        }
