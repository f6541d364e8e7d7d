"""GUS patches to SoundFont 2: patch reading, key zones, and what the written font plays."""

from __future__ import annotations

import numpy as np
import pytest

from audiostyle.data.patches import (_key_zones, _release_seconds, patches_to_sf2, read_patch,
                                     read_timidity_cfg, write_sf2)
from audiostyle.errors import AudioStyleError
from tests.data.conftest import LOOP, PINGPONG, REVERSE, SR, UNSIGNED, WIDE, gus_sample, sine, write_patch

def test_reads_a_16bit_sample_and_its_settings(tmp_path):
    wave = sine(441, 0.5)
    write_patch(tmp_path / "a.pat", [gus_sample(wave.tobytes(), rate=SR, low=20, high=600, root=441,
                                              loop=(2 * 1000, 2 * 1050))])
    (s,) = read_patch(tmp_path / "a.pat")
    np.testing.assert_array_equal(s.data, wave)
    assert (s.rate, s.low_hz, s.high_hz, s.root_hz, s.loop) == (SR, 20.0, 600.0, 441.0, (1000, 1050))
    assert s.release_s == pytest.approx(_release_seconds(141, 246))


def test_eight_bit_unsigned_data_is_widened_and_centred(tmp_path):
    raw = bytes([128, 255, 0, 192])  # unsigned 8-bit: 0, +127, -128, +64
    write_patch(tmp_path / "b.pat", [gus_sample(raw, rate=8000, low=20, high=600, root=441, modes=UNSIGNED)])
    (s,) = read_patch(tmp_path / "b.pat")
    np.testing.assert_array_equal(s.data, [0, 127 * 256, -128 * 256, 64 * 256])
    assert s.loop is None


def test_ping_pong_loop_is_unrolled_into_a_forward_loop(tmp_path):
    raw = np.arange(6, dtype="<i2")
    write_patch(tmp_path / "c.pat", [gus_sample(raw.tobytes(), rate=SR, low=20, high=600, root=441,
                                              loop=(2 * 1, 2 * 4), modes=WIDE | LOOP | PINGPONG)])
    (s,) = read_patch(tmp_path / "c.pat")
    # Forward over 1, 2, 3 then back over 2: looping [1, 5) plays 1 2 3 2 1 2 3 2 ...
    np.testing.assert_array_equal(s.data, [0, 1, 2, 3, 2, 4, 5])
    assert s.loop == (1, 5)


def test_reversed_sample_is_turned_round_with_its_loop(tmp_path):
    raw = np.arange(6, dtype="<i2")
    write_patch(tmp_path / "d.pat", [gus_sample(raw.tobytes(), rate=SR, low=20, high=600, root=441,
                                              loop=(2 * 1, 2 * 3), modes=WIDE | LOOP | REVERSE)])
    (s,) = read_patch(tmp_path / "d.pat")
    np.testing.assert_array_equal(s.data, [5, 4, 3, 2, 1, 0])
    assert s.loop == (3, 5)


def test_release_time_known_answers():
    # Rate byte 141: range 2, increment 13 -> 104 units a tick; level 246 << 22 at 44100 * 512
    # ticks a second per unit: 246 * 2**22 / (104 * 44100 * 512) s.
    assert _release_seconds(141, 246) == pytest.approx(246 * 2 ** 22 / (104 * 44100 * 512))
    assert _release_seconds(141, 246) == pytest.approx(0.4394, abs=1e-3)
    # Each range step up slows the increment eightfold.
    assert _release_seconds(192 + 13, 246) == pytest.approx(_release_seconds(141, 246) * 8)
    assert _release_seconds(64 + 13, 246) == pytest.approx(_release_seconds(141, 246) / 8)
    assert _release_seconds(0, 246) == 0.0 and _release_seconds(141, 0) == 0.0


def test_key_zones_cover_every_key_by_frequency_range(tmp_path):
    wave = sine(441, 0.1).tobytes()
    write_patch(tmp_path / "z.pat", [gus_sample(wave, rate=SR, low=100, high=600, root=441),
                                gus_sample(wave, rate=SR, low=600.001, high=2000, root=882)])
    zones = _key_zones(read_patch(tmp_path / "z.pat"))
    assert zones[0][0] == 0 and zones[-1][1] == 127
    assert all(a[1] + 1 == b[0] for a, b in zip(zones, zones[1:]))  # contiguous, no gaps
    # 600 Hz lies between MIDI 74 (587 Hz) and 75 (622 Hz); keys under 100 Hz take the nearest range.
    assert zones == [(0, 74, 0), (75, 127, 1)]


