"""A light load test on loopback (benchmarks/serve_load.py is the full one): none lost."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import httpx
import soundfile as sf

from audiostyle.web.app import create_app
from audiostyle.web.limits import Limits
from tests.web.conftest import HOP_SECONDS, running, write_clip

REQUESTS = 8


def test_concurrent_requests_all_succeed_or_get_busy(web_models, tmp_path):
    clip = write_clip(tmp_path / "c.wav", 1.0).read_bytes()
    app = create_app(web_models, Limits(queue_size=2), examples=False)

    def send(k: int):
        with httpx.Client(base_url=url, timeout=120) as c:
            r = c.post("/api/transfer", files={"clip": (f"c{k}.wav", clip, "audio/wav")}, data={"to": "violin"})
            return r.status_code, r.json()

    with running(app) as url:
        root = app.state.service.root
        with ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(send, range(REQUESTS)))
        assert len(answers) == REQUESTS  # none lost: every request got an answer
        ok = [body for status, body in answers if status == 200]
        busy = [body for status, body in answers if status == 503]
        assert len(ok) + len(busy) == REQUESTS, answers
        assert len(ok) >= 1 and all(b["error"] == "busy" and "busy" in b["message"] for b in busy)
        with httpx.Client(base_url=url, timeout=60) as c:
            for body in ok:
                audio = c.get(body["output_url"])
                info = sf.info(io.BytesIO(audio.content))
                assert audio.status_code == 200 and abs(info.frames / info.samplerate - 1.0) <= HOP_SECONDS
            assert c.get("/api/info").status_code == 200
        assert app.state.service.store.counts() == {"pending": 0, "ready": len(ok)}
    assert not root.exists()
