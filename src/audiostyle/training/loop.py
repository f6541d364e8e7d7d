"""The training loop shared by every model kind: ``audiostyle train CONFIG --data DIR --out RUN``.

Reads top to bottom: set up (Fabric, data, model, objective, optimisers), optionally resume,
then repeat { sample a balanced batch; generator step; discriminator step; log; checkpoint }
until the step budget or the time budget runs out, then export the released weights, the
class prototypes and a loss-curve plot.
"""

from __future__ import annotations

import copy
import math
import random
import signal
import time
from pathlib import Path

import numpy as np
import torch

from audiostyle.config import save_config, take
from audiostyle.errors import AudioStyleError, ConfigError

TRAIN_DEFAULTS = {
    "steps": 6000,
    "batch_size": 16,
    "lr": 3e-4,
    "disc_lr": 2e-4,
    "weight_decay": 0.01,
    "betas": [0.9, 0.99],
    "warmup_steps": 300,
    "min_lr_ratio": 0.1,
    "grad_clip": 1.0,
    "precision": "32-true",
    "seed": 0,
    "log_every": 25,
    "checkpoint_every": 500,
    "keep_checkpoints": 3,
    "max_bad_steps": 5,
    "threads": None,
    "prototype_clips": 64,
    # Lower by this many dB the partials at odd multiples of f0/2 of every note of
    # `subharmonic_min_hz` and up, in every crop (data.subharmonics; needs note lists). The
    # training soundfont has them 30-40 dB under its high notes, the test soundfont 55-80 dB:
    # models lay them on, and an f0 tracker then reads some clips an octave low. 0 = off.
    "subharmonic_cut_db": 0.0,
    "subharmonic_min_hz": 700.0,
    # How many odd multiples of f0/2 to cut, from f0/2 up (0 = all): 1 when the cut reaches low
    # notes, between whose harmonics the higher odd multiples lie all the way up.
    "subharmonic_orders": 0,
    # Draw training clips in proportion to a weight per source kind of the manifest, e.g.
    # {chorale: 3.0}; kinds not named weigh 1. Empty = every clip alike.
    "source_weights": {},
    "objective": {},
}


def lr_lambda(warmup: int, total: int, min_ratio: float):
    """Linear warmup, then cosine decay to ``min_ratio`` of the peak."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return f


def subharmonic_cut(tc: dict):
    """The sub-octave cut a resolved ``train`` section asks for; None when it is off."""
    from audiostyle.data.subharmonics import SubharmonicCut

    depth = tc["subharmonic_cut_db"]
    if depth < 0:
        raise ConfigError(f"train.subharmonic_cut_db must be >= 0, got {depth}")
    if tc["subharmonic_min_hz"] <= 0:
        raise ConfigError(f"train.subharmonic_min_hz must be > 0, got {tc['subharmonic_min_hz']}")
    orders = tc["subharmonic_orders"]
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise ConfigError(f"train.subharmonic_orders must be an integer >= 0, got {orders!r}")
    return SubharmonicCut(float(depth), float(tc["subharmonic_min_hz"]), orders=orders) if depth > 0 else None


def source_weights(tc: dict) -> dict[str, float] | None:
    """The clip weights by source kind a resolved ``train`` section asks for; None when unset."""
    weights = tc["source_weights"]
    if not isinstance(weights, dict):
        raise ConfigError(f"train.source_weights must be a mapping of source kind to weight, got {weights!r}")
    for kind, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ConfigError(f"train.source_weights.{kind} must be a number >= 0, got {w!r}")
    return {str(k): float(w) for k, w in weights.items()} or None


def _rng_state(rng: np.random.Generator) -> dict:
    return {"torch": torch.get_rng_state(), "numpy": rng.bit_generator.state, "python": random.getstate()}


def _set_rng_state(rng: np.random.Generator, state: dict) -> None:
    torch.set_rng_state(state["torch"])
    rng.bit_generator.state = state["numpy"]
    random.setstate(state["python"])


def _all_rng_states(fabric, rng: np.random.Generator) -> list[dict]:
    """Every rank's RNG states, by rank: each rank samples its own crops and dropout masks,
    so an exact resume needs all of them, not only rank 0's (the one that writes)."""
    mine = _rng_state(rng)
    if fabric.world_size == 1:
        return [mine]
    states = [None] * fabric.world_size
    torch.distributed.all_gather_object(states, mine)
    return states


