"""Known answers for the class-mean gap and its running form (losses.erasure)."""

import pytest
import torch

from audiostyle.losses.erasure import RunningClassMeans, class_mean_gap, running_class_mean_gap


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


def test_running_means_start_at_the_first_batch_then_blend_by_momentum():
    r = RunningClassMeans(3, 2, momentum=0.75)
    x1 = torch.tensor([[0.0, 0.0], [2.0, 4.0], [8.0, 8.0]])
    present = r.update(x1, torch.tensor([0, 0, 1]))
    assert present.tolist() == [True, True, False]
    torch.testing.assert_close(r.means[:2], torch.tensor([[1.0, 2.0], [8.0, 8.0]]))
    assert r.seen.tolist() == [True, True, False] and float(r.means[2].abs().sum()) == 0
    torch.testing.assert_close(r.variance, x1.var(dim=0, unbiased=False))
    x2 = torch.tensor([[5.0, 6.0], [4.0, 4.0]])
    r.update(x2, torch.tensor([0, 2]))
    # class 0: 0.75 * (1, 2) + 0.25 * (5, 6); class 2 seen first here: its batch mean
    torch.testing.assert_close(r.means, torch.tensor([[2.0, 3.0], [8.0, 8.0], [4.0, 4.0]]))
    torch.testing.assert_close(r.variance, 0.75 * x1.var(dim=0, unbiased=False) + 0.25 * x2.var(dim=0, unbiased=False))


def test_running_means_ignore_a_non_finite_batch_and_refuse_a_bad_momentum():
    r = RunningClassMeans(2, 2, momentum=0.5)
    r.update(torch.ones(2, 2), torch.tensor([0, 1]))
    before = {k: v.clone() for k, v in r.state_dict().items()}
    present = r.update(torch.tensor([[float("nan"), 0.0], [0.0, 0.0]]), torch.tensor([0, 1]))
    assert not bool(present.any())
    assert all(torch.equal(before[k], v) for k, v in r.state_dict().items())
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="momentum"):
            RunningClassMeans(2, 2, momentum=bad)


def test_running_gap_by_hand():
    r = RunningClassMeans(2, 2, momentum=0.5)
    r.update(torch.tensor([[0.0, 0.0], [0.0, 0.0], [2.0, 2.0], [2.0, 2.0]]), torch.tensor([0, 0, 1, 1]))
    # running means (0, 0) and (2, 2), running variance (1, 1)
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 4.0], [2.0, 4.0]], requires_grad=True)
    loss, gap = running_class_mean_gap(x, torch.tensor([0, 0, 1, 1]), r)
    # batch means (2, 0) and (2, 4), batch variance (0.5, 4): running means (1, 0) and (2, 3),
    # running variance (0.75, 2.5); g = (-1, -3); batch gap (0, -4)
    assert gap.item() == pytest.approx((1 / 0.75 + 9 / 2.5) / 2)
    assert loss.item() == pytest.approx(((0.0 - 1.0) / 0.75 + (24.0 - 9.0) / 2.5) / 2)
    loss.backward()
    # d loss / d x of a class-0 row: 2 g / s^2 / (2 features) / (2 rows)
    torch.testing.assert_close(x.grad[0], torch.tensor([-1 / 0.75, -3 / 2.5]) / 2)
    torch.testing.assert_close(x.grad[2], -x.grad[0])


def test_running_gap_points_along_a_gap_under_the_batch_noise():
    # A true gap of 0.25 sd in each of 8 features, 8 rows a class: one batch's gap is mostly
    # noise, the running one (momentum 0.95) points along the true gap.
    g = torch.Generator().manual_seed(2)
    y = torch.arange(16) % 2
    true_gap = torch.full((8,), 0.25)
    r = RunningClassMeans(2, 8, momentum=0.95)
    batch_cos, running_cos = [], []
    for step in range(200):
        x = torch.randn(16, 8, generator=g) + y[:, None] * true_gap
        x.requires_grad_(True)
        loss, _gap = running_class_mean_gap(x, y, r)
        loss.backward()
        direction = x.grad[y == 1].sum(dim=0)  # the push on class 1's mean
        batch = x.detach()[y == 1].mean(dim=0) - x.detach()[y == 0].mean(dim=0)
        if step >= 50:
            running_cos.append(torch.cosine_similarity(direction, true_gap, dim=0).item())
            batch_cos.append(torch.cosine_similarity(batch, true_gap, dim=0).item())
    assert sum(running_cos) / len(running_cos) > 0.9 > 0.7 > sum(batch_cos) / len(batch_cos)
