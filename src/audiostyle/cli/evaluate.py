"""``audiostyle evaluate --model M --data DIR --out REPORT_DIR``: score a model with ground truth.

Scores the model and three baselines (content input, target, transcribe + re-render) on the
paired clips of a data set split: the seed paper's metrics (Table 1 layout, next to the paper's
numbers), ground-truth metrics (LSD, chroma cosine, note F1, raw pitch accuracy, style
accuracy) and disentanglement probes. Writes report.md, results.json, figures/ and examples/.
"""

from __future__ import annotations

import argparse

from audiostyle.cli import add_settings_argument


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a model: paper metrics, ground truth, baselines, report",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="shipped model name, run folder or .safetensors file")
    p.add_argument("--data", required=True, help="paired data set folder (from `audiostyle data render`)")
    p.add_argument("--out", required=True, help="report folder (created; report.md, results.json, figures/, examples/)")
    p.add_argument("--split", default="test", help="split to evaluate (default: test)")
    p.add_argument("--limit", type=_positive_int, default=None,
                   help="evaluate N clip pairs drawn with --seed (default: all)")
    p.add_argument("--directions", default=None,
                   help="comma-separated SOURCE:TARGET pairs (default: every pair the model plays), "
                        "e.g. piano:violin,violin:piano")
    p.add_argument("--workers", type=_positive_int, default=2, help="processes for the metrics (default: 2)")
    p.add_argument("--seed", type=int, default=0, help="seed for clip selection, probes and t-SNE (default: 0)")
    p.add_argument("--probe-clips", type=_positive_int, default=32,
                   help="train clips per instrument for the disentanglement probes (default: 32)")
    p.add_argument("--no-cache", action="store_true",
                   help="recompute the baseline rows instead of reusing DIR/cache/eval")
    add_settings_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)

    p = sub.add_parser("compare", help="one markdown table from several evaluations of the same clips",
                       description="Models side by side with the baselines and the paper's Table 1, from "
                       "the results.json of `audiostyle evaluate` runs on the same clips.")
    p.add_argument("reports", nargs="+", metavar="REPORT_DIR[=LABEL]",
                   help="evaluation folders, each optionally labelled: reports/flagship=flagship")
    p.add_argument("--paired", action="store_true",
                   help="add each later model's clip-by-clip difference from the first, with 95%% bootstrap "
                   "intervals over the clips (is a gap larger than the choice of clips explains?)")
    p.add_argument("-o", "--out", default=None, help="write the markdown to this file (default: print it)")
    p.add_argument("--readme", default=None,
                   help="also write it between the '<!-- results:begin -->' and '<!-- results:end -->' markers of this file")
    p.set_defaults(func=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from audiostyle.evaluation.compare import comparison_markdown, load_results, update_between_markers
    from audiostyle.fileio import write_text

    runs = []
    for spec in args.reports:
        folder, _, label = spec.partition("=")
        results = load_results(folder)
        runs.append((label or results["model"]["name"], results))
    text = comparison_markdown(runs, paired=args.paired)
    if args.out:
        write_text(args.out, text)
    if args.readme:
        update_between_markers(args.readme, text)
    if not args.out and not args.readme:
        print(text, end="")
    else:
        print(f"wrote {', '.join(str(Path(p)) for p in (args.out, args.readme) if p)}")
    return 0


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from audiostyle.evaluation.runner import evaluate
    from audiostyle.models.settings import parse_pairs

    argv = sys.argv[1:] if sys.argv and sys.argv[0].endswith(("audiostyle", "__main__.py")) else None
    command = "audiostyle " + shlex.join(argv) if argv else None
    results = evaluate(
        args.model, args.data, args.out, split=args.split, limit=args.limit, directions=args.directions,
        workers=args.workers, seed=args.seed, progress=not args.no_progress, use_cache=not args.no_cache,
        probe_clips=args.probe_clips, command=command, settings=parse_pairs(args.settings),
    )
    t = results["timings"]
    print(f"evaluated {results['data']['n_clips']} clip pairs of {results['data']['split']} "
          f"({', '.join(results['directions'])}): {args.out}/report.md, results.json "
          f"[harness {t['harness_s']:.1f} s, model inference {t['model_inference_s']:.1f} s]")
    return 0
