"""The bundled example clip, rendered at startup with the project's own soundfont renderer.

Nothing is shipped as audio: the opening of Beethoven's "Ode to Joy" with a simple bass is
rendered with General MIDI piano (program 0) from Debian's soundfonts into the server's
temporary directory. Without a soundfont the page simply offers no example.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from audiostyle import MODEL_SR
from audiostyle.errors import AudioStyleError

log = logging.getLogger("audiostyle.web")

BEAT = 0.42  # seconds per quarter note (about 143 bpm)
# Melody (quarter-note steps, MIDI pitch, length in quarters) and one bass fifth per bar.
MELODY = [(64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1),
          (60, 1), (60, 1), (62, 1), (64, 1), (64, 1.5), (62, 0.5), (62, 2)]
BASS = [(48, 55), (43, 50), (48, 55), (43, 50)]
TAIL_SECONDS = 0.6


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    path: Path
    seconds: float

    def as_json(self) -> dict:
        return {"id": self.id, "title": self.title, "seconds": round(self.seconds, 3)}


def example_notes() -> tuple[list[tuple[float, float, int]], list[int]]:
    """``(notes [(onset_s, offset_s, pitch)], velocities)`` of the example phrase."""
    notes, velocities, t = [], [], 0.0
    for pitch, quarters in MELODY:
        notes.append((t, t + quarters * BEAT * 0.95, pitch))
        velocities.append(84)
        t += quarters * BEAT
    for bar, fifth in enumerate(BASS):
        for pitch in fifth:
            notes.append((bar * 4 * BEAT, (bar + 1) * 4 * BEAT * 0.99, pitch))
            velocities.append(60)
    return notes, velocities


def render_examples(folder: Path) -> dict[str, Example]:
    """Render the example into ``folder``; ``{}`` (with a log line) when no soundfont is installed."""
    from audiostyle.audio.io import save_audio
    from audiostyle.data import TEST_FONT, TRAIN_FONT
    from audiostyle.data.render import check_font, finish, render_notes

    notes, velocities = example_notes()
    n_samples = int((max(off for _, off, _ in notes) + TAIL_SECONDS) * MODEL_SR)
    for font in (TEST_FONT, TRAIN_FONT):
        try:
            check_font(font)
            wave = finish(render_notes(font, 0, notes, velocities, n_samples))
        except AudioStyleError as exc:
            last = exc
            continue
        path = save_audio(Path(folder) / "ode-to-joy-piano.wav", wave, MODEL_SR)
        ex = Example("ode-to-joy-piano", "Ode to Joy, opening (piano)", path, n_samples / MODEL_SR)
        return {ex.id: ex}
    log.warning("no bundled example: %s", last)
    return {}
