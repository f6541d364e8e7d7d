import numpy as np
import pytest
import soundfile as sf

from audiostyle.audio.io import load_audio, rms_normalize, save_audio
from audiostyle.errors import AudioFileError


def _tone(sr, seconds=1.0, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize("fmt,sr,channels", [("wav", 44100, 2), ("flac", 48000, 1), ("ogg", 16000, 2), ("wav", 22050, 6), ("mp3", 44100, 1)])
def test_loads_any_format_rate_and_channels_as_model_rate_mono(tmp_path, fmt, sr, channels):
    path = tmp_path / f"x.{fmt}"
    sf.write(path, _tone(sr, 1.0, channels), sr)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 22050) <= 1200  # mp3 adds encoder padding; PCM formats are exact
    spec = np.abs(np.fft.rfft(y[:22050 // 2 * 2] if len(y) >= 22050 else y))
    assert abs(np.argmax(spec) * 22050 / (2 * (len(spec) - 1)) - 440) < 3  # pitch survives resampling


def test_missing_file(tmp_path):
    with pytest.raises(AudioFileError, match="no such file") as e:
        load_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(e.value)


def test_directory_is_not_audio(tmp_path):
    with pytest.raises(AudioFileError, match="directory"):
        load_audio(tmp_path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage that is not audio")
    with pytest.raises(AudioFileError, match="not a readable audio file") as e:
        load_audio(path)
    assert str(path) in str(e.value)


def test_truncated_file_reads_what_is_there_or_fails_cleanly(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, _tone(22050, 2.0), 22050)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    y = load_audio(path)  # libsndfile reads the intact part: a valid, shorter clip
    assert 0.9 * 22050 < len(y) < 1.1 * 22050


def test_empty_audio(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 22050)
    with pytest.raises(AudioFileError, match="no audio samples"):
        load_audio(path)


def test_too_short(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, np.zeros(100, dtype=np.float32), 22050)
    with pytest.raises(AudioFileError, match="too short"):
        load_audio(path)


def test_non_finite_samples(tmp_path):
    path = tmp_path / "nan.wav"
    x = _tone(22050)
    x[100] = np.nan
    sf.write(path, x, 22050, subtype="FLOAT")
    with pytest.raises(AudioFileError, match="non-finite"):
        load_audio(path)


@pytest.mark.parametrize("rate", [8, 999, 1_000_000])
def test_absurd_sample_rates(tmp_path, rate):
    path = tmp_path / "rate.wav"
    sf.write(path, np.zeros(50_000, dtype=np.float32), rate)
    with pytest.raises(AudioFileError, match="absurd sample rate"):
        load_audio(path)


def test_max_seconds(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, _tone(22050, 3.0), 22050)
    with pytest.raises(AudioFileError, match="limit"):
        load_audio(path, max_seconds=2.0)


def test_save_is_atomic_and_round_trips(tmp_path):
    x = rms_normalize(_tone(22050), 0.07)
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.07, rel=1e-4)
    out = save_audio(tmp_path / "o.wav", x)
    assert np.allclose(load_audio(out), x, atol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == ["o.wav"]  # no temporary files left behind


def test_save_refuses_non_finite_and_leaves_nothing(tmp_path):
    x = _tone(22050)
    x[5] = np.inf
    with pytest.raises(AudioFileError, match="non-finite"):
        save_audio(tmp_path / "o.wav", x)
    assert list(tmp_path.iterdir()) == []


def test_save_into_missing_folder_or_under_a_file(tmp_path):
    with pytest.raises(AudioFileError, match="does not exist"):
        save_audio(tmp_path / "nope" / "o.wav", _tone(22050))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(AudioFileError, match="does not exist"):
        save_audio(tmp_path / "afile" / "o.wav", _tone(22050))


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        out = save_audio(tmp_path / "o.wav", _tone(22050))
    finally:
        os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
