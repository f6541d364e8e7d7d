"""``audiostyle models`` and ``audiostyle instruments``: what is shipped and what it plays."""

from __future__ import annotations

import argparse

from audiostyle.cli import add_settings_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the shipped models")
    p.set_defaults(func=run_models)
    p = sub.add_parser(
        "publish", help="(maintainers) ship a trained model with the package",
        description="Copy a run's model into the package's shipped models and record its SHA-256, "
        "training command, wall time and evaluation report in models.json.",
    )
    p.add_argument("source", help="run folder or .safetensors file")
    p.add_argument("--name", required=True, help="shipped name, e.g. default")
    p.add_argument("--description", required=True)
    p.add_argument("--command", required=True, help="the exact command that trained it")
    p.add_argument("--report", default=None, help="path of its committed evaluation report")
    add_settings_argument(p)  # recorded as the shipped model's default inference settings
    p.set_defaults(func=run_publish)
    p = sub.add_parser("instruments", help="list the instruments a model can play")
    p.add_argument("--model", default=None, help="shipped model name or path (default: 'default')")
    p.set_defaults(func=run_instruments)


def run_models(args: argparse.Namespace) -> int:
    from audiostyle.hub import DEFAULT_MODEL, shipped_models

    models = shipped_models()
    if not models:
        print("no models shipped in this installation")
    for name, entry in sorted(models.items()):
        mark = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{mark}: {entry.get('description', '')} [{', '.join(entry.get('instruments', []))}]")
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from audiostyle.hub import publish
    from audiostyle.models.settings import parse_pairs

    entry = publish(args.source, args.name, args.description, args.command, args.report,
                    settings=parse_pairs(args.settings))
    print(f"shipped {args.name}: {entry['file']} ({entry['size_mb']} MB, sha256 {entry['sha256'][:12]}...)")
    return 0


def run_instruments(args: argparse.Namespace) -> int:
    from audiostyle.hub import load

    model = load(args.model)
    for name in model.instruments:
        print(name)
    return 0
