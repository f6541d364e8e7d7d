"""Synthetic test signals for the metric tests (22050 Hz mono float32).

Exposed as the ``synth`` fixture: a namespace of small generator functions, so each test file
builds exactly the signal it needs with known notes, onsets and pitches.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

SR = 22050


def midi_hz(m: float) -> float:
    return 440.0 * 2.0 ** ((m - 69.0) / 12.0)


def tone(f0: float, dur: float, sr: int = SR, n_harm: int = 8, rolloff: float = 1.0,
         decay: float = 3.0, attack: float = 0.005, release: float = 0.1) -> np.ndarray:
    """A harmonic tone: sum of ``n_harm`` partials at amplitude 1/k**rolloff, AD envelope."""
    t = np.arange(int(round(dur * sr))) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k**rolloff for k in range(1, n_harm + 1) if k * f0 < sr / 2)
    env = np.minimum(t / attack, 1.0) * np.exp(-decay * t) * np.clip((dur - t) / release, 0.0, 1.0)
    return (y * env).astype(np.float32)


def piano(f0: float, dur: float, sr: int = SR) -> np.ndarray:
    """Piano-like: fast attack, partials 1/k^2 that decay faster the higher they are."""
    t = np.arange(int(round(dur * sr))) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) * np.exp(-(1.5 + k) * t) / k**2 for k in range(1, 7) if k * f0 < sr / 2)
    env = np.minimum(t / 0.004, 1.0) * np.clip((dur - t) / 0.08, 0.0, 1.0)
    return (y * env).astype(np.float32)


def render(notes, total: float, voice=None, sr: int = SR, peak: float = 0.3, **kw) -> np.ndarray:
    """Mix notes ``[(onset_s, offset_s, midi)]`` into a ``total``-second clip, peak-normalised."""
    y = np.zeros(int(round(total * sr)), dtype=np.float32)
    for on, off, m in notes:
        s = (voice or tone)(midi_hz(m), off - on, sr=sr, **kw)
        i = int(round(on * sr))
        if i < y.shape[0]:
            y[i: i + s.shape[0]] += s[: y.shape[0] - i]
    return (peak * y / max(np.abs(y).max(), 1e-12)).astype(np.float32)


def melody(seed: int = 0, n: int = 12, low: int = 55, high: int = 75, start: float = 0.2,
           ioi=(0.3, 0.5), legato: float = 0.85):
    """Random monophonic notes with onsets ``ioi`` apart; returns (notes, total seconds)."""
    rng = np.random.default_rng(seed)
    iois = rng.uniform(*ioi, n)
    onsets = start + np.concatenate([[0.0], np.cumsum(iois)[:-1]])
    notes = [(float(o), float(o + legato * d), int(rng.integers(low, high))) for o, d in zip(onsets, iois)]
    return notes, float(onsets[-1] + iois[-1] + 0.3)


def glide(f_start: float, f_end: float, dur: float, sr: int = SR, n_harm: int = 6) -> np.ndarray:
    """Exponential pitch glide (straight line in cents) with ``n_harm`` 1/k partials."""
    t = np.arange(int(round(dur * sr))) / sr
    f = f_start * (f_end / f_start) ** (t / dur)
    phase = 2 * np.pi * np.cumsum(f) / sr
    y = sum(np.sin(k * phase) / k for k in range(1, n_harm + 1))
    env = np.clip(t / 0.02, 0, 1) * np.clip((dur - t) / 0.02, 0, 1)
    return (0.3 * y * env / np.abs(y).max()).astype(np.float32)


def shift(wave: np.ndarray, seconds: float, sr: int = SR) -> np.ndarray:
    """Delay by ``seconds`` (zeros in front), same length."""
    k = int(round(seconds * sr))
    return np.concatenate([np.zeros(k, np.float32), wave[: wave.shape[0] - k]]).astype(np.float32)


def transpose(notes, semitones: float):
    return [(a, b, m + semitones) for a, b, m in notes]


@pytest.fixture(scope="session")
def synth():
    return types.SimpleNamespace(SR=SR, midi_hz=midi_hz, tone=tone, piano=piano, render=render,
                                 melody=melody, glide=glide, shift=shift, transpose=transpose)
