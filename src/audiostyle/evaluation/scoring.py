"""Scoring: every metric of one clip pair for every system and task, and aggregation over clips.

This is the unit of parallel work of the evaluation (:func:`score_clip` runs in a worker
process). Metrics come from :mod:`audiostyle.metrics` unchanged; nothing is reimplemented here.

Within one clip the same waveform is analysed many times: the input's f0 contour enters the
pitch correlation of every system's reconstruction, the target's chroma enters the chroma
cosine, the SSM distance and the chroma similarity, the content-input and target rows of a
reconstruction *are* the input. PESTO alone costs ~1.3 s of CPU per 10 s clip, so
:func:`memo_scope` memoises the per-waveform analyses (f0 tracking, chroma, onsets, log-mel,
MFCC, classifier features) and basic-pitch transcription by the waveform's bytes for the
duration of one clip. The metric functions are untouched: the memo wraps the module
attributes they look up at call time, and a test checks the scores are identical with and
without it.

Tasks are named ``"source:target"``; a reconstruction is ``"piano:piano"`` (the model is asked
to re-render the clip with its own instrument), a transfer ``"piano:violin"``.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np

METRICS_VERSION = 2  # 2: reconstruction pitch agreement added
"""Bump when any metric's definition or configuration changes: invalidates cached results."""


@dataclass(frozen=True)
class MetricSpec:
    """One reported metric: its key in results, how it is shown, and what it compares."""

    key: str
    label: str
    task: str  # "recon" or "transfer"
    group: str  # "paper" (seed paper's Table 1), "beyond_paper" (reconstruction) or "ground_truth"
    higher_is_better: bool
    description: str


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("chroma_distance", "chroma distance", "recon", "paper", False,
               "mean per-frame Euclidean distance of unit-norm CQT chroma, output vs input"),
    MetricSpec("onset_f1", "onset F1 (50 ms)", "recon", "paper", True,
               "mir_eval onset F-measure of the output's onsets against the input's, +-50 ms"),
    MetricSpec("pitch_corr", "pitch correlation", "recon", "paper", True,
               "Pearson r of PESTO f0 contours (cents), output vs input, over frames voiced in both"),
    MetricSpec("pitch_agree", "pitch agreement", "recon", "beyond_paper", True,
               "share of the frames the pitch correlation compares whose two f0s lie within 50 cents; "
               "on polyphonic clips a few frames where the tracker follows another voice cost only their share"),
    MetricSpec("spec_mse", "spectrogram MSE", "recon", "paper", False,
               "MSE of linear STFT magnitudes (n_fft 1024, hop 256), output vs input, no normalisation"),
    MetricSpec("chroma_sim", "chroma similarity", "transfer", "paper", True,
               "mean over pitch classes of the Pearson r over time of the chromagrams, output vs input"),
    MetricSpec("mfcc_dist", "MFCC distance", "transfer", "paper", False,
               "Euclidean distance of time-averaged 20-MFCC vectors, output vs true target rendering"),
    MetricSpec("instr_sim", "instrumentation similarity", "transfer", "paper", True,
               "Pearson r of long-term magnitude spectra, output vs true target rendering"),
    MetricSpec("ssm_dist", "SSM distance", "transfer", "paper", False,
               "mean |difference| of chroma self-similarity matrices, output vs true target rendering"),
    MetricSpec("lsd", "LSD (dB)", "transfer", "ground_truth", False,
               "log-spectral distance on 128-band log-mel spectrograms (Cifka et al. 2021), output vs true target"),
    MetricSpec("chroma_cos", "chroma cosine", "transfer", "ground_truth", True,
               "mean per-frame cosine of CQT chroma, output vs true target, frames sounding in both"),
    MetricSpec("note_f1", "note F1", "transfer", "ground_truth", True,
               "mir_eval note F1 (onset 50 ms, pitch 50 cents, no offsets) of a basic-pitch "
               "transcription of the output against the known notes; reliable for piano output"),
    MetricSpec("rpa", "raw pitch accuracy (mono)", "transfer", "ground_truth", True,
               "mir_eval raw pitch accuracy (50 cents) of the output's PESTO f0 against the known "
               "notes; monophonic (fiddle) clips only"),
    MetricSpec("style_acc", "style accuracy", "transfer", "ground_truth", True,
               "share of outputs the instrument classifier (trained on the train split) hears as the target"),
)
METRIC_BY_KEY = {m.key: m for m in METRICS}

MONOPHONIC_KINDS = ("fiddle",)
"""Manifest source kinds whose clips are monophonic (raw pitch accuracy applies)."""


def task_key(source: str, target: str) -> str:
    """``"piano:violin"``; a reconstruction is ``"piano:piano"``."""
    return f"{source}:{target}"


