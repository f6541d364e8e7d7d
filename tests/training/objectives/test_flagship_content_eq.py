"""The flagship objective's content equalisation: off, the content encoder reads the batch as
it is; on, it reads a randomly equalised copy while the style encoder and the reconstruction
target keep the untouched clip."""

import pytest
import torch

from tests.training.objectives.conftest import random_batch, tiny_objective


def _inputs(obj, batch, module) -> list[torch.Tensor]:
    """First positional input of every call of ``module`` during one generator step."""
    seen = []
    hook = module.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach()))
    try:
        obj.generator_losses(batch, 0, 100)
    finally:
        hook.remove()
    return seen


def _content_inputs(obj, batch) -> list[torch.Tensor]:
    return _inputs(obj, batch, obj.model.content_encoder)


def test_off_by_default_content_reads_the_standardised_batch():
    batch = random_batch([0, 1])
    obj = tiny_objective()
    (seen,) = _content_inputs(obj, batch)
    torch.testing.assert_close(seen, obj.model.norm.standardize(batch.x))


def test_on_content_reads_an_equalised_copy_and_the_target_is_untouched():
    batch = random_batch([0, 1, 0, 1])
    off, on = tiny_objective(), tiny_objective(content_eq_db=12.0)
    (plain,) = _content_inputs(off, batch)
    torch.manual_seed(5)
    (equalised,) = _content_inputs(on, batch)
    assert not torch.allclose(equalised, plain)
    # per clip and bin the compressed values are scaled, never moved: one factor per (clip, bin)
    std, mean = on.model.norm.std[:, None, :], on.model.norm.mean[:, None, :]
    ratio = (equalised * std + mean) / (plain * std + mean)
    spread = ratio.std(dim=(1, 2)) / ratio.mean(dim=(1, 2)).abs()
    assert float(spread.max()) < 1e-3
    factors = ratio.mean(dim=(1, 2))
    assert float(factors.min()) >= 10 ** (-0.3 * 12 / 20) - 1e-4 and float(factors.max()) <= 10 ** (0.3 * 12 / 20) + 1e-4
    assert not torch.allclose(factors[0], factors[1])  # each clip draws its own curve
    # the style encoder and the decoder's target frames see the untouched clip
    (style_in,) = _inputs(on, batch, on.model.style_encoder)
    (target,) = _inputs(on, batch, on.model.decoder)
    torch.testing.assert_close(style_in, plain)
    torch.testing.assert_close(target, on.model.target_frames(plain))


def test_time_points_make_the_gain_change_over_the_clip():
    batch = random_batch([0, 1])
    static, moving = tiny_objective(content_eq_db=12.0), tiny_objective(content_eq_db=12.0, content_eq_time_points=4)
    (plain,) = _content_inputs(tiny_objective(), batch)
    std, mean = static.model.norm.std[:, None, :], static.model.norm.mean[:, None, :]

    def factors(obj):
        torch.manual_seed(5)
        (seen,) = _content_inputs(obj, batch)
        return ((seen * std + mean) / (plain * std + mean)).mean(dim=1)  # (B, T, n_bins)

    held, changing = factors(static), factors(moving)
    assert float((held - held[:, :1]).abs().max()) < 1e-3  # one curve for the whole clip
    assert float((changing[:, -1] - changing[:, 0]).abs().max()) > 0.05  # first and last frames differ
    assert float(changing.min()) >= 10 ** (-0.3 * 12 / 20) - 1e-3 and float(changing.max()) <= 10 ** (0.3 * 12 / 20) + 1e-3


@pytest.mark.parametrize("bad", [{"content_eq_db": -1.0}, {"content_eq_time_points": 0}])
def test_bad_settings_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_objective(**bad)
