"""User-facing errors.

Anything a user can cause (a bad file, an unknown instrument, a corrupt checkpoint) is raised as
an :class:`AudioStyleError` whose message is one line naming the file and the problem. The CLI
prints that line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations

from pathlib import Path


class AudioStyleError(Exception):
    """An error caused by the user's input, with a one-line message fit to print."""


class AudioFileError(AudioStyleError):
    """A problem with an audio file: missing, unreadable, empty, too short, non-finite."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class CheckpointError(AudioStyleError):
    """A checkpoint that is missing, truncated, corrupt or of an unknown format."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(AudioStyleError):
    """An invalid configuration file or value."""
