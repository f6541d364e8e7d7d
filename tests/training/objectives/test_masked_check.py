"""The flagship objective's check that its decoder uses z_content (objectives.masked_check)."""

import pytest
import torch

from audiostyle.losses import reconstruction_losses
from audiostyle.training.objectives.flagship import DEFAULTS
from tests.training.objectives.conftest import losses_at, random_batch, tiny_objective


def test_on_by_default_logged_and_never_in_the_total():
    assert DEFAULTS["masked_check_clips"] == 4
    batch = random_batch([0, 1, 0, 1])
    on, off = losses_at([tiny_objective(masked_check_clips=4), tiny_objective(masked_check_clips=0)], batch, 49)
    assert {"recon_masked/magnitude", "masked_ratio"} <= set(on) and "masked_ratio" not in off
    torch.testing.assert_close(on["total"], off["total"])


def test_run_on_the_first_step_and_on_the_steps_the_loop_logs():
    # the loop logs after steps 1, 25, 50, ... (step + 1 counted): the check runs on those alone
    assert DEFAULTS["masked_check_every"] == 25
    batch = random_batch([0, 1, 0, 1])
    obj = tiny_objective(masked_check_clips=2, masked_check_every=10)
    ran = [s for s in range(31) if "masked_ratio" in obj.generator_losses(batch, s, 100)]
    assert ran == [0, 9, 19, 29]


def test_a_check_interval_under_one_is_refused():
    with pytest.raises(ValueError, match="masked_check_every"):
        tiny_objective(masked_check_every=0)


def test_known_answer_masked_over_teacher_forced_on_clips_of_both_instruments():
    # half of the training decode wholly masked: the check's own teacher-forced decode is not
    obj = tiny_objective(masked_check_clips=2, full_mask=0.5)
    batch = random_batch([0, 0, 1, 1])
    out = obj.generator_losses(batch, 49, 100)
    m = obj.model
    with torch.no_grad():
        x = m.norm.standardize(batch.x)[[0, 2]]  # clips spread over a batch ordered by instrument
        z_content = m.encode_content(x)
        z_class = torch.stack([obj._cache["z_class"][0], obj._cache["z_class"][2]])
        target = m.target_spectrum(x)

        def magnitude(log_mag, phase):
            return reconstruction_losses(m.to_spectrum(log_mag, phase), target, weights={"magnitude": 1.0},
                                         report_zero_weight=False)["magnitude"]

        masked = magnitude(*m.decoder.decode_masked(z_content, z_class))
        forced = magnitude(*m.decode(m.target_frames(x), z_content, z_class))
    torch.testing.assert_close(out["recon_masked/magnitude"], masked)
    torch.testing.assert_close(out["masked_ratio"], masked / forced)


def test_the_check_leaves_the_training_random_stream_alone():
    batch = random_batch([0, 1, 0, 1])
    draws = []
    for clips in (0, 4):
        obj = tiny_objective(masked_check_clips=clips, token_dropout=0.3)
        obj.model.train()  # dropout draws random numbers
        torch.manual_seed(7)
        obj.generator_losses(batch, 49, 100)
        draws.append(torch.rand(3))
    torch.testing.assert_close(draws[0], draws[1])


def test_a_decoder_that_ignores_z_content_is_reported_once_sustained():
    obj = tiny_objective(masked_check_clips=4)
    values = {"gen/curriculum_phase": 2.0, "gen/masked_ratio": 1.6, "gen/info_nce": 1.0, "gen/margin": 0.5,
              "disc/acc_style": 0.9}
    warnings = [obj.bound_warnings(values) for _ in range(5)]
    assert warnings[:4] == [[]] * 4 and any("masked_recon_ratio" in w for w in warnings[4])
    early = tiny_objective(masked_check_clips=4)  # phase 1: the decoder is still learning; nothing checked
    assert all(early.bound_warnings(values | {"gen/curriculum_phase": 1.0}) == [] for _ in range(6))
