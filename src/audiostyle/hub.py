"""Finding and loading models by name (shipped with the package) or by path. Offline only.

Shipped models are listed in ``audiostyle/pretrained/models.json``: name -> file, SHA-256 of
the file, description, and the exact command that trained it.
"""

from __future__ import annotations

import json
from pathlib import Path

from audiostyle.errors import AudioStyleError, CheckpointError

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
DEFAULT_MODEL = "default"


def shipped_models() -> dict[str, dict]:
    """``{name: entry}`` of the models shipped in this installation."""
    return json.loads((PRETRAINED_DIR / "models.json").read_text())


def resolve_model(name_or_path: str | Path | None) -> tuple[str, Path]:
    """``(display name, file)`` for a shipped model name or a path to a ``.safetensors`` file or run folder."""
    name = str(name_or_path or DEFAULT_MODEL)
    models = shipped_models()
    if name in models:
        path = PRETRAINED_DIR / models[name]["file"]
        if not path.is_file():
            raise CheckpointError(path, f"shipped model '{name}' is missing from this installation")
        return name, path
    path = Path(name)
    if path.is_dir() and (path / "model.safetensors").is_file():
        return name, path / "model.safetensors"
    if path.is_file():
        return name, path
    known = ", ".join(sorted(models)) or "none"
    raise AudioStyleError(f"{name}: no such model file, run folder or shipped model (shipped: {known})")


def load(name_or_path: str | Path | None = None, device: str = "cpu"):
    """Load a model for transfer: a :class:`audiostyle.inference.Transfer`.

    ``name_or_path``: a shipped model name (``audiostyle models`` lists them; default
    ``"default"``), a ``.safetensors`` file, or a training run folder.
    """
    from audiostyle.inference import Transfer
    from audiostyle.models.checkpoint import load_model
    from audiostyle.training.state import file_sha256

    name, path = resolve_model(name_or_path)
    entry = shipped_models().get(name)
    if entry and entry.get("sha256") and file_sha256(path) != entry["sha256"]:
        raise CheckpointError(path, f"shipped model '{name}' does not match its recorded SHA-256")
    return Transfer(load_model(path, device), name=name)
