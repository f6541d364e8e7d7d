"""What the web app runs on: loaded models, the example, the result store and the worker.

:class:`Service` owns one temporary directory (``tempfile.mkdtemp`` under ``base_dir``):
the example clip, every request's uploads and results. :meth:`Service.start` creates it and
starts the worker and the expiry sweeper; :meth:`Service.stop` stops them and removes it.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path

from audiostyle import MODEL_SR
from audiostyle.errors import AudioStyleError
from audiostyle.web.limits import Limits
from audiostyle.web.results import ResultStore
from audiostyle.web.worker import Job, TransferWorker

log = logging.getLogger("audiostyle.web")

NO_MODEL = ("no transfer model is available: none is shipped in this installation yet. "
            "Start the server with --model PATH (a .safetensors file or a training run folder).")


def model_label(name: str, taken: set[str]) -> str:
    """A short display name: a shipped model's name, or the file/folder name of a path."""
    path = Path(name)
    if not (path.exists() or "/" in name):
        label = name
    elif path.name == "model.safetensors":
        label = path.parent.name
    else:
        label = path.stem if path.suffix == ".safetensors" else path.name
    label, base, k = label or "model", label or "model", 2
    while label in taken:
        label, k = f"{base}-{k}", k + 1
    return label


def load_models(names: list[str] | None) -> tuple[dict, str | None]:
    """``({label: Transfer}, notice)``; ``names`` None means every shipped model.

    Raises:
        AudioStyleError: a named model that does not exist or does not load.
    """
    from audiostyle.hub import load, shipped_models

    names = list(names) if names else sorted(shipped_models())
    models: dict = {}
    for name in names:
        model = load(name)
        models[model_label(str(name), set(models))] = model
    return models, (None if models else NO_MODEL)


def process(job: Job, model) -> dict:
    """Transfer one job and write ``input.wav``, ``output.wav`` and ``spectrograms.png``."""
    from audiostyle.audio.io import save_audio
    from audiostyle.plots import spectrogram_panels

    start = time.perf_counter()
    y, sr = model.transfer(job.wave, MODEL_SR, to=job.to, reference=job.reference, reference_sr=MODEL_SR)
    save_audio(job.folder / "input.wav", job.wave, MODEL_SR)
    save_audio(job.folder / "output.wav", y, sr)
    spectrogram_panels([(f"input: {job.title}"[:48], job.wave), (f"output: {job.to} ({job.model})"[:48], y)],
                       sr, job.folder / "spectrograms.png")
    return {"seconds": round(len(y) / sr, 4), "sr": sr, "took": round(time.perf_counter() - start, 3)}


class Service:
    """Models, limits, the example, the result store and the single transfer worker."""

    def __init__(self, models: dict, limits: Limits | None = None, base_dir: str | Path | None = None,
                 notice: str | None = None, examples: bool = True):
        self.models = dict(models)
        self.limits = limits or Limits()
        self.base_dir = base_dir
        self.notice = notice if notice is not None else (None if self.models else NO_MODEL)
        self.with_examples = examples
        self.examples: dict = {}
        self.root: Path | None = None
        self.store: ResultStore | None = None
        self.worker: TransferWorker | None = None
        self.uploads = 0  # requests being received now (touched on the event loop only)
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self.root is not None:
            return
        self.root = Path(tempfile.mkdtemp(prefix="audiostyle-serve-", dir=self.base_dir))
        self.store = ResultStore(self.root, self.limits.result_ttl)
        if self.with_examples:
            (self.root / "examples").mkdir()
            self.examples = render_examples_safely(self.root / "examples")
        self.worker = TransferWorker(self.handle, self.limits.queue_size, warmup=self._warmup)
        self.worker.start()
        self._stop.clear()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="audiostyle-sweeper", daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        """Stop the worker and the sweeper and remove the temporary directory (idempotent)."""
        self._stop.set()
        if self.worker is not None:
            self.worker.stop()
        if self._sweeper is not None:
            self._sweeper.join(5)
        if self.store is not None:
            self.store.close()
        self.root = self.store = self.worker = self._sweeper = None

    def _warmup(self) -> None:
        """Draw one small spectrogram so the first request does not pay for the imports."""
        import numpy as np

        from audiostyle.plots import spectrogram_panels

        root = self.root
        if root is not None and root.is_dir():
            path = spectrogram_panels([("warm-up", np.zeros(4096, np.float32))], MODEL_SR, root / "warmup.png")
            path.unlink(missing_ok=True)

    def _sweep_loop(self) -> None:
        interval = min(30.0, max(0.05, self.limits.result_ttl / 4))
        while not self._stop.wait(interval):
            try:
                self.store.sweep()
            except Exception:  # a sweep must never end the thread
                log.exception("sweeping expired results failed")

    # -- work ------------------------------------------------------------------------------
    def model(self, name: str | None):
        """``(label, Transfer)`` for a model label; the first model when ``name`` is empty."""
        if not self.models:
            raise AudioStyleError(self.notice or NO_MODEL)
        label = name or next(iter(self.models))
        if label not in self.models:
            raise AudioStyleError(f"unknown model {label!r}; this server has: {', '.join(self.models)}")
        return label, self.models[label]

    def handle(self, job: Job) -> dict:
        """The worker's handler: run the transfer (replaceable in tests)."""
        return process(job, self.models[job.model])

    def info(self) -> dict:
        return {
            "models": [{"name": k, "instruments": list(m.instruments)} for k, m in self.models.items()],
            "examples": [e.as_json() for e in self.examples.values()],
            "limits": self.limits.as_json(),
            "notice": self.notice,
        }


def render_examples_safely(folder: Path) -> dict:
    from audiostyle.web.examples import render_examples

    try:
        return render_examples(folder)
    except Exception:  # the page works without the example
        log.exception("rendering the bundled example failed")
        return {}
