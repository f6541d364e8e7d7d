"""Latent-diffusion inference time per 10 s clip against the number of DDIM steps.

    python benchmarks/ldm_speed.py [--model PATH] [--steps 10,25,50] [--threads 2] [--seconds 10]

``--model``: a trained ``ldm`` model file or run folder; without it, a randomly initialised
model of the shipped full size (``configs/ldm.yaml``) is timed (speed does not depend on the
weights). The input is a rendered-like harmonic phrase; the output goes through the whole
path of ``audiostyle.load(...).transfer``: windowing, mel front end, encoder, ``steps`` UNet
passes per window, decoder, mel inversion with fast Griffin-Lim, cross-fades. The row
"0 (strength 0)" takes no diffusion step: the fixed cost of everything else. "CPU time" is
the process's CPU seconds (all threads): on a machine shared with other jobs it tracks the work
done better than the wall time does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def build_transfer(path: str | None):
    import torch

    from audiostyle.config import load_config
    from audiostyle.inference import Transfer
    from audiostyle.models.checkpoint import load_model
    from audiostyle.models.registry import build_model

    if path:
        from audiostyle.hub import resolve_model

        model = load_model(resolve_model(path)[1])
        if model.kind != "ldm":
            raise SystemExit(f"{path} is a {model.kind!r} model, not 'ldm'")
        return Transfer(model, name=path), "trained: " + path
    torch.manual_seed(0)
    model = build_model(load_config("ldm")["model"]).eval()
    with torch.no_grad():  # random weights: give the untrained model scale and styles to use
        model.latent_std.fill_(1.0)
        model.prototypes.copy_(model.encode_style(torch.rand(len(model.instruments), model.cfg.window_frames, model.cfg.n_mels)))
    return Transfer(model, name="random full-size ldm"), "randomly initialised, full size (configs/ldm.yaml)"


def phrase(seconds: float, sr: int) -> np.ndarray:
    t = np.arange(int(0.5 * sr)) / sr
    notes = [220 * 2 ** (k / 12) for k in (0, 4, 7, 12, 7, 4, 0, -5)]
    one = np.concatenate([sum(0.2 / h * np.sin(2 * np.pi * f * h * t) for h in range(1, 5)) * np.exp(-4 * t) for f in notes])
    return np.tile(one, int(np.ceil(seconds * sr / len(one))))[: int(seconds * sr)].astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="trained ldm model file or run folder (default: random full-size)")
    ap.add_argument("--steps", default="10,25,50", help="DDIM step counts to time")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0, help="input length")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per row (the median is shown)")
    args = ap.parse_args()

    import torch

    from audiostyle.inference import window_starts

    torch.set_num_threads(args.threads)
    transfer, what = build_transfer(args.model)
    model, sr = transfer.model, transfer.sr
    wave = phrase(args.seconds, sr)
    to = model.instruments[-1]
    transfer.transfer(wave[: transfer.window], sr, to=to)  # warm-up
    windows = len(window_starts(max(len(wave), transfer.window), transfer.window, transfer.window - transfer.overlap))
    rows = []
    original = (model.cfg.ddim_steps, model.cfg.strength)
    plan = [(0, 0.0)] + [(int(s), original[1] or 0.5) for s in args.steps.split(",")]
    for steps, strength in plan:
        model.cfg.ddim_steps, model.cfg.strength = max(1, steps), strength
        walls, cpus = [], []
        for _ in range(args.repeats):
            start, cpu = time.perf_counter(), time.process_time()
            out, _ = transfer.transfer(wave, sr, to=to)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            assert len(out) == len(wave) and np.all(np.isfinite(out))
        rows.append((steps, strength, float(np.median(walls)), float(np.median(cpus))))
    model.cfg.ddim_steps, model.cfg.strength = original
    print(f"model: {what}; input {args.seconds:g} s = {windows} windows of {transfer.window / sr:.2f} s; torch threads: {args.threads}")
    print("| DDIM steps | strength | UNet passes per window | time per clip (s) | CPU time (s) | real-time factor (x) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for steps, strength, wall, cpu in rows:
        passes = len(model.schedule.ddim_timesteps(max(1, steps), strength))
        label = "0 (strength 0)" if steps == 0 else str(steps)
        print(f"| {label} | {strength:g} | {passes} | {wall:.2f} | {cpu:.2f} | {args.seconds / wall:.2f} |")


if __name__ == "__main__":
    main()
