"""Load on ``audiostyle serve`` over loopback: concurrent transfers, busy answers, peak memory.

    python benchmarks/serve_load.py [--model PATH] [--requests 20] [--queues 4,20] [--seconds 5]

For each queue size a fresh server (``python -m audiostyle serve``) is started on a free
loopback port; ``--requests`` transfer requests with the same uploaded clip are sent at once
(one thread each). Every request must end in a success (200) or a clear "busy" answer (503,
``{"error": "busy"}``); anything else, or no answer, counts as lost. Then the server is
stopped with Ctrl-C (SIGINT) and its temporary directory must be gone. The server's peak
RSS is read from ``/proc/PID/status`` (VmHWM). Without ``--model`` the shipped default is
used, or, when none is shipped, a tiny model trained for a few steps in a temporary folder
(seconds; not a useful model, but the same code path and window size as a real one).
Prints a table. Sends traffic to 127.0.0.1 only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def tiny_model(folder: Path) -> Path:
    from audiostyle.config import load_config
    from audiostyle.data.render import render_corpus
    from audiostyle.training.loop import train

    render_corpus(folder / "data", instruments=("piano", "violin"), clips_per_instrument=10, seconds=2.0,
                  seed=3, progress=False, workers=1)
    overrides = ["train.steps=4", "train.log_every=1", "train.checkpoint_every=2"]
    train(load_config("flagship-tiny", overrides), folder / "data", folder / "run", progress=False)
    return folder / "run"


def write_clip(path: Path, seconds: float) -> Path:
    from audiostyle.audio.io import save_audio

    sr = 22050
    t = np.arange(int(seconds * sr)) / sr
    notes = [220 * 2 ** (k / 12) for k in (0, 4, 7, 12, 7, 4, 0, -5)]
    freq = np.array(notes)[(t * 4).astype(int) % len(notes)]
    return save_audio(path, (0.2 * np.sin(2 * np.pi * freq * t) * np.exp(-4 * (t % 0.25))).astype(np.float32), sr)


def peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):
        import psutil  # only where /proc is missing

        return psutil.Process(pid).memory_info().rss / 2**20


def start_server(model: str, queue: int, max_seconds: float):
    cmd = [sys.executable, "-m", "audiostyle", "serve", "--port", "0", "--model", model, "--queue", str(queue),
           "--max-seconds", str(max_seconds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, deadline = [], time.monotonic() + 180
    while not (lines and lines[-1].startswith("serving on")):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit(f"the server did not start:\n{proc.stderr.read()[-2000:]}")
        lines.append(proc.stdout.readline().strip())
    text = "\n".join(lines)
    url = re.search(r"serving on (http://\S+)", text).group(1)
    root = Path(re.search(r"temporary files: (\S+)", text).group(1))
    return proc, url, root


def one_request(url: str, clip: bytes, k: int) -> dict:
    import httpx

    start = time.perf_counter()
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            r = client.post("/api/transfer", files={"clip": (f"clip{k}.wav", clip, "audio/wav")},
                            data={"to": "violin"})
            body = r.json()
            if r.status_code == 200:
                assert client.get(body["output_url"]).status_code == 200
                kind = "ok"
            elif r.status_code == 503 and body.get("error") == "busy" and "busy" in body.get("message", ""):
                kind = "busy"
            else:
                kind = f"other {r.status_code}"
    except Exception as exc:  # no answer at all: lost
        kind = f"lost ({type(exc).__name__})"
    return {"kind": kind, "latency": time.perf_counter() - start}


def run_once(model: str, queue: int, n: int, clip: bytes, max_seconds: float) -> dict:
    proc, url, root = start_server(model, queue, max_seconds)
    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(n) as pool:
            answers = list(pool.map(lambda k: one_request(url, clip, k), range(n)))
        wall = time.perf_counter() - start
        peak = peak_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    ok = [a["latency"] for a in answers if a["kind"] == "ok"]
    kinds = [a["kind"] for a in answers]
    return {
        "queue": queue, "requests": n, "answered": len(answers), "ok": len(ok), "busy": kinds.count("busy"),
        "other": len([k for k in kinds if k not in ("ok", "busy")]), "wall": wall,
        "p50": statistics.median(ok) if ok else float("nan"), "max": max(ok) if ok else float("nan"),
        "peak_mb": peak, "clean": not root.exists() and code == 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model name or path (default: shipped 'default', else a tiny one)")
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--queues", default="4,20", help="queue sizes to run, one server each")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the uploaded clip")
    args = ap.parse_args()
    if not 1 <= args.requests <= 100:
        sys.exit("--requests must be 1-100 (a bounded load test)")
    from audiostyle.hub import shipped_models

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        model = args.model or ("default" if "default" in shipped_models() else None)
        if model is None:
            print("no shipped model: training a tiny one for this benchmark (a few seconds)", flush=True)
            model = str(tiny_model(Path(tmp)))
        clip = write_clip(Path(tmp) / "clip.wav", args.seconds).read_bytes()
        rows = [run_once(model, int(q), args.requests, clip, max(60.0, args.seconds))
                for q in args.queues.split(",")]
    name = args.model or ("default" if model == "default" else "flagship-tiny trained 4 steps")
    print(f"model: {name}; {args.requests} concurrent requests with a "
          f"{args.seconds:g} s clip ({len(clip) / 1024:.0f} KB) on loopback")
    print("| queue | requests | answered | ok | busy (503) | lost/other | wall (s) | ok latency p50 / max (s) "
          "| server peak RSS (MB) | temp dir removed |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['queue']} | {r['requests']} | {r['answered']} | {r['ok']} | {r['busy']} | {r['other']} "
              f"| {r['wall']:.1f} | {r['p50']:.1f} / {r['max']:.1f} | {r['peak_mb']:.0f} "
              f"| {'yes' if r['clean'] else 'NO'} |")
    if any(r["other"] or r["answered"] != r["requests"] or not r["clean"] for r in rows):
        sys.exit("some requests were lost or answered with neither success nor busy")


if __name__ == "__main__":
    main()
