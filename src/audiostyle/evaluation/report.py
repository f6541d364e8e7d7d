"""Writing an evaluation: ``report.md``, ``results.json`` and the figures.

* ``results.json``: strict JSON (undefined values are ``null``), every number of the report
  plus per-clip values, the command, model, data, seed and timings.
* ``report.md``: a header, the ground-truth table per direction (rows = systems), the seed
  paper's Table 1 layout next to the paper's own numbers, the diagnostics, links to figures
  and example WAVs.
* figures: the metric tables as an image, ground-truth vs predicted magnitude and phase
  spectrograms (the paper's Figures 5-8 style), the run's loss curves (Figures 3-4);
* example WAVs: input, output and target of the first clips of each direction.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.evaluation.scoring import METRIC_BY_KEY, is_recon, metrics_for, parse_task

PAPER = ("Brigante, Federici, Fornetti, \"Disentangled Latent Representations for Audio Style "
         "Transfer\", 2025, Table 1")
PAPER_TABLE1: dict[str, dict[str, tuple[float, float]]] = {
    "piano:piano": {"chroma_distance": (1.7578, 0.17), "onset_f1": (0.07, 0.086),
                    "pitch_corr": (-0.056, 0.129), "spec_mse": (0.8, 1.799)},
    "violin:violin": {"chroma_distance": (1.8257, 0.164), "onset_f1": (0.092, 0.076),
                      "pitch_corr": (-0.032, 0.096), "spec_mse": (2.76, 3.765)},
    "piano:violin": {"chroma_sim": (0.0038, 0.0323), "mfcc_dist": (141.1462, 35.6489),
                     "instr_sim": (0.2634, 0.0483), "ssm_dist": (0.2794, 0.0371)},
    "violin:piano": {"chroma_sim": (-0.0038, 0.0256), "mfcc_dist": (210.5134, 30.1657),
                     "instr_sim": (0.4098, 0.0718), "ssm_dist": (0.2500, 0.0276)},
}
"""The seed paper's Table 1 (mean, std) by task; their metrics were computed differently
(first 3.3 s, frame-exact onsets, ...), so the comparison is indicative only."""

BASELINES = ("content_input", "target", "transcribe_rerender")
GROUND_TRUTH = ("lsd", "chroma_cos", "note_f1", "rpa", "style_acc")


def task_label(task: str) -> str:
    """``"piano:piano"`` -> ``"Piano Recon."``; ``"piano:violin"`` -> ``"Piano→Violin"``."""
    a, b = parse_task(task)
    return f"{a.capitalize()} Recon." if a == b else f"{a.capitalize()}→{b.capitalize()}"


def metric_label(key: str) -> str:
    spec = METRIC_BY_KEY[key]
    return f"{spec.label} {'↑' if spec.higher_is_better else '↓'}"


def fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if abs(value) < 1e-12:  # float round-off of an exact 0 (e.g. the std of identical values)
        return "0"
    return f"{value:.{digits}g}"


def cell(stats: dict | None, n_clips: int | None = None) -> str:
    """``mean ± std`` (with ``n`` when some clips are left out), ``n/a`` when nothing is defined."""
    if not stats or stats.get("mean") is None:
        return "n/a"
    text = f"{fmt(stats['mean'])} ± {fmt(stats['std'], 3)}"
    if n_clips is not None and stats.get("n", n_clips) != n_clips:
        text += f" (n={stats['n']})"
    return text


# --------------------------------------------------------------------------------------------
# JSON and markdown
# --------------------------------------------------------------------------------------------


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_results(results: dict, out_dir) -> Path:
    """``out_dir/results.json``, strict JSON (NaN and infinities as null)."""
    from audiostyle.fileio import write_text

    text = json.dumps(_json_safe(results), indent=1, allow_nan=False, ensure_ascii=False)
    return write_text(Path(out_dir) / "results.json", text + "\n")


def write_report(results: dict, out_dir) -> Path:
    """Write ``report.md`` and ``results.json`` into ``out_dir``; returns the report's path."""
    from audiostyle.fileio import write_text

    write_results(results, out_dir)
    return write_text(Path(out_dir) / "report.md", render_markdown(results))


