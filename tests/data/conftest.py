"""Helpers for the data tests: GUS patch files written byte by byte."""

from __future__ import annotations

import struct

import numpy as np

SR = 22050
LOOP, PINGPONG, REVERSE, WIDE, UNSIGNED = 4, 8, 16, 1, 2


def gus_sample(data: bytes, *, rate: int, low: float, high: float, root: float,
               loop: tuple[int, int] = (0, 0), modes: int = WIDE | LOOP, release_rate: int = 141) -> bytes:
    """One GUS sample header (96 bytes, loop in bytes as the format has it) followed by its data."""
    head = b"smp\0\0\0\0" + b"\0" + struct.pack("<III", len(data), *loop) + struct.pack("<H", rate)
    head += struct.pack("<III", int(low * 1000), int(high * 1000), int(root * 1000))
    head += struct.pack("<h", 0) + b"\x07" + bytes([63, 63, 63, release_rate, 63, 63])
    head += bytes([246, 246, 246, 0, 0, 0]) + b"\0" * 6 + bytes([modes]) + struct.pack("<hH", 64, 1024)
    head += b"\0" * 36
    assert len(head) == 96
    return head + data


def write_patch(path, samples: list[bytes]) -> None:
    """A one-instrument, one-layer GUS patch file holding ``samples`` (from :func:`gus_sample`)."""
    header = b"GF1PATCH110\0" + b"ID#000002\0" + b"test patch".ljust(60, b"\0")
    header += bytes([1, 14, 0]) + struct.pack("<HHI", len(samples), 127, 0) + b"\0" * 36
    instrument = struct.pack("<H", 0) + b"test".ljust(16, b"\0") + struct.pack("<I", 0) + b"\1" + b"\0" * 40
    layer = b"\0\0" + struct.pack("<I", 0) + bytes([len(samples)]) + b"\0" * 40
    assert (len(header), len(instrument), len(layer)) == (129, 63, 47)
    path.write_bytes(header + instrument + layer + b"".join(samples))


def sine(hz: float, seconds: float, rate: int = SR) -> np.ndarray:
    """``(N,)`` int16 sine, amplitude 12,000."""
    t = np.arange(int(seconds * rate)) / rate
    return (12000 * np.sin(2 * np.pi * hz * t)).astype("<i2")
