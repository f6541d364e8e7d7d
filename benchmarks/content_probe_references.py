"""What the content probe reads from representations that hold the notes by construction.

    python benchmarks/content_probe_references.py --data DIR [--split test] [--max-clips N] [--model default ...]

The evaluation harness's cross-validated instrument probe (``audiostyle.evaluation.probes``:
logistic regression, both renderings of a work in one fold) applied to each clip's first model
window described four ways, each pooled by mean and standard deviation over time as the
harness pools ``z_content``:

* ``score``: the notes the corpus rendered, as a 20 ms piano roll. Both renderings of a work
  share it, so the probe must read chance: the check that the probe itself finds nothing
  where there is nothing.
* ``transcribed``: basic-pitch's notes of the rendering (``metrics.transcription``), as the
  same piano roll: notes recovered from audio by a transcriber trained on real recordings.
* ``chroma``: CQT chroma (``metrics.chroma``), the usual pitch-class content feature.
* ``log CQT``: log-magnitude constant-Q spectrum, 84 semitones from C1: the sound itself.

followed by the ``z_content`` of each ``--model`` on the same windows. It says how far the
disentanglement bar (an instrument probe on ``z_content`` at most 0.6) sits from what note
representations give on the same clips. A quality diagnostic, not a speed benchmark.
"""

from __future__ import annotations

import time

import numpy as np
from _corpus import clip_parser, parse_clip_args, work_renderings

ROLL_HOP_S = 0.02


def pooled(frames: np.ndarray) -> np.ndarray:
    """``(C, T)`` -> ``(2C,)``: mean and standard deviation over time, as the harness pools."""
    return np.concatenate([frames.mean(axis=1), frames.std(axis=1)])


def roll(notes, seconds: float) -> np.ndarray:
    """``[(onset_s, offset_s, midi), ...]`` -> ``(128, T)`` 0/1 piano roll at :data:`ROLL_HOP_S`,
    cut to the first ``seconds``."""
    frames = int(round(seconds / ROLL_HOP_S))
    out = np.zeros((128, frames))
    for on, off, pitch in notes:
        a, b = int(round(on / ROLL_HOP_S)), int(round(off / ROLL_HOP_S))
        if a < frames and 0 <= pitch < 128:
            out[pitch, max(a, 0): max(min(b, frames), a + 1)] = 1.0
    return out


def log_cqt(wave: np.ndarray, sr: int) -> np.ndarray:
    """``(84, T)`` log-magnitude CQT, C1 upward, 512-sample hop."""
    import librosa

    return np.log(np.abs(librosa.cqt(wave, sr=sr, hop_length=512, n_bins=84, fmin=librosa.note_to_hz("C1"))) + 1e-6)


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("--model", action="append", default=[],
                    help="also probe this model's z_content (repeatable); its window sets the clip length, else 'default''s")
    args = parse_clip_args(ap)

    import audiostyle
    from audiostyle import MODEL_SR
    from audiostyle.errors import AudioStyleError
    from audiostyle.evaluation.probes import cross_validated_probe, embed_clips
    from audiostyle.metrics.chroma import chroma_features
    from audiostyle.metrics.transcription import transcribe

    try:
        models = {name: audiostyle.load(name).model.eval() for name in args.model or ["default"]}
    except AudioStyleError as exc:
        raise SystemExit(str(exc)) from None
    window = int(next(iter(models.values())).window_samples)
    seconds = window / MODEL_SR
    corpus, clips, instruments, waves, labels, groups = work_renderings(args.data, args.split, args.max_clips)
    scores = {}
    for clip in clips:
        try:
            scores[clip["clip_id"]] = corpus.notes(args.split, clip["clip_id"])
        except AudioStyleError as exc:
            raise SystemExit(str(exc)) from None
        if scores[clip["clip_id"]] is None:
            raise SystemExit(f"{args.data}: clip {clip['clip_id']} has no notes file (only rendered corpora have them)")
    waves = [np.pad(w[:window], (0, max(0, window - len(w)))) for w in waves]  # the first model window
    feats = {"score": [], "transcribed": [], "chroma": [], "log CQT": []}
    timing = dict.fromkeys(feats, 0.0)
    for wave, clip_id in zip(waves, groups):
        for name, make in (("score", lambda: roll(scores[clip_id], seconds)),
                           ("transcribed", lambda: roll(transcribe(wave, MODEL_SR), seconds)),
                           ("chroma", lambda: chroma_features(wave, MODEL_SR)),
                           ("log CQT", lambda: log_cqt(wave, MODEL_SR))):
            t0 = time.perf_counter()
            feats[name].append(pooled(make()))
            timing[name] += time.perf_counter() - t0

    print(f"{len(clips)} works of {args.data}/{args.split}, each rendered by {', '.join(instruments)}, "
          f"first {seconds:.2f} s; chance is the share of the commonest instrument")
    print("| representation | features | instrument probe (cross-validated) | chance | s |")
    print("|---|---|---|---|---|")
    for name, rows in feats.items():
        x = np.stack(rows)
        probe = cross_validated_probe(x, labels, groups)
        print(f"| {name} | {x.shape[1]} | {probe.get('accuracy', float('nan')):.3f} | {probe.get('chance', float('nan')):.3f} "
              f"| {timing[name]:.0f} |")
    for name, model in models.items():
        t0 = time.perf_counter()
        _style, content = embed_clips(model, waves, windows_per_clip=1)
        probe = cross_validated_probe(content, labels, groups)
        print(f"| z_content of {name} | {content.shape[1]} | {probe.get('accuracy', float('nan')):.3f} "
              f"| {probe.get('chance', float('nan')):.3f} | {time.perf_counter() - t0:.0f} |")


if __name__ == "__main__":
    main()
