"""Inference settings: the few config fields a trained model may change without retraining.

The weights fix the architecture, but some fields only steer how outputs are produced: the
flagship's phase refinement, the mel models' Griffin-Lim iterations, the diffusion model's
DDIM steps and strength. Each model class lists them in ``INFERENCE_SETTINGS`` (name -> ``int``,
``float`` or a tuple of the words the setting takes);
:func:`apply_settings` checks and applies ``--set name=value`` pairs from the command line or a
shipped model's ``inference`` entry in ``models.json``.
"""

from __future__ import annotations

from audiostyle.errors import AudioStyleError

#: value ranges the settings must respect, by name (inclusive bounds; None = unbounded)
_RANGES = {"strength": (0.0, 1.0), "eta": (0.0, None), "ddim_steps": (1, None), "recon_own_style": (0.0, 1.0)}


def parse_pairs(pairs: list[str] | None) -> dict[str, str]:
    """``["name=value", ...]`` -> ``{name: value}`` (values still text).

    Raises:
        AudioStyleError: a pair without ``=``.
    """
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AudioStyleError(f"--set {pair!r}: expected NAME=VALUE, e.g. --set phase_refine_iters=0")
        out[key.strip()] = value.strip()
    return out


def _convert(name: str, kind, value) -> int | float | str:
    if isinstance(kind, tuple):
        if value not in kind:
            raise AudioStyleError(f"setting {name}={value!r}: must be one of {', '.join(kind)}")
        return value
    try:
        if kind is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            converted = int(number)
        else:
            converted = float(value)
    except (TypeError, ValueError):
        raise AudioStyleError(f"setting {name}={value!r}: expected {'an integer' if kind is int else 'a number'}") from None
    low, high = _RANGES.get(name, (0, None))
    if (low is not None and converted < low) or (high is not None and converted > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise AudioStyleError(f"setting {name}={value!r}: must be {bounds}")
    return converted


def apply_settings(model, settings: dict | None) -> dict:
    """Set inference fields of ``model.cfg`` from ``settings`` (text or numbers); returns the
    applied ``{name: value}``.

    Raises:
        AudioStyleError: a name the model does not allow, or a value of the wrong type or range;
            the message lists the names the model accepts.
    """
    if not settings:
        return {}
    allowed = getattr(type(model), "INFERENCE_SETTINGS", {})
    applied = {}
    for name, value in settings.items():
        if name not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise AudioStyleError(f"a '{getattr(model, 'kind', type(model).__name__)}' model has no inference "
                                  f"setting {name!r} (it has: {names})")
        applied[name] = _convert(name, allowed[name], value)
    for name, value in applied.items():
        setattr(model.cfg, name, value)
    return applied
