"""Griffin-Lim speed: seconds per 10 s clip for 16, 32 and 64 iterations (the mel baselines' vocoder).

    python benchmarks/griffin_lim_speed.py [--iters 16,32,64] [--seconds 10] [--batch 4] [--threads 2] [--repeats 3]

Times the project's batched fast Griffin-Lim (momentum 0.99) from a linear STFT magnitude, and
the full mel path the baselines use (mel power -> pseudo-inverse + NNLS -> Griffin-Lim), on
``--batch`` clips at once, reported per clip (median of ``--repeats``). Also prints the spectral
convergence ``|| |STFT(y)| - S || / || S ||`` reached, so speed and quality are read together.
The input is a synthetic harmonic phrase (speed does not depend on the notes).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch


def phrase(seconds: float, sr: int) -> torch.Tensor:
    t = np.arange(int(seconds * sr)) / sr
    notes = [220 * 2 ** (k / 12) for k in (0, 4, 7, 12, 7, 4, 0, -5)]
    wave = np.zeros_like(t)
    for i, f in enumerate(notes * int(np.ceil(seconds / 4))):
        start = i * 0.5
        env = np.where(t >= start, np.exp(-4 * (t - start)), 0.0)
        wave += sum(env * np.sin(2 * np.pi * f * h * t) / h for h in range(1, 5))
    return torch.from_numpy((0.1 * wave / np.abs(wave).max()).astype(np.float32))


def timed(fn, repeats: int) -> tuple[float, float, torch.Tensor]:
    """``(median wall seconds, median process CPU seconds, output)``; CPU time stays meaningful
    on a machine busy with other jobs, where wall time does not."""
    out = fn()  # warm-up (allocations, FFT plans)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> None:
    from audiostyle import MODEL_SR
    from audiostyle.features.mel import MelCodec
    from audiostyle.features.spectral import griffin_lim, stft

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iters", default="16,32,64")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=4, help="clips inverted together")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-mels", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    wave = phrase(args.seconds, MODEL_SR)[None].expand(args.batch, -1).contiguous()
    n = wave.shape[1]
    mag = stft(wave).abs()
    codec = MelCodec(args.n_mels)
    codec.fit(lambda: iter([codec.mel_from_wave(wave[:1])]))
    x = codec.normalize(codec.mel_from_wave(wave))
    mel_target = codec.linear_power(codec.denormalize(x)).sqrt()

    def convergence(y, target):
        return float((stft(y).abs() - target).norm() / target.norm())

    print(f"{args.seconds:g} s clips, batch {args.batch}, torch threads {args.threads}, median of {args.repeats}")
    print("| iterations | linear GL wall (s / clip) | CPU (s / clip) | mel path wall (s / clip) | CPU (s / clip) "
          "| spectral convergence, linear | mel |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for iters in [int(s) for s in args.iters.split(",")]:
        w_lin, c_lin, y_lin = timed(lambda: griffin_lim(mag, n, iters), args.repeats)
        w_mel, c_mel, y_mel = timed(lambda: codec.to_wave(x, n, iters), args.repeats)
        b = args.batch
        print(f"| {iters} | {w_lin / b:.3f} | {c_lin / b:.3f} | {w_mel / b:.3f} | {c_mel / b:.3f} | "
              f"{convergence(y_lin, mag):.3f} | {convergence(y_mel, mel_target):.3f} |")


if __name__ == "__main__":
    main()
