"""Finding and loading models by name (shipped with the package) or by path. Offline only.

Shipped models are listed in ``audiostyle/pretrained/models.json``: name -> file, SHA-256 of
the file, description, and the exact command that trained it.
"""

from __future__ import annotations

import json
import shutil
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


def load(name_or_path: str | Path | None = None, device: str = "cpu", settings: dict | None = None):
    """Load a model for transfer: a :class:`audiostyle.inference.Transfer`.

    ``name_or_path``: a shipped model name (``audiostyle models`` lists them; default
    ``"default"``), a ``.safetensors`` file, or a training run folder. ``settings``: inference
    settings (:mod:`audiostyle.models.settings`) applied over a shipped model's own
    ``inference`` entry; the result is ``Transfer.settings``.
    """
    from audiostyle.inference import Transfer
    from audiostyle.models.checkpoint import load_model
    from audiostyle.models.settings import apply_settings
    from audiostyle.training.state import file_sha256

    name, path = resolve_model(name_or_path)
    entry = shipped_models().get(name)
    if entry and entry.get("sha256") and file_sha256(path) != entry["sha256"]:
        raise CheckpointError(path, f"shipped model '{name}' does not match its recorded SHA-256")
    model = load_model(path, device)
    applied = apply_settings(model, {**((entry or {}).get("inference") or {}), **(settings or {})})
    return Transfer(model, name=name, settings=applied)


MAX_SHIPPED_MB = 50


def publish(
    source: str | Path, name: str, description: str, command: str,
    report: str | None = None, pretrained_dir: Path = PRETRAINED_DIR, settings: dict | None = None,
) -> dict:
    """Copy a trained model into the shipped models and record it in ``models.json``.

    ``source`` is a run folder or a ``.safetensors`` file; the model is loaded (so a broken
    file is never shipped), copied to ``pretrained_dir/NAME.safetensors`` atomically and listed
    with its SHA-256, size, kind, instruments, the exact training ``command``, the run's wall
    time (from ``train_summary.json`` when ``source`` is a run folder) and its evaluation
    ``report``; ``settings`` become the model's default inference settings (``inference``).
    Returns the entry.
    """
    from audiostyle.fileio import atomic_output, write_json
    from audiostyle.models.checkpoint import load_model
    from audiostyle.models.settings import apply_settings
    from audiostyle.training.state import file_sha256

    _, path = resolve_model(source)
    model = load_model(path)
    inference = apply_settings(model, settings)  # checked now, so a bad setting is never shipped
    size_mb = path.stat().st_size / 2**20
    if size_mb > MAX_SHIPPED_MB:
        raise AudioStyleError(f"{path}: {size_mb:.1f} MB is over the {MAX_SHIPPED_MB} MB limit for a shipped model")
    entry = {
        "file": f"{name}.safetensors",
        "sha256": file_sha256(path),
        "size_mb": round(size_mb, 2),
        "kind": model.kind,
        "instruments": list(model.instruments),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "description": description,
        "command": command,
    }
    summary = path.parent / "train_summary.json"
    if summary.is_file():
        info = json.loads(summary.read_text())
        wall = info.get("total_wall_seconds", info.get("wall_seconds"))  # older runs: the last invocation only
        entry.update({"steps": info.get("steps"), "train_wall_seconds": wall})
    if report:
        entry["report"] = str(report)
    if inference:
        entry["inference"] = inference
    with atomic_output(pretrained_dir / entry["file"]) as tmp:
        shutil.copyfile(path, tmp)
    models = json.loads((pretrained_dir / "models.json").read_text())
    models[name] = entry
    write_json(pretrained_dir / "models.json", dict(sorted(models.items())))
    return entry


def with_prototype(source: str | Path | None, instrument: str, recordings: list, out: str | Path,
                   settings: dict | None = None) -> dict:
    """Write a copy of model ``source`` whose prototype for ``instrument`` is the mean style of
    ``recordings`` (``(N_i,)`` float32 arrays at the model rate), to ``out`` (``.safetensors``).

    The copy keeps the source's weights, its other prototypes and its inference settings (a
    shipped model's ``models.json`` entry and ``settings`` are written into its config), and
    records where the new prototype came from in its metadata. Returns that record.

    Raises:
        AudioStyleError: an instrument the model cannot play, a model that takes no style from a
            recording, a bad output path.
    """
    import torch

    from audiostyle.models.checkpoint import save_model
    from audiostyle.training.prototypes import recording_prototype

    out = Path(out)
    if out.suffix != ".safetensors":
        raise AudioStyleError(f"{out}: the output must be a .safetensors file")
    if not out.parent.is_dir():
        raise AudioStyleError(f"{out}: output folder {out.parent} does not exist")
    transfer = load(source, settings=settings)
    instrument = transfer._check_instrument(instrument)
    model = transfer.model
    if not hasattr(model, "prototypes"):
        raise AudioStyleError(f"model '{transfer.name}' keeps no style prototypes")
    waves = [torch.from_numpy(w) for w in recordings]
    proto = recording_prototype(model, instrument, waves)
    k = transfer.instruments.index(instrument)
    previous = model.prototypes[k].clone()
    model.prototypes[k] = proto.to(model.prototypes.dtype)
    record = {"instrument": instrument, "recordings": len(waves), "from_model": transfer.name,
              "seconds": round(sum(len(w) for w in recordings) / transfer.sr, 1),
              "distance_from_previous": round(float((proto - previous).norm()), 4)}
    extra = dict(getattr(model, "extra", {}) or {})
    extra["prototypes"] = [*extra.get("prototypes", []), record]
    save_model(model, out, extra=extra)
    return record
