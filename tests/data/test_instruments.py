"""The GM instrument table: names, programs, ranges and errors."""

from __future__ import annotations

import pytest

from audiostyle.data.instruments import (
    DEFAULT_RANGE,
    GM_NAMES,
    all_names,
    common_range,
    instrument_for_program,
    resolve_instrument,
    resolve_instruments,
    slugify,
)
from audiostyle.errors import AudioStyleError


@pytest.mark.parametrize(
    "spec, program, name",
    [("piano", 0, "piano"), ("violin", 40, "violin"), ("cello", 42, "cello"), ("flute", 73, "flute"),
     ("trumpet", 56, "trumpet"), ("clarinet", 71, "clarinet"), ("guitar", 24, "guitar"),
     ("organ", 19, "organ"), ("viola", 41, "viola"), ("oboe", 68, "oboe"), ("saxophone", 65, "saxophone"),
     ("acoustic-grand-piano", 0, "piano"), ("Acoustic Grand Piano", 0, "piano"),
     ("string-ensemble-1", 48, "string-ensemble-1"), ("String Ensemble 1", 48, "string-ensemble-1"),
     ("Acoustic Guitar (nylon)", 24, "guitar"), ("alto_sax", 65, "saxophone"), ("40", 40, "violin"),
     (40, 40, "violin"), (" 0 ", 0, "piano"), ("VIOLIN", 40, "violin"), ("127", 127, "gunshot")],
)
def test_resolve_by_name_or_program(spec, program, name):
    inst = resolve_instrument(spec)
    assert (inst.program, inst.name) == (program, name)


def test_gm_table_matches_pretty_midi_and_round_trips():
    pretty_midi = pytest.importorskip("pretty_midi")
    assert len(GM_NAMES) == 128
    for program, gm in enumerate(pretty_midi.constants.INSTRUMENT_MAP):
        assert slugify(GM_NAMES[program]) == slugify(gm), program
    names = [instrument_for_program(p).name for p in range(128)]
    assert len(set(names)) == 128  # one folder name per program
    for p, name in enumerate(names):
        assert resolve_instrument(name).program == p
        assert resolve_instrument(slugify(GM_NAMES[p])).program == p
    assert "acoustic-grand-piano" in all_names() and "piano" in all_names()


def test_realistic_ranges():
    assert (resolve_instrument("violin").low, resolve_instrument("violin").high) == (55, 103)
    assert (resolve_instrument("piano").low, resolve_instrument("piano").high) == (21, 108)
    assert (resolve_instrument("cello").low, resolve_instrument("cello").high) == (36, 84)
    assert (resolve_instrument("flute").low, resolve_instrument("flute").high) == (60, 96)
    assert (resolve_instrument(80).low, resolve_instrument(80).high) == DEFAULT_RANGE  # synth lead
    for p in range(128):
        inst = instrument_for_program(p)
        assert 0 <= inst.low and inst.high <= 127 and inst.high - inst.low >= 11, inst


@pytest.mark.parametrize("spec", ["kazoo", "128", "-1", "", "violin2"])
def test_unknown_instrument_is_one_line_with_examples(spec):
    with pytest.raises(AudioStyleError) as info:
        resolve_instrument(spec)
    message = str(info.value)
    assert "\n" not in message
    assert "piano" in message or "0-127" in message


def test_resolve_list_and_common_range():
    insts = resolve_instruments("violin, cello")
    assert [i.name for i in insts] == ["violin", "cello"]
    assert common_range(insts) == (55, 84)
    assert common_range(resolve_instruments(["piano", 40])) == (55, 103)
    with pytest.raises(AudioStyleError, match="twice"):
        resolve_instruments("piano,0")
    with pytest.raises(AudioStyleError, match="octave"):
        common_range(resolve_instruments("piccolo,tuba"))
    with pytest.raises(AudioStyleError):
        resolve_instruments(" , ")
