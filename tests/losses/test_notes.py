"""Known answers for the note-activation loss and its F1."""

import math

import pytest
import torch

from audiostyle.losses.notes import note_activation_loss, note_f1


def test_loss_is_binary_cross_entropy_summed_over_pitches():
    roll = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # (B=1, S=2, P=3)
    zero = torch.zeros(1, 2, 3)
    # every logit 0: each of the 3 pitches costs log 2, every token the same
    assert float(note_activation_loss(zero, roll)) == pytest.approx(3 * math.log(2), rel=1e-6)
    logits = torch.tensor([[[2.0, -1.0, 0.0], [0.0, 0.0, 0.0]]])
    sp = lambda v: math.log1p(math.exp(v))  # softplus: BCE of logit v against 0 is sp(v), against 1 is sp(-v)
    first = sp(-2.0) + sp(-1.0) + sp(0.0)
    assert float(note_activation_loss(logits, roll)) == pytest.approx((first + 3 * math.log(2)) / 2, rel=1e-6)
    confident = (roll * 2 - 1) * 30
    assert float(note_activation_loss(confident, roll)) < 1e-9


def test_loss_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        note_activation_loss(torch.zeros(1, 2, 3), torch.zeros(1, 3, 3))


def test_clip_mask_averages_over_the_selected_clips_tokens_only():
    roll = torch.zeros(2, 2, 3)
    roll[1, 0, 0] = 1.0
    logits = torch.zeros(2, 2, 3)
    logits[0] = 5.0  # clip 0 badly wrong; masked out, it must not count
    keep = torch.tensor([False, True])
    assert float(note_activation_loss(logits, roll, keep)) == pytest.approx(3 * math.log(2), rel=1e-6)
    assert float(note_activation_loss(logits, roll, torch.tensor([True, True]))) == pytest.approx(
        float(note_activation_loss(logits, roll)), rel=1e-6)
    # nothing selected: an exact zero that still backpropagates (zero gradient)
    leaf = logits.clone().requires_grad_(True)
    none = note_activation_loss(leaf, roll, torch.tensor([False, False]))
    none.backward()
    assert float(none.detach()) == 0.0 and float(leaf.grad.abs().sum()) == 0.0
    with pytest.raises(ValueError, match="clip mask"):
        note_activation_loss(logits, roll, torch.tensor([True]))


def test_f1_counts_hits_and_treats_shared_silence_as_correct():
    roll = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    assert float(note_f1(torch.tensor([[1.0, -1.0, 1.0, -1.0]]), roll)) == pytest.approx(0.5)  # tp 1, 2 predicted, 2 true
    assert float(note_f1(torch.tensor([[1.0, 1.0, -1.0, -1.0]]), roll)) == 1.0
    assert float(note_f1(-torch.ones(1, 4), roll)) == 0.0
    assert float(note_f1(-torch.ones(1, 4), torch.zeros(1, 4))) == 1.0
