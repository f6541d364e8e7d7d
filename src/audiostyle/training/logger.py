"""Run logging: TensorBoard events, a JSON-lines copy, a progress bar, and the loss-curve plot.

Every named loss term is logged under its name (``gen/recon/magnitude``, ``disc/acc_content``
...). Terms sitting at their bounds (InfoNCE at its floor, content entropy at its maximum,
discriminator at chance, HSIC ~ 0) do nothing for training; they are detected and reported in
``train.log`` so nobody mistakes them for success.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from audiostyle.fileio import write_json, write_text


def _logged_step(line: str) -> float:
    """The step of one ``metrics.jsonl`` line; infinite for a line cut short by a kill."""
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")


class _NullBar:
    def update(self, n=1):
        pass

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


class RunLogger:
    """Writes ``RUN/events/`` (TensorBoard), ``RUN/metrics.jsonl``, ``RUN/train.log``."""

    def __init__(self, run_dir: Path, enabled: bool = True, bound_warnings=None):
        """``bound_warnings(values) -> list[str]`` inspects logged values for terms at their
        bounds (the objective knows which terms and bounds apply)."""
        self.run_dir, self.enabled = Path(run_dir), enabled
        self.metrics_path = self.run_dir / "metrics.jsonl"
        self._writer = None
        self._purge_step = None
        self._bound_warnings = bound_warnings
        if enabled:
            self.run_dir.mkdir(parents=True, exist_ok=True)

    def info(self, message: str) -> None:
        if not self.enabled:
            return
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        print(line, file=sys.stderr, flush=True)
        with open(self.run_dir / "train.log", "a") as fh:
            fh.write(line + "\n")

    def resumed_at(self, step: int) -> None:
        """Forget what an interrupted invocation logged after the checkpoint now resumed from:
        those steps are trained again, and a curve must show each step once. ``metrics.jsonl``
        is rewritten without them and without a line a kill cut short (atomically); TensorBoard
        purges them when it next writes."""
        if not self.enabled:
            return
        self._purge_step = step + 1
        if not self.metrics_path.is_file():
            return
        lines = self.metrics_path.read_text().splitlines()
        kept = [line for line in lines if _logged_step(line) <= step]
        if len(kept) < len(lines):
            write_text(self.metrics_path, "".join(line + "\n" for line in kept))
            self.info(f"metrics.jsonl: dropped {len(lines) - len(kept)} rows logged after step {step} (trained again)")

    def progress(self, total: int, initial: int, enabled: bool):
        if not (enabled and self.enabled):
            return _NullBar()
        from tqdm import tqdm

        return tqdm(total=total, initial=initial, desc="train", unit="step", dynamic_ncols=True)

    @staticmethod
    def reduce(fabric, values: dict[str, float]) -> dict[str, float]:
        """Mean of every value over ranks (identical on one process)."""
        if fabric.world_size == 1:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64)
        t = fabric.all_reduce(t, reduce_op="mean")
        return dict(zip(keys, t.tolist()))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops events an interrupted invocation wrote after the resumed step
            self._writer = SummaryWriter(str(self.run_dir / "events"), purge_step=self._purge_step)
        for k, v in values.items():
            self._writer.add_scalar(k, v, step)
        with open(self.metrics_path, "a") as fh:
            fh.write(json.dumps({"step": step, **values}) + "\n")
        for warning in self._bound_warnings(values) if self._bound_warnings else []:
            self.info(f"step {step}: {warning}")

    def finish(self, summary: dict) -> None:
        if not self.enabled:
            return
        if self._writer is not None:
            self._writer.close()
        write_json(self.run_dir / "train_summary.json", summary)
        try:
            from audiostyle.training.plots import plot_losses

            plot_losses(self.metrics_path, self.run_dir / "loss_curves.png")
        except FileNotFoundError:
            self.info("no metrics logged; no loss-curve plot")
