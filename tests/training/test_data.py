"""Training batches: piano rolls line up with the crops they label; data without notes is refused;
clips are drawn in proportion to their source's weight."""

import json
import shutil

import numpy as np
import pytest

from audiostyle.data.layout import Corpus
from audiostyle.data.pianoroll import NOTE_LOW
from audiostyle.data.subharmonics import SubharmonicCut
from audiostyle.errors import AudioStyleError, ConfigError
from audiostyle.features.spectral import SpectralConfig
from audiostyle.features.store import FeatureStore
from audiostyle.training.data import CropSampler
from audiostyle.training.loop import TRAIN_DEFAULTS, source_weights, subharmonic_cut

FPT = 4
CROP = 64
SPECTRAL = SpectralConfig()


def _sampler(data, **kw) -> CropSampler:
    store = FeatureStore(data, SPECTRAL, 0.3)
    return CropSampler(Corpus(data), store, "train", ["piano", "violin"], CROP, **kw)


def _cqt_contrast(x: np.ndarray, roll: np.ndarray) -> float:
    """Mean CQT magnitude at labelled (token, pitch) cells over the mean at unlabelled ones."""
    q = np.hypot(x[:, 0], x[:, 1])[:, :, -SPECTRAL.cqt_bins :]  # (B, T, 84), bin b is MIDI 24 + b
    q = q.reshape(q.shape[0], -1, FPT, q.shape[-1]).mean(axis=2)  # (B, S, 84)
    lo = NOTE_LOW - 24
    q = q[:, :, lo : lo + roll.shape[-1]]
    p = roll[..., : q.shape[-1]].astype(bool)
    return float(q[p].mean() / q[~p].mean())


