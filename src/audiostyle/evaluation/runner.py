"""Evaluation orchestration: which clips, which systems, outputs, metrics, aggregation.

:func:`evaluate` scores a model on the paired clips of one data set split:

1. :func:`~.plan.plan_evaluation`: check the data and the model, select clip pairs (all, or
   ``limit`` drawn with ``seed``) and the tasks: a reconstruction per instrument involved
   and each transfer direction;
2. run the model under test in this process and store its outputs (timed as *inference*);
3. score every system on every clip in parallel worker processes, one job per clip
   (:func:`audiostyle.evaluation.scoring.score_clip`); the baseline rows do not depend on the
   model, so their per-clip results come from / go to :class:`~.cache.ResultCache`;
4. aggregate mean +- std (population std over the clips where a metric is defined), run the
   disentanglement probes, write example WAVs, figures, ``report.md`` and ``results.json``.

The *harness time* reported is the total minus the model's own inference (transfers and
probe embeddings).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import scoring
from audiostyle.evaluation.cache import ResultCache, clip_fingerprint, library_versions
from audiostyle.evaluation.plan import Plan, check_output, plan_evaluation, prepare_output
from audiostyle.evaluation.systems import ClipAudio, ModelSystem, baseline_systems

RESULTS_FORMAT = "audiostyle-evaluation"
N_EXAMPLES = 3  # example WAV triples per direction
N_SPECTROGRAMS = 2  # magnitude/phase figures per direction
DEFAULT_PROBE_CLIPS = 32  # train clips per instrument for the linear probes


def _progress(iterable=None, progress: bool = True, **kwargs):
    from tqdm import tqdm

    return tqdm(iterable, disable=not progress, dynamic_ncols=True, **kwargs)


def _infer(system: ModelSystem, clips: list[ClipAudio], tasks: list[str], work: Path, progress: bool) -> dict:
    """Run the model on every clip and task in this process; ``{clip: {task: .npy path}}``."""
    outputs: dict[str, dict[str, str]] = {}
    bar = _progress(total=len(clips) * len(tasks), progress=progress, desc="inference", unit="output")
    for clip in clips:
        outputs[clip.clip_id] = {}
        for task in tasks:
            path = work / f"{clip.clip_id}__{task.replace(':', '-')}.npy"
            np.save(path, system.produce(clip, *scoring.parse_task(task)))
            outputs[clip.clip_id][task] = str(path)
            bar.update(1)
        clip._waves.clear()
    bar.close()
    return outputs


def _score(clips, systems, baselines, outputs, tasks, classifier, cache: ResultCache, workers: int,
           progress: bool) -> tuple[dict, dict]:
    """Per-item results ``{(clip, system, task): result}`` (cached or computed) and job statistics."""
    results: dict[tuple[str, str, str], dict] = {}
    jobs, keys = [], {}
    for clip in clips:
        fingerprint = clip_fingerprint(clip) if cache.enabled else None
        cached = cache.read(clip.clip_id)
        items = []
        for system in systems:
            for task in tasks:
                if system.cacheable and cache.enabled:
                    key = keys[(clip.clip_id, system.name, task)] = cache.key(system, task, fingerprint)
                    if key in cached:
                        results[(clip.clip_id, system.name, task)] = cached[key]
                        cache.hits += 1
                        continue
                    cache.misses += 1
                items.append((system.name, task))
        if items:
            jobs.append({"clip": clip, "items": items, "systems": {s.name: s for s in baselines},
                         "outputs": outputs[clip.clip_id], "classifier": classifier})
    cpu = {}
    for done in _run_jobs(jobs, workers, progress):
        cpu[done["clip"]] = done["cpu_seconds"]
        new = {}
        for (system, task), value in done["results"].items():
            results[(done["clip"], system, task)] = value
            if (done["clip"], system, task) in keys:
                new[keys[(done["clip"], system, task)]] = value
        cache.write(done["clip"], new)
    # CPU seconds per scored clip: with a cold cache, what a full run's cost scales with.
    return results, {"metric_jobs": len(jobs), "metrics_cpu_s": sum(cpu.values()),
                     "metrics_cpu_per_job_s": sum(cpu.values()) / len(jobs) if jobs else 0.0,
                     "metrics_cpu_by_clip_s": cpu}


def _run_jobs(jobs: list[dict], workers: int, progress: bool):
    """Yield :func:`scoring.score_clip` results, in parallel (joblib/loky) when ``workers > 1``."""
    if workers <= 1 or len(jobs) <= 1:
        results = (_score_here(j) for j in jobs)
    else:
        from joblib import Parallel, delayed

        # The first clip is scored here, before any worker starts: librosa's numba kernels are
        # compiled into an on-disk cache whose writes race between processes and can leave
        # files that segfault the next process to load them (numba issue #10128).
        first = _score_here(jobs[0])
        for job in jobs[1:]:
            job["limit_threads"] = True
        rest = Parallel(n_jobs=min(workers, len(jobs) - 1), return_as="generator_unordered", batch_size=1)(
            delayed(scoring.score_clip)(j) for j in jobs[1:])
        results = itertools.chain([first], rest)
    for result in _progress(results, progress, total=len(jobs), desc="metrics", unit="clip"):
        if "error" in result:
            raise AudioStyleError(result["error"])
        yield result


def _score_here(job: dict) -> dict:
    result = scoring.score_clip(job)
    job["clip"]._waves.clear()  # scored in this process: do not keep every clip's audio
    return result


def _classifier(root: Path, instruments: list[str], workers: int, cache_dir: Path | None):
    """``(classifier, None)`` trained on DIR/train (cached in ``cache_dir``), or ``(None, reason)``."""
    from audiostyle.metrics.classifier import train_or_load

    if not (root / "train").is_dir():
        return None, f"{root}: no train split to train the instrument classifier on"
    with tempfile.TemporaryDirectory() as tmp:
        path = (cache_dir or Path(tmp)) / "classifier.joblib"
        try:
            return train_or_load(root, path, instruments=instruments, n_jobs=max(1, workers)), None
        except AudioStyleError as exc:
            return None, str(exc)


def evaluate(model, data_dir, out_dir, *args, **kwargs) -> dict:
    """:func:`evaluate_into`, and if it fails, no half-written report: a folder this call
    created (or found empty) is removed again. An earlier report's folder is left as it is."""
    out_dir = Path(out_dir)
    fresh = not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir()))
    try:
        return evaluate_into(model, data_dir, out_dir, *args, **kwargs)
    except BaseException:
        if fresh and out_dir.is_dir() and not (out_dir / "results.json").exists():
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def evaluate_into(model, data_dir, out_dir, split: str = "test", limit: int | None = None, directions=None,
             workers: int = 2, seed: int = 0, progress: bool = True, use_cache: bool = True,
             probe_clips: int = DEFAULT_PROBE_CLIPS, command: str | None = None,
             settings: dict | None = None) -> dict:
    """Score ``model`` on the paired clips of ``data_dir/split``; write the report to ``out_dir``.

    Args:
        model: shipped model name, run folder, ``.safetensors`` file, or an object with
            ``transfer(wave (N,), sr, to) -> (wave (N',), sr)``, ``name`` (and ``instruments``).
        directions: ``"piano:violin,violin:piano"`` or pairs; default every ordered pair of
            the instruments the model plays and the split holds.
        limit: evaluate this many clip pairs drawn with ``seed`` (default: all).
        workers: processes for the metric computation (1: in this process).
        use_cache: reuse and store the baseline rows' per-clip results under ``DIR/cache/eval``.
        probe_clips: train clips per instrument for the disentanglement probes.
        settings: the model's inference settings (``--set``), recorded in the results.
    Returns:
        The results dictionary also written to ``out_dir/results.json``.
    Raises:
        AudioStyleError: see :func:`plan_evaluation` and :func:`check_output`.
    """
    from audiostyle.evaluation import probes, report

    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    check_output(out_dir)
    plan = plan_evaluation(model, data_dir, split, limit, directions, seed, settings)
    prepare_output(out_dir)
    cache_dir = plan.root / "cache" / "eval"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only data set: no caching, the classifier is trained in a temp folder
        cache_dir = None

    timings: dict = {}
    t0 = time.perf_counter()
    classifier, classifier_note = _classifier(plan.root, plan.instruments, workers, cache_dir)
    timings["classifier_s"] = time.perf_counter() - t0
    baselines, skipped = baseline_systems(plan.corpus.manifest, split, plan.instruments)
    model_system = ModelSystem(plan.transfer, plan.model_info["name"])
    systems = [model_system, *baselines]
    clf_token = None if classifier is None else {"meta": classifier.meta, "classes": classifier.classes_}
    cache = ResultCache(cache_dir / split if (use_cache and cache_dir is not None) else None, clf_token)

    work = Path(tempfile.mkdtemp(prefix=".evaluate-", dir=out_dir))
    try:
        t0 = time.perf_counter()
        _seed_torch(seed)
        outputs = _infer(model_system, plan.clips, plan.tasks, work, progress)
        timings["model_inference_s"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        items, job_stats = _score(plan.clips, systems, baselines, outputs, plan.tasks, classifier, cache,
                                  workers, progress)
        timings["metrics_s"] = time.perf_counter() - t0
        timings.update(job_stats)
        results = scoring.aggregate(items, [s.name for s in systems], plan.tasks, plan.clip_ids, classifier)

        t0 = time.perf_counter()
        figures = report.write_examples(plan.clips, plan.dirs, outputs, out_dir, N_EXAMPLES, N_SPECTROGRAMS)
        if plan.model_info.get("run_dir"):
            path = report.loss_curves(Path(plan.model_info["run_dir"]) / "metrics.jsonl",
                                      out_dir / "figures" / "loss_curves.png")
            if path:
                figures["loss curves"] = str(path.relative_to(out_dir))
        timings["examples_s"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    try:
        diagnostics = probes.run_probes(getattr(plan.transfer, "model", None), plan.corpus, split, plan.clip_ids,
                                        plan.instruments, out_dir / "figures", train_clips=probe_clips, seed=seed,
                                        progress=progress)
    except (AudioStyleError, RuntimeError, ValueError) as exc:
        # Diagnostics come last: a model whose encoders fail must not cost the finished metrics.
        diagnostics = {"skipped": f"the probes failed ({type(exc).__name__}: {exc})"}
    for name, path in diagnostics.pop("figures", {}).items():
        figures[name] = str(Path(path).relative_to(out_dir))
    timings["probe_embedding_s"] = diagnostics.get("embed_s", 0.0)
    timings["probe_fit_s"] = diagnostics.get("fit_s", 0.0)

    results.update({
        "format": RESULTS_FORMAT, "format_version": 1,
        "command": command or _command(model, plan, out_dir, limit, workers, seed),
        "model": {**plan.model_info, "instruments": plan.played},
        "data": {"dir": str(plan.root), "split": split, "limit": limit, "clips": plan.clip_ids,
                 "n_clips": len(plan.clips),
                 "n_monophonic": sum(c.kind in scoring.MONOPHONIC_KINDS for c in plan.clips),
                 "instruments": plan.instruments, "kinds": {c.clip_id: c.kind for c in plan.clips}},
        "seed": seed, "directions": [scoring.task_key(a, b) for a, b in plan.dirs], "tasks": plan.tasks,
        "systems": {s.name: s.info() for s in systems}, "skipped_systems": skipped,
        "metrics": {m.key: {"label": m.label, "task": m.task, "group": m.group,
                            "higher_is_better": m.higher_is_better, "description": m.description}
                    for m in scoring.METRICS},
        "metrics_version": scoring.METRICS_VERSION,
        "diagnostics": diagnostics, "figures": figures,
        "cache": {"enabled": cache.enabled, "folder": str(cache.folder) if cache.enabled else None,
                  "hits": cache.hits, "misses": cache.misses},
        "versions": library_versions(), "timings": timings,
    })
    results["classifier"].update({"note": classifier_note, "path": str(cache_dir / "classifier.joblib")
                                  if (cache_dir and classifier) else None})
    t0 = time.perf_counter()
    report.make_figures(results, out_dir)
    timings["report_figures_s"] = time.perf_counter() - t0
    total = time.perf_counter() - t_start
    harness = total - timings["model_inference_s"] - timings["probe_embedding_s"]
    timings.update({"total_s": total, "harness_s": harness,
                    "harness_per_clip_s": harness / max(1, len(plan.clips)), "workers": workers})
    report.write_report(results, out_dir)  # markdown + JSON: milliseconds
    return results


def _seed_torch(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _command(model, plan: Plan, out_dir, limit, workers, seed) -> str:
    """The equivalent command line (for reports of evaluations started from Python)."""
    parts = ["audiostyle", "evaluate", "--model", str(getattr(model, "name", model)), "--data", str(plan.root),
             "--split", plan.split, "--directions", ",".join(f"{a}:{b}" for a, b in plan.dirs),
             "--out", str(out_dir), "--workers", str(workers), "--seed", str(seed)]
    if limit is not None:
        parts += ["--limit", str(limit)]
    return " ".join(parts)
