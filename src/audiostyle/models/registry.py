"""Model kinds by name: how a config's ``model:`` section becomes a module, and back."""

from __future__ import annotations

from dataclasses import fields
from typing import Callable

from torch import nn

from audiostyle.config import take
from audiostyle.errors import ConfigError


def _flagship():
    from audiostyle.models.flagship import Flagship, FlagshipConfig

    return Flagship, FlagshipConfig


def _twin(kind: str):
    def load():
        from audiostyle.models.twin import VARIANTS, TwinAutoencoders

        return TwinAutoencoders, VARIANTS[kind]

    return load


def _feature_vae():
    from audiostyle.models.feature_vae import FeatureVAE, FeatureVAEConfig

    return FeatureVAE, FeatureVAEConfig


def _ldm():
    from audiostyle.models.ldm import LatentDiffusion, LDMConfig

    return LatentDiffusion, LDMConfig


# kind -> loader returning (module class, config dataclass); loaders import lazily.
KINDS: dict[str, Callable[[], tuple[type, type]]] = {
    "flagship": _flagship,
    "twin-ae": _twin("twin-ae"),
    "twin-vae": _twin("twin-vae"),
    "twin-gan-adain": _twin("twin-gan-adain"),
    "twin-vae-gan": _twin("twin-vae-gan"),
    "feature-vae": _feature_vae,
    "ldm": _ldm,
}


def build_model(model_cfg: dict) -> nn.Module:
    """Instantiate a model from a resolved ``model:`` section (``kind`` plus its fields)."""
    params = dict(model_cfg)
    kind = params.pop("kind", None)
    if kind not in KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; known: {sorted(KINDS)}")
    cls, cfg_cls = KINDS[kind]()
    defaults = {f.name: getattr(cfg_cls(), f.name) for f in fields(cfg_cls)}
    try:
        cfg = cfg_cls(**take(params, defaults, f"model ({kind})"))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model ({kind}): {exc}") from None
    return cls(cfg)


def model_config(model: nn.Module) -> dict:
    """The ``model:`` section that rebuilds ``model`` with :func:`build_model`."""
    return {"kind": model.kind, **model.cfg.to_dict()}
