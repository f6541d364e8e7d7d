"""Transfer speed and memory: real-time factor and peak RSS for 10 s, 60 s and 10 min inputs.

    python benchmarks/transfer_speed.py [--model default] [--lengths 10,60,600] [--threads 2]

Each length runs in a fresh process so its peak memory is its own. The input is a rendered
piano excerpt repeated to length (speed does not depend on the notes). Prints a table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def child(model_name: str, seconds: float, threads: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    import audiostyle

    model = audiostyle.load(model_name)
    sr = model.sr
    t = np.arange(int(4 * sr)) / sr
    notes = [220 * 2 ** (k / 12) for k in (0, 4, 7, 12, 7, 4, 0, -5)]
    phrase = np.concatenate([0.2 * np.sin(2 * np.pi * f * t[: sr // 2]) * np.exp(-4 * t[: sr // 2]) for f in notes])
    wave = np.tile(phrase, int(np.ceil(seconds * sr / len(phrase))))[: int(seconds * sr)].astype(np.float32)
    model.transfer(wave[: model.window], sr, to=model.instruments[-1])  # warm-up (allocations, kernels)
    start = time.perf_counter()
    out, _ = model.transfer(wave, sr, to=model.instruments[-1])
    wall = time.perf_counter() - start
    assert len(out) == len(wave) and np.all(np.isfinite(out))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "wall": wall, "rtf": seconds / wall, "peak_mb": peak_mb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="default")
    ap.add_argument("--lengths", default="10,60,600", help="input lengths in seconds")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.model, args.child, args.threads)))
        return
    rows = []
    for seconds in [float(s) for s in args.lengths.split(",")]:
        cmd = [sys.executable, __file__, "--model", args.model, "--threads", str(args.threads), "--child", str(seconds)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"benchmark failed for {seconds} s:\n{proc.stderr[-2000:]}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"model: {args.model}, torch threads: {args.threads}")
    print(f"| input | wall time (s) | real-time factor (x) | peak memory (MB) |")
    print(f"|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['seconds']:.0f} s | {r['wall']:.2f} | {r['rtf']:.1f} | {r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
