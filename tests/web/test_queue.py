"""The bounded queue: one transfer at a time, a clear 503 "busy" beyond the bound, no crash."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from audiostyle.errors import AudioStyleError
from audiostyle.web.app import create_app
from audiostyle.web.limits import Limits
from audiostyle.web.worker import Busy, Job, JobFailed, TransferWorker
from tests.web.conftest import running, write_clip


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def job(k: int) -> Job:
    return Job(f"job{k}", Path("."), "m", "violin", np.zeros(10, np.float32))


def test_worker_runs_one_at_a_time_refuses_beyond_the_bound_and_survives_failures():
    gate, order = threading.Event(), []

    def handler(j: Job) -> dict:
        gate.wait(10)
        order.append(j.id)
        if j.id == "job1":
            raise RuntimeError("boom")
        if j.id == "job2":
            raise AudioStyleError("model 'm' produced non-finite audio")
        return {"ok": j.id}

    worker = TransferWorker(handler, queue_size=2)
    worker.start()
    try:
        futures = [worker.submit(job(0))]
        wait_until(lambda: worker.running == "job0")
        futures += [worker.submit(job(1)), worker.submit(job(2))]
        with pytest.raises(Busy):
            worker.submit(job(3))
        gate.set()
        assert futures[0].result(10) == {"ok": "job0"}
        with pytest.raises(JobFailed, match="internal error"):
            futures[1].result(10)
        with pytest.raises(JobFailed, match="non-finite audio"):
            futures[2].result(10)
        assert worker.submit(job(4)).result(10) == {"ok": "job4"}  # still working after failures
        assert order == ["job0", "job1", "job2", "job4"] and (worker.completed, worker.failed) == (2, 2)
    finally:
        worker.stop()


def test_stop_fails_waiting_jobs_instead_of_leaving_them_hanging():
    gate = threading.Event()
    worker = TransferWorker(lambda j: gate.wait(10) and {}, queue_size=2)
    worker.start()
    first = worker.submit(job(0))
    wait_until(lambda: worker.running == "job0")
    waiting = worker.submit(job(1))
    threading.Timer(0.2, gate.set).start()
    worker.stop()
    assert first.result(1) == {}
    with pytest.raises(JobFailed, match="shutting down"):
        waiting.result(1)
    with pytest.raises(Busy):
        worker.submit(job(2))


def test_server_answers_busy_beyond_the_queue_and_never_crashes(web_models, tmp_path):
    gate = threading.Event()
    app = create_app(web_models, Limits(queue_size=1), examples=False)
    service = app.state.service
    real = service.handle

    def gated(j: Job) -> dict:
        gate.wait(30)
        if j.title == "crash.wav":
            raise MemoryError("simulated failure inside the model")
        return real(j)

    service.handle = gated
    clip = write_clip(tmp_path / "c.wav", 0.5).read_bytes()

    def send(name="c.wav"):
        with httpx.Client(base_url=url, timeout=60) as c:
            return c.post("/api/transfer", files={"clip": (name, clip, "audio/wav")}, data={"to": "violin"})

    with running(app) as url, ThreadPoolExecutor(4) as pool:
        running_one = pool.submit(send)
        wait_until(lambda: service.worker.running is not None)
        queued = pool.submit(send, "crash.wav")
        wait_until(lambda: service.worker.waiting() == 1)
        refused = [send() for _ in range(3)]
        for r in refused:
            assert r.status_code == 503 and r.headers["retry-after"] == "30"
            assert r.json() == {"error": "busy", "message": "The server is busy: 1 transfer(s) are already waiting. "
                                                            "Please try again in a minute."}
        gate.set()
        assert running_one.result(60).status_code == 200
        crashed = queued.result(60)
        assert crashed.status_code == 500 and crashed.json()["error"] == "failed"
        assert "internal error" in crashed.json()["message"]
        after = send()  # the server and its worker go on
        assert after.status_code == 200, after.text
        assert service.store.counts() == {"pending": 0, "ready": 2}