def parse_task(key: str) -> tuple[str, str]:
    source, _, target = key.partition(":")
    return source, target


def is_recon(key: str) -> bool:
    source, target = parse_task(key)
    return source == target


def metrics_for(key: str) -> list[MetricSpec]:
    """The metrics reported for a task: the paper's reconstruction set, or transfer (paper + ground truth)."""
    kind = "recon" if is_recon(key) else "transfer"
    return [m for m in METRICS if m.task == kind]


# --------------------------------------------------------------------------------------------
# memo of costly analyses, per clip
# --------------------------------------------------------------------------------------------

_MEMO: dict | None = None
# (module path, attribute): analyses the metric functions look up at call time.
_MEMOISED = (("audiostyle.metrics.pitch", "_f0_raw"),
             ("audiostyle.metrics.chroma", "chroma_features"),
             ("audiostyle.metrics.onsets", "onset_times"),
             ("audiostyle.metrics.spectral", "log_mel"),
             ("audiostyle.metrics.spectral", "mfcc"),
             ("audiostyle.metrics.classifier", "clip_features"))


def wave_digest(wave) -> bytes:
    """Content key of an array: SHA-1 of its bytes, dtype and shape."""
    arr = np.ascontiguousarray(wave)
    h = hashlib.sha1(f"{arr.dtype}|{arr.shape}|".encode())
    h.update(arr.view(np.uint8).reshape(-1).data)
    return h.digest()


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def _memoised(name: str, fn):
    def wrapper(wave, *args, **kwargs):
        if _MEMO is None or not isinstance(wave, np.ndarray):
            return fn(wave, *args, **kwargs)
        try:
            key = (name, wave_digest(wave), args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:  # unhashable extra arguments: just compute
            return fn(wave, *args, **kwargs)
        if key not in _MEMO:
            _MEMO[key] = fn(wave, *args, **kwargs)
        return _copy(_MEMO[key])  # callers may modify what they get (f0_contour masks a copy)

    wrapper.__wrapped__ = fn
    return wrapper


@contextlib.contextmanager
def memo_scope():
    """Memoise per-waveform analyses and transcription by waveform content, for one clip.

    Not re-entrant and not thread-safe: one scope at a time per process (the runner scores
    clips one after the other in each process). If a wrapped analysis no longer exists under
    its name, it simply runs unmemoised.
    """
    import importlib

    global _MEMO
    if _MEMO is not None:
        yield
        return
    patched = []
    _MEMO = {}
    try:
        for module_name, attr in _MEMOISED:
            module = importlib.import_module(module_name)
            fn = getattr(module, attr, None)
            if callable(fn):
                setattr(module, attr, _memoised(attr, fn))
                patched.append((module, attr, fn))
        yield
    finally:
        for module, attr, fn in reversed(patched):
            setattr(module, attr, fn)
        _MEMO = None


def cached_transcribe(wave: np.ndarray) -> list[tuple[float, float, int]]:
    """basic-pitch notes of a ``(N,)`` waveform, memoised inside :func:`memo_scope`."""
    from audiostyle.metrics.transcription import transcribe

    if _MEMO is None:
        return transcribe(wave)
    key = ("transcribe", wave_digest(wave))
    if key not in _MEMO:
        _MEMO[key] = transcribe(wave)
    return list(_MEMO[key])


# --------------------------------------------------------------------------------------------
# metrics of one output
# --------------------------------------------------------------------------------------------


def score_output(key: str, input_wave: np.ndarray, output: np.ndarray, target_wave: np.ndarray,
                 notes, monophonic: bool, classifier) -> tuple[dict[str, float], str | None]:
    """All metrics of one output ``(N,)`` for task ``key``.

    Args:
        input_wave: the source rendering ``(N,)`` (the model's input).
        target_wave: the true rendering with the target instrument ``(N,)`` (for a
            reconstruction, the input itself).
        notes: the clip's known ``[(onset_s, offset_s, midi)]`` or None.
        classifier: an :class:`~audiostyle.metrics.classifier.InstrumentClassifier` or None.
    Returns:
        ``({metric key: value}, predicted instrument or None)``. Undefined values are NaN;
        metrics that do not apply (RPA on polyphonic clips, note metrics without notes, style
        without a classifier) are left out.
    """
    from audiostyle import metrics as M

    x, y, t = input_wave, output, target_wave
    if is_recon(key):
        return {
            "chroma_distance": M.chroma_distance(x, y),
            "onset_f1": M.onset_f1(x, y),
            "pitch_corr": M.pitch_correlation(x, y),
            "pitch_agree": M.pitch_agreement(x, y),  # the same memoised contours
            "spec_mse": M.spectrogram_mse(x, y),
        }, None
    out = {
        "chroma_sim": M.chroma_similarity(x, y),
        "mfcc_dist": M.mfcc_distance(t, y),
        "instr_sim": M.instrumentation_similarity(t, y),
        "ssm_dist": M.ssm_distance(t, y),
        "lsd": M.lsd(t, y),
        "chroma_cos": M.chroma_cosine(t, y),
    }
    if notes:
        out["note_f1"] = M.note_f1(notes, cached_transcribe(y))
        if monophonic:
            out["rpa"] = M.raw_pitch_accuracy(y, notes)
    pred = None
    if classifier is not None:
        pred = str(classifier.predict([y])[0])
        out["style_acc"] = float(pred == parse_task(key)[1])
    return {k: float(v) for k, v in out.items()}, pred


def score_clip(job: dict) -> dict:
    """Score one clip for every requested ``(system, task)``; runs in a worker process.

    ``job`` holds: ``clip`` (:class:`~audiostyle.evaluation.systems.ClipAudio`), ``items``
    (``[(system name, task key)]``), ``systems`` (``{name: baseline system}``), ``outputs``
    (``{task key: .npy path}`` of the model under test), ``classifier``, ``limit_threads``.

    Returns:
        ``{"clip": id, "results": {(system, task): {"metrics", "pred", "seconds"}}, "cpu_seconds"}``
        (CPU time of the whole job, for extrapolating the harness time), or
        ``{"clip": id, "error": one line}`` (errors travel as text: not every exception
        pickles).
    """
    clip = job["clip"]
    cpu0 = time.process_time()
    try:
        if job.get("limit_threads"):
            _limit_threads()
        results = {}
        with memo_scope():
            for system, key in job["items"]:
                t0 = time.perf_counter()
                source, target = parse_task(key)
                if system == "model":
                    output = np.load(job["outputs"][key])
                else:
                    output = job["systems"][system].produce(clip, source, target)
                metrics, pred = score_output(
                    key, clip.rendering(source), output, clip.rendering(target), clip.notes,
                    clip.kind in MONOPHONIC_KINDS, job.get("classifier"))
                results[(system, key)] = {"metrics": metrics, "pred": pred,
                                          "seconds": time.perf_counter() - t0}
        return {"clip": clip.clip_id, "results": results, "cpu_seconds": time.process_time() - cpu0}
    except Exception as exc:  # noqa: BLE001 - reported by the runner as one line
        return {"clip": clip.clip_id, "error": f"clip {clip.clip_id}: {type(exc).__name__}: {exc}"}


def _limit_threads() -> None:
    """One compute thread per worker: the workers already use every core between them."""
    import torch

    torch.set_num_threads(1)


def finite_or_none(value) -> float | None:
    """JSON-safe number: NaN/inf -> None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# aggregation over clips
# --------------------------------------------------------------------------------------------


def summarize(per_clip: dict[str, float | None]) -> dict:
    """``{clip: value}`` -> mean, population std, n (finite values), n_undefined, per-clip values."""
    vals = np.array([v for v in per_clip.values() if v is not None and np.isfinite(v)], dtype=np.float64)
    return {"mean": float(vals.mean()) if vals.size else None, "std": float(vals.std()) if vals.size else None,
            "n": int(vals.size), "n_undefined": int(len(per_clip) - vals.size),
            "per_clip": {c: finite_or_none(v) for c, v in per_clip.items()}}


def aggregate(item_results: dict, systems: list[str], tasks: list[str], clip_ids: list[str], classifier) -> dict:
    """Mean/std/n per system, task and metric, and the classifier's accuracy on real renderings.

    Args:
        item_results: ``{(clip, system, task): {"metrics": {key: value}, "pred": ...}}``.
    Returns:
        ``{"results": {system: {task: {metric: summarize(...)}}}, "classifier": {...}}``.
    """
    table: dict = {}
    for system in systems:
        per_task = {}
        for task in tasks:
            per_metric = {}
            for spec in metrics_for(task):
                # A metric absent from a clip's results does not apply to it (RPA on polyphonic
                # clips, style without a classifier); NaN/None means undefined for that clip.
                per_metric[spec.key] = summarize({
                    c: item_results[(c, system, task)]["metrics"][spec.key] for c in clip_ids
                    if spec.key in item_results.get((c, system, task), {}).get("metrics", {})})
            per_task[task] = per_metric
        table[system] = per_task
    out = {"results": table, "classifier": {}}
    if classifier is not None:
        # Real renderings: the content-input row classified the sources, the target row the targets.
        real = {}
        for (clip, system, task), value in item_results.items():
            source, target = parse_task(task)
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