def _systems(results: dict) -> list[str]:
    return [s for s in ("model", *BASELINES) if s in results["results"]]


def ground_truth_rows(results: dict, direction: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (one per system) of the ground-truth table of one direction."""
    n = results.get("data", {}).get("n_clips")
    header = ["system"] + [metric_label(k) for k in GROUND_TRUTH]
    rows = []
    for s in _systems(results):
        stats = results["results"][s].get(direction, {})
        rows.append([results["systems"][s]["label"]] + [cell(stats.get(k), n) for k in GROUND_TRUTH])
    return header, rows


def paper_rows(results: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the Table 1 layout: Task | Metric | Mean | Std | baselines | paper."""
    systems = results["systems"]
    base = [s for s in BASELINES if s in results["results"]]
    header = ["Task", "Metric", "Mean", "Std"] + [systems[s]["label"] for s in base] + ["Paper mean", "Paper std"]
    rows = []
    for task in results["tasks"]:
        for spec in metrics_for(task):
            if spec.group != "paper":
                continue
            model = results["results"]["model"][task].get(spec.key) or {}
            paper = PAPER_TABLE1.get(task, {}).get(spec.key)
            rows.append([task_label(task), metric_label(spec.key), fmt(model.get("mean")), fmt(model.get("std"), 3)]
                        + [cell(results["results"][s][task].get(spec.key)) for s in base]
                        + ([fmt(paper[0]), fmt(paper[1])] if paper else ["—", "—"]))
    return header, rows


def subset_stats(stats: dict | None, clips) -> dict | None:
    """Mean, population std and n of a metric's finite ``per_clip`` values over ``clips`` only."""
    values = [v for clip, v in ((stats or {}).get("per_clip") or {}).items()
              if clip in clips and v is not None and math.isfinite(v)]
    if not values:
        return None
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "n": len(values)}


