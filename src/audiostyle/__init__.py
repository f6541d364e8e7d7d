"""audiostyle: music style (timbre) transfer.

Importing the package has no side effects; heavy modules load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

MODEL_SR = 22050
"""Sample rate (Hz) of every model, data set and feature in audiostyle."""



def load(name_or_path=None, device: str = "cpu", settings: dict | None = None):
    """Load a model for transfer (see :func:`audiostyle.hub.load`).

    >>> model = audiostyle.load("default")                # doctest: +SKIP
    >>> wave, sr = model.transfer(piano, 22050, to="violin")  # doctest: +SKIP
    """
    from audiostyle.hub import load as _load

    return _load(name_or_path, device, settings)


__all__ = ["MODEL_SR", "__version__", "load"]
