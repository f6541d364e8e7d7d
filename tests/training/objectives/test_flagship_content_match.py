"""The flagship objective's paired content matching: off by default; on, it asks for paired
batches, and its term is the gap between the crop's z_content and its pair's, weighted into the
total from the HSIC phase, training the content encoder only."""

import pytest
import torch

from audiostyle.losses.content_match import paired_content_gap
from tests.training.objectives.conftest import (assert_reaches_content_encoder_only, losses_at, random_batch,
                                                tiny_objective)


def paired_batch(labels: list[int], same: bool = False):
    """:func:`random_batch` with each crop's pair (the other instrument): random, or the crop itself."""
    batch = random_batch(labels)
    g = torch.Generator().manual_seed(2)
    batch.pair_x = batch.x.clone() if same else torch.randn(batch.x.shape, generator=g)
    batch.pair_labels = 1 - batch.labels
    return batch


def test_off_by_default_and_on_it_needs_pairs():
    off = tiny_objective()
    assert not off.paired and "content_match" not in off.generator_losses(random_batch([0, 1, 0, 1]), 50, 100)
    on = tiny_objective(weights={"content_match": 1.0})
    assert on.paired  # the training loop builds a paired sampler from this
    with pytest.raises(ValueError, match="content_match needs paired batches"):
        on.generator_losses(random_batch([0, 1, 0, 1]), 50, 100)


def test_on_it_is_the_gap_to_the_pair_weighted_from_the_hsic_phase():
    batch = paired_batch([0, 1, 0, 1])
    off, on = tiny_objective(), tiny_objective(weights={"content_match": 2.0})
    # curriculum [0.1, 0.2, 0.3] of 100 steps: phase 3 from step 20; before it the pair is not encoded
    base, out = losses_at([off, on], batch, 5)
    assert "content_match" not in out
    torch.testing.assert_close(out["total"], base["total"])
    base, out = losses_at([off, on], batch, 25)
    with torch.no_grad():
        enc = on.model.encode_content
        expected = paired_content_gap(enc(on.model.norm.standardize(batch.x)), enc(on.model.norm.standardize(batch.pair_x)))
    assert expected.item() > 0.01
    torch.testing.assert_close(out["content_match"].detach(), expected)
    torch.testing.assert_close(out["total"], base["total"] + 2.0 * out["content_match"])
    # a pair that is the crop itself has nothing to match; paired alone adds no cross-reconstruction
    assert on.generator_losses(paired_batch([0, 1], same=True), 50, 100)["content_match"].item() == 0.0
    assert "cross_recon" not in out


def test_a_ramp_raises_the_weight_from_the_start_of_the_hsic_phase():
    obj = tiny_objective(weights={"content_match": 2.0}, content_match_ramp=0.1)
    # curriculum [0.1, 0.2, 0.3] of 100 steps: phase 3 from step 20, full weight from step 30
    assert [obj.term_scales(s, 100)["content_match"] for s in (19, 20, 25, 30, 90)] == pytest.approx([0, 0, 0.5, 1, 1])
    assert tiny_objective(content_match_ramp=0.0).term_scales(20, 100)["content_match"] == 1.0
    batch = paired_batch([0, 1, 0, 1])
    off = tiny_objective()
    base, out = losses_at([off, obj], batch, 20)
    assert "content_match" not in out  # weighted 0: the pair is not encoded
    base, out = losses_at([off, obj], batch, 25)
    torch.testing.assert_close(out["total"], base["total"] + 2.0 * obj.term_scales(25, 100)["content_match"] * out["content_match"])
    with pytest.raises(ValueError, match="content_match_ramp"):
        tiny_objective(content_match_ramp=-0.1)


def test_the_term_reaches_the_content_encoder_only():
    on = tiny_objective(weights={"content_match": 1.0})
    assert_reaches_content_encoder_only(on, on.generator_losses(paired_batch([0, 1, 0, 1]), 50, 100)["content_match"])


def test_negative_weight_refused():
    with pytest.raises(ValueError, match="weights.content_match"):
        tiny_objective(weights={"content_match": -1.0})


def test_a_subset_of_the_crops_is_matched_when_asked():
    batch = paired_batch([0, 1, 0, 1], same=True)
    batch.pair_x[0] = torch.randn(batch.x.shape[1:], generator=torch.Generator().manual_seed(4))  # one crop differs
    every, one = tiny_objective(weights={"content_match": 1.0}), tiny_objective(weights={"content_match": 1.0},
                                                                                  content_match_clips=1)
    seen = []
    hook = one.model.content_encoder.register_forward_hook(lambda mod, args, out: seen.append(args[0].shape[0]))
    gaps = []
    for seed in range(12):
        torch.manual_seed(seed)
        gaps.append(one.generator_losses(batch, 50, 100)["content_match"].item())
    hook.remove()
    assert seen[:2] == [4, 1]  # the batch, then the pair of one crop
    # one crop a step, drawn anew: the differing crop is matched on some steps, the others on the rest
    assert min(gaps) < 1e-6 and max(gaps) > 0.1
    full = every.generator_losses(batch, 50, 100)["content_match"].item()
    assert full > 0 and 0 < sum(g > 1e-6 for g in gaps) < len(gaps)
    # as many clips as the batch holds, or more, is the whole batch
    for n in (4, 9):
        torch.manual_seed(0)
        assert tiny_objective(weights={"content_match": 1.0}, content_match_clips=n).generator_losses(
            batch, 50, 100)["content_match"].item() == pytest.approx(full)


def test_negative_clip_count_refused():
    with pytest.raises(ValueError, match="content_match_clips"):
        tiny_objective(weights={"content_match": 1.0}, content_match_clips=-1)
