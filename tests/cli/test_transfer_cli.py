"""CLI round trips: train -> transfer -> files, and every user error as one clear line."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from audiostyle.audio.io import load_audio

HOP = 256


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "audiostyle", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def _clip(tmp_path, seconds=2.5, sr=44100, channels=2, name="in.wav"):
    t = np.arange(int(seconds * sr)) / sr
    x = 0.2 * np.sin(2 * np.pi * 330 * t) * np.exp(-2 * (t % 0.5))
    path = tmp_path / name
    sf.write(path, np.stack([x] * channels, 1), sr)
    return path


def test_transfer_round_trip(tiny_model, tmp_path):
    src = _clip(tmp_path)
    out = tmp_path / "out.wav"
    r = cli("transfer", src, "--to", "violin", "--model", tiny_model, "-o", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    y, sr = sf.read(out)
    assert sr == 22050 and y.ndim == 1 and np.all(np.isfinite(y))
    assert abs(len(y) - len(load_audio(src))) <= HOP  # the input's duration within one hop
    r = cli("transfer", src, "--to", "piano", "--model", tiny_model, "-o", tmp_path / "o16.wav", "--sr", 16000, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert sf.info(tmp_path / "o16.wav").samplerate == 16000


def test_several_inputs_to_out_dir_and_long_input(tiny_model, tmp_path):
    a = _clip(tmp_path, 1.0, name="a.flac")
    b = _clip(tmp_path, 9.0, sr=22050, channels=1, name="b.wav")  # many windows
    outdir = tmp_path / "outs"
    outdir.mkdir()
    r = cli("transfer", a, b, "--to", "violin", "--model", tiny_model, "--out-dir", outdir, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in outdir.iterdir()) == ["a-to-violin.wav", "b-to-violin.wav"]
    assert abs(sf.info(outdir / "b-to-violin.wav").frames - 9 * 22050) <= HOP


def test_reference_clip_gives_one_shot_style(tiny_model, tmp_path):
    src, ref = _clip(tmp_path), _clip(tmp_path, 4.0, name="ref.wav")
    r = cli("transfer", src, "--to", "violin", "--reference", ref, "--model", tiny_model, "-o", tmp_path / "o.wav", "--no-progress")
    assert r.returncode == 0, r.stderr and (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("case", ["unknown_instrument", "missing_input", "corrupt_input", "unwritable_output", "missing_model",
                                  "unknown_setting", "bad_setting_value"])
def test_errors_are_one_clear_line_and_write_nothing(case, tiny_model, tmp_path):
    src = _clip(tmp_path)
    out = tmp_path / "out.wav"
    args = ["transfer", src, "--to", "violin", "--model", tiny_model, "-o", out, "--no-progress"]
    expect = {
        "unknown_instrument": "cannot play",
        "missing_input": "no such file",
        "corrupt_input": "not a readable audio file",
        "unwritable_output": "does not exist",
        "missing_model": "no such model",
        "unknown_setting": "no inference setting 'ddim_steps' (it has: inference_feedback, phase_refine_iters, recon_own_style, style_gain)",
        "bad_setting_value": "phase_refine_iters='many': expected an integer",
    }[case]
    if case == "unknown_instrument":
        args[3] = "banjo"
    elif case == "missing_input":
        args[1] = tmp_path / "absent.wav"
    elif case == "corrupt_input":
        (tmp_path / "bad.wav").write_bytes(b"RIFF1234WAVEjunkjunkjunk")
        args[1] = tmp_path / "bad.wav"
    elif case == "unwritable_output":
        out = tmp_path / "no" / "such" / "dir" / "out.wav"
        args[7] = out
    elif case == "missing_model":
        args[5] = tmp_path / "nomodel.safetensors"
    elif case == "unknown_setting":
        args += ["--set", "ddim_steps=10"]
    elif case == "bad_setting_value":
        args += ["--set", "phase_refine_iters=many"]
    r = cli(*args)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expect in lines[0], r.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.rglob("*.part")]


def test_train_refuses_a_non_empty_run_folder(tiny_data, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "something").write_text("x")
    r = cli("train", "flagship-tiny", "--data", tiny_data, "--out", run)
    assert r.returncode == 1 and "not empty" in r.stderr and "Traceback" not in r.stderr


def test_instruments_and_models_commands(tiny_model):
    r = cli("instruments", "--model", tiny_model)
    assert r.returncode == 0 and r.stdout.split() == ["piano", "violin"]
    r = cli("models")
    assert r.returncode == 0 and r.stdout.strip()
