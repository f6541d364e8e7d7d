"""The General MIDI instrument table: names, program numbers and playable pitch ranges.

An instrument is named by a short alias (``"piano"``, ``"violin"``), by the slug of its GM name
(``"acoustic-grand-piano"``, ``"string-ensemble-1"``) or by its GM program number (0-127, as an
int or a string). Every program has one canonical folder name: its short alias when it has one,
else its GM slug. Pitch ranges are MIDI note numbers, inclusive, chosen to be realistic for the
real instrument (so renderings sound like it), not the soundfont's full key range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from audiostyle.errors import AudioStyleError

GM_NAMES: tuple[str, ...] = (
    # 0-7 piano
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    # 8-15 chromatic percussion
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells",
    "Dulcimer",
    # 16-23 organ
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ", "Accordion",
    "Harmonica", "Tango Accordion",
    # 24-31 guitar
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar",
    "Guitar Harmonics",
    # 32-39 bass
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    # 40-47 strings
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings",
    "Orchestral Harp", "Timpani",
    # 48-55 ensemble
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs",
    "Voice Oohs", "Synth Choir", "Orchestra Hit",
    # 56-63 brass
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section",
    "Synth Brass 1", "Synth Brass 2",
    # 64-71 reed
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon",
    "Clarinet",
    # 72-79 pipe
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    # 80-87 synth lead
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    # 88-95 synth pad
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)",
    "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    # 96-103 synth effects
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    # 104-111 ethnic
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    # 112-119 percussive
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum",
    "Reverse Cymbal",
    # 120-127 sound effects
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter",
    "Applause", "Gunshot",
)

# Short folder names for the instruments people usually mean; each also resolves as an alias.
SHORT_NAMES: dict[int, str] = {
    0: "piano", 6: "harpsichord", 8: "celesta", 9: "glockenspiel", 11: "vibraphone",
    12: "marimba", 13: "xylophone", 19: "organ", 21: "accordion", 22: "harmonica", 24: "guitar",
    32: "bass", 40: "violin", 41: "viola", 42: "cello", 43: "contrabass", 46: "harp",
    47: "timpani", 52: "choir", 56: "trumpet", 57: "trombone", 58: "tuba", 60: "french-horn",
    65: "saxophone", 68: "oboe", 69: "english-horn", 70: "bassoon", 71: "clarinet",
    72: "piccolo", 73: "flute", 74: "recorder", 105: "banjo", 109: "bagpipe",
}

# Further aliases (never canonical) that people commonly type.
EXTRA_ALIASES: dict[str, int] = {
    "grand-piano": 0, "acoustic-piano": 0, "electric-piano": 4, "church-organ": 19,
    "acoustic-guitar": 24, "nylon-guitar": 24, "steel-guitar": 25, "electric-guitar": 27,
    "double-bass": 43, "upright-bass": 32, "horn": 60, "sax": 65, "alto-sax": 65,
    "alto-saxophone": 65, "soprano-saxophone": 64, "tenor-saxophone": 66,
    "baritone-saxophone": 67, "cor-anglais": 69, "strings": 48, "string-ensemble": 48,
}

DEFAULT_RANGE = (36, 96)
"""Range (C2-C7) for programs with no realistic acoustic counterpart (synths, effects)."""

# Realistic playable ranges (inclusive MIDI notes), by program; others use DEFAULT_RANGE.
_RANGES: dict[int, tuple[int, int]] = {
    **{p: (21, 108) for p in range(0, 6)},  # 88-key pianos
    6: (29, 89), 7: (36, 96),
    8: (60, 108), 9: (79, 108), 10: (60, 96), 11: (53, 89), 12: (45, 96), 13: (65, 108),
    14: (60, 77), 15: (48, 96),
    16: (36, 96), 17: (36, 96), 18: (36, 96), 19: (24, 96), 20: (36, 96), 21: (53, 89),
    22: (60, 84), 23: (53, 89),
    **{p: (40, 88) for p in range(24, 32)},  # six-string guitars, E2 up
    **{p: (28, 67) for p in range(32, 40)},  # four-string basses, E1 up
    40: (55, 103), 41: (48, 91), 42: (36, 84), 43: (28, 67), 44: (28, 103), 45: (28, 96),
    46: (24, 103), 47: (40, 57),
    48: (28, 103), 49: (28, 103), 50: (36, 96), 51: (36, 96), 52: (48, 79), 53: (48, 79),
    54: (48, 84), 55: (48, 72),
    56: (54, 86), 57: (40, 72), 58: (28, 58), 59: (54, 82), 60: (34, 77), 61: (36, 84),
    64: (56, 88), 65: (49, 81), 66: (44, 76), 67: (36, 69), 68: (58, 91), 69: (52, 81),
    70: (34, 75), 71: (50, 94),
    72: (74, 108), 73: (60, 96), 74: (72, 98), 75: (60, 96), 76: (60, 84), 77: (55, 84),
    78: (72, 96), 79: (60, 84),
    104: (48, 77), 105: (48, 84), 106: (50, 79), 107: (55, 91), 108: (60, 84), 109: (67, 81),
    110: (55, 103), 111: (60, 84),
    112: (72, 96), 113: (60, 84), 114: (52, 76),
}


@dataclass(frozen=True)
class Instrument:
    """One GM program with its canonical folder name and playable range (MIDI notes, inclusive)."""

    name: str
    program: int
    gm_name: str
    low: int
    high: int

    def as_dict(self) -> dict:
        return {"name": self.name, "program": self.program, "gm_name": self.gm_name,
                "low": self.low, "high": self.high}


def slugify(text: str) -> str:
    """``"Acoustic Guitar (nylon)"`` -> ``"acoustic-guitar-nylon"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


