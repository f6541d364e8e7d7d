"""Per-request folders under one temporary directory, fetched only by an unguessable id.

Each request gets a folder named by a fresh random id (144 bits from :mod:`secrets`); nothing
lists the folders, so one person cannot reach another's files. A finished result lives for
``ttl`` seconds (or until its owner deletes it), then its folder is removed. Everything the
server writes is under ``root``, which :meth:`ResultStore.close` removes.
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{24}$")
RESULT_FILES = {"input.wav": "audio/wav", "output.wav": "audio/wav", "spectrograms.png": "image/png"}


@dataclass
class Result:
    """A finished transfer: its folder, when it expires and what the page needs to show it."""

    folder: Path
    expires: float
    info: dict = field(default_factory=dict)


class ResultStore:
    """Random-id folders under ``root/jobs``; pending while a request runs, published when done."""

    def __init__(self, root: Path, ttl: float):
        self.root, self.ttl = Path(root), float(ttl)
        self.jobs = self.root / "jobs"
        self.jobs.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: dict[str, Path] = {}
        self._ready: dict[str, Result] = {}

    def new(self) -> tuple[str, Path]:
        """A fresh ``(id, folder)`` for one request; the folder exists and is empty."""
        with self._lock:
            while True:
                job_id = secrets.token_urlsafe(18)  # 24 URL-safe characters
                if job_id not in self._pending and job_id not in self._ready:
                    break
            folder = self.jobs / job_id
            folder.mkdir(mode=0o700)
            self._pending[job_id] = folder
            return job_id, folder

    def publish(self, job_id: str, info: dict) -> Result:
        """Make a pending request's folder fetchable for ``ttl`` seconds."""
        with self._lock:
            folder = self._pending.pop(job_id)
            result = self._ready[job_id] = Result(folder, time.monotonic() + self.ttl, info)
            return result

    def get(self, job_id: str) -> Result | None:
        if not ID_PATTERN.match(job_id or ""):
            return None
        with self._lock:
            result = self._ready.get(job_id)
        if result is None or result.expires <= time.monotonic():
            return None
        return result

    def file(self, job_id: str, name: str) -> Path | None:
        """The path of one of a published result's files, or None (unknown id, name or expired)."""
        result = self.get(job_id)
        if result is None or name not in RESULT_FILES:
            return None
        path = result.folder / name
        return path if path.is_file() else None

    def discard(self, job_id: str) -> bool:
        """Delete a request's folder, pending or published; True if there was one."""
        with self._lock:
            folder = self._pending.pop(job_id, None)
            result = self._ready.pop(job_id, None)
        folder = folder or (result.folder if result else None)
        if folder is None:
            return False
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def sweep(self, now: float | None = None) -> int:
        """Delete every expired result; returns how many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            expired = [k for k, r in self._ready.items() if r.expires <= now]
        return sum(self.discard(k) for k in expired)

    def counts(self) -> dict:
        with self._lock:
            return {"pending": len(self._pending), "ready": len(self._ready)}

    def close(self) -> None:
        """Remove every folder and the root itself."""
        with self._lock:
            self._pending.clear()
            self._ready.clear()
        shutil.rmtree(self.root, ignore_errors=True)
