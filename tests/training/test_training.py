import json
import shutil

import numpy as np
import pytest
import torch

from audiostyle.config import CONFIG_DIR, load_config
from audiostyle.models.checkpoint import load_model
from audiostyle.training.loop import train
from audiostyle.training.state import list_states

TINY_MODEL = {
    "d_model": 32, "latent_dim": 16, "enc_layers": 1, "dec_layers": 1, "heads": 2,
    "cnn_channels": 4, "head_hidden": 32, "window_frames": 32,
}
TINY_TRAIN = {"steps": 4, "batch_size": 4, "warmup_steps": 1, "log_every": 1, "checkpoint_every": 2, "prototype_clips": 2}
SHIPPED = sorted(str(p.relative_to(CONFIG_DIR)) for p in CONFIG_DIR.rglob("*.yaml"))


def tiny(cfg: dict, **train_over) -> dict:
    """Any shipped config shrunk to test size (architecture switches and objective kept)."""
    cfg["model"].update({k: v for k, v in TINY_MODEL.items() if k in cfg["model"]} if cfg["model"]["kind"] != "flagship" else TINY_MODEL)
    cfg["train"].update({**TINY_TRAIN, **train_over})
    return cfg


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_config_trains_and_exports_at_tiny_size(name, tiny_data, tmp_path):
    summary = train(tiny(load_config(CONFIG_DIR / name)), tiny_data, tmp_path / "run", progress=False)
    assert summary["steps"] == 4
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert model.prototypes.abs().sum() > 0  # prototypes computed over the training set
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(v) for r in rows for v in r.values())
    assert all(r["step_seconds"] > 0 for r in rows)  # what a time budget is sized by
    assert (tmp_path / "run" / "config.yaml").exists() and (tmp_path / "run" / "loss_curves.png").exists()


def test_three_instruments(tmp_path):
    from audiostyle.data.render import render_corpus

    data = tmp_path / "d3"
    render_corpus(data, instruments=("piano", "violin", "flute"), clips_per_instrument=8, seconds=2.0, seed=1, progress=False, workers=1)
    # flagship-transfer: also the transfer check, which picks a random other instrument of three
    cfg = tiny(load_config("flagship-transfer"), batch_size=6)
    cfg["model"]["instruments"] = ["piano", "violin", "flute"]
    train(cfg, data, tmp_path / "run", progress=False)
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert model.prototypes.shape[0] == 3 and model.instruments == ["piano", "violin", "flute"]


def test_curriculum_phases_turn_terms_on_in_order(tiny_data):
    from audiostyle.models.registry import build_model
    from audiostyle.training.objectives import make_objective

    cfg = tiny(load_config("flagship"))
    obj = make_objective(build_model(cfg["model"]), cfg["train"])
    total = 1000
    s = [obj.term_scales(step, total) for step in (0, 150, 250, 350, 600)]
    assert [x["phase"] for x in s] == [1, 2, 3, 4, 4]
    assert s[0]["info_nce"] == 0 and s[1]["info_nce"] == 1 and s[1]["hsic"] == 0 and s[2]["hsic"] == 1
    assert s[2]["adversarial"] == 0 and 0 < s[3]["adversarial"] < 1 and s[4]["adversarial"] == 1


@pytest.mark.parametrize("objective", [{}, {"weights": {"linear_erasure": 1.0}, "linear_erasure_momentum": 0.9}],
                         ids=["flagship", "running-erasure"])
