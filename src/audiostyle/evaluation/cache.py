"""Cache of the baseline rows' per-clip results, under ``DIR/cache/eval/{split}/{clip}.json``.

The content-input, target and transcribe + re-render rows do not depend on the model under
test, so once scored they are reused by every later evaluation of the same data. An entry's
key is a SHA-1 over everything its numbers depend on: the clip's audio (SHA-1 of the WAV
files involved) and notes, its source kind, the system and its configuration (soundfont,
programs, thresholds), the task, the metric version, the versions of the analysis libraries
and the instrument classifier. Anything else changes the key, so a stale entry is never used.

Files are written atomically by the main process only; a damaged file is ignored and
rewritten; a read-only data set folder simply disables the cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from audiostyle import __version__
from audiostyle.evaluation.scoring import METRICS_VERSION, parse_task

CACHE_FORMAT = "audiostyle-eval-cache"


def library_versions() -> dict:
    """Versions of the packages whose numbers the metrics depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"audiostyle": __version__}
    for pkg in ("numpy", "librosa", "mir_eval", "basic-pitch", "pesto-pitch", "scikit-learn", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def clip_fingerprint(clip) -> dict:
    """SHA-1s of a :class:`~audiostyle.evaluation.systems.ClipAudio`'s WAV files and notes, and its kind."""
    notes = json.dumps(clip.notes, sort_keys=True) if clip.notes is not None else None
    return {"audio": {inst: hashlib.sha1(Path(p).read_bytes()).hexdigest() for inst, p in clip.paths.items()},
            "notes": hashlib.sha1(notes.encode()).hexdigest() if notes else None, "kind": clip.kind}


class ResultCache:
    """Per-clip JSON files of cached results in ``folder`` (None: caching off).

    Args:
        base_token: what every entry depends on besides the clip and system (the classifier).
    """

    def __init__(self, folder: Path | None, classifier_token=None):
        self.folder = Path(folder) if folder is not None else None
        self.base_token = {"metrics_version": METRICS_VERSION, "versions": library_versions(),
                           "classifier": classifier_token}
        self.hits = self.misses = 0
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError:  # read-only data set: evaluate without a cache
                self.folder = None

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def key(self, system, task: str, fingerprint: dict) -> str:
        """Cache key of ``system`` on ``task`` for a clip with :func:`clip_fingerprint` ``fingerprint``."""
        payload = {**self.base_token, "system": system.name, "token": system.cache_token(), "task": task,
                   "audio": {i: fingerprint["audio"].get(i) for i in parse_task(task)},
                   "notes": fingerprint["notes"], "kind": fingerprint["kind"]}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _path(self, clip_id: str) -> Path | None:
        return self.folder / f"{clip_id}.json" if self.folder is not None else None

    def read(self, clip_id: str) -> dict:
        """``{key: result}`` stored for a clip (empty when none or unreadable)."""
        path = self._path(clip_id)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data["entries"] if data.get("format") == CACHE_FORMAT else {}
            return entries if isinstance(entries, dict) else {}
        except (OSError, ValueError, KeyError, AttributeError):
            return {}  # a damaged cache file is recomputed and rewritten

    def write(self, clip_id: str, entries: dict) -> None:
        """Add ``{key: result}`` entries to a clip's file (atomic replace)."""
        path = self._path(clip_id)
        if path is None or not entries:
            return
        from audiostyle.fileio import write_json

        try:
            write_json(path, {"format": CACHE_FORMAT, "entries": {**self.read(clip_id), **entries}})
        except OSError:
            pass  # caching is an optimisation: a full disk must not fail the evaluation
