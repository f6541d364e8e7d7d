"""Cut a folder of real recordings into a data set of fixed-length clips.

Input: ``src_dir/{instrument}/*.{wav,flac,ogg,mp3}`` (direct children; any rate, any channels).
Output: the data set layout of :mod:`audiostyle.data.layout` without notes folders.

Recipe, per file:

1. Load as float32 mono at 22050 Hz (:func:`~audiostyle.audio.io.load_audio`). Unreadable,
   corrupt, empty or non-finite files are reported and skipped, never abort the run; files
   shorter than ``seconds`` give no clip and are reported.
2. Draw ``k`` clips, ``clips_per_file[0] <= k <= clips_per_file[1]`` (fewer if the file is too
   short), non-overlapping, at random positions (generator seeded by the seed, the instrument
   and the file name, so a file's clips do not depend on the other files).
3. RMS-normalise each clip to 0.07, then reject it unless at least 60% of its frames are
   active: frame RMS above -45 dBFS, frames of 2048 samples (93 ms) with hop 512, frames
   lying wholly inside the clip. Measured after normalisation, so the rule is relative to
   the clip's own level: mostly-silent clips fail whatever the recording gain.
4. Split 80/10/10 by source file, per instrument, over the files that kept a clip (seeded
   shuffle; val and test get at least one file each once an instrument has three), so no
   recording is in two splits.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from audiostyle import MODEL_SR, __version__
from audiostyle.data.layout import DATASET_FORMAT, SPLITS, check_output_dir, held_out_sizes, install_staged
from audiostyle.errors import AudioFileError, AudioStyleError

TARGET_RMS = 0.07
FRAME = 2048
HOP = 512
ACTIVE_DBFS = -45.0
MIN_ACTIVE_FRACTION = 0.6
FORMAT_VERSION = 1


def active_fraction(clip: np.ndarray, threshold_dbfs: float = ACTIVE_DBFS) -> float:
    """Fraction of 2048-sample frames (hop 512) of a ``(N,)`` clip whose RMS exceeds the threshold."""
    from numpy.lib.stride_tricks import sliding_window_view

    if len(clip) < FRAME:
        frames = np.asarray(clip, dtype=np.float64)[None, :]
    else:
        frames = sliding_window_view(np.asarray(clip, dtype=np.float64), FRAME)[::HOP]
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    dbfs = 20.0 * np.log10(np.maximum(rms, 1e-12))
    return float(np.mean(dbfs > threshold_dbfs))


def clip_starts(n_total: int, n_clip: int, k_range: tuple[int, int], rng: np.random.Generator) -> list[int]:
    """Sorted start samples of ``k`` non-overlapping ``n_clip``-sample clips in ``n_total`` samples."""
    k_max = n_total // n_clip
    if k_max < 1:
        return []
    lo, hi = min(k_range[0], k_max), min(k_range[1], k_max)
    k = int(rng.integers(lo, hi + 1))
    # k sorted gaps summing to at most the slack: placement i starts after i whole clips.
    offsets = np.sort(rng.integers(0, n_total - k * n_clip + 1, size=k))
    return [int(o) + i * n_clip for i, o in enumerate(offsets)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "clip"


def prepare_recordings(
    src_dir: str | Path,
    out_dir: str | Path,
    seconds: float = 10.0,
    clips_per_file: tuple[int, int] = (1, 3),
    seed: int = 0,
    min_active_fraction: float = MIN_ACTIVE_FRACTION,
    progress: bool = True,
) -> dict:
    """Turn ``src_dir/{instrument}/*`` recordings into ``out_dir/{split}/{instrument}/{clip}.wav``.

    Returns:
        Summary dict: ``out_dir``, ``counts`` ({split: {instrument: clips}}), ``files``
        ({instrument: files found}), ``skipped`` ([{file, reason}]), ``rejected``
        ([{file, start_s, active_fraction}]), ``wall_seconds``.
    Raises:
        AudioStyleError: ``src_dir`` missing or without instrument folders, bad arguments, or
            an unusable output folder. Problems with single files never raise.
    """
    from audiostyle.audio.io import SUPPORTED_SUFFIXES, load_audio, rms_normalize, save_audio

    t0 = time.monotonic()
    src, out = Path(src_dir), Path(out_dir)
    if not src.is_dir():
        raise AudioStyleError(f"{src}: recordings folder not found")
    if not 0.5 <= seconds <= 600:
        raise AudioStyleError(f"clip length must be 0.5-600 seconds (got {seconds:g})")
    if seed < 0:
        raise AudioStyleError(f"seed must be a non-negative integer (got {seed})")
    lo, hi = clips_per_file
    if not 1 <= lo <= hi:
        raise AudioStyleError(f"clips per file must satisfy 1 <= min <= max (got {lo}, {hi})")
    instruments = sorted(p.name for p in src.iterdir()
                         if p.is_dir() and not p.name.startswith(".") and p.name not in (*SPLITS, "notes"))
    if not instruments:
        raise AudioStyleError(f"{src}: no instrument folders (expected {src}/<instrument>/<files>)")
    if src.resolve() == out.resolve() or out.resolve().is_relative_to(src.resolve()):
        raise AudioStyleError(f"{out}: output folder must not be inside the recordings folder {src}")
    check_output_dir(out)
    n_clip = int(round(seconds * MODEL_SR))

    out.mkdir(parents=True, exist_ok=True)
    staging = out / ".partial-prepare"
    shutil.rmtree(staging, ignore_errors=True)
    skipped: list[dict] = []
    rejected: list[dict] = []
    kept: dict[str, dict[str, list[dict]]] = {}  # instrument -> source file -> clips
    n_files: dict[str, int] = {}
    try:
        for inst in instruments:
            pool = staging / "pool" / inst
            pool.mkdir(parents=True)
            kept[inst] = {}
            files = sorted(p for p in (src / inst).iterdir() if p.is_file() and not p.name.startswith("."))
            n_files[inst] = 0
            used_slugs: set[str] = set()
            for path in files:
                rel = path.relative_to(src).as_posix()
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    kind = path.suffix or "no suffix"
                    skipped.append({"file": rel, "reason": f"not a supported audio type ({kind})"})
                    continue
                n_files[inst] += 1
                try:
                    wave = load_audio(path)
                except AudioFileError as exc:
                    skipped.append({"file": rel, "reason": exc.problem})
                    continue
                if len(wave) < n_clip:
                    have = len(wave) / MODEL_SR
                    skipped.append({"file": rel, "reason": f"shorter than {seconds:g} s ({have:.2f} s)"})
                    continue
                rng = np.random.default_rng([seed, zlib.crc32(inst.encode()), zlib.crc32(path.name.encode())])
                slug = _slug(path.stem)
                while slug in used_slugs:  # a.wav and a.flac
                    slug += "-x"
                used_slugs.add(slug)
                for k, start in enumerate(clip_starts(len(wave), n_clip, (lo, hi), rng)):
                    clip = rms_normalize(wave[start: start + n_clip], TARGET_RMS)
                    frac = active_fraction(clip)
                    if frac < min_active_fraction:
                        rejected.append({"file": rel, "start_s": round(start / MODEL_SR, 3),
                                         "active_fraction": round(frac, 3)})
                        continue
                    clip_id = f"{_slug(inst)}-{slug}-{k}"
                    save_audio(pool / f"{clip_id}.wav", clip)
                    kept[inst].setdefault(rel, []).append(
                        {"clip_id": clip_id, "instrument": inst, "source_file": rel,
                         "start_s": round(start / MODEL_SR, 3), "active_fraction": round(frac, 3)})
                if progress:
                    print(f"\r{inst}: {n_files[inst]} files", end="", file=sys.stderr, flush=True)
            if progress:
                print(file=sys.stderr)
        clips, split_files = _split_and_move(kept, staging, seed)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    counts = {s: {i: sum(1 for c in clips if c["split"] == s and c["instrument"] == i) for i in instruments}
              for s in SPLITS}
    manifest = {
        "format": DATASET_FORMAT, "format_version": FORMAT_VERSION, "kind": "recordings",
        "created_by": f"audiostyle {__version__}", "seed": seed, "sample_rate": MODEL_SR,
        "seconds": seconds, "samples_per_clip": n_clip, "target_rms": TARGET_RMS,
        "clips_per_file": [lo, hi], "source_dir": str(src),
        "activity_rule": {"frame": FRAME, "hop": HOP, "threshold_dbfs": ACTIVE_DBFS,
                          "min_active_fraction": min_active_fraction},
        "instruments": [{"name": i, "program": _program(i)} for i in instruments],
        "splits": {s: {"clips": sum(counts[s].values()), "files": split_files[s]} for s in SPLITS},
        "clips": clips, "skipped": skipped, "rejected": rejected,
    }
    install_staged(staging, out, manifest)
    return {"out_dir": str(out), "counts": counts, "files": n_files, "skipped": skipped,
            "rejected": rejected, "wall_seconds": time.monotonic() - t0}


def _split_and_move(kept: dict, staging: Path, seed: int) -> tuple[list[dict], dict[str, list[str]]]:
    """Assign each instrument's source files to splits and move their clips into place."""
    clips: list[dict] = []
    split_files: dict[str, list[str]] = {s: [] for s in SPLITS}
    for inst, by_file in kept.items():
        files = sorted(by_file)
        order = np.random.default_rng([seed, zlib.crc32(inst.encode()), 7]).permutation(len(files))
        n_val, n_test = held_out_sizes(len(files))
        for rank, idx in enumerate(order):
            split = "val" if rank < n_val else "test" if rank < n_val + n_test else "train"
            dest = staging / split / inst
            dest.mkdir(parents=True, exist_ok=True)
            split_files[split].append(files[idx])
            for c in by_file[files[idx]]:
                (staging / "pool" / inst / f"{c['clip_id']}.wav").rename(dest / f"{c['clip_id']}.wav")
                clips.append({"clip_id": c["clip_id"], "split": split,
                              **{k: v for k, v in c.items() if k != "clip_id"}})
    clips.sort(key=lambda c: (SPLITS.index(c["split"]), c["instrument"], c["clip_id"]))
    return clips, {s: sorted(v) for s, v in split_files.items()}


def _program(name: str) -> int | None:
    from audiostyle.data.instruments import resolve_instrument

    try:
        return resolve_instrument(name).program
    except AudioStyleError:
        return None
