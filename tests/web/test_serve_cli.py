"""``audiostyle serve`` as a person starts it: it says where it serves, answers, and cleans up."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_serve_starts_answers_and_removes_its_temporary_directory_on_ctrl_c(tiny_model):
    proc = subprocess.Popen([sys.executable, "-m", "audiostyle", "serve", "--port", "0", "--model", str(tiny_model),
                             "--queue", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while not any(line.startswith("serving on") for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            lines.append(proc.stdout.readline().strip())
        text = "\n".join(lines)
        assert "models: tiny; example: ode-to-joy-piano" in text
        root = Path(re.search(r"temporary files: (\S+) \(removed on exit\)", text).group(1))
        url = re.search(r"serving on (http://127\.0\.0\.1:\d+)", text).group(1)
        assert root.is_dir()
        info = httpx.get(f"{url}/api/info", timeout=30).json()
        assert info["models"][0]["name"] == "tiny" and info["limits"]["queue_size"] == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert not root.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_port_in_use_and_missing_model_are_one_clear_line(tiny_model, tmp_path, capsys):
    from audiostyle.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert err == f"audiostyle: error: cannot listen on 127.0.0.1:{port} (Address already in use)\n"
    assert main(["serve", "--model", str(tmp_path / "nope.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such model file" in err
