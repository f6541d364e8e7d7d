"""Fixtures for the web page: the tiny model loaded once, clips, and a real server on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from audiostyle.audio.io import save_audio

HOP_SECONDS = 256 / 22050


@pytest.fixture(scope="session")
def web_models(tiny_model) -> dict:
    """``{"tiny": Transfer}``: the session's tiny trained model, loaded once for every server."""
    import audiostyle

    return {"tiny": audiostyle.load(tiny_model)}


def write_clip(path: Path, seconds: float, sr: int = 22050, freq: float = 330.0) -> Path:
    """A plucked-tone clip of exactly ``seconds`` written with the project's save_audio."""
    t = np.arange(int(round(seconds * sr))) / sr
    wave = 0.2 * np.sin(2 * np.pi * freq * t) * np.exp(-3 * (t % 0.5))
    return save_audio(path, wave.astype(np.float32), sr)


@contextlib.contextmanager
def running(app, timeout: float = 30.0):
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yields the base URL.

    On exit the server shuts down (running the app's lifespan shutdown) and the thread ends.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
        assert not thread.is_alive(), "the test server did not stop"
