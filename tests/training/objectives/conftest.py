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
    so two objectives see exactly the same decoder inputs; eval mode, so no dropout."""
    torch.manual_seed(0)
    model = build_model(dict(TINY)).eval()
    return FlagshipObjective(model, {"token_dropout": 0.0, "full_mask": 0.0, **objective_cfg})


def random_batch(labels: list[int]) -> Batch:
    """Random standardised-scale features ``(len(labels), 2, 32, n_bins)`` with ``labels``."""
    g = torch.Generator().manual_seed(1)
    n_bins = build_model(dict(TINY)).spectral.n_bins
    return Batch(x=torch.randn(len(labels), 2, 32, n_bins, generator=g), labels=torch.tensor(labels))
