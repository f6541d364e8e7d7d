"""How much the reconstruction pitch correlation moves when the notes stay exactly the same.

    python benchmarks/pitch_metric_sensitivity.py --data DIR [--split test] [--max-clips N]

The harness's pitch correlation (PESTO f0 contours, Pearson r in cents) tracks one f0 per
frame. On a monophonic clip that is the melody; on a four-part chorale it is whichever voice
the tracker hears as dominant, so a change of spectral balance alone can move it to another
voice. For every clip of the split, each instrument's rendering is scored against copies whose
notes and timing are untouched: the same notes rendered by the other instrument, and the clip
itself through smooth random equalisers of up to +-3, +-6 and +-12 dB (6 control frequencies,
as the flagship's content equaliser draws them; seeded). Prints the mean per source kind and
instrument. A metric diagnostic, not a speed benchmark: ~17 minutes on 2 cores for the whole
test split, ~4 minutes with ``--max-clips 12``.
"""

from __future__ import annotations

import argparse
import collections

import numpy as np
import soundfile as sf
import torch
from _corpus import add_clip_arguments, clips_of, print_kind_table

EQ_DB = (3.0, 6.0, 12.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_clip_arguments(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    from audiostyle.features.equalize import bin_frequencies, random_eq_db
    from audiostyle.features.spectral import SpectralConfig, istft, stft
    from audiostyle.metrics.pitch import pitch_correlation

    cfg = SpectralConfig()
    freqs = bin_frequencies(cfg)[: cfg.stft_bins]
    columns = ["other instrument, same notes"] + [f"same clip, EQ +-{db:g} dB" for db in EQ_DB]
    scores = collections.defaultdict(list)
    instruments = ("piano", "violin")
    for clip in clips_of(args.data, args.split, args.max_clips):
        waves = {}
        for inst in instruments:
            wave, sr = sf.read(args.data / args.split / inst / f"{clip['clip_id']}.wav", dtype="float32")
            if sr != cfg.sr:
                raise SystemExit(f"{args.data}: clips are at {sr} Hz, the metric's analysis expects {cfg.sr} Hz")
            waves[inst] = wave
        for inst in instruments:
            wave = waves[inst]
            other = waves[instruments[1 - instruments.index(inst)]]
            n = min(len(wave), len(other))
            spec = stft(torch.from_numpy(wave)[None], cfg)  # (1, F, T)
            variants = [other[:n]]
            for db in EQ_DB:
                gain = 10.0 ** (random_eq_db(1, freqs, db)[0] / 20.0)  # (F,)
                variants.append(istft(spec * gain[None, :, None], length=len(wave), cfg=cfg)[0].numpy())
            for name, est in zip(columns, variants):
                r = pitch_correlation(wave[: len(est)], est, sr)
                if np.isfinite(r):
                    scores[(clip["source_kind"], inst, name)].append(r)

    title = f"pitch correlation between a clip and copies with the same notes ({args.split} split)"
    print_kind_table(title, columns, scores)


if __name__ == "__main__":
    main()
