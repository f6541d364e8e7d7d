"""The ``audiostyle`` command line: one entry point, one module per subcommand group.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func`` to a handler taking the parsed namespace and returning an exit code. Handlers import
their heavy dependencies lazily so ``audiostyle --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from audiostyle import __version__
from audiostyle.errors import AudioStyleError

# Subcommand modules, in the order `--help` lists them.
_COMMAND_MODULES = ["data", "train", "evaluate", "transfer", "models", "demo", "serve"]


def add_settings_argument(p: argparse.ArgumentParser) -> None:
    """``--set NAME=VALUE`` (repeatable): a model's inference settings (:mod:`audiostyle.models.settings`)."""
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="inference setting of the model, repeatable: phase_refine_iters / style_gain / "
                        "recon_own_style / inference_feedback (flagship), "
                        "griffin_lim_iters (mel models), ddim_steps / strength / eta (ldm)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiostyle",
        description="Music style (timbre) transfer: data, training, evaluation and transfer.",
    )
    parser.add_argument("--version", action="version", version=f"audiostyle {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(f"audiostyle.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AudioStyleError as exc:
        print(f"audiostyle: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("audiostyle: interrupted", file=sys.stderr)
        return 130
