"""``audiostyle data``: render paired clips from the corpus, prepare real recordings, or build a
SoundFont from a GUS patch set for rendering."""

from __future__ import annotations

import argparse

from audiostyle.data import TEST_FONT, TRAIN_FONT
from audiostyle.errors import AudioStyleError

FREEPATS_CFG = "/etc/timidity/freepats.cfg"
OUT_HELP = "output folder: new, empty, or a previous data set (which is replaced)"


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="build data sets (render corpus pairs, prepare recordings)",
                                   description="Build data sets: render corpus pairs or prepare recordings.")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: _usage(parser))

    render = sub.add_parser(
        "render", help="render paired clips of corpus excerpts with GM soundfonts",
        description="Render music21 corpus excerpts (Bach chorales, fiddle tunes) once per instrument "
                    "with the same notes: DIR/{train,val,test}/{instrument}/{clip}.wav, notes, manifest.")
    render.add_argument("--out", required=True, metavar="DIR", help=OUT_HELP)
    render.add_argument("--clips-per-instrument", type=int, default=768, metavar="N",
                        help="clips per instrument, total over splits (default 768)")
    render.add_argument("--seconds", type=float, default=10.0, metavar="S", help="clip length (default 10)")
    render.add_argument("--instruments", default="piano,violin", metavar="LIST",
                        help="comma-separated GM names or program numbers (default piano,violin)")
    render.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    render.add_argument("--train-font", default=TRAIN_FONT, metavar="F[,F...]",
                        help=f"soundfont for train and val, or a comma-separated list that the excerpts "
                             f"take in turn (default {TRAIN_FONT})")
    render.add_argument("--val-font", default=None, metavar="F[,F...]",
                        help="soundfont(s) for val (default: the train font(s))")
    render.add_argument("--test-font", default=TEST_FONT, metavar="F",
                        help=f"soundfont for test (default {TEST_FONT})")
    render.add_argument("--sources", default="chorales,fiddle", metavar="LIST",
                        help="comma-separated corpus sources: chorales, fiddle (default both)")
    render.add_argument("--workers", type=int, default=2, metavar="W", help="worker processes (default 2)")
    render.add_argument("--quiet", action="store_true", help="no progress output")
    render.set_defaults(func=_render)

    prepare = sub.add_parser(
        "prepare", help="cut real recordings SRC/{instrument}/* into a data set",
        description="Cut recordings SRC/{instrument}/*.{wav,flac,ogg,mp3} into RMS-normalised clips, "
                    "reject mostly-silent clips, split 80/10/10 by source file.")
    prepare.add_argument("--src", required=True, metavar="DIR",
                         help="folder with one subfolder of recordings per instrument")
    prepare.add_argument("--out", required=True, metavar="DIR", help=OUT_HELP)
    prepare.add_argument("--seconds", type=float, default=10.0, metavar="S", help="clip length (default 10)")
    prepare.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    prepare.add_argument("--quiet", action="store_true", help="no progress output")
    prepare.set_defaults(func=_prepare)

    font = sub.add_parser(
        "font", help="build a SoundFont 2 file from a GUS patch set (e.g. Debian's freepats)",
        description="Convert the GM programs a TiMidity patch list names (GUS .pat files) into one "
                    "SoundFont 2 file, for `data render --train-font`.")
    font.add_argument("--patches", default=FREEPATS_CFG, metavar="CFG",
                      help=f"TiMidity patch list (default {FREEPATS_CFG}, Debian package freepats)")
    font.add_argument("--out", required=True, metavar="FILE", help="SoundFont 2 file to write (.sf2)")
    font.add_argument("--instruments", default="piano,violin", metavar="LIST",
                      help="comma-separated GM names or program numbers (default piano,violin)")
    font.set_defaults(func=_font)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _render(args: argparse.Namespace) -> int:
    from audiostyle.data.instruments import resolve_instruments
    from audiostyle.data.render import check_font, render_corpus

    # Validate the cheap things first, so mistakes fail before any corpus parsing.
    instruments = resolve_instruments(args.instruments)
    train_fonts, val_fonts = _comma_list(args.train_font), _comma_list(args.val_font)
    for font in train_fonts + val_fonts + [args.test_font]:
        check_font(font)
    if args.workers < 1:
        raise AudioStyleError(f"--workers must be at least 1 (got {args.workers})")
    summary = render_corpus(
        args.out, instruments=[i.name for i in instruments], clips_per_instrument=args.clips_per_instrument,
        seconds=args.seconds, seed=args.seed, train_font=train_fonts, test_font=args.test_font,
        val_font=val_fonts or None, sources=_comma_list(args.sources),
        workers=args.workers, progress=not args.quiet)
    print(f"rendered {summary['out_dir']} in {summary['wall_seconds']:.1f} s")
    print(_counts_table(summary["counts"]))
    print("works per split: " + ", ".join(f"{s} {n}" for s, n in summary["works"].items()))
    print("fonts: " + ", ".join(f"{s} {' + '.join(f) if isinstance(f, list) else f}"
                                for s, f in summary["fonts"].items()))
    if summary["clipped_wavs"]:
        print(f"note: {summary['clipped_wavs']} WAVs peaked above full scale and were clipped")
    return 0


