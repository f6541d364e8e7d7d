"""Scheduled sampling of the flagship decoder's own frames (training.objectives.feedback)."""

import pytest
import torch

from audiostyle.training.objectives import feedback
from tests.training.objectives.conftest import random_batch, tiny_objective


def _cfg(**over):
    return {**feedback.DEFAULTS, **over}


@pytest.mark.parametrize("step, expected", [(0, 0.0), (9, 0.0), (10, 0.0), (30, 0.4), (50, 0.8), (51, 0.8), (100, 0.8)])
def test_share_ramps_linearly_to_its_final_value(step, expected):
    cfg = _cfg(scheduled_sampling=0.8, scheduled_sampling_ramp=[0.1, 0.5])
    assert feedback.sampling_share(cfg, step, 100) == pytest.approx(expected)


def test_share_off_and_step_ramp():
    assert feedback.sampling_share(_cfg(), 80, 100) == 0.0  # the default: off
    step = _cfg(scheduled_sampling=1.0, scheduled_sampling_ramp=[0.2, 0.2])
    assert [feedback.sampling_share(step, s, 10) for s in (1, 2, 9)] == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("over, message", [
    ({"scheduled_sampling": 1.5}, r"scheduled_sampling must be in \[0, 1\]"),
    ({"scheduled_sampling_ramp": [0.5, 0.1]}, "scheduled_sampling_ramp must be"),
    ({"scheduled_sampling_ramp": 0.3}, "scheduled_sampling_ramp must be"),
    ({"scheduled_sampling_passes": 0}, "scheduled_sampling_passes must be an integer >= 1"),
])
def test_bad_settings_are_refused_by_name(over, message):
    with pytest.raises(ValueError, match=message):
        tiny_objective(**over)


def _model_and_latents():
    obj = tiny_objective()
    m = obj.model
    x = m.norm.standardize(random_batch([0, 1]).x)
    return m, x, m.encode_content(x), m.prototypes[[0, 1]] + 0.3


def test_fed_back_share_picks_the_decoder_inputs():
    m, x, zc, zs = _model_and_latents()
    target, own = m.target_frames(x), torch.randn_like(m.target_frames(x))
    with torch.no_grad():
        truth = m.decode(target, zc, zs)
        torch.testing.assert_close(m.decode(target, zc, zs, fed_back=own, fed_back_share=0.0)[0], truth[0])
        # share 1: every previous-step input is the fed-back frame, as if it were the target
        torch.testing.assert_close(m.decode(target, zc, zs, fed_back=own, fed_back_share=1.0)[0],
                                   m.decode(own, zc, zs)[0])
        assert not torch.allclose(m.decode(own, zc, zs)[0], truth[0])


def test_passes_are_steps_of_the_generated_loop():
    """After as many passes as the sequence has steps, the fed-back frames are exactly what the
    KV-cached generated loop (inference_feedback: generated) produces; with one pass fewer the
    last step still differs. No true frame enters either."""
    m, _x, zc, zs = _model_and_latents()
    steps = zc.shape[1]
    generated = m.to_decoder_input(*m.decoder.generate(zc, zs, m.to_decoder_input))
    own = feedback.own_frames(m, zc, zs, passes=steps)
    # The cached and the parallel attention round differently in float32, and feeding back over
    # 32 steps compounds that to ~3e-4 on some CPUs (AMD EPYC); a wrong step differs by far more.
    torch.testing.assert_close(own, generated, atol=2e-3, rtol=2e-3)
    first = feedback.own_frames(m, zc, zs, passes=1)
    torch.testing.assert_close(first, m.to_decoder_input(*m.decoder.decode_masked(zc, zs)))
    short = feedback.own_frames(m, zc, zs, passes=steps - 1)
    fpt = m.decoder.fpt
    torch.testing.assert_close(short[:, :, : (steps - 1) * fpt], generated[:, :, : (steps - 1) * fpt], atol=2e-3, rtol=2e-3)
    assert not torch.allclose(short[:, :, (steps - 1) * fpt :], generated[:, :, (steps - 1) * fpt :], atol=2e-2)


def test_objective_decodes_from_its_own_frames_on_schedule():
    batch = random_batch([0, 1, 0, 1])
    plain = tiny_objective()
    sampled = tiny_objective(scheduled_sampling=1.0, scheduled_sampling_ramp=[0.5, 0.5])
    early, late = sampled.generator_losses(batch, 10, 100), sampled.generator_losses(batch, 60, 100)
    base = plain.generator_losses(batch, 10, 100)
    assert "sampled_share" not in base
    assert float(early["sampled_share"]) == 0.0 and float(late["sampled_share"]) == 1.0
    # before the ramp the step is the plain teacher-forced one; after it the decoder reads its own frames
    torch.testing.assert_close(early["recon/complex_mse"], base["recon/complex_mse"])
    late_plain = plain.generator_losses(batch, 60, 100)
    assert abs(float(late["recon/complex_mse"].detach() - late_plain["recon/complex_mse"].detach())) > 1e-3
    late["total"].backward()  # the fed-back frames carry no graph: the training pass backpropagates alone
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in sampled.model.parameters())
