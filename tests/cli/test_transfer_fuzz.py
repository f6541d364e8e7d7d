"""Property-based fuzzing of ``audiostyle transfer``, end to end through the CLI entry point.

Whatever the input file holds (random bytes, a truncated or lying WAV header, a huge declared
size, NaN/inf samples, nothing, one sample), the command either writes a finite output of the
input's duration, or exits non-zero with one ``audiostyle: error: <file>: ...`` line; never a
Python traceback, never a hang, never a partial output file.

``main()`` is called in-process (a subprocess per input would cost a second of imports each);
an exception escaping it is exactly what a user would see as a traceback. Each test reports how
many inputs it tried (``pytest -s`` shows the line).
"""

import contextlib
import faulthandler
import io
import os
import struct
import sys
import time
from datetime import timedelta

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from audiostyle import MODEL_SR
from audiostyle.cli import main

HOP = 256
PER_INPUT_S = 20          # one input: model load + decode + transfer of <= 4 s of audio
HANG_S = 120              # a real hang (one that never returns to Python) kills the run, with stacks
BUDGET = dict(deadline=timedelta(seconds=PER_INPUT_S), suppress_health_check=[HealthCheck.too_slow], database=None)


@contextlib.contextmanager
def _stderr_fd(path):
    """Everything written to standard error, by Python or by native code (libsndfile's decoders
    print straight to file descriptor 2), goes to ``path`` while the block runs."""
    sys.stderr.flush()
    saved = os.dup(2)
    path.write_bytes(b"")
    try:
        with open(path, "ab", buffering=0) as native, open(path, "a", buffering=1) as py_err:
            os.dup2(native.fileno(), 2)
            with contextlib.redirect_stderr(py_err):
                yield path
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class Fuzzer:
    """Runs the transfer CLI on one input file and checks the outcome; counts what it tried."""

    def __init__(self, folder, model):
        self.folder, self.model = folder, model
        self.tried, self.outcomes = 0, {"ok": 0, "error": 0}

    def check(self, data: bytes, suffix: str = ".wav") -> None:
        self.tried += 1
        src, out = self.folder / f"fuzz-in{suffix}", self.folder / "fuzz-out.wav"
        src.write_bytes(data)
        out.unlink(missing_ok=True)
        stdout = io.StringIO()
        faulthandler.dump_traceback_later(HANG_S, exit=True)
        started = time.monotonic()
        try:
            with contextlib.redirect_stdout(stdout), _stderr_fd(self.folder / "stderr.txt") as stderr:
                code = main(["transfer", str(src), "--to", "violin", "-o", str(out), "--model", str(self.model), "--no-progress"])
        finally:
            faulthandler.cancel_dump_traceback_later()
        assert time.monotonic() - started < PER_INPUT_S
        err = stderr.read_text(errors="replace")
        assert "Traceback" not in err
        assert not list(self.folder.glob("*.part")), "temporary output left behind"
        if code == 0:
            self.outcomes["ok"] += 1
            event("transferred")
            y, sr = sf.read(out, dtype="float32")
            assert sr == MODEL_SR and y.ndim == 1 and np.all(np.isfinite(y))
            decoded, src_sr = sf.read(src, dtype="float32", always_2d=True)
            assert abs(len(y) - len(decoded) * MODEL_SR / src_sr) <= HOP  # the input's duration
        else:
            self.outcomes["error"] += 1
            lines = [line for line in err.splitlines() if line.strip()]
            assert len(lines) == 1, err
            assert lines[0].startswith(f"audiostyle: error: {src}: "), err
            event(lines[0].split(f"{src}: ", 1)[1].split(" (")[0][:60])  # the kind of error, for --hypothesis-show-statistics
            assert not out.exists(), "output written despite the error"

    def report(self, name: str) -> None:
        print(f"\ntransfer fuzzing ({name}): {self.tried} inputs tried, {self.outcomes['ok']} transferred, "
              f"{self.outcomes['error']} refused with one clear line")