def _restore_rng(fabric, rng: np.random.Generator, saved, log) -> None:
    saved = [saved] if isinstance(saved, dict) else list(saved)  # older checkpoints: one dict
    if len(saved) == fabric.world_size:
        _set_rng_state(rng, saved[fabric.global_rank])
    else:  # a different number of processes: the sampling streams cannot continue exactly
        log.info(f"checkpoint holds random states for {len(saved)} process(es), this run has "
                 f"{fabric.world_size}: sampling continues from fresh seeds")


def _all_ranks(fabric, flag: bool) -> bool:
    """True only where ``flag`` holds on every rank: all ranks must take the same branch, or
    one waits forever in a collective (gradient all-reduce) that another skipped."""
    if fabric.world_size == 1:
        return flag
    return float(fabric.all_reduce(torch.tensor(float(flag)), reduce_op="sum")) == fabric.world_size


def _average_gradients(fabric, module: torch.nn.Module) -> None:
    """Mean of the gradients over ranks, in one all-reduce.

    The objective calls the generator's methods (``encode_style``, ``decode`` ...) on the
    unwrapped module, which bypasses DDP's forward and with it DDP's own gradient all-reduce;
    without this each rank would train its own copy. A rank without a gradient for a parameter
    contributes zeros, as a sample that does not use it does on one process.
    """
    if fabric.world_size == 1:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    has = torch.tensor([float(p.grad is not None) for p in params])
    flat = torch.cat([has] + [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float() for p in params])
    flat = fabric.all_reduce(flat, reduce_op="mean")
    offset = len(params)
    for i, p in enumerate(params):
        g = flat[offset : offset + p.numel()].view_as(p).to(p.dtype)
        offset += p.numel()
        if flat[i] > 0:
            p.grad = g.clone()


