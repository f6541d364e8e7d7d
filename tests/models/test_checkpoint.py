"""Tensor digests of released weights: stable, sensitive to every byte, any tensor shape."""

import torch

from audiostyle.models.checkpoint import tensor_digest


def test_digest_covers_zero_dim_tensors_and_changes_with_any_value():
    a = {"scale": torch.tensor(2.5), "w": torch.arange(6.0).view(2, 3)}
    same = {"w": torch.arange(6.0).view(2, 3), "scale": torch.tensor(2.5)}
    assert tensor_digest(a) == tensor_digest(same)  # order of names does not matter
    assert tensor_digest(a) != tensor_digest({**a, "scale": torch.tensor(2.4)})
    assert tensor_digest(a) != tensor_digest({**a, "w": torch.arange(6.0).view(3, 2)})  # shape is hashed
    assert tensor_digest(a) != tensor_digest({**a, "w": torch.arange(6.0).view(2, 3).double()})  # dtype too


def test_digest_of_a_non_contiguous_view_equals_its_copy():
    w = torch.arange(12.0).view(3, 4).t()
    assert tensor_digest({"w": w}) == tensor_digest({"w": w.contiguous()})
