import math

import pytest
import torch

from audiostyle.losses.adversarial import (
    discriminator_accuracy, discriminator_loss, generator_ce_loss, generator_entropy_loss, max_entropy,
)


def test_max_entropy():
    assert max_entropy(4) == pytest.approx(math.log(4))
    assert max_entropy(1) == 0.0
    with pytest.raises(ValueError):
        max_entropy(0)


@pytest.mark.parametrize("k", [2, 5, 12])
def test_uniform_logits_hit_the_bounds(k):
    logits = torch.full((7, k), 3.2)
    assert generator_entropy_loss(logits).item() == pytest.approx(-math.log(k), abs=1e-6)
    assert generator_ce_loss(logits).item() == pytest.approx(math.log(k), abs=1e-6)
    assert discriminator_loss(logits, torch.zeros(7, dtype=torch.long)).item() == pytest.approx(math.log(k), abs=1e-6)


def test_hand_values():
    # p = (1/4, 1/2, 1/4)
    logits = torch.log(torch.tensor([[1.0, 2.0, 1.0]]))
    entropy = -(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5))
    assert generator_entropy_loss(logits).item() == pytest.approx(-entropy, abs=1e-6)
    assert generator_ce_loss(logits).item() == pytest.approx(-(2 * math.log(0.25) + math.log(0.5)) / 3, abs=1e-6)
    # CE of logits (2, 0, 0) on class 0: -log(e^2 / (e^2 + 2)) = log(1 + 2 e^-2)
    ce = discriminator_loss(torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0])).item()
    assert ce == pytest.approx(math.log(1 + 2 * math.exp(-2)), abs=1e-6)


def test_bounds_hold_for_random_logits():
    logits = torch.randn(50, 6, generator=torch.Generator().manual_seed(0)) * 4
    assert generator_entropy_loss(logits).item() > -math.log(6)
    assert generator_ce_loss(logits).item() > math.log(6)
    confident = torch.tensor([[50.0, 0.0, 0.0]])
    assert generator_entropy_loss(confident).item() == pytest.approx(0.0, abs=1e-6)


def test_uniform_is_stationary_and_gradient_moves_towards_it():
    uniform = torch.zeros(3, 4, requires_grad=True)
    generator_entropy_loss(uniform).backward()
    assert torch.allclose(uniform.grad, torch.zeros_like(uniform.grad), atol=1e-7)
    for fn in (generator_entropy_loss, generator_ce_loss):
        logits = torch.tensor([[3.0, 0.0, -1.0]], requires_grad=True)
        fn(logits).backward()
        stepped = (logits - 0.1 * logits.grad).detach()
        assert generator_entropy_loss(stepped) < generator_entropy_loss(logits.detach())


def test_per_frame_logits_broadcast_labels():
    g = torch.Generator().manual_seed(1)
    logits, labels = torch.randn(2, 5, 3, generator=g), torch.tensor([0, 2])
    flat_labels = labels.repeat_interleave(5)
    assert discriminator_loss(logits, labels).item() == pytest.approx(
        discriminator_loss(logits.reshape(10, 3), flat_labels).item())
    assert discriminator_accuracy(logits, labels) == pytest.approx(
        discriminator_accuracy(logits.reshape(10, 3), flat_labels))
    assert generator_entropy_loss(logits).item() == pytest.approx(generator_entropy_loss(logits.reshape(10, 3)).item())
    with pytest.raises(ValueError):
        discriminator_loss(logits, torch.tensor([0, 1, 2]))


def test_accuracy_and_extreme_logits_finite():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0], [5.0, 0.0], [1e4, -1e4]], requires_grad=True)
    assert discriminator_accuracy(logits, torch.tensor([0, 0, 0, 0])) == pytest.approx(0.75)
    (generator_entropy_loss(logits) + generator_ce_loss(logits)).backward()
    assert torch.isfinite(logits.grad).all()