def _font(args: argparse.Namespace) -> int:
    from pathlib import Path

    from audiostyle.data.instruments import resolve_instruments
    from audiostyle.data.patches import patches_to_sf2

    instruments = resolve_instruments(args.instruments)
    cfg = Path(args.patches)
    if not cfg.is_file():
        hint = " (install it with `apt-get install freepats`)" if str(cfg) == FREEPATS_CFG else ""
        raise AudioStyleError(f"patch list {cfg} not found{hint}")
    out = Path(args.out)
    if out.suffix.lower() != ".sf2":
        raise AudioStyleError(f"--out {out}: a SoundFont 2 file name ends in .sf2")
    if not out.parent.is_dir():
        raise AudioStyleError(f"--out {out}: folder {out.parent} does not exist")
    programs = patches_to_sf2(cfg, out, [i.program for i in instruments])
    print(f"wrote {out}: GM programs {', '.join(str(p) for p in programs)} from {cfg}")
    return 0


def _comma_list(value: str | None) -> list[str]:
    """The non-empty, stripped items of a comma-separated option value (none for None)."""
    return [f.strip() for f in value.split(",") if f.strip()] if value else []


def _prepare(args: argparse.Namespace) -> int:
    from audiostyle.data.prepare import prepare_recordings

    summary = prepare_recordings(args.src, args.out, seconds=args.seconds, seed=args.seed,
                                 progress=not args.quiet)
    print(f"prepared {summary['out_dir']} in {summary['wall_seconds']:.1f} s")
    print(_counts_table(summary["counts"]))
    train = [n for n in summary["counts"]["train"].values()]
    if train and max(train) > 0:
        ratio = min(train) / max(train)
        print(f"class balance (train): smallest/largest = {min(train)}/{max(train)} = {ratio:.2f}")
    print(f"rejected clips (mostly silent): {len(summary['rejected'])}")
    print(f"skipped files: {len(summary['skipped'])}")
    for item in summary["skipped"]:
        print(f"  {item['file']}: {item['reason']}")
    return 0


def _counts_table(counts: dict[str, dict[str, int]]) -> str:
    """Clips per split (rows) and instrument (columns), as aligned text."""
    instruments = sorted({i for per in counts.values() for i in per})
    width = max([len(i) for i in instruments] + [5])
    lines = ["split  " + " ".join(f"{i:>{width}}" for i in instruments)]
    for split, per in counts.items():
        lines.append(f"{split:<6} " + " ".join(f"{per.get(i, 0):>{width}}" for i in instruments))
    return "\n".join(lines)
