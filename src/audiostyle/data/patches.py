"""A SoundFont 2 file built from a Gravis UltraSound patch set (Debian's ``freepats``).

The rendering pipeline plays SoundFont 2 files (TinySoundFont). Debian's ``freepats`` package
holds sampled instruments in the older GUS patch format (``.pat``, listed by a TiMidity ``.cfg``
file), among them a piano and a violin recorded apart from the FluidR3 and TimGM6mb fonts. This
module reads those patches and writes them as a SoundFont 2 bank, one preset per General MIDI
program, so that ``audiostyle data render --train-font`` can use them like any other font.

What is carried over: every sample (16-bit, or 8-bit widened; unsigned data made signed;
ping-pong loops unrolled into forward ones, reversed samples turned round), its key range (from
the patch's frequency range), its root pitch and sample rate, its loop, and a release time from
the patch envelope's release rate. The GUS attack and decay stages are not converted: every
freepats tone reaches its sustain level at the fastest rate, which is SoundFont's default.
Tremolo and vibrato are not converted (freepats' piano and violin set none), nor is a key
scaling other than the usual semitone a key (scale factor 1024, which every freepats tone has).
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiostyle.errors import AudioStyleError
from audiostyle.fileio import atomic_output

_PATCH_MAGIC = (b"GF1PATCH110\0", b"GF1PATCH100\0")
_SAMPLES_AT = 198  # number of samples in the first layer: after the 129-byte header, the
# 63-byte instrument header and 6 bytes of the layer header
_FIRST_SAMPLE = 239  # header 129 + instrument 63 + layer 47
_SAMPLE_HEADER = 96
_MODE_16BIT, _MODE_UNSIGNED, _MODE_LOOP, _MODE_PINGPONG, _MODE_REVERSE = 1, 2, 4, 8, 16
_GUARD = 46  # zero points SoundFont 2 asks after every sample


@dataclass
class PatchSample:
    """One sample of a GUS patch, as it will be written: ``data`` is ``(N,)`` int16."""

    data: np.ndarray
    rate: int
    low_hz: float
    high_hz: float
    root_hz: float
    loop: tuple[int, int] | None  # [start, end) in points, or None
    release_s: float


def _release_seconds(rate_byte: int, level: int) -> float:
    """Seconds the GUS envelope takes from ``level`` (0-255) to silence at ``rate_byte``.

    The rate byte holds a 6-bit increment and a 2-bit range; each range step slows the increment
    eightfold. The envelope moves by ``increment << 3 * (3 - range)`` in units of 2^-22 of a
    level step every 1/44100 s at the increment's own scale (TiMidity's conversion).
    """
    increment = (rate_byte & 0x3F) << (3 * (3 - ((rate_byte >> 6) & 3)))
    if increment == 0 or level == 0:
        return 0.0
    per_second = increment * 44100 * (1 << 9)
    return float(min(20.0, (level << 22) / per_second))


def read_patch(path: str | Path) -> list[PatchSample]:
    """The samples of the first layer of a GUS ``.pat`` file.

    Raises:
        AudioStyleError: naming the file, when it is not a GUS patch or is cut short.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AudioStyleError(f"patch {path}: cannot read it ({exc.strerror or exc})") from None
    if raw[:12] not in _PATCH_MAGIC or len(raw) < _FIRST_SAMPLE:
        raise AudioStyleError(f"patch {path}: not a GUS patch file (no GF1PATCH header)")
    if raw[_SAMPLES_AT] == 0:
        raise AudioStyleError(f"patch {path}: holds no samples")
    samples, pos = [], _FIRST_SAMPLE
    for _ in range(raw[_SAMPLES_AT]):
        head = raw[pos:pos + _SAMPLE_HEADER]
        if len(head) < _SAMPLE_HEADER:
            raise AudioStyleError(f"patch {path}: cut short in a sample header at byte {pos}")
        length, loop_start, loop_end = struct.unpack("<III", head[8:20])
        (rate,) = struct.unpack("<H", head[20:22])
        low, high, root = (v / 1000.0 for v in struct.unpack("<III", head[22:34]))
        rates, offsets, modes = head[37:43], head[43:49], head[55]
        body = raw[pos + _SAMPLE_HEADER: pos + _SAMPLE_HEADER + length]
        if len(body) < length or rate == 0 or root <= 0:
            raise AudioStyleError(f"patch {path}: sample at byte {pos} is cut short or has no rate or root")
        wide = bool(modes & _MODE_16BIT)
        data = np.frombuffer(body, dtype="<u2" if wide and modes & _MODE_UNSIGNED else
                             "<i2" if wide else "u1" if modes & _MODE_UNSIGNED else "i1").astype(np.int32)
        if modes & _MODE_UNSIGNED:
            data = data - (1 << (15 if wide else 7))
        if not wide:
            data = data << 8
        width = 2 if wide else 1  # loop points are byte offsets
        loop = (loop_start // width, loop_end // width) if modes & _MODE_LOOP and loop_end > loop_start else None
        if modes & _MODE_REVERSE:
            data = data[::-1]
            loop = (len(data) - loop[1], len(data) - loop[0]) if loop else None
        if loop and modes & _MODE_PINGPONG:
            a, b = loop
            data = np.concatenate([data[:b], data[a:b][::-1][1:-1], data[b:]]) if b - a > 2 else data
            loop = (a, b + max(0, b - a - 2))
        samples.append(PatchSample(
            data=np.clip(data, -32768, 32767).astype(np.int16), rate=int(rate), low_hz=low,
            high_hz=high, root_hz=root, loop=loop,
            release_s=_release_seconds(rates[3], offsets[2])))
        pos += _SAMPLE_HEADER + length
    return samples


def read_timidity_cfg(path: str | Path) -> dict[int, Path]:
    """GM program -> patch file from the melodic ``bank 0`` of a TiMidity ``.cfg`` file."""
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise AudioStyleError(f"patch list {path}: cannot read it ({exc.strerror or exc})") from None
    base, section, programs = path.parent, None, {}
    for line in lines:
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "dir" and len(words) > 1:
            base = Path(words[1])
        elif words[0] in ("bank", "drumset"):
            section = (words[0], words[1] if len(words) > 1 else "0")
        elif section == ("bank", "0") and re.fullmatch(r"\d+", words[0]) and len(words) > 1:
            name = words[1] if words[1].endswith(".pat") else words[1] + ".pat"
            programs[int(words[0])] = base / name
    if not programs:
        raise AudioStyleError(f"patch list {path}: lists no melodic patches (no `bank 0` entries)")
    return programs


def _key_zones(samples: list[PatchSample]) -> list[tuple[int, int, int]]:
    """``(low_key, high_key, sample_index)`` covering keys 0-127: each key takes the first sample
    whose frequency range holds the key's pitch, or the one whose range is nearest."""
    def pick(key: int) -> int:
        hz = 440.0 * 2.0 ** ((key - 69) / 12)
        for i, s in enumerate(samples):
            if s.low_hz <= hz <= s.high_hz:
                return i
        return min(range(len(samples)),
                   key=lambda i: min(abs(math.log(hz / max(samples[i].low_hz, 1e-3))),
                                     abs(math.log(hz / max(samples[i].high_hz, 1e-3)))))
    zones: list[list[int]] = []
    for key in range(128):
        index = pick(key)
        if zones and zones[-1][2] == index:
            zones[-1][1] = key
        else:
            zones.append([key, key, index])
    return [tuple(z) for z in zones]


def _chunk(tag: bytes, body: bytes) -> bytes:
    return tag + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def _name(text: str) -> bytes:
    return text.encode("ascii", "replace")[:19].ljust(20, b"\0")


def write_sf2(instruments: dict[int, tuple[str, list[PatchSample]]], path: str | Path, name: str) -> None:
    """Write ``{program: (name, samples)}`` as a SoundFont 2 bank (bank 0, one preset each)."""
    smpl, shdr, inst, ibag, igen, phdr, pbag, pgen = [bytearray() for _ in range(8)]
    offset = 0
    for i, (program, (inst_name, samples)) in enumerate(sorted(instruments.items())):
        first_sample = len(shdr) // 46
        for j, s in enumerate(samples):
            smpl += s.data.tobytes() + b"\0\0" * _GUARD
            midi = 69 + 12 * math.log2(s.root_hz / 440.0)
            key = int(round(midi))
            loop = s.loop or (0, 0)
            shdr += _name(f"{inst_name[:14]}{j}") + struct.pack(
                "<IIIIIBbHH", offset, offset + len(s.data), offset + loop[0], offset + loop[1],
                s.rate, max(0, min(127, key)), int(round(100 * (midi - key))), 0, 1)
            offset += len(s.data) + _GUARD
        inst += _name(inst_name) + struct.pack("<H", len(ibag) // 4)
        for low, high, j in _key_zones(samples):
            s = samples[j]
            ibag += struct.pack("<HH", len(igen) // 4, 0)
            release = int(round(1200 * math.log2(max(s.release_s, 0.001))))
            igen += struct.pack("<HBB", 43, low, high)  # keyRange comes first
            igen += struct.pack("<Hh", 38, release)  # releaseVolEnv, timecents
            igen += struct.pack("<HH", 54, 1 if s.loop else 0)  # sampleModes: loop while sounding
            igen += struct.pack("<HH", 53, first_sample + j)  # sampleID comes last
        phdr += _name(inst_name) + struct.pack("<HHHIII", program, 0, len(pbag) // 4, 0, 0, 0)
        pbag += struct.pack("<HH", len(pgen) // 4, 0)
        pgen += struct.pack("<HH", 41, i)  # instrument
    shdr += _name("EOS") + struct.pack("<IIIIIBbHH", 0, 0, 0, 0, 0, 0, 0, 0, 0)
    inst += _name("EOI") + struct.pack("<H", len(ibag) // 4)
    ibag += struct.pack("<HH", len(igen) // 4, 0)
    igen += b"\0" * 4
    phdr += _name("EOP") + struct.pack("<HHHIII", 0, 0, len(pbag) // 4, 0, 0, 0)
    pbag += struct.pack("<HH", len(pgen) // 4, 0)
    pgen += b"\0" * 4
    title = name.encode("ascii", "replace") + b"\0"
    info = b"INFO" + _chunk(b"ifil", struct.pack("<HH", 2, 1)) + _chunk(b"isng", b"EMU8000\0") \
        + _chunk(b"INAM", title + (b"\0" if len(title) % 2 else b""))
    sdta = b"sdta" + _chunk(b"smpl", bytes(smpl))
    pdta = b"pdta" + b"".join(_chunk(tag, bytes(body)) for tag, body in (
        (b"phdr", phdr), (b"pbag", pbag), (b"pmod", b"\0" * 10), (b"pgen", pgen),
        (b"inst", inst), (b"ibag", ibag), (b"imod", b"\0" * 10), (b"igen", igen), (b"shdr", shdr)))
    body = b"sfbk" + _chunk(b"LIST", info) + _chunk(b"LIST", sdta) + _chunk(b"LIST", pdta)
    with atomic_output(path) as staged:
        staged.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def patches_to_sf2(cfg: str | Path, out: str | Path, programs: list[int] | None = None) -> list[int]:
    """Convert the GM programs a TiMidity ``.cfg`` lists (or only ``programs``) into one SoundFont
    2 file at ``out``; returns the programs written."""
    from audiostyle.data.instruments import GM_NAMES

    table = read_timidity_cfg(cfg)
    wanted = sorted(table) if programs is None else list(programs)
    missing = [p for p in wanted if p not in table]
    if missing:
        raise AudioStyleError(f"patch list {cfg}: has no patch for GM program(s) {missing}")
    instruments = {p: (GM_NAMES[p], read_patch(table[p])) for p in wanted}
    write_sf2(instruments, out, name=f"{Path(cfg).stem} (converted by audiostyle)")
    return wanted
