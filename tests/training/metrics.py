"""A run's ``metrics.jsonl`` as the resume tests compare it."""

import json
from pathlib import Path

WALL_CLOCK = ("step_seconds",)  # wall time, which no two invocations share: not a result of training


def logged_rows(run: Path) -> list[dict]:
    """Rows of ``run/metrics.jsonl`` in file order, without the wall-clock values."""
    rows = [json.loads(line) for line in (Path(run) / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in rows]
