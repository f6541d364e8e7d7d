"""The rows of an evaluation: the model under test and three baselines.

Every system turns one clip's source rendering into an output for a target instrument, and
every output is scored with exactly the same metrics (:mod:`.scoring`):

* **model** (:class:`ModelSystem`): the model under test, ``transfer(input, to=target)``.
* **content input** (:class:`ContentInput`): the untouched input. For a transfer it is the
  floor: the notes are right, the timbre is the source instrument's. For a reconstruction it
  *is* the ideal output (identical to the target row there).
* **target** (:class:`Target`): the true rendering of the same notes with the target
  instrument: the ceiling. Metrics against the target then compare it with itself (LSD 0,
  chroma cosine 1, MFCC distance 0); the note-level metrics show the transcriber's and pitch
  tracker's own ceiling, and style accuracy the classifier's accuracy on real renderings.
* **transcribe + re-render** (:class:`TranscribeRerender`): basic-pitch notes of the input,
  rendered with the target instrument's GM program and the split's soundfont: the classic
  symbolic pipeline a learned model should beat on timbre-sensitive metrics.

Waveforms are mono float32 ``(N,)`` at 22050 Hz (:data:`audiostyle.MODEL_SR`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.errors import AudioStyleError

RERENDER_VELOCITY = 80
"""MIDI velocity of re-rendered notes (mid-range of the data set's 64-100; loudness is
normalised afterwards, as for the data set)."""


@dataclass
class ClipAudio:
    """One clip of a paired data set: the same notes rendered with several instruments.

    Attributes:
        paths: ``{instrument: WAV path}``.
        notes: ``[(onset_s, offset_s, midi)]`` or None (no notes file).
        kind: the manifest's source kind (``"chorale"`` polyphonic, ``"fiddle"`` monophonic) or None.
    """

    clip_id: str
    paths: dict[str, str]
    notes: list | None = None
    kind: str | None = None
    _waves: dict = field(default_factory=dict, repr=False)

    def rendering(self, instrument: str) -> np.ndarray:
        """The clip rendered with ``instrument``, ``(N,)`` float32 at 22050 Hz (loaded once)."""
        if instrument not in self._waves:
            if instrument not in self.paths:
                raise AudioStyleError(f"clip {self.clip_id} has no {instrument} rendering")
            from audiostyle.audio.io import load_audio

            self._waves[instrument] = load_audio(self.paths[instrument], sr=MODEL_SR)
        return self._waves[instrument]

    def __getstate__(self):
        # Workers get paths, not audio: jobs stay small, each worker reads its own files.
        state = dict(self.__dict__)
        state["_waves"] = {}
        return state


class System:
    """A row of the report. Subclasses set the attributes and implement :meth:`produce`."""

    name = "system"
    label = "system"
    description = ""
    cacheable = True  # output independent of the model under test: results may be cached

    def produce(self, clip: ClipAudio, source: str, target: str) -> np.ndarray:
        """Output ``(N,)`` for ``clip`` rendered with ``source``, asked for instrument ``target``."""
        raise NotImplementedError

    def cache_token(self) -> dict:
        """Everything besides the clip that determines the output (part of the cache key)."""
        return {}

    def info(self) -> dict:
        return {"label": self.label, "description": self.description, "cached": self.cacheable}


class ContentInput(System):
    name = "content_input"
    label = "content input"
    description = ("the untouched input (source instrument): the floor for transfer; for "
                   "reconstruction it is the ideal output, identical to the target row")

    def produce(self, clip, source, target):
        return clip.rendering(source)


class Target(System):
    name = "target"
    label = "target"
    description = ("the true rendering of the same notes with the target instrument: the ceiling; "
                   "scored against itself where the reference is the target")

    def produce(self, clip, source, target):
        return clip.rendering(target)


class TranscribeRerender(System):
    """basic-pitch transcription of the input, re-rendered with the target's GM program.

    Args:
        font: SoundFont 2 file (the evaluated split's, from the manifest).
        programs: ``{instrument name: GM program}``.
    Raises:
        AudioStyleError: missing or invalid soundfont.
    """

    name = "transcribe_rerender"
    label = "transcribe + re-render"
    description = ("basic-pitch notes of the input rendered with the target instrument's GM "
                   "program and the split's soundfont (velocity 80, RMS 0.07): the symbolic baseline")

    def __init__(self, font: str, programs: dict[str, int], velocity: int = RERENDER_VELOCITY):
        from audiostyle.data.render import check_font

        self.font = str(check_font(font))
        self.programs = {str(k): int(v) for k, v in programs.items()}
        self.velocity = int(velocity)

    def produce(self, clip, source, target):
        from audiostyle.data.render import finish, render_notes
        from audiostyle.evaluation.scoring import cached_transcribe

        if target not in self.programs:
            raise AudioStyleError(f"no GM program known for {target!r}")
        x = clip.rendering(source)
        notes = cached_transcribe(x)
        n = x.shape[0]
        if not notes:  # nothing heard: the honest output of this pipeline is silence
            return np.zeros(n, dtype=np.float32)
        raw = render_notes(self.font, self.programs[target], notes, [self.velocity] * len(notes), n)
        return finish(raw)

    def cache_token(self):
        import os

        from audiostyle.metrics import transcription as T

        st = os.stat(self.font)
        return {"font": self.font, "font_size": st.st_size, "programs": self.programs,
                "velocity": self.velocity,
                "basic_pitch": [T.ONSET_THRESHOLD, T.FRAME_THRESHOLD, T.MIN_NOTE_MS]}

    def info(self):
        return {**super().info(), "font": self.font, "programs": self.programs, "velocity": self.velocity}


def _accepts(fn, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class ModelSystem(System):
    """The model under test: anything with ``transfer(wave, sr, to) -> (wave, sr)`` and ``name``.

    Runs in the main process (the model is never sent to workers); its outputs are stored and
    scored like the baselines'.
    """

    name = "model"
    cacheable = False

    def __init__(self, transfer, name: str | None = None):
        self.transfer = transfer
        self.label = f"model ({name or getattr(transfer, 'name', 'model')})"
        self.description = ("the model under test, asked for the target instrument (the source's own for "
                            "reconstruction) and told the source instrument, which only the twin autoencoders use")
        # Models built around a known source domain get it, as their papers assume; the
        # transfer objects of audiostyle models accept it (and the others ignore it).
        self._source_hint = _accepts(getattr(transfer, "transfer", None), "source")

    def produce(self, clip, source, target):
        from audiostyle.audio.io import resample

        x = clip.rendering(source)
        hint = {"source": source} if self._source_hint else {}
        y, sr = self.transfer.transfer(x, MODEL_SR, to=target, **hint)
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if int(sr) != MODEL_SR:
            y = resample(y, int(sr), MODEL_SR)
        if not np.all(np.isfinite(y)):
            raise AudioStyleError(f"model '{getattr(self.transfer, 'name', 'model')}' produced non-finite audio")
        # Outputs are compared sample-for-sample with the input's grid: fit them to its length.
        if y.shape[0] >= x.shape[0]:
            return y[: x.shape[0]]
        return np.pad(y, (0, x.shape[0] - y.shape[0]))


def baseline_systems(manifest: dict, split: str, instruments: list[str]) -> tuple[list[System], dict[str, str]]:
    """The three baselines for a data set split, and ``{system name: reason}`` for any skipped.

    The re-render baseline uses the split's (first) soundfont from the manifest (falling back to the
    package defaults for data sets without one) and each instrument's GM program (manifest,
    else the General MIDI table).
    """
    from audiostyle.data import TEST_FONT, TRAIN_FONT
    from audiostyle.data.instruments import resolve_instrument
    from audiostyle.data.render import split_font

    systems: list[System] = [ContentInput(), Target()]
    skipped: dict[str, str] = {}
    font = split_font(manifest, split) or (TEST_FONT if split == "test" else TRAIN_FONT)
    listed = {i.get("name"): i.get("program") for i in manifest.get("instruments") or [] if isinstance(i, dict)}
    try:
        programs = {name: int(listed[name]) if listed.get(name) is not None else resolve_instrument(name).program
                    for name in instruments}
        systems.append(TranscribeRerender(font, programs))
    except AudioStyleError as exc:
        skipped[TranscribeRerender.name] = str(exc)
    return systems, skipped
