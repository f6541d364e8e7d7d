"""One table from several evaluations: models side by side with the baselines and the paper.

``audiostyle compare REPORT_DIR...`` reads the ``results.json`` of evaluations run on the same
data (same split, same clips) and writes the comparison in markdown: the ground-truth transfer
metrics per direction, the paper's reconstruction and transfer metrics next to the paper's own
Table 1, and the disentanglement probes; with ``--paired``, each later model's clip-by-clip
difference from the first, with bootstrap intervals over the clips. Baseline rows (content input, transcribe + re-render,
target) come from the first evaluation; the clips must match so that they apply to every model.
With ``--readme FILE`` the text replaces what lies between the markers
``<!-- results:begin -->`` and ``<!-- results:end -->`` in that file, so the README's table is
the command's output, not a copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from audiostyle.errors import AudioStyleError
from audiostyle.evaluation.paired import HEADLINE, paired_difference, verdict
from audiostyle.evaluation.report import BASELINES, PAPER_TABLE1, fmt, metric_label, subset_stats, task_label
from audiostyle.evaluation.scoring import METRIC_BY_KEY, METRICS, MONOPHONIC_KINDS, is_recon

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
TRANSFER_GROUND_TRUTH = ("lsd", "chroma_cos", "note_f1", "style_acc")
BASELINE_ORDER = ("content_input", "transcribe_rerender", "target")


def load_results(folder: str | Path) -> dict:
    """The ``results.json`` of a report folder (or the file itself)."""
    path = Path(folder)
    path = path / "results.json" if path.is_dir() else path
    try:
        results = json.loads(path.read_text())
    except FileNotFoundError:
        raise AudioStyleError(f"{path}: no such evaluation results (run `audiostyle evaluate` first)") from None
    except (OSError, ValueError) as exc:
        raise AudioStyleError(f"{path}: not readable evaluation results ({exc})") from None
    if results.get("format") != "audiostyle-evaluation":
        raise AudioStyleError(f"{path}: not an audiostyle evaluation results file")
    return results


def _cell(stats: dict | None, digits: int = 3) -> str:
    if not stats or stats.get("mean") is None:
        return "n/a"
    return f"{fmt(stats['mean'], digits)} ± {fmt(stats['std'], 2)}"


def monophonic_subset(stats: dict | None, kinds: dict[str, str]) -> dict | None:
    """Mean and (population) std of a metric's ``per_clip`` values over the monophonic clips.

    An f0 tracker follows one voice; on a polyphonic clip it may hop between voices, so an f0
    contour (and the pitch correlation built on it) is well defined on monophonic clips only.
    """
    return subset_stats(stats, {clip for clip, kind in kinds.items() if kind in MONOPHONIC_KINDS})


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _check_same_clips(runs: list[tuple[str, dict]]) -> None:
    first_label, first = runs[0]
    key = (first["data"]["dir"], first["data"]["split"], tuple(first["data"]["clips"]))
    for label, r in runs[1:]:
        if (r["data"]["dir"], r["data"]["split"], tuple(r["data"]["clips"])) != key:
            raise AudioStyleError(
                f"{label} was evaluated on other clips than {first_label} (data, split or --limit differ); "
                "compare evaluations of the same clips"
            )


def comparison_markdown(runs: list[tuple[str, dict]], paired: bool = False) -> str:
    """Markdown comparing ``[(label, results), ...]``; baselines from the first.

    With ``paired`` it adds each later model's clip-by-clip difference from the first, with
    bootstrap intervals (evaluation.paired).
    """
    if not runs:
        raise AudioStyleError("nothing to compare: give at least one report folder")
    _check_same_clips(runs)
    base = runs[0][1]
    data = base["data"]
    directions = [t for t in base["tasks"] if not is_recon(t)]
    recons = [t for t in base["tasks"] if is_recon(t)]
    labels = {s: base["systems"][s]["label"] for s in BASELINE_ORDER if s in base["results"]}

    lines = [f"Data: `{data['dir']}`, split `{data['split']}`, {data['n_clips']} clip pairs "
             f"({data['n_monophonic']} monophonic). Each output is scored against the true rendering of "
             "the same notes on the target instrument.", ""]
    lines += ["**Transfer, ground truth**", ""]
    header = ["direction", "system"] + [metric_label(k) for k in TRANSFER_GROUND_TRUTH]
    rows = []
    for task in directions:
        for label, r in runs:
            stats = r["results"]["model"].get(task, {})
            rows.append([task_label(task), f"**{label}**"] + [_cell(stats.get(k)) for k in TRANSFER_GROUND_TRUTH])
        for s, name in labels.items():
            stats = base["results"][s].get(task, {})
            rows.append([task_label(task), name] + [_cell(stats.get(k)) for k in TRANSFER_GROUND_TRUTH])
    lines += _table(header, rows)

    paper_keys = {kind: [m.key for m in METRICS if m.group == "paper" and m.task == kind] for kind in ("recon", "transfer")}
    kinds = data.get("kinds") or {}
    for title, tasks, keys, baseline in (
        ("Reconstruction, the paper's metrics (output vs input)", recons, paper_keys["recon"], "transcribe_rerender"),
        ("Transfer, the paper's metrics", directions, paper_keys["transfer"], "content_input"),
    ):
        recon = baseline == "transcribe_rerender"
        lines += ["", f"**{title}**", ""]

        def row(task, name, stats):
            extra = ([_cell(monophonic_subset(stats.get("pitch_corr"), kinds)), _cell(stats.get("pitch_agree"))]
                     if recon else [])
            return [task_label(task), name] + [_cell(stats.get(k)) for k in keys] + extra

        rows = []
        for task in tasks:
            for label, r in runs:
                rows.append(row(task, f"**{label}**", r["results"]["model"].get(task, {})))
            if baseline in labels:
                rows.append(row(task, labels[baseline], base["results"][baseline].get(task, {})))
            paper = PAPER_TABLE1.get(task)
            if paper:
                rows.append([task_label(task), "paper's Table 1"]
                            + [f"{fmt(paper[k][0], 3)} ± {fmt(paper[k][1], 2)}" if k in paper else "—" for k in keys]
                            + (["—", "—"] if recon else []))
        extra = ["pitch correlation, monophonic clips ↑", metric_label("pitch_agree")] if recon else []
        lines += _table(["task", "system"] + [metric_label(k) for k in keys] + extra, rows)

    lines += _paired_section(runs) if paired else []
    lines += ["", "**Disentanglement: linear probe accuracy of the instrument (chance "
              f"{fmt(1 / max(1, len(data.get('instruments', [0, 0]))), 2)})**", ""]
    rows = []
    for label, r in runs:
        diag = r.get("diagnostics") or {}
        keys = ("content", "content_cv", "style", "style_cv")
        rows.append([f"**{label}**"] + [fmt((diag.get(k) or {}).get("accuracy"), 3) for k in keys])
    # The first probe is fitted on the training font and crosses to the test split's unseen font;
    # the cross-validated one is fitted within the evaluated renderings (probes.py).
    lines += _table(["model", "from z_content (want ≤ 0.6)", "z_content, cross-validated on the test split",
                     "from z_style (want ≥ 0.95)", "z_style, cross-validated"], rows)
    clf = base.get("classifier") or {}
    if clf.get("accuracy_on_real") is not None:
        lines += ["", f"Style accuracy uses the harness's instrument classifier, itself "
                      f"{fmt(clf['accuracy_on_real'], 3)} accurate on the split's real renderings."]
    lines += ["", "Commands:", ""] + [f"- {label}: `{r['command']}`" for label, r in runs]
    return "\n".join(lines) + "\n"


def _paired_section(runs: list[tuple[str, dict]]) -> list[str]:
    """Each later model minus the first, clip by clip, with 95% bootstrap intervals over the clips."""
    if len(runs) < 2:
        return []
    first_label, first = runs[0]
    lines = ["", f"**Paired differences from {first_label}** (each model minus {first_label}, mean over the "
                 "clips scored in both with a 95% bootstrap interval over clips; it covers the choice of "
                 "clips, not training noise)", ""]
    rows = []
    for label, r in runs[1:]:
        for task in first["tasks"]:
            for key in HEADLINE["recon" if is_recon(task) else "transfer"]:
                a = ((first["results"]["model"].get(task) or {}).get(key) or {}).get("per_clip")
                b = ((r["results"]["model"].get(task) or {}).get(key) or {}).get("per_clip")
                if a is None or b is None:
                    continue
                diff = paired_difference(a, b)
                span = "n/a" if diff is None else (f"{fmt(diff['mean'], 3)} [{fmt(diff['low'], 3)}, "
                                                   f"{fmt(diff['high'], 3)}]")
                rows.append([task_label(task), f"**{label}**", metric_label(key), span,
                             str(diff["n"]) if diff else "0", verdict(diff, METRIC_BY_KEY[key].higher_is_better)])
    if not rows:
        return lines[:2] + ["", "n/a: the evaluations hold no per-clip values"]
    return lines + _table(["task", "model", "metric", "difference [95% interval]", "clips", "reading"], rows)


def update_between_markers(path: str | Path, text: str) -> Path:
    """Replace what lies between the results markers of ``path`` with ``text`` (atomically)."""
    from audiostyle.fileio import write_text

    path = Path(path)
    try:
        doc = path.read_text()
    except OSError as exc:
        raise AudioStyleError(f"{path}: cannot read ({exc.strerror or exc})") from None
    start, end = doc.find(BEGIN), doc.find(END)
    if start < 0 or end < start:
        raise AudioStyleError(f"{path}: no '{BEGIN}' ... '{END}' markers to write the table between")
    return write_text(path, doc[: start + len(BEGIN)] + "\n" + text + doc[end:])


__all__ = ["BASELINES", "comparison_markdown", "load_results", "update_between_markers"]
