"""audiostyle: music style (timbre) transfer.

Importing the package has no side effects; heavy modules load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

MODEL_SR = 22050
"""Sample rate (Hz) of every model, data set and feature in audiostyle."""

__all__ = ["MODEL_SR", "__version__"]
