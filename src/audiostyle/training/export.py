"""Release weights from a training-state checkpoint (e.g. to look at a run while it trains)."""

from __future__ import annotations

from pathlib import Path

import torch

from audiostyle.errors import CheckpointError


def export_checkpoint(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write the newest valid checkpoint's model as ``.safetensors``; returns its path.

    Prototypes are the running means kept during training; the end of a run replaces them with
    the mean over the training set.
    """
    from audiostyle.models.checkpoint import save_model
    from audiostyle.models.registry import build_model
    from audiostyle.training.state import list_states, verify_state

    run_dir = Path(run_dir)
    for path in list_states(run_dir):
        try:
            verify_state(path)
            state = torch.load(path, map_location="cpu", weights_only=True)
        except CheckpointError:
            continue
        model = build_model(state["config"]["model"])
        model.load_state_dict(state["model"])
        target = Path(out) if out else run_dir / f"model-step{int(state['step']):06d}.safetensors"
        return save_model(model, target, extra={"exported_from": str(path), "step": int(state["step"])})
    raise CheckpointError(run_dir, "no valid training checkpoint to export")
