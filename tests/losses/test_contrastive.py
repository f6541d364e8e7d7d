import math

import pytest
import torch

from audiostyle.losses.contrastive import class_prototypes, info_nce, info_nce_bounds, margin_loss


def _info_nce_by_hand(z, labels, tau):
    """Direct transcription of the SupCon L_out formula with Python loops."""
    zn = [[v / math.sqrt(sum(c * c for c in row)) for v in row] for row in z]
    b = len(z)
    cos = [[sum(a * c for a, c in zip(zn[i], zn[j])) for j in range(b)] for i in range(b)]
    terms = []
    for i in range(b):
        pos = [j for j in range(b) if j != i and labels[j] == labels[i]]
        if not pos:
            continue
        den = sum(math.exp(cos[i][a] / tau) for a in range(b) if a != i)
        terms.append(-sum(math.log(math.exp(cos[i][p] / tau) / den) for p in pos) / len(pos))
    return sum(terms) / len(terms)


def test_info_nce_closed_form_value():
    # Two classes of coincident orthogonal vectors, tau = 1: each anchor has one positive with
    # cosine 1 and two negatives with cosine 0, so L = -log(e / (e + 2)) = log(1 + 2/e).
    z = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    labels = torch.tensor([0, 0, 1, 1])
    assert info_nce(z, labels, temperature=1.0).item() == pytest.approx(math.log(1 + 2 / math.e), abs=1e-6)


def test_info_nce_matches_hand_computation():
    z = [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8]]
    labels = [0, 0, 1, 1]
    got = info_nce(torch.tensor(z), torch.tensor(labels), temperature=0.5).item()
    assert got == pytest.approx(_info_nce_by_hand(z, labels, 0.5), abs=1e-5)


def test_info_nce_skips_anchors_without_positive():
    z = [[1.0, 0.2], [0.7, 0.6], [-0.3, 1.0], [0.5, -1.0], [0.1, 0.1]]
    labels = [0, 0, 1, 1, 2]  # anchor 4 has no positive: left out, but still a negative
    got = info_nce(torch.tensor(z), torch.tensor(labels), temperature=0.1).item()
    assert got == pytest.approx(_info_nce_by_hand(z, labels, 0.1), rel=1e-5)


def test_info_nce_no_positive_at_all_is_zero_and_backpropagates():
    z = torch.randn(4, 8, requires_grad=True)
    loss = info_nce(z, torch.arange(4))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(z.grad).all()


def test_separated_classes_beat_mixed():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(4).repeat_interleave(8)
    centres = torch.randn(4, 16, generator=g) * 3
    separated = centres[labels] + 0.1 * torch.randn(32, 16, generator=g)
    mixed = torch.randn(32, 16, generator=g)
    assert info_nce(separated, labels) < info_nce(mixed, labels) - 0.5


def test_bounds_collapse_value_is_ln_b_minus_1():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    z = torch.ones(8, 5)  # every embedding identical
    floor, chance = info_nce_bounds(labels, temperature=0.1)
    assert chance == pytest.approx(math.log(7))
    assert info_nce(z, labels, 0.1).item() == pytest.approx(chance, abs=1e-5)
    assert floor < chance


def test_bounds_floor_is_value_of_simplex_collapse():
    k, n, tau = 3, 4, 0.5
    angles = torch.arange(k) * 2 * math.pi / k  # regular simplex of 3 unit vectors in the plane
    vertices = torch.stack([angles.cos(), angles.sin()], dim=1)
    labels = torch.arange(k).repeat_interleave(n)
    floor, _ = info_nce_bounds(labels, temperature=tau)
    expected = math.log((n - 1) + (k * n - n) * math.exp((-0.5 - 1) / tau))  # cos = -1/(K-1)
    assert floor == pytest.approx(expected)
    assert info_nce(vertices[labels], labels, tau).item() == pytest.approx(floor, abs=1e-5)


