"""Render paired training data from the music21 corpus with General MIDI soundfonts.

Every excerpt (see :mod:`audiostyle.data.corpus`) is rendered once per instrument with the same
notes and velocities by TinySoundFont (offline, in-process) at 22050 Hz, mixed to mono, faded
out over the last 10 ms, RMS-normalised to 0.07 and written as 16-bit WAV of exactly
``seconds * 22050`` samples. Works are split 80/10/10 before any excerpt is drawn, so no work
appears in two splits; train and val use the train soundfont and test the test soundfont.
Train and val may take several soundfonts: excerpts then go to them in turn (excerpt ``i`` of a
split to font ``i mod n``), both instruments of an excerpt in the same font, and each clip's
manifest entry names its font.

Layout written under ``out_dir``::

    {train,val,test}/{instrument}/{clip_id}.wav
    {train,val,test}/notes/{clip_id}.json     # [[onset_s, offset_s, midi_pitch], ...]
    manifest.json

Files are rendered into ``out_dir/.partial-render`` and moved into place only when all clips
succeeded, and the manifest is written last, so an interrupted run never leaves a data set that
looks complete. Output is byte-identical for a seed, whatever the number of workers.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from audiostyle import MODEL_SR, __version__
from audiostyle.data import FONT_INSTALL_HINT, FONT_PACKAGES, TEST_FONT, TRAIN_FONT, corpus
from audiostyle.data.instruments import Instrument, common_range, resolve_instruments
from audiostyle.data.layout import DATASET_FORMAT, SPLITS, check_output_dir, install_staged
from audiostyle.errors import AudioStyleError

TARGET_RMS = 0.07
FADE_SECONDS = 0.01
TAIL_SECONDS = 0.5  # last part of a clip holds no onsets: room for the release tails
VELOCITY_RANGE = (64, 100)  # per-excerpt base (mezzo-piano to forte), drawn uniformly
VELOCITY_JITTER = 6  # per-note, uniform +-; the same for every instrument of the excerpt
FORMAT_VERSION = 1
CHUNK_CLIPS = 16

# Per-process soundfont cache: each worker loads a font once. path -> (Synth, sfid)
_SYNTHS: dict[str, tuple] = {}


def check_font(path: str | Path) -> Path:
    """Raise a one-line AudioStyleError if the soundfont is missing (with the install command)
    or is not a SoundFont 2 file (checked by its header, without loading it)."""
    path = Path(path)
    if not path.is_file():
        package = FONT_PACKAGES.get(path.name)
        hint = (FONT_INSTALL_HINT if package is None or path.name in (Path(TRAIN_FONT).name, Path(TEST_FONT).name)
                else f"install it with `apt-get install {package}`")
        raise AudioStyleError(f"soundfont {path} not found; {hint}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise AudioStyleError(f"soundfont {path}: cannot read it ({exc.strerror or exc})") from None
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise AudioStyleError(f"soundfont {path}: not a SoundFont 2 file (no RIFF sfbk header)")
    return path


def _synth(font: str, programs: list[int]):
    if font not in _SYNTHS:
        import tinysoundfont

        synth = tinysoundfont.Synth(samplerate=MODEL_SR)
        try:
            sfid = synth.sfload(font)
        except Exception as exc:  # tinysoundfont raises bare Exception types for bad files
            raise AudioStyleError(f"soundfont {font}: cannot load it ({exc})") from None
        _SYNTHS[font] = (synth, sfid)
    synth, sfid = _SYNTHS[font]
    for p in programs:
        if synth.sfpreset_name(sfid, 0, p) is None:
            raise AudioStyleError(f"soundfont {font} has no preset for GM program {p}")
    return synth, sfid


def render_notes(font: str, program: int, notes, velocities, n_samples: int) -> np.ndarray:
    """Synthesise notes with one GM program of a soundfont; no normalisation.

    Args:
        notes: ``[(onset_s, offset_s, midi_pitch), ...]``.
        velocities: one MIDI velocity (1-127) per note.
    Returns:
        ``(n_samples,)`` float32 mono at 22050 Hz (the mean of the synth's two channels).
    """
    synth, sfid = _synth(font, [program])
    # Events sorted by sample; at equal times note-offs first so a re-struck key restarts.
    events = []
    for (on, off, pitch), vel in zip(notes, velocities):
        events.append((int(round(on * MODEL_SR)), 1, int(pitch), int(vel)))
        events.append((int(round(off * MODEL_SR)), 0, int(pitch), 0))
    events.sort()
    buf = np.zeros(2 * n_samples, dtype=np.float32)
    view = memoryview(buf).cast("B")
    synth.program_select(0, sfid, 0, program)
    pos = 0
    for at, is_on, pitch, vel in events:
        at = min(at, n_samples)
        if at > pos:
            synth.generate_simple(at - pos, buffer=view[8 * pos: 8 * at])
            pos = at
        if is_on:
            synth.noteon(0, pitch, vel)
        else:
            synth.noteoff(0, pitch)
    if n_samples > pos:
        synth.generate_simple(n_samples - pos, buffer=view[8 * pos: 8 * n_samples])
    _silence(synth)
    return buf.reshape(-1, 2).mean(axis=1, dtype=np.float32)


def _silence(synth) -> None:
    """Cut every voice and let the quick release finish, so the next clip starts from rest.

    TinySoundFont hands new notes the first free voice slots, so with all voices free the next
    clip's mix order (and hence its float rounding) is the same as in a fresh synth.
    """
    synth.sounds_off()
    synth.generate_simple(2048)


def finish(wave: np.ndarray) -> np.ndarray:
    """Fade out the last 10 ms of a ``(N,)`` clip and scale it to RMS 0.07."""
    from audiostyle.audio.io import rms_normalize

    n_fade = min(len(wave), int(FADE_SECONDS * MODEL_SR))
    wave = wave.copy()
    if n_fade:
        wave[-n_fade:] *= np.linspace(1.0, 0.0, n_fade, dtype=np.float32)
    return rms_normalize(wave, TARGET_RMS)


def note_velocities(seed: int, stream: int, index: int, n_notes: int) -> tuple[int, list[int]]:
    """``(base, per-note velocities)`` for clip ``index`` of split ``stream``, seeded."""
    rng = np.random.default_rng([seed, stream, index, 1_000_003])
    base = int(rng.integers(VELOCITY_RANGE[0], VELOCITY_RANGE[1] + 1))
    jitter = rng.integers(-VELOCITY_JITTER, VELOCITY_JITTER + 1, size=n_notes)
    return base, [int(v) for v in np.clip(base + jitter, 1, 127)]


def rerender(corpus, split: str, clip_id: str, instrument: str, font: str | Path | None = None) -> np.ndarray:
    """A clip of a rendered corpus synthesised again from its notes file, as ``render_corpus``
    made it (same velocities, length and level), optionally with another soundfont.

    Args:
        corpus: the data set folder, or a :class:`~audiostyle.data.layout.Corpus` already open
            (callers re-rendering many clips pass one, so the manifest is read once).
    Returns:
        ``(samples_per_clip,)`` float32 at 22050 Hz. With ``font=None`` it is the stored WAV up
        to 16-bit rounding; with the training font on a test clip it is the same notes in the
        timbre the models were trained on.
    Raises:
        AudioStyleError: not a rendered corpus, unknown clip, no notes file, missing font.
    """
    from audiostyle.data.instruments import resolve_instrument
    from audiostyle.data.layout import Corpus

    ds = corpus if isinstance(corpus, Corpus) else Corpus(corpus)
    if ds.manifest.get("kind") != "rendered":
        raise AudioStyleError(f"{ds.root}: not a rendered corpus (manifest kind {ds.manifest.get('kind')!r})")
    clip = next((c for c in ds.manifest["clips"] if c["split"] == split and c["clip_id"] == clip_id), None)
    if clip is None:
        raise AudioStyleError(f"{ds.root}: no clip {clip_id!r} in split {split!r}")
    notes = ds.notes(split, clip_id)
    if notes is None:
        raise AudioStyleError(f"{ds.root}: clip {clip_id!r} has no notes file")
    index = int(clip_id.rsplit("_", 1)[1])
    _, vels = note_velocities(int(ds.manifest["seed"]), SPLITS.index(split), index, len(notes))
    font = str(check_font(font if font is not None else clip["font"]))
    raw = render_notes(font, resolve_instrument(instrument).program, notes, vels, int(ds.manifest["samples_per_clip"]))
    return finish(raw)


def _render_chunk(tasks: list[dict]) -> tuple[str, object]:
    """Worker: render and write a chunk of clips. Returns ("ok", stats) or ("error", message).

    Errors travel as text because AudioFileError does not survive pickling.
    """
    from audiostyle.audio.io import save_audio
    from audiostyle.fileio import write_json

    try:
        stats = []
        for t in tasks:
            for name, program in t["instruments"]:
                raw = render_notes(t["font"], program, t["notes"], t["velocities"], t["n_samples"])
                if float(np.sqrt(np.mean(np.square(raw, dtype=np.float64)))) < 1e-6:
                    raise AudioStyleError(
                        f"soundfont {t['font']} rendered silence for GM program {program} ({name})")
                wave = finish(raw)
                save_audio(Path(t["dir"]) / name / f"{t['clip_id']}.wav", wave)
                stats.append(float(np.max(np.abs(wave))))
            write_json(Path(t["dir"]) / "notes" / f"{t['clip_id']}.json",
                       [[on, off, p] for on, off, p in t["notes"]])
        return "ok", stats
    except AudioStyleError as exc:
        return "error", str(exc)
    except Exception as exc:  # surface anything else as one line; the run is aborted cleanly
        return "error", f"rendering failed: {type(exc).__name__}: {exc}"


def render_corpus(
    out_dir: str | Path,
    instruments=("piano", "violin"),
    clips_per_instrument: int = 768,
    seconds: float = 10.0,
    seed: int = 0,
    train_font: str | Path | Sequence[str | Path] = TRAIN_FONT,
    test_font: str | Path = TEST_FONT,
    sources=("chorales", "fiddle"),
    workers: int = 2,
    progress: bool = True,
    val_font: str | Path | Sequence[str | Path] | None = None,
) -> dict:
    """Render ``clips_per_instrument`` paired clips (total over splits) into ``out_dir``.

    Args:
        instruments: names or GM programs (see :func:`~audiostyle.data.instruments.resolve_instrument`).
        seconds: clip length; every WAV has exactly ``round(seconds * 22050)`` samples.
        train_font: one soundfont, or several that the train excerpts take in turn.
        val_font: soundfont(s) for val (default: the train font(s)).
        workers: processes for parsing and rendering (1: in this process).
    Returns:
        A summary dict: ``out_dir``, ``counts`` ({split: {instrument: clips}}), ``works``
        ({split: number of works}), ``fonts`` ({split: path, or a list of paths when a split
        has several}), ``clipped_wavs`` (WAVs whose peak exceeded full
        scale and was clipped when written), ``wall_seconds``.
    Raises:
        AudioStyleError: bad arguments, missing soundfont, unusable output folder.
    """
    t0 = time.monotonic()
    insts: list[Instrument] = resolve_instruments(
        instruments if isinstance(instruments, str) else list(instruments))
    if clips_per_instrument < 1:
        raise AudioStyleError(f"clips per instrument must be at least 1 (got {clips_per_instrument})")
    if seed < 0:
        raise AudioStyleError(f"seed must be a non-negative integer (got {seed})")
    if not 1.0 <= seconds <= 600.0:
        raise AudioStyleError(f"clip length must be 1-600 seconds (got {seconds:g})")
    # Absolute (symlinks kept) so workers and later readers of the manifest find the same files.
    fonts = {split: [os.path.abspath(check_font(f)) for f in _font_list(f)] for split, f in
             (("train", train_font), ("val", val_font or train_font), ("test", test_font))}
    if len(fonts["test"]) != 1:
        raise AudioStyleError(f"the test split takes one soundfont (got {len(fonts['test'])})")
    # A single font stays a plain path in the manifest, as data sets have always recorded it.
    listed = {split: fs[0] if len(fs) == 1 else fs for split, fs in fonts.items()}
    pitch_range = common_range(insts)
    sources = list(sources.split(",")) if isinstance(sources, str) else list(sources)
    out_dir = Path(out_dir)
    check_output_dir(out_dir)
    n_samples = int(round(seconds * MODEL_SR))
    tail = min(TAIL_SECONDS, 0.2 * seconds)

    staging = out_dir / ".partial-render"
    executor = _executor(workers)
    try:
        try:
            map_fn = (lambda f, xs: executor.map(f, xs, chunksize=8)) if executor else None
            works = corpus.list_works(sources)
            by_split = corpus.split_works(works, seed)
            counts = corpus.clip_counts(clips_per_instrument)
            _say(progress, f"planning {clips_per_instrument} excerpts from {len(works)} works")
            plans = {split: corpus.draw_excerpts(by_split[split], counts[split], seed, stream, seconds,
                                                 tail, pitch_range, map_fn)
                     for stream, split in enumerate(SPLITS)}
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(staging, ignore_errors=True)
            tasks, clips = _tasks(plans, insts, fonts, seed, n_samples, staging)
            peaks = _run_tasks(tasks, executor, progress)
        finally:
            # Workers must be gone before the staging folder is removed under them.
            if executor:
                executor.shutdown(cancel_futures=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    manifest = {
        "format": DATASET_FORMAT, "format_version": FORMAT_VERSION, "kind": "rendered",
        "created_by": f"audiostyle {__version__}", "seed": seed, "sample_rate": MODEL_SR,
        "seconds": seconds, "samples_per_clip": n_samples, "target_rms": TARGET_RMS,
        "instruments": [i.as_dict() for i in insts], "pitch_range": list(pitch_range),
        "sources": sources, "fonts": listed,
        "splits": {s: {"clips": counts[s], "works": [w.work_id for w in by_split[s]]} for s in SPLITS},
        "clips": clips,
    }
    install_staged(staging, out_dir, manifest)
    return {
        "out_dir": str(out_dir),
        "counts": {s: {i.name: counts[s] for i in insts} for s in SPLITS},
        "works": {s: len({c["source_work"] for c in clips if c["split"] == s}) for s in SPLITS},
        "fonts": listed,
        # RMS 0.07 leaves ~23 dB of headroom; only very sparse, percussive clips exceed it.
        "clipped_wavs": sum(p > 1.0 for p in peaks),
        "wall_seconds": time.monotonic() - t0,
    }


def _font_list(fonts) -> list:
    """One soundfont path, or a sequence of them, as a non-empty list without repeats."""
    listed = [fonts] if isinstance(fonts, (str, Path)) else list(fonts)
    if not listed:
        raise AudioStyleError("no soundfont given")
    if len({os.path.abspath(f) for f in listed}) != len(listed):
        raise AudioStyleError(f"a soundfont is named twice: {', '.join(map(str, listed))}")
    return listed


def split_font(manifest: dict, split: str) -> str | None:
    """The soundfont a rendered data set names for ``split`` (the first one if it has several)."""
    font = (manifest.get("fonts") or {}).get(split)
    return font[0] if isinstance(font, list) and font else font or None


def _tasks(plans, insts, fonts, seed, n_samples, staging):
    tasks, clips = [], []
    for stream, split in enumerate(SPLITS):
        for name in [i.name for i in insts] + ["notes"] if plans[split] else []:
            (staging / split / name).mkdir(parents=True, exist_ok=True)
        for i, ex in enumerate(plans[split]):
            clip_id = f"{split}_{i:05d}"
            base, vels = note_velocities(seed, stream, i, len(ex.notes))
            font = fonts[split][i % len(fonts[split])]
            tasks.append({"clip_id": clip_id, "dir": str(staging / split), "font": font,
                          "instruments": [(x.name, x.program) for x in insts], "notes": ex.notes,
                          "velocities": vels, "n_samples": n_samples})
            clips.append({"clip_id": clip_id, "split": split, **ex.info(), "velocity": base,
                          "font": font})
    return tasks, clips


def _executor(workers: int):
    if workers <= 1:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: workers never inherit locks or threads from the caller (pytest, a training loop).
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _run_tasks(tasks: list[dict], executor, progress: bool) -> list[float]:
    """Render all clips in chunks; returns every WAV's peak before the 16-bit writer clipped it."""
    chunks = [tasks[i: i + CHUNK_CLIPS] for i in range(0, len(tasks), CHUNK_CLIPS)]
    if executor is None:
        results = (_render_chunk(c) for c in chunks)
    else:
        from concurrent.futures import as_completed

        results = (f.result() for f in as_completed([executor.submit(_render_chunk, c) for c in chunks]))
    done, peaks = 0, []
    for status, payload in results:
        if status == "error":
            raise AudioStyleError(payload)
        peaks += payload
        done += 1
        if progress:
            print(f"\rrendered {min(done * CHUNK_CLIPS, len(tasks))}/{len(tasks)} excerpts",
                  end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return peaks


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)
