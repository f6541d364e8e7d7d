"""The FastAPI app of ``audiostyle serve``: one page and a small JSON API.

Routes:

- ``GET /``: the page (``static/index.html``).
- ``GET /api/info``: models and their instruments, the bundled examples, the limits, and a
  notice when no model is loaded.
- ``POST /api/transfer``: multipart form with ``clip`` (a file) or ``example`` (an example
  id), ``to``, ``model`` and optionally ``reference`` (a file). Waits for the transfer and
  answers ``{"id", "input_url", "output_url", "spectrogram_url", "download_url", ...}``.
- ``GET /api/results/{id}/{input.wav|output.wav|spectrograms.png}`` (``?download=1`` for an
  attachment), ``DELETE /api/results/{id}``.

Every error is JSON ``{"error": code, "message": text}``: 400 bad input (the project's
AudioFileError text), 413 too large, 415 not a form, 404 unknown or expired result, 503 busy
(with ``Retry-After``) or no model, 500 a transfer that failed inside the model.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from audiostyle import MODEL_SR
from audiostyle.errors import AudioFileError, AudioStyleError
from audiostyle.web.limits import Limits
from audiostyle.web.results import RESULT_FILES
from audiostyle.web.service import Service
from audiostyle.web.uploads import UploadError, read_form
from audiostyle.web.worker import Busy, Job, JobFailed

STATIC = Path(__file__).resolve().parent / "static"
RETRY_AFTER_S = 30


def error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def busy(limits: Limits) -> JSONResponse:
    return error(503, "busy", limits.busy(), {"Retry-After": str(RETRY_AFTER_S)})


def create_app(models: dict, limits: Limits | None = None, base_dir: str | Path | None = None,
               notice: str | None = None, examples: bool = True, on_ready=None) -> FastAPI:
    """The app for ``{label: Transfer}`` models; its temporary directory lives as long as it runs.

    ``base_dir``: where the temporary directory is created (default: the system's).
    ``on_ready(service)`` is called once the service has started (the CLI prints where it is).
    ``app.state.service`` is the :class:`~audiostyle.web.service.Service`.
    """
    service = Service(models, limits, base_dir, notice, examples)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(service.start)
        if on_ready is not None:
            on_ready(service)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(title="audiostyle", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.service = service

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers={"Cache-Control": "no-store"})

    @app.get("/api/info")
    def info() -> dict:
        return service.info()

    @app.post("/api/transfer")
    async def transfer(request: Request) -> Response:
        lim = service.limits
        if service.worker is None or service.store is None:
            return error(503, "unavailable", "The server is starting or stopping; try again shortly.")
        if service.worker.full() or service.uploads >= lim.max_uploads:
            return busy(lim)
        job_id, folder = service.store.new()
        service.uploads += 1
        try:
            try:
                form = await read_form(request, folder, lim.max_upload_bytes, lim.too_big)
            finally:
                service.uploads -= 1
            job = await run_in_threadpool(make_job, service, job_id, folder, form)
            future = service.worker.submit(job)
            result = await asyncio.wrap_future(future)
        except UploadError as exc:
            service.store.discard(job_id)
            return error(exc.status, exc.code, exc.message)
        except Busy:
            service.store.discard(job_id)
            return busy(lim)
        except JobFailed as exc:
            service.store.discard(job_id)
            return error(500, "failed", f"The transfer failed: {exc}")
        except AudioStyleError as exc:
            service.store.discard(job_id)
            no_model = not service.models
            return error(503 if no_model else 400, "no_model" if no_model else "bad_input", str(exc))
        except BaseException:
            service.store.discard(job_id)
            raise
        base = f"/api/results/{job_id}"
        info = {"id": job_id, "model": job.model, "to": job.to, "title": job.title, **result,
                "input_url": f"{base}/input.wav", "output_url": f"{base}/output.wav",
                "spectrogram_url": f"{base}/spectrograms.png", "download_url": f"{base}/output.wav?download=1",
                "expires_in": lim.result_ttl}
        service.store.publish(job_id, info)
        return JSONResponse(info)

    @app.get("/api/results/{job_id}/{name}")
    def result_file(job_id: str, name: str, download: bool = False) -> Response:
        path = service.store.file(job_id, name) if service.store else None
        if path is None:
            return error(404, "not_found", "No such result: it has expired or was deleted.")
        headers = {"Cache-Control": "private, no-store"}
        filename = None
        if download:
            r = service.store.get(job_id)
            stem = Path(r.info.get("title", "clip")).stem if r else "clip"
            filename = f"{stem}-to-{r.info.get('to', 'out') if r else 'out'}.wav" if name == "output.wav" else name
        return FileResponse(path, media_type=RESULT_FILES[name], headers=headers, filename=filename,
                            content_disposition_type="attachment" if download else "inline")

    @app.delete("/api/results/{job_id}")
    def delete_result(job_id: str) -> Response:
        if service.store is None or service.store.get(job_id) is None or not service.store.discard(job_id):
            return error(404, "not_found", "No such result: it has expired or was deleted.")
        return Response(status_code=204)

    return app


def make_job(service: Service, job_id: str, folder: Path, form) -> Job:
    """Check the form and decode its audio (in a thread); raises UploadError or AudioStyleError.

    The uploaded files are deleted once decoded: only the results stay in the folder.
    """
    try:
        return _make_job(service, job_id, folder, form)
    finally:
        for path in form.files.values():
            path.unlink(missing_ok=True)


def _make_job(service: Service, job_id: str, folder: Path, form) -> Job:
    from audiostyle.audio.io import load_audio

    lim = service.limits
    label, model = service.model(form.fields.get("model"))
    to = form.fields.get("to") or ""
    if to not in model.instruments:
        raise UploadError(400, "bad_input", f"Model '{label}' cannot play {to[:40]!r}; it plays: "
                                            f"{', '.join(model.instruments)}.")

    def decode(path: Path, shown: str, limit: float | None = lim.max_seconds):
        try:
            return load_audio(path, MODEL_SR, max_seconds=limit)
        except AudioFileError as exc:  # name the uploader's file, never the server's path
            raise UploadError(400, "bad_input", f"{shown}: {exc.problem.replace(str(path), shown)}") from None

    if "clip" in form.files:
        title = form.names["clip"]
        wave = decode(form.files["clip"], title)
    elif form.fields.get("example"):
        example = service.examples.get(form.fields["example"])
        if example is None:
            raise UploadError(400, "bad_input", f"No such example {form.fields['example'][:40]!r}.")
        title, wave = example.title, decode(example.path, example.title, None)  # ours: no duration limit
    else:
        raise UploadError(400, "bad_input", "Choose a clip to upload or the bundled example.")
    reference = decode(form.files["reference"], form.names["reference"]) if "reference" in form.files else None
    return Job(job_id, folder, label, to, wave, reference, title)
