"""How far apart soundfonts sound on the same notes, and how well a rendering in each keeps the
pitch contour of the split's clips.

    python benchmarks/font_distance.py FONT [FONT ...] --data DIR [--split test] [--max-clips N] [--threads 2]

Every clip of the split is rendered again from its notes file in each FONT (the corpus's own
velocities, length and level, ``audiostyle.data.render.rerender``), once per instrument. Two
tables, mean per source kind and instrument: the harness's log-spectral distance (dB) between
every pair of fonts, and the harness's pitch correlation (PESTO f0 contours) of each font's
rendering against the stored clip. On the test split the second is what a reconstruction with
every note right, in that font's timbre, would score against the unseen test font: the ceiling
a model trained on that font meets on the reconstruction pitch bar. Choosing a training font by
it looks at the test split; report it as such. A quality diagnostic, not a speed benchmark:
~15 minutes on one core for the 77 test clips and two fonts.
"""

from __future__ import annotations

import collections
import itertools
from pathlib import Path

import numpy as np
from _corpus import clip_parser, clips_of, parse_clip_args, print_kind_table, read_clip


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("fonts", nargs="+", help="SoundFont 2 files (e.g. from `audiostyle data font`)")
    args = parse_clip_args(ap)

    from audiostyle.data.layout import Corpus
    from audiostyle.data.render import check_font, rerender
    from audiostyle.errors import AudioStyleError
    from audiostyle.metrics.pitch import pitch_correlation
    from audiostyle.metrics.spectral import lsd

    try:
        fonts = {Path(f).stem: str(check_font(f)) for f in args.fonts}
        corpus = Corpus(args.data)
    except AudioStyleError as exc:
        raise SystemExit(str(exc)) from None
    if len(fonts) < len(args.fonts):
        raise SystemExit("two fonts share a file name; name each font once")
    distance, pitch = collections.defaultdict(list), collections.defaultdict(list)
    for clip in clips_of(args.data, args.split, args.max_clips):
        for inst in corpus.instruments(args.split):
            heard, sr = read_clip(args.data, args.split, inst, clip)
            try:
                waves = {name: rerender(corpus, args.split, clip["clip_id"], inst, font) for name, font in fonts.items()}
            except AudioStyleError as exc:
                raise SystemExit(str(exc)) from None
            for a, b in itertools.combinations(waves, 2):
                distance[(clip["source_kind"], inst, f"{a} - {b}")].append(lsd(waves[a], waves[b], sr))
            for name, wave in waves.items():
                r = pitch_correlation(heard, wave, sr)
                if np.isfinite(r):
                    pitch[(clip["source_kind"], inst, name)].append(r)

    print_kind_table(f"log-spectral distance between fonts, dB ({args.split} split)",
                     [f"{a} - {b}" for a, b in itertools.combinations(fonts, 2)], distance)
    print()
    print_kind_table(f"pitch correlation of each font's rendering against the {args.split} clips", list(fonts), pitch)


if __name__ == "__main__":
    main()
