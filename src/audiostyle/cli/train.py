"""``audiostyle train CONFIG --data DIR --out RUN``: train any registered model."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model from a config", description=__doc__)
    p.add_argument("config", help="config file, or a shipped config name (e.g. flagship, flagship-tiny)")
    p.add_argument("--data", required=True, help="data set folder (from `audiostyle data render|prepare`)")
    p.add_argument("--out", required=True, help="run folder: checkpoints, logs, config.yaml, model.safetensors")
    p.add_argument("--resume", action="store_true", help="continue from the newest valid checkpoint in --out")
    p.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this wall time")
    p.add_argument("--stop-at-step", type=int, default=None,
                   help="end this invocation at this step (resumable; schedules still span train.steps)")
    p.add_argument("--devices", type=int, default=1, help="processes/devices for data-parallel training")
    p.add_argument("--num-nodes", type=int, default=1)
    p.add_argument("--accelerator", default="auto", help="auto, cpu, cuda")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set train.steps=100 (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    p = sub.add_parser("export", help="write a run's newest checkpoint as a model file")
    p.add_argument("run", help="training run folder")
    p.add_argument("--out", default=None, help="output .safetensors (default: RUN/model-stepNNNNNN.safetensors)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from audiostyle.training.export import export_checkpoint

    print(f"wrote {export_checkpoint(args.run, args.out)}")
    return 0


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from audiostyle.config import load_config
    from audiostyle.errors import AudioStyleError
    from audiostyle.training.loop import train

    cfg = load_config(args.config, args.overrides)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.resume:
        raise AudioStyleError(f"{out}: run folder is not empty; pass --resume to continue it or choose another --out")
    summary = train(
        cfg, args.data, out, resume=args.resume, max_minutes=args.max_minutes, devices=args.devices,
        num_nodes=args.num_nodes, accelerator=args.accelerator, progress=not args.no_progress,
        stop_at_step=args.stop_at_step,
    )
    print(f"trained {summary['steps']} steps in {summary['wall_seconds']:.0f} s ({summary['reason']}); model: {out / 'model.safetensors'}")
    return 0
