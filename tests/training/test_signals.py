"""A run stopped by SIGTERM saves a checkpoint and a model, and resumes from it."""

import signal
import subprocess
import sys
import time


def test_sigterm_saves_and_resume_continues(tiny_data, tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "audiostyle", "train", "flagship-tiny", "--data", str(tiny_data), "--out", str(run),
           "--no-progress", "--set", "train.steps=100000", "--set", "train.checkpoint_every=100000", "--set", "train.log_every=1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = run / "metrics.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 3):
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    log = (run / "train.log").read_text()
    assert "stopped by signal 15" in log
    step = int(log.split("stopped by signal 15 at step ")[1].split(";")[0])
    assert (run / "checkpoints" / f"state-{step:08d}.ckpt").exists()
    assert (run / "model.safetensors").exists()

    resumed = subprocess.run(cmd + ["--resume", "--stop-at-step", str(step + 2)], capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from step {step}" in (run / "train.log").read_text()
