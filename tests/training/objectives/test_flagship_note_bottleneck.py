"""The flagship objective with the note bottleneck (model.content_bottleneck: notes): the note
term trains sounding and starting pitches together, reconstruction reaches the content encoder
through the decisions, and set-ups that cannot train it are refused."""

import pytest
import torch

from audiostyle.data.pianoroll import NOTE_PITCHES
from audiostyle.losses.notes import note_activation_loss
from audiostyle.models.registry import build_model
from audiostyle.training.objectives.flagship import FlagshipObjective
from tests.training.objectives.conftest import TINY, random_batch


def _objective(**objective_cfg) -> FlagshipObjective:
    torch.manual_seed(0)
    model = build_model({**TINY, "note_head": True, "content_bottleneck": "notes"}).eval()
    return FlagshipObjective(model, {"token_dropout": 0.0, "full_mask": 0.0, **objective_cfg})


def _batch(labels, onsets=True):
    batch = random_batch(labels)
    g = torch.Generator().manual_seed(2)
    shape = (len(labels), batch.x.shape[2] // 4, NOTE_PITCHES)
    batch.notes = (torch.rand(shape, generator=g) < 0.05).float()
    if onsets:
        batch.onsets = (torch.rand(shape, generator=g) < 0.02).float()
    return batch


def test_note_term_covers_sounding_and_starting_pitches():
    obj = _objective(weights={"notes": 0.5})
    assert obj.needs_notes and obj.needs_onsets
    batch = _batch([0, 1, 0, 1])
    torch.manual_seed(3)
    out = obj.generator_losses(batch, 0, 100)
    m = obj.model
    _, logits = m.encode_content_notes(m.norm.standardize(batch.x))
    expected = note_activation_loss(logits, torch.cat([batch.notes, batch.onsets], dim=-1))
    torch.testing.assert_close(out["notes"], expected)
    assert 0 <= float(out["notes_f1"]) <= 1 and 0 <= float(out["onsets_f1"]) <= 1


def test_reconstruction_alone_trains_the_content_encoder_through_the_decisions():
    obj = _objective(weights={"notes": 0.5})
    torch.manual_seed(3)
    out = obj.generator_losses(_batch([0, 1, 0, 1]), 0, 100)
    out["recon/magnitude"].backward()
    m = obj.model
    assert float(m.from_notes.bias.grad.abs().sum()) > 0
    assert float(m.content_encoder.out.weight.grad.abs().sum()) > 0


def test_refused_without_the_note_term_or_without_onsets():
    with pytest.raises(ValueError, match="weights.notes"):
        _objective()
    with pytest.raises(ValueError, match="onsets"):
        _objective(weights={"notes": 0.5}).generator_losses(_batch([0, 1], onsets=False), 0, 100)
