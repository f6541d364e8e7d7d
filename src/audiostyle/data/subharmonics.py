"""Sub-octave partials: a gain that takes a soundfont's energy an octave under its notes out.

The training soundfont renders notes of about 700 Hz and up with a partial at half the note's
frequency 30-40 dB under it (weaker ones at 3/2, 5/2, ... of it); the test soundfont has them
55-80 dB under. Models trained on the first lay that partial on the second's notes, and where it
comes within a few dB of the note an f0 tracker reads the clip an octave low
(``benchmarks/octave_errors.py``). A rendered clip's note list says where the notes are, so
training can take the partial out of what the model learns: :func:`subharmonic_gain` is a gain
over the clip's ``(frames, bins)`` grid that lowers every odd multiple of ``f0 / 2`` of each note
at or above ``min_hz`` by ``depth_db``, except in bins near a harmonic of any note sounding then
(an octave below, another voice's harmonics fall on exactly those frequencies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiostyle.data.pianoroll import midi_hz
from audiostyle.features.spectral import SpectralConfig, cqt_frequencies


def bin_reach_hz(cfg: SpectralConfig = SpectralConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Centre frequency and main-lobe half-width in Hz of every input bin, ``(n_bins,)`` each.

    A partial at ``h`` Hz shows in bin ``b`` when ``|centre[b] - h| <= half_width[b]``: two bins
    of the Hann-windowed STFT (``2 sr / n_fft``), and ``2 f / Q`` for a CQT bin at ``f`` (its
    Hann window is ``Q sr / f`` samples long).
    """
    q = 1.0 / (2.0 ** (1.0 / cfg.cqt_bins_per_octave) - 1.0)
    stft = np.arange(cfg.stft_bins) * cfg.sr / cfg.n_fft
    cqt = np.asarray(cqt_frequencies(cfg), dtype=np.float64)
    centre = np.concatenate([stft, cqt])
    half = np.concatenate([np.full(cfg.stft_bins, 2.0 * cfg.sr / cfg.n_fft), 2.0 * cqt / q])
    return centre, half


def _near(centre: np.ndarray, half: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Bins ``(n_bins,)`` bool within reach of any of ``freqs`` ``(M,)``."""
    if freqs.size == 0:
        return np.zeros(centre.shape, dtype=bool)
    return (np.abs(centre[:, None] - freqs[None, :]) <= half[:, None]).any(axis=1)


def subharmonic_gain(
    notes, n_frames: int, frame_seconds: float, centre_hz: np.ndarray, half_width_hz: np.ndarray,
    min_hz: float = 700.0, depth_db: float = 30.0, window_seconds: float = 0.0, release_seconds: float = 0.3,
    orders: int = 0,
) -> np.ndarray:
    """Linear amplitude gain ``(n_frames, n_bins)`` float32 in ``(0, 1]``.

    Frame ``t`` is centred on ``t * frame_seconds``. A note counts as sounding from
    ``window_seconds`` before its onset (a centred window reaches that far ahead) to
    ``release_seconds`` after its offset (its release rings on).

    Args:
        notes: ``[(onset_s, offset_s, midi), ...]``.
        centre_hz, half_width_hz: ``(n_bins,)`` from :func:`bin_reach_hz`.
        orders: how many odd multiples of ``f0 / 2`` to cut, from ``f0 / 2`` up; 0 cuts all of
            them. Under a low note the odd multiples fill the gaps between its harmonics up to
            the top of the spectrum, so a cut reaching low notes keeps to ``orders=1``.
    Returns:
        1 everywhere except, in frames where a note of ``min_hz`` or more sounds, the bins within
        reach of ``(2k + 1) f0 / 2`` (0 <= k, and k < ``orders`` unless it is 0) and out of reach
        of every harmonic ``j f`` of every note sounding then: those get ``10 ** (-depth_db / 20)``.
    """
    if orders < 0:
        raise ValueError(f"orders must be >= 0, got {orders}")
    gain = np.ones((n_frames, len(centre_hz)), dtype=np.float32)
    if depth_db <= 0 or not notes:
        return gain
    top = float(np.max(centre_hz + half_width_hz))
    times = np.arange(n_frames) * frame_seconds
    spans = [
        (int(np.searchsorted(times, on - window_seconds)), int(np.searchsorted(times, off + release_seconds)), midi_hz(p))
        for on, off, p in notes
    ]
    edges = sorted({0, n_frames, *(min(max(e, 0), n_frames) for a, b, _ in spans for e in (a, b))})
    cut_value = np.float32(10.0 ** (-depth_db / 20.0))
    for lo, hi in zip(edges[:-1], edges[1:]):
        sounding = [f for a, b, f in spans if a <= lo < b]
        high = [f for f in sounding if f >= min_hz]
        if not high:
            continue
        targets = np.concatenate([np.arange(0.5, top / f + 1.0, 1.0)[: orders or None] * f for f in high])
        harmonics = np.concatenate([np.arange(1.0, top / f + 1.0, 1.0) * f for f in sounding])
        cut = _near(centre_hz, half_width_hz, targets) & ~_near(centre_hz, half_width_hz, harmonics)
        gain[lo:hi, cut] = cut_value
    return gain


@dataclass(frozen=True)
class SubharmonicCut:
    """Training option: lower the sub-octave partials of notes of ``min_hz`` and up by
    ``depth_db`` in every crop (``train.subharmonic_cut_db``, ``train.subharmonic_min_hz``)."""

    depth_db: float
    min_hz: float = 700.0
    release_seconds: float = 0.3
    orders: int = 0

    def __post_init__(self):
        if self.depth_db <= 0 or self.min_hz <= 0 or self.release_seconds < 0 or self.orders < 0:
            raise ValueError(
                f"a sub-octave cut needs depth_db > 0, min_hz > 0, release_seconds >= 0 and orders >= 0, got "
                f"{self.depth_db}, {self.min_hz}, {self.release_seconds}, {self.orders}")

    def clip_gain(self, notes, n_frames: int, cfg: SpectralConfig, power: float) -> np.ndarray:
        """Gain ``(n_frames, n_bins)`` float32 for features compressed to ``|X| ** power``: a
        linear gain ``g`` on the waveform's spectrum is ``g ** power`` on them."""
        centre, half = bin_reach_hz(cfg)
        gain = subharmonic_gain(
            notes, n_frames, cfg.hop / cfg.sr, centre, half, self.min_hz, self.depth_db,
            window_seconds=cfg.n_fft / 2 / cfg.sr, release_seconds=self.release_seconds, orders=self.orders,
        )
        return gain ** np.float32(power)
