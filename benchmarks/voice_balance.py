"""Which voice of a chorale the f0 tracker follows, and how loud the top voice sounds against the
bass: in the input, in the same notes rendered with the training soundfont, and in reconstructions.

    python benchmarks/voice_balance.py [MODEL ...] --data DIR [--split test] [--kind chorale] [--max-clips N] [--threads 2]

The harness's pitch correlation tracks one f0 per frame; on a four-part chorale the tracker
(PESTO) picks one of the sounding voices, so a rendering in another balance of voices can score
low with every note right. On the test chorales it reads the bass in about four frames of five. For every clip of the split (chorales by default) and both instruments, this
reads the notes file and, in each frame with two or more notes sounding, names the voice the
tracked f0 lies on: the top note, an inner one, the bass (within 50 cents), an octave above or
below a sounding note, or none of them. Three renderings are compared with the input: the same notes by
the same instrument in the corpus's training soundfont (the timbre a model trained on the
training split learns), and each MODEL's reconstruction by the full inference path, as the
harness makes it. Columns: the share of frames on each voice (over the frames voiced in both
the rendering and the input; the input's own row over its voiced frames), the share on the same
voice as the input, and the level at the top note's f0 minus the level at the bass note's f0
(dB, frames every 50 ms with two or more notes sounding; a partial of a lower voice falling on
a note's f0 counts towards it in every rendering alike). Prints one table per rendering. A
quality diagnostic, not a speed benchmark: ~4 minutes per model for the 33 test chorales.
"""

from __future__ import annotations

import collections

import numpy as np
from _corpus import (PARTIAL_FFT, clip_parser, clips_of, parse_clip_args, partial_energies, print_kind_table,
                     read_clip, training_font_renderer)

from audiostyle.data.pianoroll import midi_hz

VOICES = ("top", "inner", "bass", "octave above a note", "octave below a note", "no note")
COLUMNS = (*VOICES, "same voice as the input", "top - bass level (dB)")
LEVEL_HOP_S = 0.05


def sounding(notes: list, t: float) -> np.ndarray:
    """``(V,)`` MIDI pitches of the notes sounding at ``t`` seconds, ascending."""
    return np.array(sorted({p for on, off, p in notes if on <= t < off}), dtype=float)


def voice_of(f0_hz: float, pitches: np.ndarray) -> str:
    """The :data:`VOICES` class of a tracked ``f0_hz`` among the ascending ``(V,)`` sounding pitches."""
    cents = 1200 * np.log2(f0_hz / midi_hz(pitches))  # (V,) f0 minus each note
    near = np.flatnonzero(np.abs(cents) <= 50)
    if near.size:
        k = int(near[np.argmin(np.abs(cents[near]))])
        return "top" if k == len(pitches) - 1 else "bass" if k == 0 else "inner"
    if (np.abs(cents - 1200) <= 50).any():
        return "octave above a note"
    if (np.abs(cents + 1200) <= 50).any():
        return "octave below a note"
    return "no note"


def voice_labels(times: np.ndarray, f0: np.ndarray, frames: np.ndarray, notes: list) -> dict[int, str]:
    """Voice class of each frame index in ``frames`` (``(K,)``, into ``times``/``f0`` ``(T,)``)
    with two or more notes sounding."""
    labels = {}
    for i in frames:
        pitches = sounding(notes, float(times[i]))
        if len(pitches) >= 2:
            labels[int(i)] = voice_of(float(f0[i]), pitches)
    return labels


def top_minus_bass_db(wave: np.ndarray, sr: int, notes: list) -> float:
    """Mean over frames (every :data:`LEVEL_HOP_S`) with two or more notes sounding of the level
    at the top note's f0 minus that at the bass note's f0 (:func:`_corpus.partial_energies`), in
    dB; NaN when no frame has two.

    Args:
        wave: ``(N,)`` samples at ``sr``.
    """
    diffs = []
    for start in range(0, len(wave) - PARTIAL_FFT, int(LEVEL_HOP_S * sr)):
        centre = start + PARTIAL_FFT // 2
        pitches = sounding(notes, centre / sr)
        if len(pitches) < 2:
            continue
        top, bass = partial_energies(wave, sr, centre, (midi_hz(pitches[-1]), midi_hz(pitches[0])))
        diffs.append(10 * np.log10(top / bass))
    return float(np.mean(diffs)) if diffs else float("nan")


def add_scores(scores: dict, key: tuple, labels: dict[int, str], ref_labels: dict[int, str] | None, level: float) -> None:
    """Append one clip's shares (over ``labels``' frames), agreement with ``ref_labels`` and level."""
    if labels:
        values = list(labels.values())
        for voice in VOICES:
            scores[(*key, voice)].append(values.count(voice) / len(values))
        if ref_labels is not None:
            common = [i for i in labels if i in ref_labels]
            if common:
                scores[(*key, COLUMNS[-2])].append(sum(labels[i] == ref_labels[i] for i in common) / len(common))
    if np.isfinite(level):
        scores[(*key, COLUMNS[-1])].append(level)


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("models", nargs="*", help="shipped model names, .safetensors files or run folders")
    ap.add_argument("--kind", default="chorale", help="only clips of this source kind (chorale, fiddle)")
    args = parse_clip_args(ap)

    import audiostyle
    from audiostyle.audio.io import resample
    from audiostyle.data.layout import Corpus
    from audiostyle.metrics.pitch import f0_contour, voiced_in_both

    clips = [c for c in clips_of(args.data, args.split, args.max_clips) if c["source_kind"] == args.kind]
    if not clips:
        raise SystemExit(f"{args.data}: no {args.kind} clips in split {args.split!r}")
    corpus = Corpus(args.data)
    in_training_font = training_font_renderer(args.data)
    models = {name: audiostyle.load(name) for name in args.models}
    names = ["input", "same instrument, training font", *(f"reconstruction ({n})" for n in models)]
    scores = {name: collections.defaultdict(list) for name in names}
    for clip in clips:
        notes = corpus.notes(args.split, clip["clip_id"])
        for inst in ("piano", "violin"):
            x, sr = read_clip(args.data, args.split, inst, clip)
            renderings = {"same instrument, training font": (in_training_font(args.split, clip["clip_id"], inst), sr)}
            for name, style in models.items():
                renderings[f"reconstruction ({name})"] = style.transfer(x, sr, inst, source=inst)
            key = (clip["source_kind"], inst)
            # The input's contour and voices over all its voiced frames, once per output rate; a
            # rendering is compared on the frames voiced in both, a subset of those.
            inputs = {}
            for rate in {sr, *(out_sr for _, out_sr in renderings.values())}:
                times, fx, _ = f0_contour(x if rate == sr else resample(x, sr, rate), rate)
                inputs[rate] = times, fx, voice_labels(times, fx, np.flatnonzero(np.isfinite(fx)), notes)
            add_scores(scores["input"], key, inputs[sr][2], None, top_minus_bass_db(x, sr, notes))
            for name, (y, out_sr) in renderings.items():
                times, fx, ref_labels = inputs[out_sr]
                _, fy, _ = f0_contour(y, out_sr)
                frames = voiced_in_both(fx, fy)  # the frames the harness's pitch correlation compares
                add_scores(scores[name], key, voice_labels(times, fy, frames, notes), ref_labels,
                           top_minus_bass_db(y, out_sr, notes))

    for name in names:
        print_kind_table(f"\n{name}, {args.split} split: share of frames on each voice, and the top voice's level over the bass's",
                         list(COLUMNS), scores[name])


if __name__ == "__main__":
    main()
