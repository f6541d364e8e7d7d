import math

import numpy as np
import pytest
import torch

from audiostyle.losses.hsic import hsic, hsic_style_content, normalized_hsic


def _hsic_numpy(x, y, sx, sy):
    """Reference: the matrix formula tr(K H L H) / (B-1)^2 written out with numpy."""
    b = len(x)
    dx = ((x[:, None] - x[None]) ** 2).sum(-1)
    dy = ((y[:, None] - y[None]) ** 2).sum(-1)
    k, l = np.exp(-dx / (2 * sx**2)), np.exp(-dy / (2 * sy**2))
    h = np.eye(b) - np.ones((b, b)) / b
    return np.trace(k @ h @ l @ h) / (b - 1) ** 2


def _independent_and_dependent(b, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 3, generator=g)
    y_ind = torch.randn(b, 2, generator=g)
    y_dep = torch.cat([torch.sin(3 * x[:, :1]) + x[:, 1:2] ** 2, x[:, 2:3]], dim=1)
    return x, y_ind, y_dep


def test_two_point_closed_form():
    # B = 2, unit distance in both, sigma = 1 (also the median heuristic's choice):
    # centred kernels are (1 - a)/2 [[1, -1], [-1, 1]] with a = exp(-1/2), so HSIC = (1 - a)^2.
    x = torch.tensor([[0.0], [1.0]])
    expected = (1 - math.exp(-0.5)) ** 2
    assert hsic(x, x, 1.0, 1.0).item() == pytest.approx(expected, rel=1e-6)
    assert hsic(x, x).item() == pytest.approx(expected, rel=1e-6)


def test_matches_matrix_formula():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randn(7, 2, generator=g, dtype=torch.float64)
    got = hsic(x, y, sigma_x=1.3, sigma_y=0.7).item()
    assert got == pytest.approx(_hsic_numpy(x.numpy(), y.numpy(), 1.3, 0.7), rel=1e-9)


def test_median_heuristic_bandwidth():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(9, 4, generator=g, dtype=torch.float64), torch.randn(9, 2, generator=g, dtype=torch.float64)
    iu = np.triu_indices(9, 1)
    med = lambda a: np.median(np.sqrt(((a[:, None] - a[None]) ** 2).sum(-1))[iu])  # noqa: E731
    expected = _hsic_numpy(x.numpy(), y.numpy(), med(x.numpy()), med(y.numpy()))
    assert hsic(x, y).item() == pytest.approx(expected, rel=1e-9)


def test_independent_near_zero_dependent_clearly_larger():
    x, y_ind, y_dep = _independent_and_dependent(400)
    assert normalized_hsic(x, y_ind).item() < 0.02
    assert normalized_hsic(x, y_dep).item() > 0.2
    assert hsic(x, y_dep).item() > 10 * hsic(x, y_ind).item()


def test_permutation_invariance_and_shuffle_drop():
    x, _, y = _independent_and_dependent(200, seed=3)
    perm = torch.randperm(200, generator=torch.Generator().manual_seed(4))
    base = hsic(x, y).item()
    assert hsic(x[perm], y[perm]).item() == pytest.approx(base, rel=1e-4)
    assert hsic(x, y[perm]).item() < 0.2 * base
    assert normalized_hsic(x, y[perm]).item() < 0.2 * normalized_hsic(x, y).item()


def test_normalized_range_self_and_constant():
    x, _, _ = _independent_and_dependent(50, seed=5)
    assert normalized_hsic(x, x).item() == pytest.approx(1.0, abs=1e-5)
    const = torch.ones(50, 2, requires_grad=True)
    val = normalized_hsic(x, const)
    assert val.item() == pytest.approx(0.0, abs=1e-6)
    val.backward()
    assert torch.isfinite(const.grad).all()


def test_gradients_finite_with_duplicates_and_collapsed_inputs():
    x = torch.zeros(6, 3, requires_grad=True)  # all pairwise distances 0: bandwidth guard
    y = torch.randn(6, 2, requires_grad=True)
    val = hsic(x, y) + normalized_hsic(x, y)
    assert torch.isfinite(val)
    val.backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


def test_gradient_reduces_dependence():
    x, _, y = _independent_and_dependent(64, seed=6)
    y = y.clone().requires_grad_(True)
    before = hsic(x, y)
    before.backward()
    with torch.no_grad():
        after = hsic(x, y - 0.5 * y.grad / y.grad.norm())
    assert after.item() < before.item()


def test_style_content_pools_over_time_and_mask():
    g = torch.Generator().manual_seed(7)
    zs, zc = torch.randn(8, 4, generator=g), torch.randn(8, 5, 4, generator=g)
    assert hsic_style_content(zs, zc).item() == pytest.approx(hsic(zs, zc.mean(dim=1)).item(), rel=1e-6)
    mask = torch.ones(8, 5, dtype=torch.bool)
    mask[:, 3:] = False
    got = hsic_style_content(zs, zc, content_mask=mask, normalized=True).item()
    assert got == pytest.approx(normalized_hsic(zs, zc[:, :3].mean(dim=1)).item(), rel=1e-6)
    assert hsic_style_content(zs, zc.mean(dim=1)).item() == pytest.approx(hsic(zs, zc.mean(dim=1)).item())


def test_shape_errors():
    with pytest.raises(ValueError):
        hsic(torch.zeros(4, 2), torch.zeros(5, 2))
    with pytest.raises(ValueError):
        hsic(torch.zeros(4), torch.zeros(4, 2))
    with pytest.raises(ValueError):
        hsic_style_content(torch.zeros(4, 2), torch.zeros(4, 2, 2, 2))
