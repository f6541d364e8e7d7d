"""How much of a reconstruction's pitch correlation is lost to its balance of registers alone.

    python benchmarks/balance_match.py [MODEL ...] --data DIR [--split test] [--points 6] [--max-clips N] [--threads 2]

A reconstruction decoded from an instrument's prototype sounds in the timbre the model learned
from the training soundfont; the test clips are rendered with another font, whose registers sit
louder or quieter (docs/design.md). On a chorale the harness's f0 tracker follows whichever voice
the balance favours, so the same notes in another balance can score far under 1.0
(benchmarks/pitch_metric_sensitivity.py). This separates the two: each rendering is scored as
it is, and again after one smooth equaliser per clip that matches its long-term spectrum to the
input's. The equaliser is the same family as the flagship's content equaliser: gains at
``--points`` control frequencies spaced evenly in log-frequency from 40 Hz to the top bin,
linear in log-frequency between them. Each gain is set so that the power under its control
point's hat (the long-term power of that register, partials and valleys together) equals the
input's. With the default 6 points the control frequencies lie about 1.6 octaves apart, with
12 about 0.74: the curve moves whole registers and cannot place a note.

Renderings: the same notes by the same instrument in the corpus's training soundfont (a
note-perfect rendering in the learned timbre) and each MODEL's reconstruction by the full
inference path, as the harness makes it. Two tables, the harness's pitch correlation and the
pitch agreement (share of the compared frames within 50 cents), per source kind and over all
clips. A quality diagnostic, not a speed benchmark: about 5 minutes per model on 2 cores for
the 77 test clips, the training-font rendering included.
"""

from __future__ import annotations

import collections

import numpy as np
import torch
from _corpus import (clip_parser, clips_of, parse_clip_args, print_kind_table, read_clip,
                     training_font_renderer)

MAX_GAIN_DB = 30.0


def balance_gain_db(ref_power: np.ndarray, est_power: np.ndarray, basis: np.ndarray, rounds: int = 4) -> np.ndarray:
    """``(F,)`` smooth gain in dB that brings the long-term power ``est_power`` to
    ``ref_power`` (both ``(F,)``, mean power per bin) register by register: each control point's
    band power is the power under its hat in ``basis`` (``(F, P)``, ``features.equalize.eq_basis``), and its
    gain moves by the dB difference of the two band powers; the hats overlap, so this is
    repeated ``rounds`` times. Clipped to +-:data:`MAX_GAIN_DB`. Band power sums the partials
    and the valleys between them as the ear and the f0 tracker take them, where a fit of the
    per-bin dB ratio would follow the far more numerous valley bins."""
    ref_band = basis.T @ ref_power + 1e-12  # (P,)
    gain = np.zeros(basis.shape[1])
    for _ in range(rounds):
        est_band = basis.T @ (est_power * 10.0 ** (basis @ gain / 10.0)) + 1e-12
        gain = np.clip(gain + 10.0 * np.log10(ref_band / est_band), -MAX_GAIN_DB, MAX_GAIN_DB)
    return basis @ gain


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("models", nargs="*", help="shipped model names, .safetensors files or run folders")
    ap.add_argument("--points", type=int, default=6, help="control frequencies of the matching equaliser")
    args = parse_clip_args(ap)
    if args.points < 2:
        raise SystemExit(f"--points: an equaliser needs at least 2 control points, got {args.points}")

    import audiostyle
    from audiostyle.audio.io import resample
    from audiostyle.evaluation.scoring import memo_scope
    from audiostyle.features.equalize import bin_frequencies, eq_basis
    from audiostyle.features.spectral import SpectralConfig, istft, stft
    from audiostyle.metrics.pitch import pitch_agreement, pitch_correlation

    cfg = SpectralConfig()
    basis = eq_basis(bin_frequencies(cfg)[: cfg.stft_bins], args.points).numpy().astype(np.float64)  # (F, P)
    in_training_font = training_font_renderer(args.data)
    models = {name: audiostyle.load(name) for name in args.models}
    renderings = ["same instrument, training font", *(f"reconstruction ({n})" for n in models)]
    columns = [c for name in renderings for c in (name, f"{name}, balance matched")]
    scores = {m: collections.defaultdict(list) for m in ("correlation", "agreement")}
    for clip in clips_of(args.data, args.split, args.max_clips):
        for inst in ("piano", "violin"):
            x, sr = read_clip(args.data, args.split, inst, clip)
            if sr != cfg.sr:
                raise SystemExit(f"{args.data}: clips are at {sr} Hz, the analysis expects {cfg.sr} Hz")
            outs = {renderings[0]: in_training_font(args.split, clip["clip_id"], inst)}
            for name, style in models.items():
                y, out_sr = style.transfer(x, sr, inst, source=inst)
                outs[f"reconstruction ({name})"] = y if out_sr == sr else resample(y, out_sr, sr)
            spec_x = stft(torch.from_numpy(x)[None], cfg)[0].numpy()  # (F, T)
            ref_power = (np.abs(spec_x) ** 2).mean(axis=1)
            with memo_scope():  # the input's contour is tracked once for every copy
                for name, y in outs.items():
                    y = np.asarray(y, dtype=np.float32)[: len(x)]
                    spec_y = stft(torch.from_numpy(y)[None], cfg)  # (1, F, T)
                    gain = balance_gain_db(ref_power, (spec_y[0].abs() ** 2).mean(dim=1).numpy(), basis)
                    scale = torch.from_numpy(10.0 ** (gain / 20.0)).to(spec_y.real.dtype)
                    matched = istft(spec_y * scale[None, :, None], length=len(y), cfg=cfg)[0].numpy()
                    for col, est in ((name, y), (f"{name}, balance matched", matched)):
                        for kind in (clip["source_kind"], "all"):
                            scores["correlation"][(kind, inst, col)].append(pitch_correlation(x, est, sr))
                            scores["agreement"][(kind, inst, col)].append(pitch_agreement(x, est, sr))
    for metric, table in scores.items():
        clean = {k: [v for v in vals if np.isfinite(v)] for k, vals in table.items()}
        print_kind_table(f"\npitch {metric} with the input, {args.split} split (--points {args.points})", columns, clean)


if __name__ == "__main__":
    main()
