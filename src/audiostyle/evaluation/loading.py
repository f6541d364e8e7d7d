"""Loading the model an evaluation scores: by shipped name or path, or any transfer object."""

from __future__ import annotations

from pathlib import Path


def load_system(model, settings: dict | None = None) -> tuple[object, dict]:
    """``(transfer object, info)`` for a shipped name, a run folder, a ``.safetensors`` file, or
    an object that already has ``transfer(wave, sr, to)`` (tests, custom systems). ``settings``:
    inference settings for a loaded model (:mod:`audiostyle.models.settings`)."""
    if hasattr(model, "transfer"):
        return model, {"name": getattr(model, "name", type(model).__name__), "path": None, "sha256": None,
                       "run_dir": None}
    from audiostyle.hub import load, resolve_model
    from audiostyle.training.state import file_sha256

    name, path = resolve_model(model)
    transfer = load(model, settings=settings)
    run_dir = path.parent if (path.parent / "metrics.jsonl").is_file() else None
    if Path(name).exists():  # a path: show the run folder's name (or the file's) in tables
        name = path.parent.name if path.name == "model.safetensors" else path.name
    return transfer, {"name": name, "path": str(path), "sha256": file_sha256(path),
                      "kind": getattr(transfer.model, "kind", None), "run_dir": str(run_dir) if run_dir else None,
                      "settings": dict(getattr(transfer, "settings", {}) or {})}
