"""`audiostyle data render|prepare` as a user runs them: exit codes, files, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiostyle.data import TEST_FONT, TRAIN_FONT

needs_fonts = pytest.mark.skipif(not (Path(TRAIN_FONT).is_file() and Path(TEST_FONT).is_file()),
                                 reason="GM soundfonts not installed (make setup)")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audiostyle", "data", *args],
                          capture_output=True, text=True, timeout=300)


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("audiostyle: error: "), proc.stderr
    return lines[0]


@needs_fonts
def test_render_writes_a_data_set(tmp_path):
    out = tmp_path / "set"
    proc = _run("render", "--out", str(out), "--clips-per-instrument", "3", "--seconds", "2",
                "--instruments", "piano,41", "--workers", "2", "--seed", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "rendered" in proc.stdout and "viola" in proc.stdout
    for split in ("train", "val", "test"):
        for inst in ("piano", "viola"):
            assert len(list((out / split / inst).glob("*.wav"))) == 1
        assert len(list((out / split / "notes").glob("*.json"))) == 1
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize("args, expected", [
    (["--instruments", "piano,kazoo"], "unknown instrument 'kazoo'"),
    (["--instruments", "piccolo,tuba"], "octave"),
    (["--train-font", "/nonexistent/FluidR3_GM.sf2"],
     "/nonexistent/FluidR3_GM.sf2 not found; install it with `apt-get install fluid-soundfont-gm"),
    (["--train-font", f"{TRAIN_FONT},/nonexistent/Other.sf2"], "/nonexistent/Other.sf2 not found"),
    (["--sources", "jazz"], "unknown source"),
    (["--seed", "-3"], "seed"),
])
def test_render_bad_input_is_one_line(tmp_path, args, expected):
    proc = _run("render", "--out", str(tmp_path / "o"), "--clips-per-instrument", "3", "--seconds", "2",
                "--quiet", *args)
    assert expected in _one_line_error(proc)
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_refuses_non_empty_foreign_output(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("precious")
    proc = _run("render", "--out", str(tmp_path / "mine"), "--clips-per-instrument", "3", "--quiet")
    assert "not an audiostyle data set" in _one_line_error(proc)
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["keep.txt"]


def test_font_converts_a_patch_list_that_render_then_takes(tmp_path):
    from tests.data.conftest import SR, gus_sample, sine, write_patch

    wave = sine(441, 0.5).tobytes()
    for name in ("piano", "violin"):
        write_patch(tmp_path / f"{name}.pat", [gus_sample(wave, rate=SR, low=20, high=8000, root=441,
                                                          loop=(2 * 11000, 2 * 11050))])
    (tmp_path / "set.cfg").write_text(f"dir {tmp_path}\nbank 0\n 0 piano.pat\n 40 violin.pat\n")
    proc = _run("font", "--patches", str(tmp_path / "set.cfg"), "--out", str(tmp_path / "set.sf2"))
    assert proc.returncode == 0, proc.stderr
    assert "GM programs 0, 40" in proc.stdout
    if Path(TEST_FONT).is_file():
        proc = _run("render", "--out", str(tmp_path / "data"), "--clips-per-instrument", "3", "--seconds", "2",
                    "--train-font", str(tmp_path / "set.sf2"), "--sources", "fiddle", "--quiet")
        assert proc.returncode == 0, proc.stderr
        train = sorted((tmp_path / "data" / "train" / "violin").glob("*.wav"))
        assert train and np.sqrt(np.mean(sf.read(train[0])[0] ** 2)) > 0.01


@pytest.mark.parametrize("args, expected", [
    (["--patches", "/nonexistent/freepats.cfg"], "patch list /nonexistent/freepats.cfg not found"),
    (["--out", "font.txt"], "ends in .sf2"),
    (["--out", "missing/font.sf2"], "does not exist"),
    (["--instruments", "kazoo"], "unknown instrument 'kazoo'"),
    (["--instruments", "flute"], "no patch for GM program(s) [73]"),
])
def test_font_bad_input_is_one_line(tmp_path, args, expected):
    (tmp_path / "set.cfg").write_text(f"dir {tmp_path}\nbank 0\n 0 piano.pat\n 40 violin.pat\n")
    base = {"--patches": str(tmp_path / "set.cfg"), "--out": str(tmp_path / "font.sf2")}
    for key, value in zip(args[::2], args[1::2]):
        base[key] = value if key != "--out" else str(tmp_path / value)
    proc = subprocess.run([sys.executable, "-m", "audiostyle", "data", "font",
                           *[x for kv in base.items() for x in kv]],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert expected in _one_line_error(proc)
    assert not (tmp_path / "font.sf2").exists()


def test_prepare_reports_summary(tmp_path):
    src = tmp_path / "src"
    (src / "cello").mkdir(parents=True)
    t = np.arange(3 * 22050) / 22050
    for i in range(3):
        sf.write(str(src / "cello" / f"r{i}.wav"), 0.2 * np.sin(2 * np.pi * (110 + 20 * i) * t), 22050)
    (src / "cello" / "broken.ogg").write_bytes(b"OggS" + b"\x00" * 50)
    proc = _run("prepare", "--src", str(src), "--out", str(tmp_path / "out"), "--seconds", "1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "skipped files: 1" in proc.stdout and "broken.ogg" in proc.stdout
    assert len(list((tmp_path / "out").rglob("*.wav"))) >= 3
    proc = _run("prepare", "--src", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o2"))
    assert "nowhere" in _one_line_error(proc)
