"""How much the reconstruction pitch correlation and agreement move when the notes stay exactly the same.

    python benchmarks/pitch_metric_sensitivity.py --data DIR [--split test] [--max-clips N]

The harness's pitch correlation (PESTO f0 contours, Pearson r in cents) tracks one f0 per
frame. On a monophonic clip that is the melody; on a four-part chorale it is mostly the bass
(benchmarks/voice_balance.py), and a change of spectral balance alone can move it to another
voice. For every clip of the split, each instrument's rendering is scored against copies whose
notes and timing are untouched: the same notes rendered by the other instrument, and the clip
itself through smooth random equalisers of up to +-3, +-6 and +-12 dB (6 control frequencies,
as the flagship's content equaliser draws them; seeded), and the same notes by the same
instrument rendered with the corpus's training soundfont: the timbre a model trained on the
training split learns, so the score a perfect rendering of the notes in that timbre would get.
Two tables: the harness's pitch correlation, and the pitch agreement (share of the compared
frames whose two f0s lie within 50 cents), from the same contours. ``--variants`` picks the
columns (default all). Prints the mean per source kind and instrument. A metric diagnostic,
not a speed benchmark: ~20 minutes on 2 cores for the whole test split with every column,
~4 minutes for the training font alone.
"""

from __future__ import annotations

import collections

import numpy as np
import torch
from _corpus import (clip_parser, clips_of, parse_clip_args, print_kind_table, read_clip,
                     training_font_renderer)

EQ_DB = (3.0, 6.0, 12.0)
VARIANTS = ("other", "eq", "font")


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated columns: other (instrument), eq, font (training soundfont)")
    args = parse_clip_args(ap)
    variants = args.variants.split(",")
    if not variants or set(variants) - set(VARIANTS):
        raise SystemExit(f"--variants: choose from {', '.join(VARIANTS)}, got {args.variants!r}")
    torch.manual_seed(0)

    from audiostyle.features.equalize import bin_frequencies, random_eq_db
    from audiostyle.features.spectral import SpectralConfig, istft, stft
    from audiostyle.evaluation.scoring import memo_scope
    from audiostyle.metrics.pitch import pitch_agreement, pitch_correlation

    cfg = SpectralConfig()
    freqs = bin_frequencies(cfg)[: cfg.stft_bins]
    in_training_font = training_font_renderer(args.data) if "font" in variants else None
    columns = (["other instrument, same notes"] * ("other" in variants)
               + [f"same clip, EQ +-{db:g} dB" for db in EQ_DB] * ("eq" in variants)
               + ["same instrument, training font"] * ("font" in variants))
    scores = {m: collections.defaultdict(list) for m in ("correlation", "agreement")}
    instruments = ("piano", "violin")
    for clip in clips_of(args.data, args.split, args.max_clips):
        waves = {}
        for inst in instruments:
            wave, sr = read_clip(args.data, args.split, inst, clip)
            if sr != cfg.sr:
                raise SystemExit(f"{args.data}: clips are at {sr} Hz, the metric's analysis expects {cfg.sr} Hz")
            waves[inst] = wave
        for inst in instruments:
            wave = waves[inst]
            other = waves[instruments[1 - instruments.index(inst)]]
            n = min(len(wave), len(other))
            copies = [other[:n]] if "other" in variants else []
            if "eq" in variants:
                spec = stft(torch.from_numpy(wave)[None], cfg)  # (1, F, T)
                for db in EQ_DB:
                    gain = 10.0 ** (random_eq_db(1, freqs, db)[0] / 20.0)  # (F,)
                    copies.append(istft(spec * gain[None, :, None], length=len(wave), cfg=cfg)[0].numpy())
            if in_training_font is not None:
                copies.append(in_training_font(args.split, clip["clip_id"], inst))
            with memo_scope():  # both metrics read the same two f0 contours
                for name, est in zip(columns, copies):
                    for metric, fn in (("correlation", pitch_correlation), ("agreement", pitch_agreement)):
                        value = fn(wave[: len(est)], est, sr)
                        if np.isfinite(value):
                            scores[metric][(clip["source_kind"], inst, name)].append(value)

    for metric in ("correlation", "agreement"):
        title = f"pitch {metric} between a clip and copies with the same notes ({args.split} split)"
        print_kind_table(title, columns, scores[metric])
        print()


if __name__ == "__main__":
    main()
