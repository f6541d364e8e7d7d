"""Corpus listing, parsing, splitting and excerpt drawing."""

from __future__ import annotations

import numpy as np
import pytest

from audiostyle.data import corpus
from audiostyle.data.corpus import WorkRef
from audiostyle.errors import AudioStyleError


@pytest.fixture(scope="module")
def works():
    return corpus.list_works(("chorales", "fiddle"))


def test_list_works(works):
    kinds = [w.kind for w in works]
    assert kinds.count("chorale") > 300 and kinds.count("fiddle") > 1000
    assert len({w.work_id for w in works}) == len(works)
    assert all(w.work_id.startswith(w.kind + "/") for w in works)
    assert [w.work_id for w in works] == sorted(w.work_id for w in works)
    assert {w.kind for w in corpus.list_works(["fiddle"])} == {"fiddle"}
    with pytest.raises(AudioStyleError, match="unknown source"):
        corpus.list_works(["jazz"])


def test_parse_chorale_is_polyphonic_and_fiddle_monophonic(works):
    chorale = next(w for w in works if w.kind == "chorale")
    fiddle = next(w for w in works if w.kind == "fiddle")
    [notes] = corpus.parse_work(chorale.path)
    assert notes.shape[1] == 3 and len(notes) > 40
    assert np.all(notes[:, 1] > notes[:, 0])
    assert np.all(np.diff(notes[:, 0]) >= 0)
    assert 30 <= notes[:, 2].min() and notes[:, 2].max() <= 90
    _, per_onset = np.unique(notes[:, 0], return_counts=True)
    assert per_onset.max() >= 4  # four voices strike together
    [tune] = corpus.parse_work(fiddle.path)
    assert len(tune) > 20
    overlap = tune[1:, 0] < tune[:-1, 1] - 1e-6
    assert overlap.mean() < 0.05  # a single line (rare double stops aside)


def test_score_notes_merges_ties_and_drops_grace_notes():
    from music21 import note, stream, tie

    part = stream.Part()
    a, b = note.Note("C4", quarterLength=1), note.Note("C4", quarterLength=1)
    a.tie, b.tie = tie.Tie("start"), tie.Tie("stop")
    grace = note.Note("E4").getGrace()
    part.append([a, b, grace, note.Note("D4", quarterLength=0.5)])
    score = stream.Score([part])
    assert corpus.score_notes(score).tolist() == [[0.0, 2.0, 60.0], [2.0, 2.5, 62.0]]


def test_parse_failure_is_none():
    assert corpus.parse_work("no/such/work.xml") is None


def test_cut_excerpt_window_and_clipping():
    tune = np.array([[0, 1, 60], [1, 2, 62], [2, 6, 64], [6, 7, 65]], dtype=float)
    # 120 bpm: 0.5 s per beat; window 2 s from beat 1
    notes = corpus.cut_excerpt(tune, 1.0, 120.0, 2.0)
    assert notes == [(0.0, 0.5, 62), (0.5, 2.0, 64)]


def test_fit_to_range_moves_whole_octaves_only():
    notes = [(0.0, 1.0, 36), (0.0, 1.0, 60), (0.5, 1.0, 72), (1.0, 2.0, 95)]
    fitted, shift = corpus.fit_to_range(notes, transposition=2, low=55, high=84)
    assert all(55 <= p <= 84 for _, _, p in fitted)
    assert sorted({(p - 2) % 12 for _, _, p in fitted}) == sorted({p % 12 for _, _, p in notes})
    # 36+2 folds to 62, which then overlaps 60+2=62 from the same onset: merged into one note
    assert sum(1 for on, _, p in fitted if p == 62 and on == 0.0) == 1
    in_range = [(0.0, 1.0, 60), (1.0, 2.0, 67)]
    assert corpus.fit_to_range(in_range, 0, 55, 103) == (in_range, 0)  # no needless octave moves
    with pytest.raises(AudioStyleError):
        corpus.fit_to_range(in_range, 0, 60, 70)


def test_fit_to_range_ends_earlier_same_pitch_note():
    fitted, _ = corpus.fit_to_range([(0.0, 2.0, 48), (1.0, 2.0, 60)], 0, 55, 66)
    assert fitted == [(0.0, 1.0, 60), (1.0, 2.0, 60)]


def test_coverage():
    assert corpus.coverage([(0.0, 1.0, 60), (0.5, 2.0, 62)], 4.0) == pytest.approx(0.5)
    assert corpus.coverage([], 4.0) == 0.0


def test_split_works_disjoint_deterministic_by_kind(works):
    a = corpus.split_works(works, seed=3)
    b = corpus.split_works(works, seed=3)
    assert a == b
    ids = {s: {w.work_id for w in ws} for s, ws in a.items()}
    assert not (ids["train"] & ids["val"] or ids["train"] & ids["test"] or ids["val"] & ids["test"])
    assert set().union(*ids.values()) == {w.work_id for w in works}
    for kind in ("chorale", "fiddle"):
        n = {s: sum(w.kind == kind for w in ws) for s, ws in a.items()}
        total = sum(n.values())
        assert n["val"] == n["test"] == round(0.1 * total)
    assert corpus.split_works(works, seed=4) != a
    assert corpus.clip_counts(768) == {"train": 614, "val": 77, "test": 77}
    assert corpus.clip_counts(6) == {"train": 4, "val": 1, "test": 1}
    assert corpus.clip_counts(2) == {"train": 2, "val": 0, "test": 0}


def test_draw_excerpts_deterministic_in_range_and_dense(works):
    pool = [w for w in works if w.kind == "chorale"][:10] + [w for w in works if w.kind == "fiddle"][:10]
    a = corpus.draw_excerpts(pool, 8, seed=1, stream=0, seconds=4.0, tail=0.5, pitch_range=(55, 84))
    b = corpus.draw_excerpts(pool, 8, seed=1, stream=0, seconds=4.0, tail=0.5, pitch_range=(55, 84))
    assert [e.notes for e in a] == [e.notes for e in b]
    assert [e.notes for e in corpus.draw_excerpts(pool, 8, 2, 0, 4.0, 0.5, (55, 84))] != [e.notes for e in a]
    ids = {w.work_id for w in pool}
    for ex in a:
        assert ex.work_id in ids
        assert len(ex.notes) >= corpus.MIN_NOTES
        assert min(on for on, _, _ in ex.notes) == 0.0  # starts on a note, not in a rest
        assert all(55 <= p <= 84 and 0 <= on < off <= 3.5 for on, off, p in ex.notes)
        assert corpus.coverage(ex.notes, 3.5) >= corpus.MIN_COVERAGE
        lo, hi = corpus.TEMPO_RANGES[ex.kind]
        assert lo <= ex.bpm <= hi


def test_unusable_works_are_skipped(works):
    bad = [WorkRef("chorale/zz-missing", "chorale", "bach/no-such-chorale")]
    good = [w for w in works if w.kind == "chorale"][:1]
    exs = corpus.draw_excerpts(bad + good, 4, seed=0, stream=0, seconds=3.0, tail=0.5, pitch_range=(55, 103))
    assert {e.work_id for e in exs} == {good[0].work_id}
    with pytest.raises(AudioStyleError):
        corpus.draw_excerpts(bad, 1, seed=0, stream=0, seconds=3.0, tail=0.5, pitch_range=(55, 103))
