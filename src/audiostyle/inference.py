"""Transfer of whole recordings: windowing, batching, cross-fading, style selection.

Models work on fixed-length windows (the length they were trained on). A recording of any
length is cut into overlapping windows, which are transferred in batches of ``batch_windows``
(so memory stays bounded whatever the length), then overlap-added with complementary linear
fades. The output has exactly the input's number of samples.

A model used here provides ``window_samples``, ``instruments``, ``style_vector(to, reference)``
and ``transfer_window(waves (B, N), style (B, D)) -> (B, N)``.
"""

from __future__ import annotations

import numpy as np
import torch

from audiostyle import MODEL_SR
from audiostyle.audio.io import resample
from audiostyle.errors import AudioStyleError


def window_starts(n: int, window: int, hop: int) -> list[int]:
    """Start samples of windows covering ``[0, n)``; the last window ends at or after ``n``."""
    if n <= window:
        return [0]
    starts = list(range(0, n - window, hop))
    starts.append(n - window if starts[-1] + window < n else starts[-1])
    return sorted(set(starts))


def crossfade_weights(window: int, overlap: int) -> np.ndarray:
    """``(window,)`` fade-in/fade-out ramp; overlapping ramps of neighbours sum to one."""
    w = np.ones(window, dtype=np.float32)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        w[:overlap], w[-overlap:] = ramp, ramp[::-1]
    return w


class Transfer:
    """A loaded model ready for style transfer: ``.transfer(wave, sr, to=..., reference=None)``."""

    def __init__(self, model, name: str = "model", overlap_seconds: float = 0.25, batch_windows: int = 16,
                 settings: dict | None = None):
        self.model, self.name = model.eval(), name
        self.sr = MODEL_SR
        self.window = int(model.window_samples)
        self.overlap = min(int(overlap_seconds * self.sr), self.window // 4)
        self.batch_windows = batch_windows
        self.settings = dict(settings or {})  # inference settings applied at load (audiostyle.models.settings)

    @property
    def instruments(self) -> list[str]:
        return list(self.model.instruments)

    def _check_instrument(self, to: str) -> str:
        from audiostyle.data.instruments import resolve_instrument

        try:
            name = resolve_instrument(to).name
        except AudioStyleError:
            name = str(to)
        if name not in self.instruments:
            raise AudioStyleError(f"model '{self.name}' cannot play {to!r}; it plays: {', '.join(self.instruments)}")
        return name

    @property
    def uses_source(self) -> bool:
        """Whether the model reads the input's instrument (``source``) rather than ignoring it."""
        return bool(getattr(type(self.model), "USES_SOURCE", False))

    @torch.no_grad()
    def transfer(
        self, wave: np.ndarray, sr: int, to: str, reference: np.ndarray | None = None,
        reference_sr: int | None = None, progress: bool = False, source: str | None = None,
    ) -> tuple[np.ndarray, int]:
        """Re-render ``wave`` ``(N,)`` (any rate) with the timbre of instrument ``to``.

        With ``reference`` ``(M,)``, the style comes from that clip (one-shot transfer)
        instead of the instrument's prototype. ``source``: the input's instrument, for models
        built around a known source domain (the twin autoencoders encode with that instrument's
        encoder; without it they guess); other models ignore it. Returns
        ``(samples (N',), MODEL_SR)`` with ``N'`` the input's duration at the model rate.
        """
        to = self._check_instrument(to)
        source_index = None
        if source is not None:
            source = self._check_instrument(source)
            source_index = self.instruments.index(source) if self.uses_source else None
        x = resample(np.asarray(wave, dtype=np.float32).reshape(-1), int(sr), self.sr)
        ref = None
        if reference is not None:
            ref = resample(np.asarray(reference, dtype=np.float32).reshape(-1), int(reference_sr or sr), self.sr)
        if ref is None and source == to and hasattr(self.model, "reconstruction_style"):
            # a reconstruction: the model may take part of the style from the input itself
            style = self.model.reconstruction_style(to, torch.from_numpy(x))
        else:
            style = self.model.style_vector(to, None if ref is None else torch.from_numpy(ref))
        return self._run(x, style, progress, source_index), self.sr

    def _run(self, x: np.ndarray, style: torch.Tensor, progress: bool, source: int | None = None) -> np.ndarray:
        n, win = len(x), self.window
        padded = np.pad(x, (0, max(0, win - n)))
        starts = window_starts(len(padded), win, win - self.overlap)
        out = np.zeros(len(padded), dtype=np.float32)
        norm = np.zeros(len(padded), dtype=np.float32)
        fade = crossfade_weights(win, self.overlap)
        batches = range(0, len(starts), self.batch_windows)
        if progress and len(starts) > self.batch_windows:
            from tqdm import tqdm

            batches = tqdm(batches, desc="transfer", unit="batch")
        for b in batches:
            chunk = starts[b : b + self.batch_windows]
            waves = torch.from_numpy(np.stack([padded[s : s + win] for s in chunk]))
            styles = style[None].expand(len(chunk), -1)
            if source is None:
                result = self.model.transfer_window(waves, styles).numpy()
            else:
                result = self.model.transfer_window(waves, styles, source=source).numpy()
            for s, y in zip(chunk, result):
                w = fade.copy()
                if s == 0:
                    w[: self.overlap] = 1.0  # nothing before the first window to fade into
                if s + win >= len(padded):
                    w[-self.overlap :] = 1.0
                out[s : s + win] += w * y
                norm[s : s + win] += w
        y = (out / np.maximum(norm, 1e-8))[:n].astype(np.float32)
        if not np.all(np.isfinite(y)):
            raise AudioStyleError(f"model '{self.name}' produced non-finite audio")
        return y
