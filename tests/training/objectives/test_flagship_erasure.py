"""The flagship objective's linear-erasure term: off by default; on, the class-mean gap of the
pooled z_content statistics, weighted into the total from the HSIC phase, training the content
encoder only."""

import pytest
import torch

from audiostyle.losses.erasure import class_mean_gap
from audiostyle.models.discriminator import pooled_statistics
from tests.training.objectives.conftest import (assert_reaches_content_encoder_only, losses_at, random_batch,
                                                tiny_objective)


def test_off_by_default():
    out = tiny_objective().generator_losses(random_batch([0, 1, 0, 1]), 0, 100)
    assert "linear_erasure" not in out


def test_on_it_is_the_gap_of_the_pooled_content_weighted_from_the_hsic_phase():
    batch = random_batch([0, 1, 0, 1, 0, 1])
    off, on = tiny_objective(), tiny_objective(weights={"linear_erasure": 2.0})
    for step, scale in [(5, 0.0), (25, 1.0)]:  # curriculum [0.1, 0.2, 0.3] of 100 steps: phase 3 from step 20
        base, out = losses_at([off, on], batch, step)
        with torch.no_grad():
            z_content = on.model.encode_content(on.model.norm.standardize(batch.x))
        expected = class_mean_gap(pooled_statistics(z_content), batch.labels, 2)
        torch.testing.assert_close(out["linear_erasure"].detach(), expected)
        torch.testing.assert_close(out["total"], base["total"] + 2.0 * scale * out["linear_erasure"])


def test_the_term_reaches_the_content_encoder_only():
    on = tiny_objective(weights={"linear_erasure": 1.0})
    assert_reaches_content_encoder_only(on, on.generator_losses(random_batch([0, 1, 0, 1]), 50, 100)["linear_erasure"])


def test_negative_weight_refused():
    with pytest.raises(ValueError, match="weights.linear_erasure"):
        tiny_objective(weights={"linear_erasure": -1.0})


def test_running_form_keeps_its_means_as_state_and_logs_the_running_gap():
    assert tiny_objective(weights={"linear_erasure": 1.0}).stateful_modules() == {}
    obj = tiny_objective(weights={"linear_erasure": 1.0}, linear_erasure_momentum=0.9)
    assert list(obj.stateful_modules()) == ["erasure_means"]
    batch = random_batch([0, 1, 0, 1, 0, 1])
    first = obj.generator_losses(batch, 0, 100)  # updated from step 0, before the term counts
    assert bool(obj.erasure_means.seen.all())
    means = obj.erasure_means.means.clone()
    second = obj.generator_losses(batch, 25, 100)
    assert not torch.equal(means, obj.erasure_means.means)
    for out in (first, second):
        assert {"linear_erasure", "linear_erasure_running"} <= set(out)
    # off (weight 0): no running means, whatever the momentum
    assert tiny_objective(linear_erasure_momentum=0.9).stateful_modules() == {}
    with pytest.raises(ValueError, match="linear_erasure_momentum"):
        tiny_objective(weights={"linear_erasure": 1.0}, linear_erasure_momentum=1.0)
