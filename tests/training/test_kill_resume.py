"""A run killed without warning (SIGKILL: no handler, no final checkpoint) resumes with
``--resume`` from its newest complete checkpoint and then logs exactly the losses of a run
that was never interrupted."""

import os
import signal
import subprocess
import sys
import time

from audiostyle.errors import CheckpointError
from audiostyle.training.state import list_states, verify_state
from tests.training.metrics import logged_rows

# train.threads=1 on top of OMP_NUM_THREADS=1: CPU kernels are deterministic for a fixed
# thread count, so the only thing that can make two runs differ is the state a resume restores.
COMMON = ["--no-progress", "--set", "train.steps=200", "--set", "train.log_every=1", "--set", "train.checkpoint_every=3",
          "--set", "train.keep_checkpoints=10", "--set", "train.threads=1"]
TIMEOUT_S = 300


def _cmd(data, run, *extra):
    return [sys.executable, "-m", "audiostyle", "train", "flagship-tiny", "--data", str(data), "--out", str(run), *COMMON, *extra]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _rows(run) -> dict[int, dict]:
    """metrics.jsonl by step; every step must be there once (the resume drops what the killed
    invocation logged after its checkpoint, and trains those steps again)."""
    rows = logged_rows(run)
    steps = [r["step"] for r in rows]
    assert steps == sorted(set(steps)), f"steps logged twice or out of order: {steps}"
    return {r["step"]: r for r in rows}


def test_sigkill_then_resume_matches_an_uninterrupted_run(tiny_data, tmp_path):
    run = tmp_path / "killed"
    # The schedules span 200 steps; the kill comes long before, right after the first
    # checkpoint is complete (its digest file is written last).
    proc = subprocess.Popen(_cmd(tiny_data, run), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env())
    digest = run / "checkpoints" / "state-00000003.ckpt.sha256"
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while not digest.exists():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint written in time"
            time.sleep(0.05)  # polling for the file: the process offers no other signal
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    before_kill = _rows(run)
    last_logged = max(before_kill)
    assert last_logged < 200 and not (run / "model.safetensors").exists()  # died mid-run

    # Resume from the newest checkpoint that verifies (one being written at the kill does not).
    valid = []
    for path in list_states(run):
        try:
            verify_state(path)
            valid.append(int(path.stem.split("-")[1]))
        except CheckpointError:
            pass
    resume_step = max(valid)
    stop = max(last_logged, resume_step) + 3  # re-do the steps lost after the checkpoint, then 3 more
    r = subprocess.run(_cmd(tiny_data, run, "--resume", "--stop-at-step", str(stop)), capture_output=True, text=True,
                       env=_env(), timeout=TIMEOUT_S)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"resumed from step {resume_step}" in (run / "train.log").read_text()

    ref = tmp_path / "uninterrupted"
    r = subprocess.run(_cmd(tiny_data, ref, "--stop-at-step", str(stop)), capture_output=True, text=True, env=_env(),
                       timeout=TIMEOUT_S)
    assert r.returncode == 0, r.stderr[-3000:]

    # Exact equality of every logged value (losses, every term, discriminator, lr, grad norm):
    # same code, same thread count, same restored state; any tolerance would hide a lost RNG
    # stream or scheduler step.
    expected, resumed = _rows(ref), _rows(run)
    assert sorted(resumed) == sorted(expected) == list(range(1, stop + 1))
    after = [s for s in expected if s > resume_step]
    assert len(after) >= 3
    assert [resumed[s] for s in after] == [expected[s] for s in after]
    # And the steps before the kill were the uninterrupted run's too.
    assert [before_kill[s] for s in sorted(before_kill)] == [expected[s] for s in sorted(before_kill)]