def test_floor_is_not_beaten_by_optimisation():
    torch.manual_seed(0)
    labels = torch.arange(3).repeat_interleave(4)
    z = torch.randn(12, 4, requires_grad=True)
    for _ in range(200):  # plain gradient descent (torch.optim's first use costs ~1.5 s of imports)
        loss = info_nce(z, labels, temperature=0.5)
        (grad,) = torch.autograd.grad(loss, z)
        with torch.no_grad():
            z -= 2.0 * grad
    floor, _ = info_nce_bounds(labels, temperature=0.5)
    assert loss.item() >= floor - 1e-4
    assert loss.item() == pytest.approx(floor, abs=1e-3)


def test_bounds_degenerate_cases():
    assert info_nce_bounds([0, 1, 2]) == (0.0, 0.0)
    floor, chance = info_nce_bounds([5, 5, 5, 5])  # one class: no negatives
    assert floor == pytest.approx(chance) == pytest.approx(math.log(3))


def test_info_nce_gradient_finite_for_zero_embeddings():
    z = torch.zeros(6, 4, requires_grad=True)
    info_nce(z, torch.tensor([0, 0, 1, 1, 2, 2])).backward()
    assert torch.isfinite(z.grad).all()


def test_margin_zero_for_far_prototypes():
    protos = torch.eye(4) * 5  # orthogonal: normalised distance sqrt(2) > 1
    assert margin_loss(protos, margin=1.0).item() == 0.0


def test_margin_hand_value_two_and_three_classes():
    c, s = math.cos(math.pi / 3), math.sin(math.pi / 3)
    # 60 degrees apart -> distance 2 sin(30 deg) = 1; the second vector's scale is irrelevant.
    two = torch.tensor([[1.0, 0.0], [3 * c, 3 * s]])
    assert margin_loss(two, margin=1.5).item() == pytest.approx(0.5, abs=1e-6)
    # third at 180 deg: distances 1 (0-1), 2 (0-2), sqrt(3) (1-2) -> only the first pair counts
    three = torch.tensor([[1.0, 0.0], [c, s], [-1.0, 0.0]])
    assert margin_loss(three, margin=1.5).item() == pytest.approx(0.5 / 3, abs=1e-6)
    assert margin_loss(three, margin=1.8).item() == pytest.approx((0.8 + 0.0 + (1.8 - math.sqrt(3))) / 3, abs=1e-6)


def test_margin_single_prototype_and_present_mask():
    p = torch.randn(1, 8, requires_grad=True)
    loss = margin_loss(p)
    assert loss.item() == 0.0
    loss.backward()
    three = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.01]])
    assert margin_loss(three, present=torch.tensor([True, True, False])).item() == 0.0
    assert margin_loss(three).item() > 0.0


def test_margin_identical_prototypes_finite_gradient():
    p = torch.ones(3, 4, requires_grad=True)
    loss = margin_loss(p, margin=1.0)
    assert loss.item() == pytest.approx(1.0)
    loss.backward()
    assert torch.isfinite(p.grad).all()


def test_class_prototypes_means_presence_and_gradient():
    z = torch.tensor([[1.0, 2.0], [3.0, 4.0], [10.0, 0.0]], requires_grad=True)
    protos, present = class_prototypes(z, torch.tensor([0, 0, 2]), num_classes=4)
    assert torch.allclose(protos, torch.tensor([[2.0, 3.0], [0.0, 0.0], [10.0, 0.0], [0.0, 0.0]]))
    assert present.tolist() == [True, False, True, False]
    protos.sum().backward()
    assert torch.allclose(z.grad, torch.tensor([[0.5, 0.5], [0.5, 0.5], [1.0, 1.0]]))


def test_class_prototypes_rejects_bad_labels():
    with pytest.raises(ValueError):
        class_prototypes(torch.zeros(2, 3), torch.tensor([0, 3]), num_classes=3)
    with pytest.raises(ValueError):
        info_nce(torch.zeros(2, 3), torch.tensor([0, 1, 1]))
