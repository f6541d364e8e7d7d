"""Released model files: weights plus everything needed to rebuild them.

One ``.safetensors`` file holds the tensors and, in its metadata, the format version, the model
kind, its config (JSON) and a SHA-256 over the tensors, verified on load. Training state
(optimisers, step, RNG) lives elsewhere (:mod:`audiostyle.training.state`), so a released file
is weights only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from audiostyle.errors import CheckpointError
from audiostyle.fileio import atomic_output

FORMAT_VERSION = "1"


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of ``tensors``, in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        # reshape(-1): a 0-dim tensor cannot be viewed as bytes directly
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_model(model: nn.Module, path: str | Path, extra: dict | None = None) -> Path:
    """Write ``model``'s weights and config to ``path`` atomically; returns the path."""
    from safetensors.torch import save_file

    from audiostyle.models.registry import model_config

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {
        "format_version": FORMAT_VERSION,
        "kind": model.kind,
        "config": json.dumps(model_config(model)),
        "sha256": tensor_digest(tensors),
        "extra": json.dumps(extra or {}),
    }
    path = Path(path)
    with atomic_output(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return path


def read_model_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Tensors and decoded metadata of a released file, verified; :class:`CheckpointError` if not."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such model file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = dict(fh.metadata() or {})
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:
        raise CheckpointError(path, f"not a readable model file, truncated or corrupt ({str(exc)[:120]})") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(path, f"unsupported format version {meta.get('format_version')!r} (expected {FORMAT_VERSION})")
    if tensor_digest(tensors) != meta.get("sha256"):
        raise CheckpointError(path, "weights do not match their SHA-256 (corrupt file)")
    try:
        meta["config"] = json.loads(meta["config"])
        meta["extra"] = json.loads(meta.get("extra", "{}"))
    except (KeyError, ValueError):
        raise CheckpointError(path, "model config missing or unreadable") from None
    return tensors, meta


def load_model(path: str | Path, device: str = "cpu") -> nn.Module:
    """Rebuild and return the model stored at ``path`` (eval mode)."""
    from audiostyle.models.registry import build_model

    tensors, meta = read_model_file(path)
    try:
        model = build_model(meta["config"])
        model.load_state_dict(tensors, strict=True)
    except Exception as exc:
        raise CheckpointError(path, f"weights do not fit the stored config ({str(exc)[:160]})") from None
    model.extra = meta["extra"]
    return model.to(device).eval()
