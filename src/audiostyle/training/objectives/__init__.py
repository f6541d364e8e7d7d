"""Training objectives: what one step computes for each model kind.

An objective owns the auxiliary networks a model trains with (e.g. the flagship's
discriminator) and returns named loss terms; the loop in :mod:`audiostyle.training.loop` owns
optimisation, checkpoints and logging and is shared by every model kind.
"""

from __future__ import annotations


def make_objective(model, train_cfg: dict):
    """The objective for ``model.kind`` configured by the ``train:`` section's ``objective:``."""
    if model.kind == "flagship":
        from audiostyle.training.objectives.flagship import FlagshipObjective

        return FlagshipObjective(model, train_cfg.get("objective", {}))
    if model.kind.startswith("twin-"):
        from audiostyle.training.objectives.twin import TwinObjective

        return TwinObjective(model, train_cfg.get("objective", {}))
    if model.kind == "feature-vae":
        from audiostyle.training.objectives.feature_vae import FeatureVAEObjective

        return FeatureVAEObjective(model, train_cfg.get("objective", {}))
    if model.kind == "ldm":
        from audiostyle.training.objectives.ldm import LDMObjective

        return LDMObjective(model, train_cfg.get("objective", {}))
    raise ValueError(f"no training objective for model kind {model.kind!r}")
