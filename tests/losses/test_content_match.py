"""Known answers for the paired content gap (losses.content_match)."""

import pytest
import torch

from audiostyle.losses.content_match import paired_content_gap


def test_by_hand():
    # one channel, tokens a = {0, 2}, b = {2, 2}: squared differences {4, 0}, mean 2;
    # variance of {0, 2, 2, 2} = mean 1.5, E[x^2] = 3, var 3 - 2.25 = 0.75 -> 2 / 0.75
    a = torch.tensor([[[0.0], [2.0]]])
    b = torch.tensor([[[2.0], [2.0]]])
    assert paired_content_gap(a, b).item() == pytest.approx(2.0 / 0.75)


def test_zero_for_equal_and_two_for_independent():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, 50, 16, generator=g)
    assert paired_content_gap(a, a.clone()).item() == 0.0
    b = torch.randn(8, 50, 16, generator=g)
    assert paired_content_gap(a, b).item() == pytest.approx(2.0, abs=0.05)


def test_invariant_to_a_common_scale_and_shift():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(4, 20, 8, generator=g)
    b = a + 0.3 * torch.randn(4, 20, 8, generator=g)
    base = paired_content_gap(a, b).item()
    assert 0.05 < base < 0.15  # 0.09 / ~1.05
    assert paired_content_gap(5 * a + 3, 5 * b + 3).item() == pytest.approx(base, rel=1e-5)


def test_gradient_pulls_the_pair_together():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(2, 10, 4, generator=g, requires_grad=True)
    b = torch.randn(2, 10, 4, generator=g, requires_grad=True)
    paired_content_gap(a, b).backward()
    with torch.no_grad():
        a2, b2 = a - 0.1 * a.grad, b - 0.1 * b.grad
    assert paired_content_gap(a2, b2).item() < paired_content_gap(a, b).item()
    assert torch.allclose(a.grad, -b.grad)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"\(B, S, D\)"):
        paired_content_gap(torch.zeros(2, 3, 4), torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"\(B, S, D\)"):
        paired_content_gap(torch.zeros(2, 4), torch.zeros(2, 4))