GM_SLUGS: tuple[str, ...] = tuple(slugify(n) for n in GM_NAMES)


def _build_lookup() -> dict[str, int]:
    table = {slug: program for program, slug in enumerate(GM_SLUGS)}
    table.update(EXTRA_ALIASES)
    table.update({name: program for program, name in SHORT_NAMES.items()})
    return table


_LOOKUP = _build_lookup()


def instrument_for_program(program: int) -> Instrument:
    """The :class:`Instrument` for a GM program number (0-127)."""
    if not 0 <= int(program) <= 127:
        raise AudioStyleError(f"GM program {program} is out of range (0-127)")
    program = int(program)
    low, high = _RANGES.get(program, DEFAULT_RANGE)
    name = SHORT_NAMES.get(program, GM_SLUGS[program])
    return Instrument(name=name, program=program, gm_name=GM_NAMES[program], low=low, high=high)


def resolve_instrument(spec: str | int) -> Instrument:
    """Resolve a short name, a GM name (any case/spacing) or a program number to an Instrument.

    Raises:
        AudioStyleError: unknown name or program out of 0-127 (one line, with valid examples).
    """
    if isinstance(spec, int):
        return instrument_for_program(spec)
    text = str(spec).strip()
    if re.fullmatch(r"\d{1,3}", text):
        return instrument_for_program(int(text))
    program = _LOOKUP.get(slugify(text))
    if program is None:
        examples = ", ".join(["piano", "violin", "cello", "flute", "trumpet", "clarinet",
                              "string-ensemble-1"])
        raise AudioStyleError(
            f"unknown instrument {text!r}; use a General MIDI name or program number 0-127 "
            f"(e.g. {examples})"
        )
    return instrument_for_program(program)


def resolve_instruments(specs: str | list[str | int] | tuple) -> list[Instrument]:
    """Resolve a comma-separated string or a list; refuse duplicates and empty lists."""
    if isinstance(specs, str):
        specs = [s for s in (p.strip() for p in specs.split(",")) if s]
    resolved = [resolve_instrument(s) for s in specs]
    if not resolved:
        raise AudioStyleError("no instruments given")
    seen: set[str] = set()
    for inst in resolved:
        if inst.name in seen:
            raise AudioStyleError(f"instrument {inst.name!r} is listed twice")
        seen.add(inst.name)
    return resolved


def common_range(instruments: list[Instrument]) -> tuple[int, int]:
    """The pitch range every instrument can play, as (low, high) inclusive MIDI notes.

    Raises:
        AudioStyleError: when the shared range is smaller than an octave, so some pitch classes
            could not be placed by octave shifts.
    """
    low = max(i.low for i in instruments)
    high = min(i.high for i in instruments)
    if high - low < 11:
        names = ", ".join(f"{i.name} ({i.low}-{i.high})" for i in instruments)
        raise AudioStyleError(
            f"instruments {names} share less than an octave of pitch range; choose instruments "
            f"whose ranges overlap"
        )
    return low, high


def all_names() -> list[str]:
    """Every accepted name (aliases and GM slugs), sorted."""
    return sorted(_LOOKUP)