def test_written_font_plays_each_sample_at_the_asked_pitch(tmp_path):
    """A font of two samples: keys up to 600 Hz play a 441 Hz sine rooted at 441 Hz; above, a
    sine at 1,323 Hz declared rooted at 882 Hz, so the pitch heard tells which sample played."""
    pytest.importorskip("tinysoundfont")
    from audiostyle.data.render import check_font, render_notes

    low = sine(441, 1.0)
    high = sine(1323, 1.0)
    write_patch(tmp_path / "two.pat", [
        gus_sample(low.tobytes(), rate=SR, low=20, high=600, root=441, loop=(2 * 11025, 2 * 11075)),
        gus_sample(high.tobytes(), rate=SR, low=600.001, high=8000, root=882, loop=(2 * 11025, 2 * 11075))])
    write_sf2({40: ("Violin", read_patch(tmp_path / "two.pat"))}, tmp_path / "two.sf2", name="two")
    font = str(check_font(tmp_path / "two.sf2"))
    for key, expected in ((69, 440.0), (57, 220.0), (81, 1323 * 880 / 882)):
        wave = render_notes(font, 40, [(0.0, 1.5, key)], [100], 2 * SR)
        part = wave[SR // 4: SR // 4 + SR]  # 1 s inside the held note, past the loop start
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part)), 8 * len(part)))
        peak = np.argmax(spectrum) * SR / (8 * len(part))
        assert peak == pytest.approx(expected, rel=0.005), key
        assert np.sqrt(np.mean(part ** 2)) > 0.01
    # The release: silent well after the note is let go.
    tail = render_notes(font, 40, [(0.0, 0.5, 69)], [100], 3 * SR)[int(2.5 * SR):]
    assert np.abs(tail).max() < 1e-3


def test_cfg_reading_takes_bank_zero_only(tmp_path):
    (tmp_path / "cfg").write_text(
        "dir /somewhere/pats\n# a comment\ndrumset 0\n 35 Drum_000/035_Kick.pat\n"
        "bank 0\n 0 Tone_000/000_Piano.pat amp=120\n 40 Tone_000/040_Violin   # no suffix\n"
        "bank 1\n 0 Tone_001/000_Other.pat\n")
    table = read_timidity_cfg(tmp_path / "cfg")
    assert {k: str(v) for k, v in table.items()} == {
        0: "/somewhere/pats/Tone_000/000_Piano.pat", 40: "/somewhere/pats/Tone_000/040_Violin.pat"}


@pytest.mark.parametrize("content, expected", [
    (b"RIFF0000sfbk", "not a GUS patch file"),
    (b"GF1PATCH110\0" + b"\0" * 186 + b"\x02" + b"\0" * 40, "cut short in a sample header"),
    (b"GF1PATCH110\0" + b"\0" * 227, "holds no samples"),
])
def test_bad_patch_files_are_named(tmp_path, content, expected):
    (tmp_path / "bad.pat").write_bytes(content)
    with pytest.raises(AudioStyleError, match=rf"bad\.pat.*{expected}"):
        read_patch(tmp_path / "bad.pat")


def test_conversion_refuses_a_program_the_list_lacks_and_a_list_without_bank_zero(tmp_path):
    wave = sine(441, 0.1).tobytes()
    write_patch(tmp_path / "p.pat", [gus_sample(wave, rate=SR, low=20, high=8000, root=441)])
    (tmp_path / "list.cfg").write_text(f"dir {tmp_path}\nbank 0\n 0 p.pat\n")
    assert patches_to_sf2(tmp_path / "list.cfg", tmp_path / "out.sf2", [0]) == [0]
    assert (tmp_path / "out.sf2").read_bytes()[8:12] == b"sfbk"
    with pytest.raises(AudioStyleError, match=r"list\.cfg.*no patch for GM program\(s\) \[40\]"):
        patches_to_sf2(tmp_path / "list.cfg", tmp_path / "out2.sf2", [0, 40])
    assert not (tmp_path / "out2.sf2").exists()
    (tmp_path / "drums.cfg").write_text("drumset 0\n 35 p.pat\n")
    with pytest.raises(AudioStyleError, match=r"drums\.cfg.*no melodic patches"):
        read_timidity_cfg(tmp_path / "drums.cfg")