def train(
    cfg: dict, data_dir: str | Path, run_dir: str | Path, resume: bool = False,
    max_minutes: float | None = None, devices: int = 1, num_nodes: int = 1,
    accelerator: str = "auto", progress: bool = True, stop_at_step: int | None = None,
) -> dict:
    """Train the model described by resolved config ``cfg``; returns a summary dict.

    ``stop_at_step`` ends this invocation early (checkpointed, resumable) while the schedules
    still span ``train.steps``: for runs split over several sessions or jobs.
    """
    from lightning_fabric import Fabric

    from audiostyle.data.layout import Corpus
    from audiostyle.features.spectral import SpectralConfig
    from audiostyle.features.store import FeatureStore, ensure_stats
    from audiostyle.models.registry import build_model
    from audiostyle.training.data import CropSampler
    from audiostyle.training.logger import RunLogger
    from audiostyle.training.objectives import make_objective
    from audiostyle.training.state import load_latest_state, save_state

    tc = take(cfg["train"], TRAIN_DEFAULTS, "train")
    cut, weights = subharmonic_cut(tc), source_weights(tc)
    run_dir = Path(run_dir)
    started = time.monotonic()
    if tc["threads"]:
        torch.set_num_threads(int(tc["threads"]))

    # -- set up ------------------------------------------------------------------------------
    fabric = Fabric(accelerator=accelerator, devices=devices, num_nodes=num_nodes, precision=tc["precision"])
    fabric.launch()
    fabric.seed_everything(tc["seed"] + fabric.global_rank, verbose=False)
    rng = np.random.default_rng(tc["seed"] + 1000 * fabric.global_rank)

    corpus = Corpus(data_dir)
    model = build_model(cfg["model"])
    instruments = model.cfg.instruments
    store = FeatureStore(data_dir, model.spectral, model.cfg.power)
    if fabric.is_global_zero:  # statistics come from the train split only, computed once
        norm = ensure_stats(corpus, store, progress=progress)
    fabric.barrier()
    norm = ensure_stats(corpus, store)
    model.set_norm(norm)
    if hasattr(model, "fit_statistics"):  # models with input statistics of their own (mel baselines)
        model.fit_statistics(corpus, store)
    objective = make_objective(model, tc)
    crop_frames = model.cfg.window_frames  # train on exactly the window inference uses
    note_rate = (model.fpt, model.spectral.hop / model.spectral.sr) if getattr(objective, "needs_notes", False) else None
    sampler = CropSampler(
        corpus, store, "train", instruments, crop_frames, paired=getattr(objective, "paired", False),
        rank=fabric.global_rank, world_size=fabric.world_size, notes=note_rate,
        subharmonic_cut=cut, source_weights=weights, onsets=getattr(objective, "needs_onsets", False),
    )
    sampler.warm_cache(progress=progress and fabric.is_global_zero)

    opt_g = torch.optim.AdamW(model.parameters(), lr=tc["lr"], betas=tuple(tc["betas"]), weight_decay=tc["weight_decay"])
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, lr_lambda(tc["warmup_steps"], tc["steps"], tc["min_lr_ratio"]))
    disc = getattr(objective, "discriminator", None)
    model, opt_g = fabric.setup(model, opt_g)
    objective.model = model.module if hasattr(model, "module") else model
    state = {"model": model, "opt_g": opt_g, "sched_g": sched_g, "step": 0, "rng": None, "config": cfg}
    if disc is not None:
        opt_d = torch.optim.AdamW(disc.parameters(), lr=tc["disc_lr"], betas=(0.5, 0.99))
        sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, lr_lambda(tc["warmup_steps"], tc["steps"], tc["min_lr_ratio"]))
        disc, opt_d = fabric.setup(disc, opt_d)
        objective.discriminator = disc
        state.update({"discriminator": disc, "opt_d": opt_d, "sched_d": sched_d})
    # Objective state beside the networks (e.g. running class means): restored when the checkpoint
    # holds it, started afresh when it comes from a run without it.
    extra = {name: module.to(fabric.device) for name, module in getattr(objective, "stateful_modules", dict)().items()}

    log = RunLogger(run_dir, enabled=fabric.is_global_zero, bound_warnings=getattr(objective, "bound_warnings", None))
    step = 0
    earlier_seconds = 0.0  # training time of the invocations before a resume (kept in checkpoints)
    if resume:
        restored = load_latest_state(fabric, run_dir, state, log=log.info)
        if restored is None:
            log.info(f"no valid checkpoint in {run_dir}; starting from scratch")
        else:
            _check_same_architecture(state["config"], cfg, run_dir)
            step = restored
            _restore_rng(fabric, rng, state["rng"], log)
            earlier_seconds = float(state.get("train_seconds", 0.0))  # absent in older checkpoints
            log.info(f"resumed from step {step}")
            for name, module in extra.items():
                saved = state.pop(name, None)
                if saved is None:
                    log.info(f"{name}: not in the checkpoint (a run without it); starts afresh")
                else:
                    module.load_state_dict(saved)
        log.resumed_at(step)  # what an earlier invocation logged after `step` (0: all of it) is trained again
    state.update(extra)
    if fabric.is_global_zero:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(cfg, run_dir / "config.yaml")

    # SIGINT/SIGTERM: finish the current step, save, exit cleanly.
    stop = {"signal": None}
    previous = {s: signal.signal(s, lambda num, _f: stop.update(signal=num)) for s in (signal.SIGINT, signal.SIGTERM)}

    def snapshot(at_step: int) -> None:
        state["step"], state["rng"] = at_step, _all_rng_states(fabric, rng)
        state["train_seconds"] = earlier_seconds + time.monotonic() - started
        save_state(fabric, run_dir, at_step, state, keep=tc["keep_checkpoints"])

    last_good = copy.deepcopy({k: v.state_dict() for k, v in state.items() if hasattr(v, "state_dict")})
    bad_in_a_row = 0
    bar = log.progress(total=tc["steps"], initial=step, enabled=progress)
    reason = "finished"
    clock = (time.monotonic(), step)  # wall seconds a step since the last log: what a budget is sized by
    # -- train -------------------------------------------------------------------------------
    while step < tc["steps"]:
        if max_minutes is not None and (time.monotonic() - started) / 60 >= max_minutes:
            reason = f"time budget of {max_minutes} min reached"
            break
        if stop_at_step is not None and step >= stop_at_step:
            reason = f"stopped at step {stop_at_step} as asked"
            break
        if stop["signal"] is not None:
            reason = f"stopped by signal {stop['signal']}"
            break
        batch = sampler.sample(tc["batch_size"], rng)
        batch.x, batch.labels = fabric.to_device(batch.x), fabric.to_device(batch.labels)
        if batch.pair_x is not None:
            batch.pair_x, batch.pair_labels = fabric.to_device(batch.pair_x), fabric.to_device(batch.pair_labels)
        if batch.notes is not None:
            batch.notes = fabric.to_device(batch.notes)
        if batch.onsets is not None:
            batch.onsets = fabric.to_device(batch.onsets)

        with fabric.autocast():
            g = objective.generator_losses(batch, step, tc["steps"])
        opt_g.zero_grad(set_to_none=True)
        finite = _all_ranks(fabric, bool(torch.isfinite(g["total"])))
        if finite:
            fabric.backward(g["total"])
            _average_gradients(fabric, objective.model)
            grad_norm = fabric.clip_gradients(model, opt_g, max_norm=tc["grad_clip"], error_if_nonfinite=False)
            finite = bool(torch.isfinite(grad_norm))
        if not finite:
            # A non-finite loss or gradient: skip the update; after several in a row, go back
            # to the last good weights instead of training on from a poisoned state.
            bad_in_a_row += 1
            log.info(f"step {step}: non-finite loss or gradient, update skipped ({bad_in_a_row} in a row)")
            if bad_in_a_row >= tc["max_bad_steps"]:
                for k, sd in last_good.items():
                    state[k].load_state_dict(sd)
                log.info(f"step {step}: {bad_in_a_row} bad steps in a row; restored the last good state")
                bad_in_a_row = 0
            opt_g.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            continue
        bad_in_a_row = 0
        opt_g.step()
        sched_g.step()

        d = {}
        if disc is not None:
            with fabric.autocast():
                d = objective.discriminator_losses()
            opt_d.zero_grad(set_to_none=True)
            if _all_ranks(fabric, bool(torch.isfinite(d["total"]))):  # DDP all-reduces D's gradients in backward
                fabric.backward(d["total"])
                fabric.clip_gradients(disc, opt_d, max_norm=tc["grad_clip"], error_if_nonfinite=False)
                opt_d.step()
            sched_d.step()
        step += 1
        bar.update(1)

        if step % tc["log_every"] == 0 or step == 1:
            values = {f"gen/{k}": float(v.detach()) for k, v in g.items()}
            values.update({f"disc/{k}": float(v.detach()) for k, v in d.items()})
            values["lr"] = sched_g.get_last_lr()[0]
            values["grad_norm"] = float(grad_norm)
            now = time.monotonic()
            values["step_seconds"] = (now - clock[0]) / max(1, step - clock[1])
            clock = (now, step)
            values = log.reduce(fabric, values)
            log.scalars(step, values)
            bar.set_postfix(loss=f"{values['gen/total']:.3f}")
        if step % tc["checkpoint_every"] == 0:
            snapshot(step)
            last_good = copy.deepcopy({k: v.state_dict() for k, v in state.items() if hasattr(v, "state_dict")})
    bar.close()
    for s, handler in previous.items():
        signal.signal(s, handler)

    # -- finish ------------------------------------------------------------------------------
    snapshot(step)
    wall = time.monotonic() - started
    summary = {"steps": step, "target_steps": tc["steps"], "reason": reason, "wall_seconds": round(wall, 1),
               "total_wall_seconds": round(earlier_seconds + wall, 1)}  # over every invocation of the run
    if fabric.is_global_zero:
        from audiostyle.models.checkpoint import save_model
        from audiostyle.training.prototypes import compute_prototypes

        released = objective.model
        released.eval()
        compute_prototypes(released, sampler, tc["prototype_clips"], crop_frames)
        save_model(released, run_dir / "model.safetensors", extra={"train_summary": summary, "data": str(data_dir)})
        log.finish(summary)
    fabric.barrier()
    log.info(f"{reason} at step {step}; wrote {run_dir}")
    return summary


def _check_same_architecture(saved: dict, current: dict, run_dir: Path) -> None:
    if saved.get("model") != current.get("model"):
        raise AudioStyleError(f"{run_dir}: cannot resume: the checkpoint's model config differs from this config")
