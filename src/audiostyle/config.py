"""Run configuration: small YAML files under ``configs/``, resolved to plain dictionaries.

A config has two sections, ``model`` (with ``kind`` naming a registered model) and ``train``.
``base: other.yaml`` inherits another file (relative to this one) and overrides it key by key,
so an ablation is a three-line file, not a forked script. Dotted ``--set key.sub=value``
overrides from the command line apply last. The fully resolved config is saved beside every
run as ``config.yaml``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from audiostyle.errors import ConfigError
from audiostyle.fileio import write_text

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def find_config(name_or_path: str | Path) -> Path:
    """A path as given, or a shipped config by name (``flagship`` -> ``configs/flagship.yaml``)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    for candidate in (CONFIG_DIR / f"{name_or_path}.yaml", CONFIG_DIR / str(name_or_path)):
        if candidate.exists():
            return candidate
    raise ConfigError(f"{name_or_path}: no such config file or shipped config")


def load_config(name_or_path: str | Path, overrides: list[str] | None = None, _seen: tuple = ()) -> dict:
    """Read a config, resolving ``base:`` chains and ``key.sub=value`` overrides."""
    path = find_config(name_or_path).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: circular 'base:' chain")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping")
    base = raw.pop("base", None)
    cfg = _merge(load_config(path.parent / base, None, _seen + (path,)), raw) if base else raw
    for item in overrides or []:
        cfg = apply_override(cfg, item)
    if not _seen:
        for section in ("model", "train"):
            if not isinstance(cfg.get(section), dict):
                raise ConfigError(f"{path}: missing '{section}:' section")
        if "kind" not in cfg["model"]:
            raise ConfigError(f"{path}: model.kind is required")
    return cfg


def apply_override(cfg: dict, item: str) -> dict:
    """Apply one ``a.b.c=value`` override (value parsed as YAML) to a copy of ``cfg``."""
    if "=" not in item:
        raise ConfigError(f"override {item!r}: expected key.path=value")
    key, text = item.split("=", 1)
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    out = copy.deepcopy(cfg)
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {item!r}: {part} is not a section")
    node[parts[-1]] = value
    return out


def take(section: dict, defaults: dict, where: str) -> dict[str, Any]:
    """Fill ``defaults`` from ``section``, rejecting unknown keys (typos must not pass silently)."""
    unknown = set(section) - set(defaults)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(defaults)}")
    return {**defaults, **section}


def save_config(cfg: dict, path: str | Path) -> Path:
    return write_text(path, yaml.safe_dump(cfg, sort_keys=False))
