"""The flagship objective's note term: off by default; on, it trains the note head and the
content encoder from the batch's piano rolls, and it refuses set-ups that cannot work."""

import pytest
import torch

from audiostyle.data.pianoroll import NOTE_PITCHES
from audiostyle.losses.notes import note_activation_loss
from audiostyle.models.registry import build_model
from audiostyle.training.objectives.flagship import FlagshipObjective
from tests.training.objectives.conftest import TINY, random_batch


def _objective(note_head: bool, **objective_cfg) -> FlagshipObjective:
    torch.manual_seed(0)
    model = build_model({**TINY, "note_head": note_head}).eval()
    return FlagshipObjective(model, {"token_dropout": 0.0, "full_mask": 0.0, **objective_cfg})


def _batch_with_notes(labels):
    batch = random_batch(labels)
    g = torch.Generator().manual_seed(2)
    batch.notes = (torch.rand(len(labels), batch.x.shape[2] // 4, NOTE_PITCHES, generator=g) < 0.05).float()
    return batch


def test_off_by_default_no_term_and_no_notes_needed():
    obj = _objective(note_head=True)
    assert not obj.needs_notes
    out = obj.generator_losses(random_batch([0, 1]), 0, 100)
    assert "notes" not in out


def test_on_the_term_is_weighted_into_the_total_and_trains_head_and_content_encoder():
    batch = _batch_with_notes([0, 1, 0, 1])
    off = _objective(note_head=True)
    on = _objective(note_head=True, weights={"notes": 0.5})
    assert on.needs_notes
    torch.manual_seed(3)
    base = off.generator_losses(batch, 0, 100)
    torch.manual_seed(3)
    out = on.generator_losses(batch, 0, 100)
    assert float(out["notes"].detach()) > 0 and 0 <= float(out["notes_f1"]) <= 1
    torch.testing.assert_close(out["total"], base["total"] + 0.5 * out["notes"])
    out["total"].backward()
    m = on.model
    assert m.note_head.weight.grad is not None and float(m.note_head.weight.grad.abs().sum()) > 0
    assert float(m.content_encoder.out.weight.grad.abs().sum()) > 0
    # the note term alone reaches the content encoder, not the style encoder or the decoder
    m.zero_grad(set_to_none=True)
    torch.manual_seed(3)
    on.generator_losses(batch, 0, 100)["notes"].backward()
    assert m.content_encoder.out.weight.grad is not None
    assert m.style_encoder.out.weight.grad is None and all(p.grad is None for p in m.decoder.parameters())


def test_refused_without_a_note_head_without_rolls_or_with_a_negative_weight():
    with pytest.raises(ValueError, match="note_head"):
        _objective(note_head=False, weights={"notes": 0.1})
    with pytest.raises(ValueError, match="weights.notes"):
        _objective(note_head=True, weights={"notes": -0.1})
    with pytest.raises(ValueError, match="piano rolls"):
        _objective(note_head=True, weights={"notes": 0.1}).generator_losses(random_batch([0, 1]), 0, 100)


def test_notes_instruments_limits_the_term_to_those_clips():
    batch = _batch_with_notes([0, 1, 0, 1])
    piano = _objective(note_head=True, weights={"notes": 0.5}, notes_instruments=["piano"])
    torch.manual_seed(3)
    out = piano.generator_losses(batch, 0, 100)
    with torch.no_grad():
        m = piano.model
        torch.manual_seed(3)
        z_content = m.encode_content(m.norm.standardize(batch.x))
        expected = note_activation_loss(m.note_logits(z_content[[0, 2]]), batch.notes[[0, 2]])
    torch.testing.assert_close(out["notes"].detach(), expected)
    # a violin-only batch: the term is zero and gives the content encoder no gradient
    violin = _batch_with_notes([1, 1])
    piano.model.zero_grad(set_to_none=True)
    torch.manual_seed(3)
    out = piano.generator_losses(violin, 0, 100)
    term = out["notes"]
    term.backward()
    assert float(term.detach()) == 0.0
    assert "notes_f1" not in out  # nothing to score: no F1 logged, rather than a perfect 1.0
    grad = piano.model.content_encoder.out.weight.grad
    assert grad is None or float(grad.abs().sum()) == 0.0


def test_notes_instruments_must_name_known_instruments():
    for bad in (["cello"], [], "piano"):
        with pytest.raises(ValueError, match="notes_instruments"):
            _objective(note_head=True, weights={"notes": 0.1}, notes_instruments=bad)