def _wav(samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def test_random_bytes(tiny_model, tmp_path):
    fuzz = Fuzzer(tmp_path, tiny_model)

    @settings(max_examples=40, **BUDGET)
    @given(st.one_of(st.binary(max_size=4096), st.binary(max_size=4096).map(lambda b: b"RIFF\xff\xff\xff\xffWAVEfmt " + b)),
           st.sampled_from([".wav", ".flac", ".ogg", ".mp3", ".bin"]))
    @example(bytes([0, 1, 2, 3] + [0] * 16), ".mp3")  # found: libmpg123 printed 3 "Note: ..." lines around the error
    def run(data, suffix):
        fuzz.check(data, suffix)

    run()
    fuzz.report("random bytes")
    assert fuzz.tried >= 40


def test_truncated_and_lying_wav_headers(tiny_model, tmp_path):
    fuzz = Fuzzer(tmp_path, tiny_model)
    # (offset, struct format) of the canonical 44-byte PCM header's fields
    fields = {"riff_size": (4, "<I"), "format_tag": (20, "<H"), "channels": (22, "<H"), "rate": (24, "<I"),
              "byte_rate": (28, "<I"), "block_align": (32, "<H"), "bits": (34, "<H"), "data_size": (40, "<I")}

    @settings(max_examples=60, **BUDGET)
    @given(
        n=st.integers(0, 8000), rate=st.sampled_from([8000, 22050, 44100, 48000]),
        lies=st.dictionaries(st.sampled_from(sorted(fields)),
                             st.one_of(st.sampled_from([0, 1, 2, 3, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]), st.integers(0, 2**32 - 1)),
                             max_size=3),
        keep=st.one_of(st.none(), st.integers(0, 16100)),
    )
    @example(n=4000, rate=22050, lies={"data_size": 0xFFFFFFFF, "riff_size": 0xFFFFFFFF}, keep=None)
    @example(n=4000, rate=22050, lies={"channels": 0}, keep=None)
    def run(n, rate, lies, keep):
        t = np.arange(n) / rate
        data = bytearray(_wav((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate))
        for name, value in lies.items():
            offset, fmt = fields[name]
            data[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value % (1 << (8 * struct.calcsize(fmt))))
        if lies.get("data_size", 0) > 2**30:
            event("huge declared data size")
        fuzz.check(bytes(data if keep is None else data[:keep]))

    run()
    fuzz.report("truncated and lying WAV headers")
    assert fuzz.tried >= 60


def test_nan_inf_extreme_empty_and_one_sample(tiny_model, tmp_path):
    fuzz = Fuzzer(tmp_path, tiny_model)
    specials = [np.nan, np.inf, -np.inf, 1e30, -3.4e38, 1e-45]

    @settings(max_examples=40, **BUDGET)
    @given(
        n=st.one_of(st.integers(0, 1), st.integers(2, 12000)),  # empty and one-sample files included
        level=st.sampled_from([0.0, 1e-30, 0.5, 1.0, 1e30, 3.4e38]),  # silence ... finite but absurd
        poke=st.dictionaries(st.integers(0, 11999), st.sampled_from(specials), max_size=3),
        channels=st.sampled_from([1, 2]),
        subtype=st.sampled_from(["FLOAT", "DOUBLE"]),
        rate=st.sampled_from([MODEL_SR, 44100]),
    )
    # Found: the float32 mean of two channels at -3.4e38 overflowed to -inf after the loader's
    # finiteness check; the model then failed with an error that did not name the input.
    @example(n=2205, level=0.0, poke={0: -3.4e38}, channels=2, subtype="FLOAT", rate=MODEL_SR)
    # Found: resampling overshoots past the float32 limit (inf from finite samples).
    @example(n=8820, level=0.0, poke={100: 3.4e38, 101: -3.4e38}, channels=1, subtype="FLOAT", rate=44100)
    # Found: finite samples near the limit overflow inside the model ("non-finite audio", no file name).
    @example(n=4410, level=3.4e38, poke={}, channels=1, subtype="FLOAT", rate=MODEL_SR)
    def run(n, level, poke, channels, subtype, rate):
        x = level * np.sin(2 * np.pi * 440 * np.arange(n) / rate)
        for i, v in poke.items():
            if i < n:
                x[i] = v
        fuzz.check(_wav(np.repeat(x[:, None], channels, axis=1), rate, subtype))

    run()
    fuzz.report("NaN, inf, extreme values, zero and one sample")
    assert fuzz.tried >= 40
