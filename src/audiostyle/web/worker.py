"""One transfer thread behind a bounded queue.

Transfers use all the CPU the process is given, so they run one at a time on a single worker
thread. At most ``queue_size`` jobs wait behind the running one; :meth:`TransferWorker.submit`
raises :class:`Busy` beyond that, which the web app answers with HTTP 503. A job that fails
fails alone: the worker logs it, hands the error to that job's caller and takes the next.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from audiostyle.errors import AudioStyleError

log = logging.getLogger("audiostyle.web")


class Busy(Exception):
    """The queue is full: the request should be retried later."""


class JobFailed(Exception):
    """A transfer failed; the message is fit to show to the person who asked for it."""


@dataclass
class Job:
    """One transfer request: decoded audio at the model rate and where to write the result."""

    id: str
    folder: Path
    model: str
    to: str
    wave: np.ndarray
    reference: np.ndarray | None = None
    title: str = "clip"
    future: Future = field(default_factory=Future)


class TransferWorker:
    """Runs ``handler(job) -> dict`` for each submitted job, one at a time, in FIFO order."""

    def __init__(self, handler: Callable[[Job], dict], queue_size: int, warmup: Callable[[], None] | None = None):
        self.handler, self.warmup = handler, warmup
        self.queue_size = queue_size
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="audiostyle-transfer", daemon=True)
        self.running: str | None = None
        self.completed = 0
        self.failed = 0

    def start(self) -> None:
        self._thread.start()

    def full(self) -> bool:
        return self._queue.full()

    def waiting(self) -> int:
        return self._queue.qsize()

    def submit(self, job: Job) -> Future:
        """Queue ``job``; its ``future`` gets the handler's dict or a :class:`JobFailed`."""
        if self._stop.is_set():
            raise Busy("the server is shutting down")
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise Busy(f"{self.queue_size} transfer(s) are already waiting") from None
        return job.future

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the running job, fail the waiting ones, and end the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(JobFailed("the server is shutting down"))

    def _loop(self) -> None:
        if self.warmup is not None:  # first imports (librosa, matplotlib) here, not in the first request
            try:
                self.warmup()
            except Exception:
                log.exception("warm-up failed")
        while not self._stop.is_set():
            try:
                job = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self._run(job)

    def _run(self, job: Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        self.running = job.id
        try:
            result = self.handler(job)
        except AudioStyleError as exc:
            self.failed += 1
            job.future.set_exception(JobFailed(str(exc)))
        except Exception:  # never let one bad job end the worker
            self.failed += 1
            log.exception("transfer %s failed", job.id)
            job.future.set_exception(JobFailed("the transfer failed with an internal error (logged on the server)"))
        else:
            self.completed += 1
            job.future.set_result(result)
        finally:
            self.running = None
