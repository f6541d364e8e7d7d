"""Known answers for the class-mean gap (losses.erasure)."""

import pytest
import torch

from audiostyle.losses.erasure import class_mean_gap


def test_two_points_per_class_by_hand():
    # feature 0: class 0 at {0, 2} (mean 1, var 2), class 1 at {4, 6} (mean 5, var 2);
    # batch variance of {0, 2, 4, 6} is 5. Gap: (16 - 2/2 - 2/2) / 5 = 2.8.
    # feature 1 is the same in both classes: {1, 3} and {1, 3}, batch variance 1 -> (0 - 1 - 1) / 1 = -2.
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 1.0], [6.0, 3.0]])
    y = torch.tensor([0, 0, 1, 1])
    assert class_mean_gap(x, y, 2).item() == pytest.approx((2.8 - 2.0) / 2)


def test_unbiased_for_equal_means_and_large_for_a_shift():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(16) % 2
    same = [class_mean_gap(torch.randn(16, 32, generator=g), y, 2).item() for _ in range(400)]
    assert abs(sum(same) / len(same)) < 0.01  # each value is noisy; the expectation is 0
    shifted = torch.randn(16, 32, generator=g)
    shifted[y == 1, 0] += 4.0  # 4 within-class sds in one of 32 features
    # the batch sd of feature 0 is sqrt(1 + 4) = 2.24: a gap of 1.79 batch sds, 3.2 / 32 = 0.1
    assert class_mean_gap(shifted, y, 2).item() == pytest.approx(3.2 / 32, abs=0.05)


def test_invariant_to_feature_scale_and_averaged_over_class_pairs():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(24, 8, generator=g)
    y = torch.arange(24) % 3
    x[y == 2] += 1.5
    base = class_mean_gap(x, y, 3)
    assert class_mean_gap(x * torch.linspace(0.1, 10, 8), y, 3).item() == pytest.approx(base.item(), rel=1e-5)
    pairs = [class_mean_gap(x[(y == a) | (y == b)], y[(y == a) | (y == b)] , 3) for a, b in [(0, 1), (0, 2), (1, 2)]]
    # each pair's value uses that pair's batch variance; the three-class value uses all 24 rows
    assert base.item() > pairs[0].item()  # classes 0 and 1 share a mean, class 2 does not


def test_gradient_closes_the_gap_and_one_class_gives_zero():
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    x[y == 1] += 3.0
    x.requires_grad_(True)
    class_mean_gap(x, y, 2).backward()
    # descending the gradient moves class 1 down and class 0 up in every feature
    assert (x.grad[y == 1] > 0).all() and (x.grad[y == 0] < 0).all()
    only = torch.randn(5, 3, requires_grad=True)
    loss = class_mean_gap(only, torch.zeros(5, dtype=torch.long), 2)
    loss.backward()
    assert loss.item() == 0.0 and only.grad is not None


def test_shape_errors_are_named():
    with pytest.raises(ValueError, match=r"features must be \(B, F\)"):
        class_mean_gap(torch.zeros(4, 2, 3), torch.zeros(4, dtype=torch.long), 2)
