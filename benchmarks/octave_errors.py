"""Where reconstructions lose pitch by an octave: the tracker's octave errors and the partial
an octave below the note that causes them.

    python benchmarks/octave_errors.py MODEL [MODEL ...] --data DIR [--split test] [--kind fiddle] [--max-clips N] [--threads 2]

Every clip of the split (or of one source kind) is reconstructed with its own instrument by the
full inference path, as the harness does, and both the input and the output are tracked with
the harness's f0 tracker (PESTO). Over the frames voiced in both it counts the share where the
output reads within 50 cents of the input, an octave (±100 cents) below it, an octave above
it, or elsewhere. It also measures, in the output and in the input, the level of the partial at
half the input's f0 relative to the fundamental (dB; a clean note has next to nothing there),
for input notes below and above 700 Hz. A model that lays a ghost partial an octave under high
notes shows it here as a level near 0 dB and as octave-down frames; a single clip's pitch
correlation then falls from 1.0 to about 0.1. Prints one table per model (mean over clips per
source kind and instrument) and the clips with at least 5% of their frames an octave down.
A quality diagnostic, not a speed benchmark: about 2-3 minutes per model for the 77 test
pairs on 2 cores.
"""

from __future__ import annotations

import collections

import numpy as np
from _corpus import clip_parser, clips_of, parse_clip_args, partial_energies, print_kind_table, read_clip

SHARE_COLUMNS = ("within 50 cents", "octave below", "octave above", "elsewhere")
LEVEL_COLUMNS = ("f0/2 level, out, f0 < 700 Hz", "f0/2 level, in, f0 < 700 Hz", "f0/2 level, out, f0 >= 700 Hz",
                 "f0/2 level, in, f0 >= 700 Hz")
HIGH_HZ = 700.0


def partial_levels_db(wave: np.ndarray, sr: int, centres: np.ndarray, f0_hz: np.ndarray) -> np.ndarray:
    """Level of the partial at ``f0/2`` relative to the one at ``f0`` in each frame, in dB.

    Args:
        wave: ``(N,)`` samples at ``sr``.
        centres: ``(K,)`` the frames' centre samples.
        f0_hz: ``(K,)`` the fundamental in each of those frames.
    Returns:
        ``(K,)`` dB (energy within ±3 bins of ``f0/2`` over that around ``f0``,
        :func:`_corpus.partial_energies`); NaN for frames whose window runs past either end of
        ``wave``.
    """
    out = np.full(len(centres), np.nan)
    for i, (centre, f) in enumerate(zip(centres, f0_hz)):
        energy = partial_energies(wave, sr, centre, (f / 2, f))
        if energy is not None:
            out[i] = 10 * np.log10(energy[0] / energy[1])
    return out


def interval_shares(cents: np.ndarray) -> dict[str, float]:
    """Share of ``(K,)`` output-minus-input intervals (cents) in each :data:`SHARE_COLUMNS` class."""
    near = np.abs(cents) < 50
    below = np.abs(cents + 1200) < 100
    above = np.abs(cents - 1200) < 100
    rest = ~(near | below | above)
    return {name: float(m.mean()) for name, m in zip(SHARE_COLUMNS, (near, below, above, rest))}


def score_model(name: str, data, split: str, clips: list[dict]) -> tuple[dict, list[str]]:
    import audiostyle
    from audiostyle.audio.io import resample
    from audiostyle.metrics.pitch import MIN_COMMON_FRAMES, f0_contour, voiced_in_both

    style = audiostyle.load(name)
    scores, worst = collections.defaultdict(list), []
    for clip in clips:
        for inst in style.instruments:
            x, sr = read_clip(data, split, inst, clip)
            y, out_sr = style.transfer(x, sr, inst, source=inst)
            x = resample(x, sr, out_sr)
            times, fx, _ = f0_contour(x, out_sr)
            _, fy, _ = f0_contour(y, out_sr)
            frames = voiced_in_both(fx, fy)  # the frames the harness's pitch correlation compares
            if len(frames) < MIN_COMMON_FRAMES:
                continue
            centres = np.round(times[frames] * out_sr).astype(int)
            key = (clip["source_kind"], inst)
            shares = interval_shares(1200 * np.log2(fy[frames] / fx[frames]))
            for column, share in shares.items():
                scores[(*key, column)].append(share)
            high = fx[frames] >= HIGH_HZ
            out_levels = partial_levels_db(y, out_sr, centres, fx[frames])
            in_levels = partial_levels_db(x, out_sr, centres, fx[frames])
            for column, values in zip(LEVEL_COLUMNS, (out_levels[~high], in_levels[~high], out_levels[high], in_levels[high])):
                if np.isfinite(values).any():
                    scores[(*key, column)].append(float(np.nanmean(values)))
            if shares["octave below"] >= 0.05:
                worst.append(f"{clip['clip_id']} {inst}: {shares['octave below']:.0%} of frames an octave below")
    return scores, worst


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("models", nargs="+", help="shipped model names, .safetensors files or run folders")
    ap.add_argument("--kind", default=None, help="only clips of this source kind (chorale, fiddle)")
    args = parse_clip_args(ap)
    clips = [c for c in clips_of(args.data, args.split, args.max_clips) if args.kind in (None, c["source_kind"])]
    if not clips:
        raise SystemExit(f"{args.data}: no {args.kind or ''} clips in split {args.split!r}")
    for name in args.models:
        scores, worst = score_model(name, args.data, args.split, clips)
        print_kind_table(f"\nreconstruction, {args.split} split ({name}): share of frames voiced in both, "
                         "and the partial an octave below the note relative to the note (dB)",
                         [*SHARE_COLUMNS, *LEVEL_COLUMNS], scores)
        print(f"\nclips with 5% or more of their frames an octave below ({len(worst)}):")
        for line in worst:
            print(f"- {line}")


if __name__ == "__main__":
    main()
