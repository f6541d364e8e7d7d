"""Property-based fuzzing of the audio loader: only clear errors, never a crash or a hang."""

import io
import struct

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audiostyle.audio.io import load_audio
from audiostyle.errors import AudioFileError

BUDGET = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRIED = {"n": 0}


def _wav_bytes(samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def _check(tmp_path, data: bytes, suffix: str = ".wav"):
    TRIED["n"] += 1
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        y = load_audio(path)
    except AudioFileError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert y.dtype == np.float32 and y.ndim == 1 and len(y) > 0 and np.all(np.isfinite(y))


@BUDGET
@given(st.binary(min_size=0, max_size=4096), st.sampled_from([".wav", ".flac", ".ogg", ".mp3"]))
def test_random_bytes(tmp_path, data, suffix):
    _check(tmp_path, data, suffix)


@BUDGET
@given(
    n=st.integers(0, 4000), sr=st.integers(1, 2_000_000), cut=st.floats(0, 1),
    lie=st.integers(0, 2**32 - 1), where=st.sampled_from(["riff", "data", "rate", "channels"]),
)
def test_truncated_and_lying_wav_headers(tmp_path, n, sr, cut, lie, where):
    rate = min(max(sr, 1), 655_350)
    data = bytearray(_wav_bytes(np.zeros(n, dtype=np.float32) + 0.1, rate))
    if where == "riff":
        data[4:8] = struct.pack("<I", lie)
    elif where == "data" and len(data) >= 44:
        data[40:44] = struct.pack("<I", lie)  # huge declared data size
    elif where == "rate":
        data[24:28] = struct.pack("<I", lie)
    elif where == "channels":
        data[22:24] = struct.pack("<H", lie & 0xFFFF)
    _check(tmp_path, bytes(data[: int(len(data) * cut) if cut < 1 else len(data)]))


@BUDGET
@given(st.lists(st.sampled_from([0.0, 0.5, -1.0, np.nan, np.inf, -np.inf, 1e30]), min_size=0, max_size=3000))
def test_float_wavs_with_nan_inf_zero_and_one_sample(tmp_path, values):
    x = np.asarray(values, dtype=np.float32)
    _check(tmp_path, _wav_bytes(x, 22050, "FLOAT") if len(x) else _wav_bytes(np.zeros(0, np.float32), 22050))


def test_report_fuzz_budget():
    """Runs last in this module: reports how many inputs the fuzz tests tried."""
    print(f"\naudio loader fuzzing: {TRIED['n']} inputs tried")
    assert TRIED["n"] >= 300
