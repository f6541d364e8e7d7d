"""The flagship's random equalisers on their own (objectives.equalizers)."""

import pytest
import torch

from audiostyle.training.objectives.equalizers import Equalizers
from tests.training.objectives.conftest import random_batch, tiny_objective


def _equalizers(**cfg) -> Equalizers:
    obj = tiny_objective(**cfg)
    return Equalizers(obj.model, obj.cfg)


def test_off_everything_passes_through():
    eq = _equalizers()
    comp = random_batch([0, 1]).x
    assert eq.clip(comp) is comp
    torch.testing.assert_close(eq.content_input(comp), eq.norm.standardize(comp))
    x = torch.zeros_like(comp)
    assert eq.content_input(comp, x) is x  # the caller's standardised batch, untouched


def test_clip_equaliser_scales_each_bin_of_each_clip_within_its_bound():
    eq = _equalizers(clip_eq_db=6.0)
    comp = random_batch([0, 1, 0]).x.abs() + 0.5  # compressed magnitudes are positive
    torch.manual_seed(2)
    ratio = eq.clip(comp) / comp
    per_bin = ratio.mean(dim=(1, 2))  # (B, n_bins)
    assert float((ratio - per_bin[:, None, None, :]).abs().max()) < 1e-4  # one factor per (clip, bin)
    bound = 10 ** (eq.power * 6.0 / 20)
    assert float(per_bin.max()) <= bound + 1e-4 and float(per_bin.min()) >= 1 / bound - 1e-4
    assert float((per_bin - 1).abs().max()) > 0.01
    # the content equaliser is a separate setting: off here, so content reads the clip as given
    out = eq.clip(comp)
    torch.testing.assert_close(eq.content_input(out), eq.norm.standardize(out))


def test_content_equaliser_draws_anew_on_every_call():
    eq = _equalizers(content_eq_db=12.0)
    comp = random_batch([0, 1]).x.abs() + 0.5
    assert not torch.allclose(eq.content_input(comp), eq.content_input(comp))


@pytest.mark.parametrize("bad", [{"clip_eq_db": -2.0}, {"content_eq_db": -1.0}, {"content_eq_time_points": 0}])
def test_bad_settings_name_the_setting(bad):
    obj = tiny_objective()
    with pytest.raises(ValueError, match=f"train.objective.{next(iter(bad))}"):
        Equalizers(obj.model, {**obj.cfg, **bad})