def test_rolls_line_up_with_the_sound_of_their_crops(tiny_data):
    sampler = _sampler(tiny_data, notes=(FPT, SPECTRAL.hop / SPECTRAL.sr))
    batch = sampler.sample(8, np.random.default_rng(0))
    assert batch.notes.shape == (8, CROP // FPT, 73)
    assert set(np.unique(batch.notes.numpy())) <= {0.0, 1.0} and float(batch.notes.sum()) > 0
    aligned = _cqt_contrast(batch.x.numpy(), batch.notes.numpy())
    assert aligned > 1.5  # sounding pitches are far louder in the CQT than the rest
    # the same rolls shifted by half a crop in time no longer match the sound as well
    shifted = np.roll(batch.notes.numpy(), CROP // FPT // 2, axis=1)
    assert _cqt_contrast(batch.x.numpy(), shifted) < aligned - 0.2


def test_onsets_mark_each_crop_notes_starts(tiny_data):
    from audiostyle.data.pianoroll import token_onsets

    rate = (FPT, SPECTRAL.hop / SPECTRAL.sr)
    with pytest.raises(ValueError, match="onsets"):
        _sampler(tiny_data, onsets=True)
    sampler = _sampler(tiny_data, notes=rate, onsets=True)
    rng = np.random.default_rng(0)
    batch = sampler.sample(8, rng)
    assert batch.onsets.shape == batch.notes.shape and float(batch.onsets.sum()) > 0
    # a start lies in the token whose centre its note sounds at, or in the one before it (a
    # note starting after a token's centre first sounds at the next one's)
    notes, onsets = batch.notes.numpy(), batch.onsets.numpy()
    heard = np.maximum(notes, np.concatenate([notes[:, 1:], np.zeros_like(notes[:, :1])], axis=1))
    assert float((onsets * (1 - heard)).sum()) == 0
    # not the notes shifted: most sounding tokens hold no start
    assert float(onsets.sum()) < 0.5 * float(notes.sum())
    # the same draw again: crops and their starts follow the sampler's random stream
    again = sampler.sample(8, np.random.default_rng(0))
    assert np.array_equal(again.onsets.numpy(), onsets)
    assert _sampler(tiny_data, notes=rate).sample(4, np.random.default_rng(0)).onsets is None
    assert token_onsets([], 4, FPT, rate[1]).sum() == 0


def test_without_notes_batches_carry_none(tiny_data):
    assert _sampler(tiny_data).sample(4, np.random.default_rng(0)).notes is None


def test_data_without_note_lists_is_refused_by_name(tiny_data, tmp_path):
    data = tmp_path / "no-notes"
    shutil.copytree(tiny_data, data, ignore=shutil.ignore_patterns("cache"))
    shutil.rmtree(data / "train" / "notes")
    with pytest.raises(AudioStyleError, match="no-notes.*notes file.*train"):
        _sampler(data, notes=(FPT, SPECTRAL.hop / SPECTRAL.sr))


def test_sub_octave_cut_scales_exactly_the_bins_its_gain_names(tiny_data):
    plain, cut = _sampler(tiny_data), _sampler(tiny_data, subharmonic_cut=SubharmonicCut(30.0, min_hz=300.0))
    changed = 0
    for inst in ("piano", "violin"):
        for cid in plain.clips[inst]:
            feats = plain.features(inst, cid)
            a, b = plain.crop(feats, cid, 0), cut.crop(feats, cid, 0)
            gain = cut._gains[cid][None, :CROP]
            assert np.allclose(b, a * gain)  # compressed features: a linear gain g is g ** 0.3
            values = np.unique(gain)
            assert np.isclose(values[:, None], [1.0, 10 ** (-30 * 0.3 / 20)], rtol=1e-5).any(axis=1).all()
            changed += int((gain < 1).any())
    assert changed > 0  # the tiny corpus has notes above 300 Hz
    # batches and prototypes read through the same crops
    batch = cut.sample(4, np.random.default_rng(0))
    assert batch.x.shape == (4, 2, CROP, SPECTRAL.n_bins)


def test_sub_octave_cut_needs_note_lists(tiny_data, tmp_path):
    data = tmp_path / "no-notes"
    shutil.copytree(tiny_data, data, ignore=shutil.ignore_patterns("cache"))
    shutil.rmtree(data / "train" / "notes")
    with pytest.raises(AudioStyleError, match="no-notes.*sub-octave cut.*notes file"):
        _sampler(data, subharmonic_cut=SubharmonicCut(30.0))


def test_sub_octave_cut_settings_are_checked_by_name():
    assert subharmonic_cut(dict(TRAIN_DEFAULTS)) is None  # off by default
    on = subharmonic_cut({**TRAIN_DEFAULTS, "subharmonic_cut_db": 30.0})
    assert on == SubharmonicCut(30.0, 700.0)
    with pytest.raises(ConfigError, match="train.subharmonic_cut_db"):
        subharmonic_cut({**TRAIN_DEFAULTS, "subharmonic_cut_db": -1.0})
    with pytest.raises(ConfigError, match="train.subharmonic_min_hz"):
        subharmonic_cut({**TRAIN_DEFAULTS, "subharmonic_cut_db": 30.0, "subharmonic_min_hz": 0.0})
    assert subharmonic_cut({**TRAIN_DEFAULTS, "subharmonic_cut_db": 30.0, "subharmonic_orders": 1}).orders == 1
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(ConfigError, match="train.subharmonic_orders"):
            subharmonic_cut({**TRAIN_DEFAULTS, "subharmonic_cut_db": 30.0, "subharmonic_orders": bad})


def test_source_weights_draw_clips_by_kind(tiny_data):
    kinds = Corpus(tiny_data).source_kinds("train")
    assert set(kinds.values()) == {"chorale", "fiddle"}  # the tiny set holds both kinds
    rng = np.random.default_rng(0)
    only_chorales = _sampler(tiny_data, source_weights={"fiddle": 0.0})
    for inst in ("piano", "violin"):
        assert {kinds[c] for c in only_chorales.draw_clips(inst, 200, rng)} == {"chorale"}
    assert only_chorales.sample(4, rng).x.shape == (4, 2, CROP, SPECTRAL.n_bins)
    weighted, plain = _sampler(tiny_data, source_weights={"chorale": 3.0}), _sampler(tiny_data)
    for inst, ids in plain.clips.items():
        n_chorale = sum(kinds[c] == "chorale" for c in ids)
        expected = 3 * n_chorale / (3 * n_chorale + len(ids) - n_chorale)  # 9 / 14 on 3 of 8
        for sampler, share in ((weighted, expected), (plain, n_chorale / len(ids))):
            drawn = sampler.draw_clips(inst, 4000, rng)
            assert abs(np.mean([kinds[c] == "chorale" for c in drawn]) - share) < 0.03


def test_source_weights_need_the_manifest_clip_list(tiny_data, tmp_path):
    data = tmp_path / "no-kinds"
    shutil.copytree(tiny_data, data, ignore=shutil.ignore_patterns("cache"))
    manifest = json.loads((data / "manifest.json").read_text())
    manifest.pop("clips")
    (data / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(AudioStyleError, match="no-kinds.*source_weights.*source kind"):
        _sampler(data, source_weights={"chorale": 3.0})
    with pytest.raises(AudioStyleError, match="source_weights.*no 'piano' clip"):
        _sampler(tiny_data, source_weights={"chorale": 0.0, "fiddle": 0.0})
    with pytest.raises(AudioStyleError, match=r"source_weights names \['chorales'\].*chorale"):
        _sampler(tiny_data, source_weights={"chorales": 3.0})  # a misspelt kind


def test_source_weight_settings_are_checked_by_name():
    assert source_weights(dict(TRAIN_DEFAULTS)) is None  # off by default
    assert source_weights({**TRAIN_DEFAULTS, "source_weights": {"chorale": 3}}) == {"chorale": 3.0}
    for bad in ([3.0], {"chorale": -1.0}, {"chorale": "3"}, {"chorale": True}, {"chorale": float("nan")}):
        with pytest.raises(ConfigError, match="train.source_weights"):
            source_weights({**TRAIN_DEFAULTS, "source_weights": bad})
