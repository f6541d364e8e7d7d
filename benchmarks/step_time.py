"""How long will a training config take on this machine? Seconds a step, measured.

    python benchmarks/step_time.py CONFIG [CONFIG ...] --data DIR [--steps 50] [--set KEY=VALUE ...]

Each config (a file or a shipped config name) is trained for ``--steps`` steps twice into a
temporary folder with the project's own loop: once as its run begins (curriculum phase 1:
reconstruction only, the cheapest steps) and once with the curriculum off, every loss term on
from step 0 (what the last phase costs: the adversaries, the pair's extra pass, style transfer).
The first step of each (model build, feature cache, warm-up) is left out. The table projects
the config's own ``train.steps``: phase 1's rate for the share of the run before phase 2 and the
every-term rate for the rest, an upper estimate since phases 2 and 3 cost less than phase 4;
and whether that fits the two-hour training budget. Timings depend on the machine and on what
else shares its cores: run it alone, and compare configs in one call.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

BUDGET_SECONDS = 2 * 3600


def timed_rate(cfg: dict, data: str, steps: int) -> float:
    """Mean wall seconds a step over steps 2..``steps`` of a fresh run of ``cfg``."""
    from audiostyle.training.loop import train

    with tempfile.TemporaryDirectory(prefix="step-time-") as tmp:
        train(cfg, data, Path(tmp) / "run", progress=False, stop_at_step=steps)
        rows = [json.loads(line) for line in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    # Each row's step_seconds covers the steps since the previous row; the step-1 row is set-up.
    spans = [(r["step"] - p["step"], r["step_seconds"]) for p, r in zip(rows, rows[1:])]
    if not spans:
        raise SystemExit(f"--steps {steps}: too few steps to time (at least 2 logged rows needed)")
    return sum(n * s for n, s in spans) / sum(n for n, _ in spans)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="+", help="config files or shipped config names")
    ap.add_argument("--data", required=True, help="data set from `audiostyle data render`")
    ap.add_argument("--steps", type=int, default=50, help="steps timed per config and phase (default 50)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="config override applied to every config, as `audiostyle train --set`")
    args = ap.parse_args()
    if args.steps < 6:
        ap.error("--steps must be at least 6")

    from audiostyle.config import load_config

    rows = []
    for name in args.configs:
        # Log every 5 steps so that a short timing still has several rows to average.
        cfg = load_config(name, [*args.overrides, "train.log_every=5"])
        curriculum = None  # other model kinds train every term from step 0
        if cfg["model"]["kind"] == "flagship":
            from audiostyle.training.objectives.flagship import DEFAULTS

            curriculum = cfg["train"].get("objective", {}).get("curriculum", DEFAULTS["curriculum"])
        first = timed_rate(cfg, args.data, args.steps)
        if curriculum is None:
            every = first
        else:
            every = timed_rate(load_config(name, [*args.overrides, "train.log_every=5",
                                                 "train.objective.curriculum=null"]), args.data, args.steps)
        total = int(cfg["train"]["steps"])
        share = 0.0 if curriculum is None else float(curriculum[0])
        projected = total * (share * first + (1 - share) * every)
        threads = cfg["train"].get("threads", "default")
        fits = "yes" if projected <= BUDGET_SECONDS else "no"
        rows.append(f"| {name} | {threads} | {first:.2f} | {every:.2f} | {total} | {projected:,.0f} | {fits} |")
    print(f"\nseconds a training step on this machine, {args.steps} steps a phase, data {args.data}")
    print("| config | threads | phase 1 (s/step) | every term (s/step) | train.steps | projected (s) | fits two hours |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    from audiostyle.errors import AudioStyleError

    try:
        main()
    except AudioStyleError as e:  # a bad config or data set: its message names the file
        raise SystemExit(f"step_time: {e}") from None
