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
    p = sub.add_parser(
        "prototype", help="set an instrument's target timbre from example recordings",
        description="Write a copy of a model whose prototype for one instrument is the mean style of "
        "example recordings (files, or folders of them), so transfers to that instrument take their "
        "timbre as far as the model's style codes hold one: e.g. --instrument violin with recordings of "
        "one violin. The flagship's codes hold the instrument and little else (docs/design.md), "
        "feature-vae's follow the recordings. Use the copy with --model.",
    )
    p.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files or folders of them (WAV, FLAC, OGG, MP3)")
    p.add_argument("--instrument", required=True, help="the instrument the recordings play")
    p.add_argument("--out", required=True, help="the new model file (.safetensors)")
    p.add_argument("--model", default=None, help="shipped model name or path (default: 'default')")
    add_settings_argument(p)  # written into the copy's config
    p.set_defaults(func=run_prototype)
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


def audio_files(inputs: list[str]) -> list:
    """The audio files named by ``inputs``: files as given, folders by their audio files (sorted,
    subfolders included). Hidden files and folders inside a folder are skipped, as ``data
    prepare`` skips them (macOS writes ``._name.wav`` sidecars that are not audio). Raises
    AudioFileError for a missing path or a folder without audio."""
    from pathlib import Path

    from audiostyle.audio.io import SUPPORTED_SUFFIXES
    from audiostyle.errors import AudioFileError

    files = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            if not found:
                raise AudioFileError(path, f"folder holds no audio files ({', '.join(SUPPORTED_SUFFIXES)})")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise AudioFileError(path, "no such file or folder")
    return files


def run_prototype(args: argparse.Namespace) -> int:
    from audiostyle.audio.io import load_audio, native_stderr_silenced
    from audiostyle.hub import with_prototype
    from audiostyle.models.settings import parse_pairs

    files = audio_files(args.inputs)
    with native_stderr_silenced():  # every input is read, and checked, before the model is touched
        waves = [load_audio(f) for f in files]
    record = with_prototype(args.model, args.instrument, waves, args.out, settings=parse_pairs(args.settings))
    print(f"{args.out}: {record['instrument']} prototype from {record['recordings']} recordings "
          f"({record['seconds']} s); moved {record['distance_from_previous']} from {record['from_model']}'s")
    return 0


def run_instruments(args: argparse.Namespace) -> int:
    from audiostyle.hub import load

    model = load(args.model)
    for name in model.instruments:
        print(name)
    return 0
