"""Shared tiny flagship setup for the objective tests."""

import torch

from audiostyle.models.registry import build_model
from audiostyle.training.data import Batch
from audiostyle.training.objectives.flagship import FlagshipObjective

TINY = {
    "kind": "flagship", "d_model": 32, "latent_dim": 16, "enc_layers": 1, "dec_layers": 1, "heads": 2,
    "cnn_channels": 4, "head_hidden": 32, "window_frames": 32,
}


def tiny_objective(**objective_cfg) -> FlagshipObjective:
    """A tiny flagship and its objective, rebuilt identically on every call. No random masking,
    so two objectives see exactly the same decoder inputs; eval mode, so no dropout. The
    masked-decode check is off unless asked for: its extra decodes would show up in tests that
    count the calls of a module (its own tests turn it on)."""
    torch.manual_seed(0)
    model = build_model(dict(TINY)).eval()
    return FlagshipObjective(model, {"token_dropout": 0.0, "full_mask": 0.0, "masked_check_clips": 0, **objective_cfg})


def random_batch(labels: list[int]) -> Batch:
    """Random standardised-scale features ``(len(labels), 2, 32, n_bins)`` with ``labels``."""
    g = torch.Generator().manual_seed(1)
    n_bins = build_model(dict(TINY)).spectral.n_bins
    return Batch(x=torch.randn(len(labels), 2, 32, n_bins, generator=g), labels=torch.tensor(labels))


def losses_at(objectives, batch, step: int, total: int = 100) -> list[dict]:
    """Each objective's generator losses on ``batch`` at ``step``, every one from the same
    random state, so that terms two objectives share come out equal."""
    out = []
    for objective in objectives:
        torch.manual_seed(3)
        out.append(objective.generator_losses(batch, step, total))
    return out


def assert_reaches_content_encoder_only(objective, loss: torch.Tensor) -> None:
    """Backpropagate ``loss`` and check that it moves the content encoder and nothing else."""
    loss.backward()
    m = objective.model
    assert float(m.content_encoder.out.weight.grad.abs().sum()) > 0
    assert m.style_encoder.out.weight.grad is None and all(p.grad is None for p in m.decoder.parameters())
    assert all(p.grad is None for p in objective.discriminator.parameters())
