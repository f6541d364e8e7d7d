"""Training-state checkpoints: written atomically, verified by hash, newest valid one resumed.

``RUN/checkpoints/state-<step>.ckpt`` holds everything needed to continue exactly (models,
optimisers, schedulers, step, RNG states) and ``state-<step>.ckpt.sha256`` its digest. A file
whose digest does not match (truncated by a kill, corrupted on disk) is reported by name and
skipped in favour of the next newest. Released weights are separate
(:mod:`audiostyle.models.checkpoint`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from audiostyle.errors import CheckpointError
from audiostyle.fileio import atomic_output, write_text

_NAME = re.compile(r"^state-(\d+)\.ckpt$")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checkpoint_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "checkpoints"


def save_state(fabric, run_dir: str | Path, step: int, state: dict, keep: int = 3) -> Path | None:
    """Save ``state`` (Fabric-style dict of modules, optimisers and plain values) for ``step``.

    Must be called on every rank; only global rank 0 writes. The digest file is written after
    the checkpoint is complete and renamed into place, so a checkpoint without a matching
    digest is never trusted.
    """
    folder = checkpoint_dir(run_dir)
    path = folder / f"state-{step:08d}.ckpt"
    if fabric.is_global_zero:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            fabric.save(tmp, state)
        write_text(path.with_name(path.name + ".sha256"), file_sha256(path) + "\n")
        for old in list_states(run_dir)[keep:]:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".sha256").unlink(missing_ok=True)
    else:
        # fabric.save is collective (it ends in a barrier) and writes on rank 0 only: the
        # other ranks must join it, or rank 0 waits there forever.
        fabric.save(path, state)
    fabric.barrier()
    return path


def list_states(run_dir: str | Path) -> list[Path]:
    """Training-state files of a run, newest step first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def verify_state(path: Path) -> None:
    """Raise :class:`CheckpointError` naming ``path`` unless its digest file matches."""
    digest_file = path.with_name(path.name + ".sha256")
    if not digest_file.exists():
        raise CheckpointError(path, "no digest file (checkpoint incomplete)")
    expected = digest_file.read_text().strip()
    if file_sha256(path) != expected:
        raise CheckpointError(path, "SHA-256 mismatch: the checkpoint is truncated or corrupt")


def load_latest_state(fabric, run_dir: str | Path, state: dict, log=print) -> int | None:
    """Restore ``state`` in place from the newest valid checkpoint; returns its step or None.

    Invalid checkpoints are reported through ``log`` with their name and skipped.
    """
    for path in list_states(run_dir):
        try:
            verify_state(path)
            remainder = fabric.load(path, state)
        except CheckpointError as exc:
            log(f"skipping checkpoint: {exc}")
            continue
        except Exception as exc:  # unreadable despite a matching digest: treat as corrupt too
            log(f"skipping checkpoint: {path}: unreadable ({str(exc)[:120]})")
            continue
        state.update(remainder or {})
        return int(state["step"])
    return None
