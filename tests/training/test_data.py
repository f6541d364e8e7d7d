"""Training batches: piano rolls line up with the crops they label; data without notes is refused."""

import shutil

import numpy as np
import pytest

from audiostyle.data.layout import Corpus
from audiostyle.data.pianoroll import NOTE_LOW
from audiostyle.errors import AudioStyleError
from audiostyle.features.spectral import SpectralConfig
from audiostyle.features.store import FeatureStore
from audiostyle.training.data import CropSampler

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


def test_without_notes_batches_carry_none(tiny_data):
    assert _sampler(tiny_data).sample(4, np.random.default_rng(0)).notes is None


def test_data_without_note_lists_is_refused_by_name(tiny_data, tmp_path):
    data = tmp_path / "no-notes"
    shutil.copytree(tiny_data, data, ignore=shutil.ignore_patterns("cache"))
    shutil.rmtree(data / "train" / "notes")
    with pytest.raises(AudioStyleError, match="no-notes.*notes file.*train"):
        _sampler(data, notes=(FPT, SPECTRAL.hop / SPECTRAL.sr))
