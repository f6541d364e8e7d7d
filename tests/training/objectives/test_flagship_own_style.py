"""The flagship objective's own-style reconstruction: the whole clip randomly equalised
(``clip_eq_db``) and a share of the clips decoded from their own ``z_style`` instead of their
instrument's prototype (``own_style_share``)."""

import pytest
import torch

from audiostyle.losses import class_prototypes
from tests.training.objectives.conftest import random_batch, tiny_objective


def _first_args(obj, batch, module, index=0) -> list[torch.Tensor]:
    """Positional input ``index`` of every call of ``module`` during one generator step."""
    seen = []
    hook = module.register_forward_pre_hook(lambda _m, args: seen.append(args[index].detach()))
    try:
        obj.generator_losses(batch, 0, 100)
    finally:
        hook.remove()
    return seen


def _scale_factors(a: torch.Tensor, b: torch.Tensor, norm) -> torch.Tensor:
    """Per (clip, bin) ratio of compressed values of two standardised batches; asserts that
    ``a`` is ``b`` scaled by one factor per (clip, bin). Returns ``(B, n_bins)``."""
    std, mean = norm.std[:, None, :], norm.mean[:, None, :]
    ratio = (a * std + mean) / (b * std + mean)
    assert float((ratio.std(dim=(1, 2)) / ratio.mean(dim=(1, 2)).abs()).max()) < 1e-3
    return ratio.mean(dim=(1, 2))


def test_clip_eq_reaches_style_target_and_content_which_adds_its_own():
    batch = random_batch([0, 1, 0, 1])
    plain = tiny_objective().model.norm.standardize(batch.x)
    obj = tiny_objective(clip_eq_db=12.0, content_eq_db=12.0)
    norm = obj.model.norm
    torch.manual_seed(3)
    (style_in,) = _first_args(obj, batch, obj.model.style_encoder)
    torch.manual_seed(3)
    (target,) = _first_args(obj, batch, obj.model.decoder)
    torch.manual_seed(3)
    (content_in,) = _first_args(obj, batch, obj.model.content_encoder)
    clip_gain = _scale_factors(style_in, plain, norm)
    bound = 10 ** (0.3 * 12 / 20) + 1e-4
    assert float(clip_gain.max()) <= bound and float(clip_gain.min()) >= 1 / bound
    assert not torch.allclose(clip_gain, torch.ones_like(clip_gain))
    torch.testing.assert_close(target, obj.model.target_frames(style_in))  # the target is the equalised clip
    content_gain = _scale_factors(content_in, style_in, norm)  # a second, independent curve on top
    assert not torch.allclose(content_gain, torch.ones_like(content_gain))
    assert not torch.allclose(content_gain, clip_gain)


def test_clip_eq_off_leaves_the_batch_and_the_rng_alone():
    batch = random_batch([0, 1])
    obj = tiny_objective()
    torch.manual_seed(7)
    (style_in,) = _first_args(obj, batch, obj.model.style_encoder)
    after = torch.rand(1)
    torch.testing.assert_close(style_in, obj.model.norm.standardize(batch.x))
    torch.manual_seed(7)
    torch.testing.assert_close(torch.rand(1), after)  # nothing was drawn


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_decoder_memory_takes_prototypes_or_own_style(share):
    batch = random_batch([0, 1, 0, 1])
    obj = tiny_objective(own_style_share=share)
    (z_style,) = [out for out in _outputs(obj, batch, obj.model.style_encoder)]
    (decoded_style,) = _first_args(obj, batch, obj.model.decoder, index=2)
    prototypes, _ = class_prototypes(z_style, batch.labels, obj.num_classes)
    expected = z_style if share == 1.0 else prototypes[batch.labels]
    torch.testing.assert_close(decoded_style, expected)
    assert not torch.allclose(z_style, prototypes[batch.labels])  # the two cases differ


def test_half_share_decodes_some_clips_from_each():
    batch = random_batch([0, 1] * 8)
    obj = tiny_objective(own_style_share=0.5)
    (z_style,) = _outputs(obj, batch, obj.model.style_encoder)
    torch.manual_seed(11)
    (decoded_style,) = _first_args(obj, batch, obj.model.decoder, index=2)
    prototypes, _ = class_prototypes(z_style, batch.labels, obj.num_classes)
    own = (decoded_style - z_style).abs().amax(dim=1) < 1e-6
    proto = (decoded_style - prototypes[batch.labels]).abs().amax(dim=1) < 1e-6
    assert bool((own | proto).all()) and 0 < int(own.sum()) < len(own)


@pytest.mark.parametrize("bad", [{"own_style_share": 1.5}, {"own_style_share": -0.1}, {"clip_eq_db": -3.0}])
def test_out_of_range_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_objective(**bad)


def _outputs(obj, batch, module) -> list[torch.Tensor]:
    """Output of every call of ``module`` during one generator step (RNG seeded as the
    decoder-input captures are, so both see the same draws)."""
    seen = []
    hook = module.register_forward_hook(lambda _m, _a, out: seen.append(out.detach()))
    torch.manual_seed(11)
    try:
        obj.generator_losses(batch, 0, 100)
    finally:
        hook.remove()
    return seen
