"""Note-list excerpts from the music21 corpus: Bach chorales and Ryan's Mammoth fiddle tunes.

A *work* is one corpus file: a 4-part Bach chorale (polyphonic) or a ``ryansMammoth`` ABC file
(monophonic; a file holding an Opus yields several tunes, all belonging to that one work so no
tune can leak across splits). Parsed works are note arrays in quarter-note beats, cached in
memory for the run; parsing is the slow part (0.05-0.2 s per file), so :func:`load_works` runs
it in a process pool when one is given.

An excerpt is ``seconds`` long at a random tempo and transposition: notes start in the first
``seconds - tail`` seconds (offsets are clipped there) so every instrument's release fits in the
clip, and pitches are moved by whole octaves into the range every chosen instrument can play,
so all renderings of a clip hold exactly the same notes. Excerpts always start on a note onset
and must keep ``MIN_NOTES`` notes and ``MIN_COVERAGE`` of the time sounding; a work that fails
to parse or gives no such excerpt is skipped for another draw, deterministically for the seed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from audiostyle.data.layout import held_out_sizes
from audiostyle.errors import AudioStyleError

SOURCES = {"chorales": "chorale", "fiddle": "fiddle"}
"""Source option name -> source kind recorded in manifests."""

TEMPO_RANGES = {"chorale": (60.0, 100.0), "fiddle": (80.0, 132.0)}
"""Quarter notes per minute, drawn uniformly per excerpt."""

TRANSPOSE_RANGE = (-6, 5)  # semitones, inclusive: every key is reachable from any source key
MIN_NOTES = 4
MIN_COVERAGE = 0.6  # fraction of the music span with at least one note sounding
MIN_NOTE_SECONDS = 0.03  # notes clipped shorter than this at the window edge are dropped
MAX_ATTEMPTS = 64

Note = tuple[float, float, int]
"""``(onset_s, offset_s, midi_pitch)``."""


@dataclass(frozen=True)
class WorkRef:
    """One corpus file: ``work_id`` like ``"chorale/bwv269"``; ``path`` for ``corpus.parse``."""

    work_id: str
    kind: str
    path: str


@dataclass
class Excerpt:
    """A planned clip: its notes (seconds from clip start) and how they were drawn."""

    work_id: str
    kind: str
    tune: int
    start_beat: float
    bpm: float
    transposition: int
    octave_shift: int
    notes: list[Note] = field(default_factory=list)

    def info(self) -> dict:
        return {"source_work": self.work_id, "source_kind": self.kind, "tune": self.tune,
                "start_beat": round(self.start_beat, 4), "bpm": round(self.bpm, 3),
                "transposition": self.transposition, "octave_shift": self.octave_shift,
                "n_notes": len(self.notes)}


# work_id -> list of (K, 3) float64 arrays [onset_beat, offset_beat, midi] per tune, or None
# when the file failed to parse. Lives for the process, i.e. one run.
_PARSED: dict[str, list[np.ndarray] | None] = {}


def list_works(sources: Iterable[str] = ("chorales", "fiddle")) -> list[WorkRef]:
    """All works of the given sources, sorted by id (cheap: lists files, parses nothing).

    Raises:
        AudioStyleError: an unknown source name.
    """
    from music21 import corpus

    works: list[WorkRef] = []
    for source in sources:
        if source not in SOURCES:
            raise AudioStyleError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
        if source == "chorales":
            names = sorted(set(corpus.chorales.Iterator(returnType="filename")))
            works += [WorkRef(f"chorale/{n.split('/')[-1]}", "chorale", n) for n in names]
        else:
            # getPaths lists the same files as corpus.search('ryansMammoth') without loading
            # the metadata bundle (2 s).
            paths = sorted(p for p in corpus.getPaths(fileExtensions=("abc",))
                           if p.parent.name == "ryansMammoth")
            works += [WorkRef(f"fiddle/{p.stem}", "fiddle", f"ryansMammoth/{p.name}") for p in paths]
    return sorted(works, key=lambda w: w.work_id)


def parse_work(path: str) -> list[np.ndarray] | None:
    """Parse one corpus file into tunes of notes; None when music21 cannot read it.

    Returns:
        One ``(K, 3)`` float64 array per tune, rows ``[onset_beat, offset_beat, midi]`` sorted
        by onset then pitch; tied notes merged, grace notes dropped.
    """
    import warnings

    from music21 import corpus, stream

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # forceSource: music21 would otherwise write pickles to its scratch folder.
            parsed = corpus.parse(path, forceSource=True)
            scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
            return [score_notes(s) for s in scores]
    except Exception:  # music21 raises many unrelated types on malformed files
        return None


def score_notes(score) -> np.ndarray:
    """A music21 Score's notes as ``(K, 3)`` float64 ``[onset_beat, offset_beat, midi]``.

    Tied notes are merged per part; zero-length (grace) notes are dropped; chords give one
    row per pitch. Rows are sorted by onset, then pitch.
    """
    rows: list[list[float]] = []
    parts = list(score.parts) or [score]
    for part in parts:
        open_ties: dict[int, int] = {}  # pitch -> row index of the note a tie continues
        for el in part.flatten().notes:
            dur = float(el.quarterLength)
            if dur <= 0:
                continue
            onset = float(el.offset)
            tie = el.tie.type if el.tie is not None else None
            for p in el.pitches:
                midi = int(round(p.ps))
                idx = open_ties.get(midi)
                if tie in ("continue", "stop") and idx is not None and abs(rows[idx][1] - onset) < 1e-6:
                    rows[idx][1] = onset + dur
                    if tie == "stop":
                        del open_ties[midi]
                    continue
                rows.append([onset, onset + dur, float(midi)])
                if tie in ("start", "continue"):
                    open_ties[midi] = len(rows) - 1
                else:
                    open_ties.pop(midi, None)
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return arr[np.lexsort((arr[:, 2], arr[:, 0]))] if len(arr) else arr


def load_works(works: Iterable[WorkRef], map_fn: Callable | None = None) -> None:
    """Parse the works not yet cached, with ``map_fn`` (e.g. a pool's ``map``) when given."""
    todo = sorted({w.work_id: w for w in works if w.work_id not in _PARSED}.values(),
                  key=lambda w: w.work_id)
    if not todo:
        return
    paths = [w.path for w in todo]
    results = list(map_fn(parse_work, paths)) if map_fn is not None and len(todo) > 1 else [
        parse_work(p) for p in paths]
    for w, tunes in zip(todo, results):
        _PARSED[w.work_id] = tunes


def work_tunes(work: WorkRef) -> list[np.ndarray] | None:
    """The cached tunes of a work, parsing it now if needed (None: unparseable)."""
    if work.work_id not in _PARSED:
        _PARSED[work.work_id] = parse_work(work.path)
    return _PARSED[work.work_id]


def split_works(works: list[WorkRef], seed: int, fractions=(0.8, 0.1, 0.1)) -> dict[str, list[WorkRef]]:
    """Assign whole works to train/val/test, per source kind, deterministically for ``seed``.

    Each kind's works are shuffled with a generator seeded by ``(seed, crc32(kind))``; val and
    test get ``round(fraction * n)`` works each (at least one when ``n >= 3``), train the rest.
    """
    out: dict[str, list[WorkRef]] = {"train": [], "val": [], "test": []}
    for kind in sorted({w.kind for w in works}):
        mine = sorted((w for w in works if w.kind == kind), key=lambda w: w.work_id)
        order = np.random.default_rng([seed, zlib.crc32(kind.encode())]).permutation(len(mine))
        n_val, n_test = held_out_sizes(len(mine), fractions)
        for rank, i in enumerate(order):
            split = "val" if rank < n_val else "test" if rank < n_val + n_test else "train"
            out[split].append(mine[i])
    return {k: sorted(v, key=lambda w: w.work_id) for k, v in out.items()}


def clip_counts(total: int, fractions=(0.8, 0.1, 0.1)) -> dict[str, int]:
    """Clips per split for ``total`` clips: val/test ``round(fraction * total)`` (>= 1 from 3)."""
    n_val, n_test = held_out_sizes(total, fractions)
    return {"train": total - n_val - n_test, "val": n_val, "test": n_test}


def cut_excerpt(tune: np.ndarray, start_beat: float, bpm: float, music_seconds: float) -> list[Note]:
    """Notes of ``tune`` (``(K, 3)`` beats) with onsets in the window, in seconds from its start.

    Offsets are clipped to ``music_seconds``; notes left shorter than ``MIN_NOTE_SECONDS``
    are dropped.
    """
    sec_per_beat = 60.0 / bpm
    onsets = (tune[:, 0] - start_beat) * sec_per_beat
    offsets = np.minimum((tune[:, 1] - start_beat) * sec_per_beat, music_seconds)
    keep = (onsets >= -1e-9) & (onsets < music_seconds) & (offsets - onsets >= MIN_NOTE_SECONDS)
    # Rounded to the microsecond so the notes written to JSON are exactly the ones rendered.
    return [(round(max(0.0, float(a)), 6), round(float(b), 6), int(p))
            for a, b, p in zip(onsets[keep], offsets[keep], tune[keep, 2])]


def fit_to_range(notes: list[Note], transposition: int, low: int, high: int) -> tuple[list[Note], int]:
    """Transpose, then move notes by whole octaves into ``[low, high]`` (needs >= 12 semitones).

    The whole excerpt first moves by the octave shift that leaves the fewest notes outside the
    range (ties: the smallest shift, then the one centring it best), keeping the melody's shape
    where it fits; notes still outside are folded one by one. Same-pitch notes that then overlap
    are merged (same onset) or the earlier ends where the later starts: one voice per pitch.

    Returns:
        ``(notes sorted by onset then pitch, global octave shift)``.
    """
    if high - low < 11:
        raise AudioStyleError(f"pitch range {low}-{high} is narrower than an octave")
    pitches = np.array([p for _, _, p in notes], dtype=np.int64) + transposition
    centre = (low + high) / 2

    def badness(k: int):
        outside = int(np.sum((pitches + 12 * k < low) | (pitches + 12 * k > high)))
        return outside, abs(k), abs(float(np.mean(pitches)) + 12 * k - centre), k

    best = min(range(-8, 9), key=badness)
    moved = []
    for (on, off, _), p in zip(notes, pitches + 12 * best):
        p = int(p)
        while p < low:
            p += 12
        while p > high:
            p -= 12
        moved.append((on, off, p))
    by_pitch = sorted(moved, key=lambda n: (n[2], n[0], -n[1]))
    merged: list[list] = []
    for on, off, p in by_pitch:
        if merged and merged[-1][2] == p and on < merged[-1][1] - 1e-9:
            prev = merged[-1]
            if on - prev[0] < MIN_NOTE_SECONDS:
                prev[1] = max(prev[1], off)
                continue
            prev[1] = on
        merged.append([on, off, p])
    out = [(float(a), float(b), int(p)) for a, b, p in merged]
    return sorted(out, key=lambda n: (n[0], n[2])), best


def coverage(notes: list[Note], length: float) -> float:
    """Fraction of ``[0, length]`` seconds during which at least one note sounds."""
    covered, end = 0.0, 0.0
    for on, off, _ in sorted(notes):
        on, off = max(on, end), min(off, length)
        if off > on:
            covered += off - on
            end = off
    return covered / length if length > 0 else 0.0


def draw_excerpts(
    works: list[WorkRef],
    count: int,
    seed: int,
    stream: int,
    seconds: float,
    tail: float,
    pitch_range: tuple[int, int],
    map_fn: Callable | None = None,
) -> list[Excerpt]:
    """Draw ``count`` excerpts from ``works`` (one split), deterministic for ``(seed, stream)``.

    Clip ``i``'s attempt ``a`` uses its own generator seeded by ``(seed, stream, i, a)``, so a
    clip does not depend on the others or on parsing order. Each attempt draws a source kind
    (uniform over the kinds present), a work, a tune, a tempo, a transposition and a start onset;
    it fails when the work is unparseable or the excerpt too sparse, and the next attempt draws
    again.

    Raises:
        AudioStyleError: no works, or ``MAX_ATTEMPTS`` failures for one clip.
    """
    if count <= 0:
        return []
    if not works:
        raise AudioStyleError("no corpus works left for this split; use more sources")
    by_kind = {k: [w for w in works if w.kind == k] for k in sorted({w.kind for w in works})}
    kinds = list(by_kind)

    def pick(i: int, a: int):
        rng = np.random.default_rng([seed, stream, i, a])
        kind = kinds[int(rng.integers(len(kinds)))]
        return rng, by_kind[kind][int(rng.integers(len(by_kind[kind])))]

    # Parse every clip's first choice in one parallel batch; later attempts are rare.
    load_works([pick(i, 0)[1] for i in range(count)], map_fn)
    music_seconds = seconds - tail
    excerpts = []
    for i in range(count):
        for a in range(MAX_ATTEMPTS):
            rng, work = pick(i, a)
            ex = _attempt(rng, work, music_seconds, pitch_range)
            if ex is not None:
                excerpts.append(ex)
                break
        else:
            raise AudioStyleError(f"found no usable excerpt for clip {i} in {MAX_ATTEMPTS} draws")
    return excerpts


def _attempt(rng: np.random.Generator, work: WorkRef, music_seconds: float,
             pitch_range: tuple[int, int]) -> Excerpt | None:
    tunes = work_tunes(work)
    if not tunes:
        return None
    tune_idx = int(rng.integers(len(tunes)))
    tune = tunes[tune_idx]
    bpm = float(rng.uniform(*TEMPO_RANGES[work.kind]))
    transposition = int(rng.integers(TRANSPOSE_RANGE[0], TRANSPOSE_RANGE[1] + 1))
    if len(tune) < MIN_NOTES:
        return None
    window_beats = music_seconds * bpm / 60.0
    onsets = np.unique(tune[:, 0])
    full = onsets[onsets + window_beats <= tune[:, 1].max() + 1e-9]
    starts = full if len(full) else onsets[:1]  # short tune: start at its beginning
    start = float(starts[int(rng.integers(len(starts)))])
    notes = cut_excerpt(tune, start, bpm, music_seconds)
    if len(notes) < MIN_NOTES:
        return None
    notes, shift = fit_to_range(notes, transposition, *pitch_range)
    if len(notes) < MIN_NOTES or coverage(notes, music_seconds) < MIN_COVERAGE:
        return None
    return Excerpt(work.work_id, work.kind, tune_idx, start, bpm, transposition, shift, notes)
