"""Clip selection shared by the quality diagnostics under benchmarks/."""

from __future__ import annotations

import collections
import json
from pathlib import Path


def clips_of(data: Path, split: str, per_kind: int | None = None) -> list[dict]:
    """Manifest entries of ``split`` in a rendered corpus; with ``per_kind``, only the first
    that many of each source kind (chorale, fiddle)."""
    clips = [c for c in json.loads((data / "manifest.json").read_text())["clips"] if c["split"] == split]
    if per_kind is None:
        return clips
    kinds = collections.defaultdict(list)
    for clip in clips:
        kinds[clip["source_kind"]].append(clip)
    return [clip for kind in kinds.values() for clip in kind[:per_kind]]
