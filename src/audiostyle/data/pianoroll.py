"""Note lists -> piano rolls at the content encoder's token rate.

A rendered data set keeps each clip's notes (``{split}/notes/{clip_id}.json``, seconds from the
clip's start). Training with note supervision and the content notes probe both need, for every
content token, the pitches sounding at that token's centre.
"""

from __future__ import annotations

import numpy as np

NOTE_LOW, NOTE_HIGH = 36, 108  # MIDI pitches labelled; the rendered corpus stays within them
NOTE_PITCHES = NOTE_HIGH - NOTE_LOW + 1


def midi_hz(pitch):
    """Equal-tempered frequency in Hz of a MIDI pitch (a number or an array), A4 = 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def token_roll(
    notes, n_tokens: int, frames_per_token: int, frame_seconds: float, start_frame: int = 0,
) -> np.ndarray:
    """Pitches sounding at each token's centre.

    Frame ``t`` is centred on ``t * frame_seconds`` (centred STFT frames); token ``s`` of a crop
    that starts at frame ``start_frame`` covers frames ``start_frame + s * frames_per_token``
    onwards, so its centre is ``start_frame + (s + 0.5) * frames_per_token - 0.5`` frames.

    Args:
        notes: ``[(onset_s, offset_s, midi), ...]``; a note sounds on ``[onset, offset)``.
            Pitches outside ``[NOTE_LOW, NOTE_HIGH]`` are left out.
    Returns:
        ``(n_tokens, NOTE_PITCHES)`` float32, 1 where the pitch ``NOTE_LOW + p`` sounds.
    """
    centres = (start_frame + (np.arange(n_tokens) + 0.5) * frames_per_token - 0.5) * frame_seconds
    roll = np.zeros((n_tokens, NOTE_PITCHES), dtype=np.float32)
    for on, off, pitch in notes:
        if NOTE_LOW <= pitch <= NOTE_HIGH:
            roll[(centres >= on) & (centres < off), int(pitch) - NOTE_LOW] = 1.0
    return roll


def token_onsets(
    notes, n_tokens: int, frames_per_token: int, frame_seconds: float, start_frame: int = 0,
) -> np.ndarray:
    """Pitches that start within each token.

    Token ``s`` of a crop that starts at frame ``start_frame`` holds frames ``start_frame +
    s * frames_per_token`` to ``start_frame + (s + 1) * frames_per_token - 1``, centred STFT
    frames ``frame_seconds`` apart; an onset belongs to the token whose frames lie nearest it,
    so the token spans ``[first - 0.5, last + 0.5)`` frames. A repeated note, which
    :func:`token_roll` shows as one unbroken run, shows here as two starts.

    Args:
        notes: ``[(onset_s, offset_s, midi), ...]``; pitches outside ``[NOTE_LOW, NOTE_HIGH]``
            and onsets outside the crop are left out.
    Returns:
        ``(n_tokens, NOTE_PITCHES)`` float32, 1 where the pitch ``NOTE_LOW + p`` starts.
    """
    onsets = np.zeros((n_tokens, NOTE_PITCHES), dtype=np.float32)
    for on, _off, pitch in notes:
        if not NOTE_LOW <= pitch <= NOTE_HIGH:
            continue
        s = int(np.floor((on / frame_seconds + 0.5 - start_frame) / frames_per_token))
        if 0 <= s < n_tokens:
            onsets[s, int(pitch) - NOTE_LOW] = 1.0
    return onsets