def test_resume_continues_exactly(objective, tiny_data, tmp_path):
    cfg = tiny(load_config("flagship"), steps=6, checkpoint_every=3)
    base = cfg["train"].setdefault("objective", {})  # running erasure: its class means must be in the checkpoints
    base.update({**objective, "weights": {**base.get("weights", {}), **objective.get("weights", {})}})
    train(cfg, tiny_data, tmp_path / "full", progress=False)
    train(cfg, tiny_data, tmp_path / "part", progress=False, stop_at_step=3)
    train(cfg, tiny_data, tmp_path / "part", resume=True, progress=False)
    full = [json.loads(x) for x in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    part = [json.loads(x) for x in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    after = {r["step"]: r["gen/total"] for r in part if r["step"] > 3}
    assert after and all(abs(after[r["step"]] - r["gen/total"]) < 1e-5 for r in full if r["step"] > 3)
    # the run's training time counts both invocations, not only the last one
    summary = json.loads((tmp_path / "part" / "train_summary.json").read_text())
    assert summary["total_wall_seconds"] > summary["wall_seconds"] > 0


def test_objective_state_missing_from_the_checkpoint_starts_afresh(tiny_data, tmp_path):
    # a run resumed with the running erasure turned on, from checkpoints made without it
    cfg = tiny(load_config("flagship"), steps=4, checkpoint_every=2)
    train(cfg, tiny_data, tmp_path / "run", progress=False, stop_at_step=2)
    objective = cfg["train"].setdefault("objective", {})
    objective.update(linear_erasure_momentum=0.9, weights={**objective.get("weights", {}), "linear_erasure": 1.0})
    train(cfg, tiny_data, tmp_path / "run", resume=True, progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "resumed from step 2" in log and "erasure_means: not in the checkpoint" in log
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "gen/linear_erasure_running" in r] == [3, 4]


def test_resume_without_a_checkpoint_starts_over_and_logs_each_step_once(tiny_data, tmp_path):
    cfg = tiny(load_config("flagship"), steps=3, checkpoint_every=2)
    run = tmp_path / "run"
    train(cfg, tiny_data, run, progress=False, stop_at_step=2)
    shutil.rmtree(run / "checkpoints")  # every checkpoint lost: nothing to resume from
    train(cfg, tiny_data, run, resume=True, progress=False)
    log = (run / "train.log").read_text()
    assert "starting from scratch" in log and "dropped 2 rows logged after step 0" in log
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_resume_skips_a_corrupt_checkpoint(tiny_data, tmp_path):
    cfg = tiny(load_config("flagship"), steps=4, checkpoint_every=2)
    run = tmp_path / "run"
    train(cfg, tiny_data, run, progress=False)
    newest = list_states(run)[0]
    newest.write_bytes(newest.read_bytes()[:500])  # truncated, as by a kill mid-write
    cfg["train"]["steps"] = 5
    train(cfg, tiny_data, run, resume=True, progress=False)
    log = (run / "train.log").read_text()
    assert f"skipping checkpoint: {newest}" in log and "resumed from step 2" in log


def test_non_finite_steps_are_skipped_then_state_restored(tiny_data, tmp_path, monkeypatch):
    from audiostyle.training.objectives.flagship import FlagshipObjective

    real = FlagshipObjective.generator_losses
    calls = {"n": 0}

    def poisoned(self, batch, step, total):
        out = real(self, batch, step, total)
        calls["n"] += 1
        if 2 <= calls["n"] <= 4:
            out["total"] = out["total"] * float("nan")
        return out

    monkeypatch.setattr(FlagshipObjective, "generator_losses", poisoned)
    cfg = tiny(load_config("flagship"), steps=6, max_bad_steps=3)
    train(cfg, tiny_data, tmp_path / "run", progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    assert log.count("non-finite loss or gradient") == 3
    assert "restored the last good state" in log
    model = load_model(tmp_path / "run" / "model.safetensors")
    assert all(torch.isfinite(p).all() for p in model.state_dict().values())


def test_export_newest_checkpoint(tiny_model, tmp_path):
    from audiostyle.errors import CheckpointError
    from audiostyle.training.export import export_checkpoint

    path = export_checkpoint(tiny_model, tmp_path / "m.safetensors")
    model = load_model(path)
    assert model.extra["step"] == 4
    with pytest.raises(CheckpointError, match="no valid training checkpoint"):
        export_checkpoint(tmp_path)
