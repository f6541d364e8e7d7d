"""``audiostyle prototype``: a target timbre from example recordings, and its errors."""

import numpy as np
import pytest
import soundfile as sf

from audiostyle.cli.models import audio_files
from audiostyle.models.checkpoint import load_model
from .test_transfer_cli import _clip, cli


def test_prototype_from_a_folder_then_transfer_with_the_copy(tiny_model, tmp_path):
    examples = tmp_path / "my-violin"
    (examples / "sub").mkdir(parents=True)
    _clip(examples, 3.0, name="a.wav")
    _clip(examples / "sub", 2.0, sr=22050, channels=1, name="b.flac")
    (examples / "notes.txt").write_text("not audio, skipped")
    # macOS AppleDouble sidecars and hidden folders: skipped, as `data prepare` skips them
    (examples / "._a.wav").write_bytes(b"\x00\x05\x16\x07 AppleDouble, not audio")
    (examples / ".trash").mkdir()
    (examples / ".trash" / "old.wav").write_bytes(b"RIFF0000WAVEjunk")
    out = tmp_path / "mine.safetensors"
    r = cli("prototype", examples, "--instrument", "violin", "--model", tiny_model, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "violin prototype from 2 recordings (5.0 s)" in r.stdout
    model = load_model(out)
    assert model.extra["prototypes"][-1]["recordings"] == 2
    src = _clip(tmp_path, 2.0, name="src.wav")
    r = cli("transfer", src, "--to", "violin", "--model", out, "-o", tmp_path / "o.wav", "--no-progress")
    assert r.returncode == 0, r.stderr
    y, sr = sf.read(tmp_path / "o.wav")
    assert sr == 22050 and np.isfinite(y).all()


@pytest.mark.parametrize("case", ["missing_input", "empty_folder", "corrupt_input", "unknown_instrument", "bad_suffix"])
def test_prototype_errors_are_one_clear_line_and_write_nothing(case, tiny_model, tmp_path):
    good = _clip(tmp_path, 2.0, name="good.wav")
    out = tmp_path / "new.safetensors"
    inputs, instrument, expect = [good], "violin", ""
    if case == "missing_input":
        inputs, expect = [good, tmp_path / "gone.wav"], "gone.wav: no such file or folder"
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        inputs, expect = [tmp_path / "empty"], "empty: folder holds no audio files"
    elif case == "corrupt_input":
        (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
        inputs, expect = [tmp_path / "bad.wav"], "bad.wav: not a readable audio file"
    elif case == "unknown_instrument":
        instrument, expect = "cello", "cannot play 'cello'"
    elif case == "bad_suffix":
        out, expect = tmp_path / "new.pt", "must be a .safetensors file"
    r = cli("prototype", *inputs, "--instrument", instrument, "--model", tiny_model, "--out", out)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("audiostyle: error:") and expect in lines[0], r.stderr
    assert not out.exists()


def test_audio_files_skips_hidden_names_in_folders_but_not_files_named_outright(tmp_path):
    folder = tmp_path / "recs"
    (folder / "b").mkdir(parents=True)
    (folder / ".cache").mkdir()
    for rel in ["z.wav", "b/a.flac", "._z.wav", "b/._a.flac", ".cache/c.wav", "readme.txt"]:
        (folder / rel).write_bytes(b"x")
    named = tmp_path / ".take.wav"
    named.write_bytes(b"x")
    got = audio_files([str(folder), str(named)])
    assert got == [folder / "b" / "a.flac", folder / "z.wav", named]
