"""Known answers for piano rolls at the content token rate."""

import numpy as np

from audiostyle.data.pianoroll import NOTE_HIGH, NOTE_LOW, NOTE_PITCHES, midi_hz, token_onsets, token_roll


def test_token_centres_and_crop_offset():
    # 1 frame = 0.1 s, 2 frames a token: token s of a crop at frame 0 is centred on 0.2 s * s + 0.05 s
    notes = [(0.0, 0.1, 60), (0.1, 0.45, 64), (0.3, 1.0, 67)]
    roll = token_roll(notes, 4, 2, 0.1)
    assert roll.shape == (4, NOTE_PITCHES) and roll.dtype == np.float32
    centres_hit = {p + NOTE_LOW: np.flatnonzero(roll[:, p]).tolist() for p in np.flatnonzero(roll.any(axis=0))}
    # centres 0.05, 0.25, 0.45, 0.65: 60 sounds at 0.05; 64 on [0.1, 0.45) holds 0.25 but not 0.45
    assert centres_hit == {60: [0], 64: [1], 67: [2, 3]}
    # the same notes seen from a crop starting 3 frames (0.3 s) later: centres 0.35 .. 0.95
    later = token_roll(notes, 4, 2, 0.1, start_frame=3)
    assert np.flatnonzero(later[:, 64 - NOTE_LOW]).tolist() == [0]
    assert np.flatnonzero(later[:, 67 - NOTE_LOW]).tolist() == [0, 1, 2, 3]
    assert later[:, 60 - NOTE_LOW].sum() == 0


def test_pitches_outside_the_range_are_left_out_and_chords_stack():
    notes = [(0.0, 1.0, NOTE_LOW - 1), (0.0, 1.0, NOTE_HIGH + 1), (0.0, 1.0, NOTE_LOW), (0.0, 1.0, NOTE_HIGH), (0.0, 1.0, 72)]
    roll = token_roll(notes, 3, 4, 0.01)
    assert roll.sum(axis=1).tolist() == [3.0, 3.0, 3.0]
    assert roll[0, 0] == 1 and roll[0, -1] == 1 and roll[0, 72 - NOTE_LOW] == 1
    assert token_roll([], 5, 4, 0.01).sum() == 0


def test_midi_hz():
    assert midi_hz(69) == 440.0 and midi_hz(81) == 880.0
    assert np.allclose(midi_hz(np.array([57.0, 60.0])), [220.0, 261.6255653])


def test_onsets_land_in_the_token_holding_the_nearest_frame():
    # 1 frame = 0.1 s, 2 frames a token: token s holds frames 2s and 2s+1, so onsets on
    # [0.2 s * s - 0.05 s, 0.2 s * s + 0.15 s) belong to it
    notes = [(0.0, 0.2, 60), (0.2, 0.4, 60), (0.14, 0.6, 64), (0.16, 0.6, 67), (0.9, 1.0, 72)]
    onsets = token_onsets(notes, 4, 2, 0.1)
    assert onsets.shape == (4, NOTE_PITCHES) and onsets.dtype == np.float32
    hits = {p + NOTE_LOW: np.flatnonzero(onsets[:, p]).tolist() for p in np.flatnonzero(onsets.any(axis=0))}
    # the repeated 60 starts twice (token_roll shows one unbroken run); 0.9 s lies past the crop
    assert hits == {60: [0, 1], 64: [0], 67: [1]}
    assert np.flatnonzero(token_roll(notes, 4, 2, 0.1)[:, 60 - NOTE_LOW]).tolist() == [0, 1]
    # a crop starting 3 frames later: token 0 holds frames 3-4 (2.5-4.5 frames, 0.25-0.45 s)
    later = token_onsets(notes + [(0.3, 0.5, 62), (0.44, 0.5, 65)], 4, 2, 0.1, start_frame=3)
    assert np.flatnonzero(later[:, 62 - NOTE_LOW]).tolist() == [0] and later[0, 65 - NOTE_LOW] == 1
    assert later[:, 60 - NOTE_LOW].sum() == 0  # both starts lie before the crop
    assert token_onsets([(0.0, 1.0, NOTE_LOW - 1), (0.0, 1.0, NOTE_HIGH + 1)], 3, 4, 0.01).sum() == 0
