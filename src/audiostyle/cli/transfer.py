"""``audiostyle transfer INPUT... --to INSTRUMENT``: re-render recordings with another timbre."""

from __future__ import annotations

import argparse

from audiostyle.cli import add_settings_argument


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transfer", help="transfer audio files to another instrument", description=__doc__)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files (WAV, FLAC, OGG, MP3; any rate/channels)")
    p.add_argument("--to", required=True, help="target instrument (see `audiostyle instruments`)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", help="output file (one input only)")
    out.add_argument("--out-dir", help="folder for outputs, one per input, named INPUT-to-INSTRUMENT.wav")
    p.add_argument("--model", default=None, help="shipped model name or path (default: 'default')")
    p.add_argument("--reference", help="take the style from this clip instead of the instrument's prototype")
    p.add_argument("--from", dest="source", default=None,
                   help="the inputs' instrument, for models that use it (twin autoencoders; others ignore it)")
    p.add_argument("--sr", type=int, default=None, help="output sample rate (default: the model's, 22050)")
    add_settings_argument(p)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _outputs(args) -> list:
    from pathlib import Path

    from audiostyle.errors import AudioStyleError

    inputs = [Path(i) for i in args.inputs]
    if args.output:
        if len(inputs) > 1:
            raise AudioStyleError("-o/--output takes one input; use --out-dir for several")
        return [Path(args.output)]
    folder = Path(args.out_dir) if args.out_dir else None
    names = [f"{i.stem}-to-{args.to}.wav" for i in inputs]
    if len(set(names)) != len(names):
        raise AudioStyleError("several inputs share a file name; their outputs would overwrite each other")
    return [(folder or i.parent) / n for i, n in zip(inputs, names)]


def run(args: argparse.Namespace) -> int:
    from audiostyle.audio.io import load_audio, native_stderr_silenced, resample, save_audio
    from audiostyle.errors import AudioFileError, AudioStyleError
    from audiostyle.hub import load
    from audiostyle.models.settings import parse_pairs

    settings = parse_pairs(args.settings)
    outputs = _outputs(args)
    for out in outputs:  # fail before any work if an output cannot be written
        if not out.parent.is_dir():
            raise AudioFileError(out, f"output folder {out.parent} does not exist")
    with native_stderr_silenced():  # a bad input gives one error line, without decoder chatter
        waves = [load_audio(i) for i in args.inputs]  # every input is checked before any output
        reference = load_audio(args.reference) if args.reference else None
    model = load(args.model, settings=settings)
    to = model._check_instrument(args.to)  # an instrument the model cannot play is no input's fault
    if args.source:
        model._check_instrument(args.source)
    for src, wave, out in zip(args.inputs, waves, outputs):
        try:
            y, sr = model.transfer(wave, model.sr, to=to, reference=reference, progress=not args.no_progress,
                                   source=args.source)
        except AudioStyleError as exc:  # e.g. finite samples near the float32 limit overflow in the model
            raise AudioFileError(src, f"cannot be transferred ({exc})") from None
        if args.sr and args.sr != sr:
            y, sr = resample(y, sr, args.sr), args.sr
        save_audio(out, y, sr)
        print(f"{src} -> {out} ({len(y) / sr:.2f} s, {model.name}, {args.to})")
    return 0
