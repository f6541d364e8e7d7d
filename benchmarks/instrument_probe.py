"""How plainly each model's embeddings name the instrument, within one split's renderings.

    python benchmarks/instrument_probe.py MODEL [MODEL ...] --data DIR [--split test] [--max-clips N] [--threads 2]

The evaluation harness's cross-validated probe (``audiostyle.evaluation.probes``: logistic
regression on each clip's first model window, ``z_content`` pooled by mean and standard
deviation over time, both renderings of a work in one fold) for several models on one split,
without the rest of the evaluation: about a second a clip on two threads, where a full
``audiostyle evaluate`` decodes every clip. On the test split it is the number the
disentanglement bar reads; on the training split (``--split train --max-clips 40``) it says
whether a leak is already there in the fonts a model trained on, where a training term can act.
A quality diagnostic, not a speed benchmark.
"""

from __future__ import annotations

import time

from _corpus import clip_parser, parse_clip_args, work_renderings


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("models", nargs="+", help="shipped model names, .safetensors files or run folders (flagships)")
    args = parse_clip_args(ap)

    import audiostyle
    from audiostyle.errors import AudioStyleError
    from audiostyle.evaluation.probes import cross_validated_probe, embed_clips, has_embeddings

    _corpus, clips, instruments, waves, labels, groups = work_renderings(args.data, args.split, args.max_clips)

    print(f"{len(clips)} works of {args.data}/{args.split}, each rendered by {', '.join(instruments)}; "
          "chance is the share of the commonest instrument")
    print("| model | z_content (cross-validated) | z_style (cross-validated) | chance | embedding s |")
    print("|---|---|---|---|---|")
    for name in args.models:
        try:
            model = audiostyle.load(name).model.eval()
        except AudioStyleError as exc:
            raise SystemExit(str(exc)) from None
        if not has_embeddings(model):
            raise SystemExit(f"{name}: the model exposes no style/content embeddings")
        t0 = time.perf_counter()
        style, content = embed_clips(model, waves, windows_per_clip=1)  # as the harness: first window
        seconds = time.perf_counter() - t0
        probes = [{"skipped": "style from labels"} if feats is None else cross_validated_probe(feats, labels, groups)
                  for feats in (content, style)]
        cells = [f"{p['accuracy']:.3f}" if "accuracy" in p else p["skipped"] for p in probes]
        chance = probes[0].get("chance")  # as the harness reports it, not assumed from the instrument count
        print(f"| {name} | {cells[0]} | {cells[1]} | {'n/a' if chance is None else f'{chance:.3f}'} | {seconds:.0f} |")


if __name__ == "__main__":
    main()