def recon_pitch_rows(results: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of reconstruction pitch correlation and agreement, over all clips and
    per source kind (an f0 contour is one melody on a monophonic clip, a voice the tracker
    picks on a polyphonic one); the model and the transcribe + re-render baseline."""
    kinds = (results.get("data") or {}).get("kinds") or {}
    groups = {kind: {c for c, k in kinds.items() if k == kind} for kind in sorted(set(kinds.values()))}
    header = ["Task", "system"] + [f"{metric_label(key)}, {name}" for key in ("pitch_corr", "pitch_agree")
                                   for name in ("all", *groups)]
    rows = []
    for task in filter(is_recon, results["tasks"]):
        for system in (name for name in ("model", "transcribe_rerender") if name in results["results"]):
            stats = results["results"][system].get(task) or {}
            cells = []
            for key in ("pitch_corr", "pitch_agree"):
                cells.append(cell(stats.get(key)))
                cells += [cell(subset_stats(stats.get(key), clips)) for clips in groups.values()]
            rows.append([task_label(task), results["systems"][system]["label"]] + cells)
    return header, rows


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def render_markdown(results: dict) -> str:
    """The text of ``report.md``."""
    data, model, timings = results["data"], results["model"], results.get("timings", {})
    sha = f" (SHA-256 `{model['sha256'][:16]}…`)" if model.get("sha256") else ""
    limit = "" if data.get("limit") is None else f", limit {data['limit']}"
    lines = [f"# Evaluation: {model['name']}", "",
             f"- **Model**: `{model.get('path') or model['name']}`{sha}; "
             f"plays {', '.join(model.get('instruments', []))}"
             + ("; inference settings " + ", ".join(f"`{k}={v}`" for k, v in model["settings"].items())
                if model.get("settings") else ""),
             f"- **Data**: `{data['dir']}`, split `{data['split']}`, {data['n_clips']} clip pairs "
             f"({data['n_monophonic']} monophonic){limit}, seed {results['seed']}",
             f"- **Directions**: {', '.join(task_label(d) for d in results['directions'])}",
             f"- **Command**: `{results['command']}`", ""]

    lines += ["## Systems (rows)", ""]
    lines += _md_table(["row", "what it is"], [[v["label"], v["description"]] for v in results["systems"].values()])
    for name, why in results.get("skipped_systems", {}).items():
        lines.append(f"\n*{name} skipped: {why}*")

    lines += ["", "## Ground-truth metrics (output vs the true rendering of the same notes)", ""]
    clf = results.get("classifier") or {}
    for direction in results["directions"]:
        lines += [f"### {task_label(direction)}", ""]
        lines += _md_table(*ground_truth_rows(results, direction))
        lines.append("")
    if clf.get("accuracy_on_real") is not None:
        per = ", ".join(f"{k} {fmt(v, 3)}" for k, v in clf.get("per_instrument", {}).items())
        lines.append(f"Instrument classifier's own accuracy on the {data['split']} split's real renderings: "
                     f"**{fmt(clf['accuracy_on_real'], 3)}** (n={clf.get('n_real')}; {per}). Style accuracy of "
                     "the target row is that accuracy on the target instrument; of the content-input row, the "
                     "share of source renderings mistaken for the target.")
    elif clf.get("note"):
        lines.append(f"Style accuracy not computed: {clf['note']}")
    lines += ["", "Notes: note F1 transcribes the output with basic-pitch, which is reliable for piano output "
              "and weaker on violin (bowed onsets, vibrato); the target row shows that ceiling. Raw pitch "
              "accuracy is computed on monophonic (fiddle) clips only. Values are mean ± std (population) "
              "over the clips where the metric is defined; `n=` marks cells where some clips are undefined "
              "or do not apply.", ""]

    lines += ["## The paper's metrics (Table 1 layout)", "",
              f"Model under test in *Mean*/*Std*; baselines as mean ± std; paper numbers from {PAPER}. Their "
              "metrics were computed differently (first 3.3 s of each clip, frame-exact onset matching, "
              "references from unrelated clips), so the comparison is indicative only. Reconstruction: the "
              "model is asked to re-render each clip with its own instrument and the output is compared "
              "with the input, so the content-input and target rows are the input itself (the ideal).", ""]
    lines += _md_table(*paper_rows(results))
    if any("pitch_agree" in (results["results"]["model"].get(t) or {}) for t in results["tasks"]):
        lines += ["", "### Reconstruction pitch by kind of music", "",
                  "Pitch agreement reads the same f0 contours as the correlation, frame by frame: on a "
                  "polyphonic clip a few frames where the tracker hears another voice pull the correlation "
                  "down far more than their share.", ""]
        lines += _md_table(*recon_pitch_rows(results))

    lines += ["", "## Disentanglement diagnostics", ""] + _diagnostics(results.get("diagnostics") or {})
    lines += ["", "## Metric definitions", ""]
    lines += [f"- **{spec['label']}** ({'higher' if spec['higher_is_better'] else 'lower'} is better; "
              f"{spec['group'].replace('_', '-')}, {spec['task']}): {spec['description']}"
              for spec in results["metrics"].values()]

    figures = results.get("figures") or {}
    if figures:
        lines += ["", "## Figures", ""] + [f"- [{name}]({path})" for name, path in figures.items()]
        if "metric table" in figures:
            lines += ["", f"![metric table]({figures['metric table']})"]
    lines += ["", "## Examples", ""]
    for direction in results["directions"]:
        a, b = parse_task(direction)
        folder = f"examples/{a}-to-{b}"
        for clip in data["clips"][:3]:
            lines.append(f"- {task_label(direction)} `{clip}`: [input]({folder}/{clip}-input.wav) · "
                         f"[output]({folder}/{clip}-output.wav) · [target]({folder}/{clip}-target.wav)")
    lines += ["", "## Timings", ""]
    if timings:
        cache = results.get("cache", {})
        lines.append(f"Harness {fmt(timings.get('harness_s'), 3)} s ({fmt(timings.get('harness_per_clip_s'), 3)} s "
                     f"per clip pair, {timings.get('workers')} workers; baseline cache: "
                     f"{cache.get('hits', 0)} hits, {cache.get('misses', 0)} misses), "
                     f"model inference {fmt(timings.get('model_inference_s'), 3)} s, probe embeddings "
                     f"{fmt(timings.get('probe_embedding_s'), 3)} s, total {fmt(timings.get('total_s'), 3)} s. "
                     f"Metric CPU time {fmt(timings.get('metrics_cpu_per_job_s'), 3)} s per scored clip pair "
                     f"({timings.get('metric_jobs', 0)} scored, the rest from the cache).")
    return "\n".join(lines) + "\n"


def _diagnostics(diag: dict) -> list[str]:
    if "skipped" in diag:
        return [f"Skipped: {diag['skipped']}."]
    lines = ["Linear probe (logistic regression) predicting the instrument, trained on "
             f"{diag['n_train']} train-split clips, scored on {diag['n_eval']} evaluated renderings. "
             "Disentangled: style near 100%, content near chance. The test split's soundfont is "
             "never seen in training, so a second probe is cross-validated within the evaluated "
             "renderings (grouped k-fold, both renderings of a work in one fold): the instrument as "
             "readable in the font under test.", "",
             "| embedding | probe accuracy (train split → evaluated) | probe accuracy (cross-validated on evaluated) | chance |",
             "|---|---|---|---|"]
    for name in ("style", "content"):
        p, cv = diag.get(name) or {}, diag.get(f"{name}_cv") or {}
        if "skipped" in p:
            lines.append(f"| z_{name} | skipped: {p['skipped']} | | |")
        elif p:
            cv_text = f"skipped: {cv['skipped']}" if "skipped" in cv else (
                f"{fmt(cv['accuracy'], 3)} ({cv['folds']} folds)" if cv else "not measured")
            lines.append(f"| z_{name} | {fmt(p['accuracy'], 3)} | {cv_text} | {fmt(p['chance'], 3)} |")
    lines += ["", f"Pooling: {diag.get('pooling', '')}."]
    if diag.get("tsne_note"):
        lines.append(f"t-SNE: {diag['tsne_note']}.")
    return lines


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    from audiostyle.plots import save_figure

    return save_figure(fig, path, bbox_inches="tight")


def make_figures(results: dict, out_dir) -> None:
    """The metric tables as ``figures/metric_table.png`` (recorded in ``results["figures"]``)."""
    plt = _plt()
    blocks = [(f"Ground truth: {task_label(d)}", *ground_truth_rows(results, d)) for d in results["directions"]]
    blocks.append(("The paper's metrics (Table 1 layout)", *paper_rows(results)))
    heights = [0.6 + 0.32 * (len(rows) + 1) for _t, _h, rows in blocks]
    fig, axes = plt.subplots(len(blocks), 1, figsize=(15, sum(heights)), gridspec_kw={"height_ratios": heights})
    for ax, (title, header, rows) in zip(np.atleast_1d(axes), blocks):
        ax.axis("off")
        ax.set_title(title, fontsize=10, loc="left")
        table = ax.table(cellText=rows, colLabels=header, loc="center", cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(7.5)
        table.auto_set_column_width(list(range(len(header))))  # long metric names stay inside their cells
        table.scale(1.0, 1.25)
    path = _save(fig, Path(out_dir) / "figures" / "metric_table.png")
    results.setdefault("figures", {})["metric table"] = str(path.relative_to(out_dir))


def spectrogram_figure(ground_truth: np.ndarray, predicted: np.ndarray, title: str, out_path) -> Path:
    """Magnitude (dB) and phase spectrograms of two ``(N,)`` clips, ground truth vs predicted.

    The model's own STFT (n_fft 1024, hop 256, Hann) at 22050 Hz; phase in radians on a cyclic
    colour map. Rows: magnitude, phase; columns: ground truth, predicted.
    """
    import torch

    from audiostyle.features.spectral import stft

    plt = _plt()
    specs = [stft(torch.from_numpy(np.asarray(w, dtype=np.float32))[None])[0].numpy()
             for w in (ground_truth, predicted)]
    mags = [20 * np.log10(np.abs(s) + 1e-6) for s in specs]
    vmax = max(float(m.max()) for m in mags)
    duration = ground_truth.shape[0] / MODEL_SR
    extent = [0, duration, 0, MODEL_SR / 2000]
    fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), sharex=True, sharey=True)
    for col, (name, spec, mag) in enumerate(zip(("ground truth", "predicted"), specs, mags)):
        im_m = axes[0, col].imshow(mag, origin="lower", aspect="auto", cmap="magma", vmin=vmax - 80, vmax=vmax,
                                   extent=extent)
        im_p = axes[1, col].imshow(np.angle(spec), origin="lower", aspect="auto", cmap="twilight", vmin=-np.pi,
                                   vmax=np.pi, extent=extent, interpolation="nearest")
        axes[0, col].set_title(f"{name}: magnitude (dB)", fontsize=9)
        axes[1, col].set_title(f"{name}: phase (rad)", fontsize=9)
        axes[1, col].set_xlabel("time (s)")
    for row in range(2):
        axes[row, 0].set_ylabel("frequency (kHz)")
    fig.colorbar(im_m, ax=axes[0].tolist(), shrink=0.85)
    fig.colorbar(im_p, ax=axes[1].tolist(), shrink=0.85)
    fig.suptitle(title, fontsize=10)
    return _save(fig, out_path)


def loss_curves(metrics_path, out_path) -> Path | None:
    """The run's loss curves (:func:`audiostyle.training.plots.plot_losses`); None if unavailable."""
    from audiostyle.training.plots import plot_losses

    try:
        return plot_losses(metrics_path, out_path)
    except (OSError, ValueError, KeyError, TypeError):  # missing, empty or foreign metrics file
        return None


def write_examples(clips, dirs, outputs: dict, out_dir, n_examples: int = 3, n_spectrograms: int = 2) -> dict:
    """Example WAVs and magnitude/phase figures of the first clips, per direction.

    Writes ``examples/{a}-to-{b}/{clip}-{input,output,target}.wav`` for ``n_examples`` clips and
    :func:`spectrogram_figure` (target vs model output) for the first ``n_spectrograms``.

    Args:
        clips: :class:`~audiostyle.evaluation.systems.ClipAudio` list.
        outputs: ``{clip: {task: .npy path of the model's output}}``.
    Returns:
        ``{figure name: path relative to out_dir}``.
    """
    from audiostyle.audio.io import save_audio

    out_dir = Path(out_dir)
    figures = {}
    for a, b in dirs:
        folder = out_dir / "examples" / f"{a}-to-{b}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, clip in enumerate(clips[:n_examples]):
            x, t = clip.rendering(a), clip.rendering(b)
            y = np.load(outputs[clip.clip_id][f"{a}:{b}"])
            for name, wave in (("input", x), ("output", y), ("target", t)):
                save_audio(folder / f"{clip.clip_id}-{name}.wav", wave, MODEL_SR)
            if i < n_spectrograms:
                path = out_dir / "figures" / f"spectrogram_{a}-to-{b}_{clip.clip_id}.png"
                spectrogram_figure(t, y, f"{clip.clip_id}: {a} -> {b}", path)
                figures[f"spectrogram {a}->{b} {clip.clip_id}"] = str(path.relative_to(out_dir))
            clip._waves.clear()
    return figures
