"""What every transfer model shares: the two properties the inference windowing reads."""

from __future__ import annotations


class WindowedModel:
    """Mixin for models with ``cfg.instruments``, ``cfg.window_frames`` and ``spectral.hop``.

    :class:`audiostyle.inference.Transfer` cuts long inputs into windows of
    ``window_samples`` and asks for one of ``instruments``.
    """

    @property
    def instruments(self) -> list[str]:
        return list(self.cfg.instruments)

    @property
    def window_samples(self) -> int:
        return self.cfg.window_frames * self.spectral.hop
