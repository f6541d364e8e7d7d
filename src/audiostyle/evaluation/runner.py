"""Evaluation orchestration: which clips, which systems, outputs, metrics, aggregation.

:func:`evaluate` scores a model on the paired clips of one data set split:

1. select clip pairs (all, or ``limit`` drawn with ``seed``) and the tasks: a reconstruction
   per instrument involved and each transfer direction;
2. run the model under test in this process, storing its outputs (timed as *inference*);
3. score every system on every clip in parallel worker processes, one job per clip
   (:func:`audiostyle.evaluation.scoring.score_clip`); the baseline rows do not depend on the
   model, so their per-clip results are cached under ``DIR/cache/eval/{split}/{clip}.json``,
   keyed by the clip's audio and notes, the system's configuration, the classifier and the
   metric version;
4. aggregate mean +- std (population std over clips where the metric is defined), run the
   disentanglement probes, write examples, figures, ``report.md`` and ``results.json``.

The *harness time* reported is the total minus the model's own inference (transfer and
probe embeddings).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from audiostyle import MODEL_SR, __version__
from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import scoring
from audiostyle.evaluation.systems import ClipAudio, ModelSystem, baseline_systems

CACHE_FORMAT = "audiostyle-eval-cache"
RESULTS_FORMAT = "audiostyle-evaluation"
N_EXAMPLES = 3  # example WAV triples per direction
N_SPECTROGRAMS = 2  # magnitude/phase figures per direction
DEFAULT_PROBE_CLIPS = 64  # train clips per instrument for the linear probes


def parse_directions(spec, available: list[str]) -> list[tuple[str, str]]:
    """``"piano:violin,violin:piano"`` (or pairs) -> ``[("piano", "violin"), ...]``.

    ``None``: every ordered pair of ``available``. Names are resolved to folder names.
    """
    from audiostyle.data.instruments import resolve_instrument

    if spec is None:
        return [(a, b) for a in available for b in available if a != b]
    parts = [p.strip() for p in spec.split(",") if p.strip()] if isinstance(spec, str) else list(spec)
    out = []
    for part in parts:
        pair = part.split(":") if isinstance(part, str) else list(part)
        if len(pair) != 2 or not all(str(x).strip() for x in pair):
            raise AudioStyleError(f"direction {part!r}: expected SOURCE:TARGET, e.g. piano:violin")
        a, b = (_canonical(str(x).strip(), resolve_instrument) for x in pair)
        if a == b:
            raise AudioStyleError(f"direction {part!r}: source and target are the same instrument")
        if (a, b) in out:
            raise AudioStyleError(f"direction {a}:{b} is listed twice")
        out.append((a, b))
    if not out:
        raise AudioStyleError("no transfer directions given")
    return out


def _canonical(name: str, resolve) -> str:
    try:
        return resolve(name).name
    except AudioStyleError:
        return name  # a folder name outside the GM table (prepared data sets)


def select_clips(ids: list[str], limit: int | None, seed: int) -> list[str]:
    """All ``ids``, or ``limit`` of them drawn without replacement with ``seed`` (sorted)."""
    ids = sorted(ids)
    if limit is None or limit >= len(ids):
        return ids
    if limit < 1:
        raise AudioStyleError(f"--limit must be at least 1 (got {limit})")
    rng = np.random.default_rng(seed)
    return sorted(str(ids[i]) for i in rng.choice(len(ids), size=limit, replace=False))


def load_model(model) -> tuple[object, dict]:
    """``(transfer object, info)`` for a shipped name, a run folder, a ``.safetensors`` file, or
    an object that already has ``transfer(wave, sr, to)`` (tests, custom systems)."""
    if hasattr(model, "transfer"):
        return model, {"name": getattr(model, "name", type(model).__name__), "path": None, "sha256": None,
                       "run_dir": None}
    from audiostyle.hub import load, resolve_model
    from audiostyle.training.state import file_sha256

    name, path = resolve_model(model)
    transfer = load(model)
    run_dir = path.parent if (path.parent / "metrics.jsonl").is_file() else None
    return transfer, {"name": name, "path": str(path), "sha256": file_sha256(path),
                      "kind": getattr(transfer.model, "kind", None), "run_dir": str(run_dir) if run_dir else None}


def _library_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"audiostyle": __version__}
    for pkg in ("numpy", "librosa", "mir_eval", "basic-pitch", "pesto-pitch", "scikit-learn", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _sha1_file(path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def _fingerprint(clip: ClipAudio) -> dict:
    notes = json.dumps(clip.notes, sort_keys=True) if clip.notes is not None else None
    return {"audio": {inst: _sha1_file(p) for inst, p in clip.paths.items()},
            "notes": hashlib.sha1(notes.encode()).hexdigest() if notes else None, "kind": clip.kind}


class ResultCache:
    """Per-clip JSON files of baseline results; silently read-only when the folder is not writable."""

    def __init__(self, folder: Path | None, base_token: dict):
        self.folder, self.base_token = folder, base_token
        self.hits = self.misses = 0
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                self.folder = None

    def key(self, system, task: str, fp: dict) -> str:
        payload = {**self.base_token, "system": system.name, "token": system.cache_token(), "task": task,
                   "audio": {i: fp["audio"].get(i) for i in scoring.parse_task(task)},
                   "notes": fp["notes"], "kind": fp["kind"]}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _path(self, clip_id: str) -> Path | None:
        return self.folder / f"{clip_id}.json" if self.folder is not None else None

    def read(self, clip_id: str) -> dict:
        path = self._path(clip_id)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data["entries"] if data.get("format") == CACHE_FORMAT else {}
        except (OSError, ValueError, KeyError, AttributeError):
            return {}  # a damaged cache file is just recomputed

    def write(self, clip_id: str, entries: dict) -> None:
        path = self._path(clip_id)
        if path is None or not entries:
            return
        from audiostyle.fileio import write_json

        merged = {**self.read(clip_id), **entries}
        try:
            write_json(path, {"format": CACHE_FORMAT, "entries": merged})
        except OSError:
            pass


def summarize(per_clip: dict[str, float | None]) -> dict:
    """``{clip: value}`` -> mean, population std, n (finite values), n_undefined, per-clip values."""
    vals = np.array([v for v in per_clip.values() if v is not None and np.isfinite(v)], dtype=np.float64)
    return {"mean": float(vals.mean()) if vals.size else None, "std": float(vals.std()) if vals.size else None,
            "n": int(vals.size), "n_undefined": int(len(per_clip) - vals.size),
            "per_clip": {c: scoring.finite_or_none(v) for c, v in per_clip.items()}}


def _progress(iterable, progress: bool, **kwargs):
    from tqdm import tqdm

    return tqdm(iterable, disable=not progress, dynamic_ncols=True, **kwargs)


def _run_jobs(jobs: list[dict], workers: int, progress: bool):
    """Yield :func:`scoring.score_clip` results, in parallel (joblib/loky) when ``workers > 1``."""
    if workers <= 1 or len(jobs) <= 1:
        results = (scoring.score_clip(j) for j in jobs)
    else:
        from joblib import Parallel, delayed

        for job in jobs:
            job["limit_threads"] = True
        results = Parallel(n_jobs=min(workers, len(jobs)), return_as="generator_unordered", batch_size=1)(
            delayed(scoring.score_clip)(j) for j in jobs)
    for result in _progress(results, progress, total=len(jobs), desc="metrics", unit="clip"):
        if "error" in result:
            raise AudioStyleError(result["error"])
        yield result


def _classifier(root: Path, instruments: list[str], workers: int, cache_dir: Path | None):
    """The instrument classifier (trained on DIR/train, cached) or ``(None, reason)``."""
    from audiostyle.metrics.classifier import train_or_load

    if not (root / "train").is_dir():
        return None, f"{root}: no train split to train the instrument classifier on"
    with tempfile.TemporaryDirectory() as tmp:
        path = (cache_dir / "classifier.joblib") if cache_dir is not None else Path(tmp) / "classifier.joblib"
        try:
            return train_or_load(root, path, instruments=instruments, n_jobs=max(1, workers)), None
        except AudioStyleError as exc:
            return None, str(exc)


def evaluate(model, data_dir, out_dir, split: str = "test", limit: int | None = None, directions=None,
             workers: int = 2, seed: int = 0, progress: bool = True, use_cache: bool = True,
             probe_clips: int = DEFAULT_PROBE_CLIPS, command: str | None = None) -> dict:
    """Score ``model`` on the paired clips of ``data_dir/split``; write the report to ``out_dir``.

    Args:
        model: shipped model name, run folder, ``.safetensors`` file, or an object with
            ``transfer(wave (N,), sr, to) -> (wave (N',), sr)``, ``name`` (and ``instruments``).
        directions: ``"piano:violin,violin:piano"`` or pairs; default every ordered pair of
            the instruments the model plays and the split holds.
        limit: evaluate this many clip pairs drawn with ``seed`` (default: all).
        workers: processes for the metric computation (1: in this process).
        use_cache: reuse and store the baseline rows' per-clip results under ``DIR/cache/eval``.
    Returns:
        The results dictionary also written to ``out_dir/results.json``.
    Raises:
        AudioStyleError: missing data set or split, no paired clips, unknown model or
            instrument, unusable output folder.
    """
    from audiostyle.data.layout import Corpus
    from audiostyle.evaluation import probes, report

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    root, out_dir = Path(data_dir), Path(out_dir)
    corpus = Corpus(root)
    if split not in corpus.splits():
        raise AudioStyleError(f"{root}: no '{split}' split (it has: {', '.join(corpus.splits()) or 'none'})")
    if out_dir.exists() and not out_dir.is_dir():
        raise AudioStyleError(f"{out_dir}: output path exists and is not a folder")
    transfer, model_info = load_model(model)
    played = list(getattr(transfer, "instruments", None) or corpus.instruments(split))
    present = corpus.instruments(split)
    dirs = parse_directions(directions, [i for i in played if i in present])
    instruments = sorted({i for pair in dirs for i in pair}, key=lambda n: [d for p in dirs for d in p].index(n))
    for inst in instruments:
        if inst not in present:
            raise AudioStyleError(f"{root}/{split}: no {inst} clips (it has: {', '.join(present) or 'none'})")
        if inst not in played:
            raise AudioStyleError(f"model '{model_info['name']}' cannot play {inst!r}; it plays: {', '.join(played)}")
    ids = set(corpus.clip_ids(split, instruments[0]))
    for inst in instruments[1:]:
        ids &= set(corpus.clip_ids(split, inst))
    if not ids:
        raise AudioStyleError(f"{root}/{split}: no paired clips for {', '.join(instruments)} "
                              f"(ground-truth metrics need the same notes rendered for each instrument)")
    chosen = select_clips(sorted(ids), limit, seed)
    kinds = {c.get("clip_id"): c.get("source_kind") for c in corpus.manifest.get("clips") or []
             if isinstance(c, dict) and c.get("split") == split}
    clips = [ClipAudio(cid, {i: str(corpus.audio_path(split, i, cid)) for i in instruments},
                       corpus.notes(split, cid), kinds.get(cid)) for cid in chosen]
    tasks = [scoring.task_key(i, i) for i in instruments] + [scoring.task_key(a, b) for a, b in dirs]

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "figures").mkdir(exist_ok=True)
    cache_dir = root / "cache" / "eval"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        cache_dir = None
    t0 = time.perf_counter()
    classifier, classifier_note = _classifier(root, instruments, workers, cache_dir)
    timings["classifier_s"] = time.perf_counter() - t0

    baselines, skipped = baseline_systems(corpus.manifest, split, instruments)
    model_system = ModelSystem(transfer)
    systems = [model_system, *baselines]
    clf_token = None if classifier is None else {"meta": classifier.meta, "classes": classifier.classes_, "C": classifier.C}
    cache = ResultCache(cache_dir / split if (use_cache and cache_dir is not None) else None,
                        {"metrics_version": scoring.METRICS_VERSION, "versions": _library_versions(),
                         "classifier": clf_token})

    work = Path(tempfile.mkdtemp(prefix=".evaluate-", dir=out_dir))
    try:
        # -- the model's outputs, in this process ------------------------------------------
        t0 = time.perf_counter()
        outputs: dict[str, dict[str, str]] = {}
        _seed_torch(seed)
        bar = _progress(total=len(clips) * len(tasks), progress=progress, iterable=None, desc="inference", unit="output")
        for clip in clips:
            outputs[clip.clip_id] = {}
            for task in tasks:
                y = model_system.produce(clip, *scoring.parse_task(task))
                path = work / f"{clip.clip_id}__{task.replace(':', '-')}.npy"
                np.save(path, y)
                outputs[clip.clip_id][task] = str(path)
                bar.update(1)
            clip._waves.clear()
        bar.close()
        timings["model_inference_s"] = time.perf_counter() - t0

        # -- metrics: cached baseline rows, parallel jobs for the rest ------------------------
        t0 = time.perf_counter()
        item_results: dict[tuple[str, str, str], dict] = {}
        jobs, keys = [], {}
        for clip in clips:
            fp = _fingerprint(clip)
            cached = cache.read(clip.clip_id)
            items = []
            for system in systems:
                for task in tasks:
                    if system.cacheable and cache.folder is not None:
                        key = keys[(clip.clip_id, system.name, task)] = cache.key(system, task, fp)
                        if key in cached:
                            item_results[(clip.clip_id, system.name, task)] = cached[key]
                            cache.hits += 1
                            continue
                        cache.misses += 1
                    items.append((system.name, task))
            if items:
                jobs.append({"clip": clip, "items": items, "systems": {s.name: s for s in baselines},
                             "outputs": outputs[clip.clip_id], "classifier": classifier})
        for result in _run_jobs(jobs, workers, progress):
            new = {}
            for (system, task), value in result["results"].items():
                item_results[(result["clip"], system, task)] = value
                if (result["clip"], system, task) in keys:
                    new[keys[(result["clip"], system, task)]] = value
            cache.write(result["clip"], new)
        timings["metrics_s"] = time.perf_counter() - t0

        results = _aggregate(item_results, systems, tasks, chosen, classifier)

        # -- examples and figures ----------------------------------------------------------
        t0 = time.perf_counter()
        figures = _examples_and_spectrograms(clips, dirs, outputs, out_dir, report)
        if model_info.get("run_dir"):
            path = report.loss_curves(Path(model_info["run_dir"]) / "metrics.jsonl", out_dir / "figures" / "loss_curves.png")
            if path:
                figures["loss_curves"] = str(path.relative_to(out_dir))
        timings["examples_s"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # -- disentanglement diagnostics ----------------------------------------------------------
    diagnostics = probes.run_probes(getattr(transfer, "model", None), corpus, split, chosen, instruments,
                                    out_dir / "figures", train_clips=probe_clips, seed=seed, progress=progress)
    for name, rel in diagnostics.pop("figures", {}).items():
        figures[name] = str(Path(rel).relative_to(out_dir)) if Path(rel).is_absolute() else rel
    timings["probe_embedding_s"] = diagnostics.get("embed_s", 0.0)
    timings["probe_fit_s"] = diagnostics.get("fit_s", 0.0)

    total = time.perf_counter() - t_start
    harness = total - timings["model_inference_s"] - timings["probe_embedding_s"]
    results.update({
        "format": RESULTS_FORMAT, "format_version": 1,
        "command": command or _command(model, root, split, limit, dirs, out_dir, workers, seed),
        "model": {**model_info, "instruments": played},
        "data": {"dir": str(root), "split": split, "limit": limit, "clips": chosen, "n_clips": len(chosen),
                 "n_monophonic": sum(c.kind in scoring.MONOPHONIC_KINDS for c in clips),
                 "instruments": instruments, "kinds": {c.clip_id: c.kind for c in clips}},
        "seed": seed, "directions": [scoring.task_key(a, b) for a, b in dirs], "tasks": tasks,
        "systems": {s.name: s.info() for s in systems}, "skipped_systems": skipped,
        "metrics": {m.key: {"label": m.label, "task": m.task, "group": m.group,
                            "higher_is_better": m.higher_is_better, "description": m.description}
                    for m in scoring.METRICS},
        "metrics_version": scoring.METRICS_VERSION,
        "classifier": {**results.get("classifier", {}), "note": classifier_note,
                       "path": str(cache_dir / "classifier.joblib") if (cache_dir and classifier) else None},
        "diagnostics": diagnostics, "figures": figures,
        "cache": {"enabled": cache.folder is not None, "folder": str(cache.folder) if cache.folder else None,
                  "hits": cache.hits, "misses": cache.misses},
        "versions": _library_versions(),
    })
    t0 = time.perf_counter()
    timings.update({"total_s": total, "harness_s": harness,
                    "harness_per_clip_s": harness / max(1, len(chosen)), "workers": workers})
    results["timings"] = timings
    report.write_report(results, out_dir)
    timings["report_s"] = time.perf_counter() - t0
    # The report's own writing time is known only now: add it and rewrite results.json.
    timings["total_s"] += timings["report_s"]
    timings["harness_s"] += timings["report_s"]
    timings["harness_per_clip_s"] = timings["harness_s"] / max(1, len(chosen))
    report.write_results(results, out_dir)
    return results


def _seed_torch(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _command(model, root, split, limit, dirs, out_dir, workers, seed) -> str:
    parts = ["audiostyle", "evaluate", "--model", str(getattr(model, "name", model)), "--data", str(root),
             "--split", split, "--directions", ",".join(f"{a}:{b}" for a, b in dirs), "--out", str(out_dir),
             "--workers", str(workers), "--seed", str(seed)]
    if limit is not None:
        parts += ["--limit", str(limit)]
    return " ".join(parts)


def _aggregate(item_results: dict, systems, tasks: list[str], clip_ids: list[str], classifier) -> dict:
    """Mean/std/n per system, task and metric; style and classifier accuracies."""
    table: dict = {}
    for system in systems:
        per_task = {}
        for task in tasks:
            per_metric = {}
            for spec in scoring.metrics_for(task):
                values = {c: item_results[(c, system.name, task)]["metrics"].get(spec.key)
                          for c in clip_ids if (c, system.name, task) in item_results}
                if spec.key == "style_acc" and classifier is None:
                    continue
                values = {c: v for c, v in values.items() if v is not None or spec.key != "rpa"}
                per_metric[spec.key] = summarize({c: (np.nan if v is None else v) for c, v in values.items()})
            per_task[task] = per_metric
        table[system.name] = per_task
    out = {"results": table, "classifier": {}}
    if classifier is not None:
        # Real renderings: the content-input row classified the sources, the target row the targets.
        real = {}
        for (clip, system, task), value in item_results.items():
            source, target = scoring.parse_task(task)
            if source != target and value.get("pred") is not None and system in ("content_input", "target"):
                real[(clip, source if system == "content_input" else target)] = value["pred"]
        per_inst = {}
        for (clip, inst), pred in real.items():
            per_inst.setdefault(inst, []).append(pred == inst)
        out["classifier"] = {
            "accuracy_on_real": float(np.mean([p == i for (_c, i), p in real.items()])) if real else None,
            "n_real": len(real), "per_instrument": {i: float(np.mean(v)) for i, v in sorted(per_inst.items())},
            "classes": list(classifier.classes_), "trained_on": classifier.meta}
    return out


def _examples_and_spectrograms(clips, dirs, outputs, out_dir: Path, report) -> dict:
    """Write ``examples/{a}-to-{b}/{clip}-{input,output,target}.wav`` and magnitude/phase figures."""
    from audiostyle.audio.io import save_audio

    figures = {}
    for a, b in dirs:
        folder = out_dir / "examples" / f"{a}-to-{b}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, clip in enumerate(clips[:N_EXAMPLES]):
            x, t = clip.rendering(a), clip.rendering(b)
            y = np.load(outputs[clip.clip_id][scoring.task_key(a, b)])
            for name, wave in (("input", x), ("output", y), ("target", t)):
                save_audio(folder / f"{clip.clip_id}-{name}.wav", wave, MODEL_SR)
            if i < N_SPECTROGRAMS:
                path = out_dir / "figures" / f"spectrogram_{a}-to-{b}_{clip.clip_id}.png"
                report.spectrogram_figure(t, y, f"{clip.clip_id}: {a} -> {b}", path)
                figures[f"spectrogram {a}->{b} {clip.clip_id}"] = str(path.relative_to(out_dir))
            clip._waves.clear()
    return figures
