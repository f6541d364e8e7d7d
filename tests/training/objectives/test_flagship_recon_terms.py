"""The flagship objective's reconstruction terms: the optional constant-Q term joins the total
with its weight, and is not computed at all when its weight is 0."""

import torch

from tests.training.objectives.conftest import random_batch, tiny_objective


def test_cqt_term_off_by_default_and_weighted_when_on():
    batch = random_batch([0, 1, 0, 1])
    off = tiny_objective().generator_losses(batch, 0, 100)  # phase 1: reconstruction only
    on = tiny_objective(weights={"cqt": 2.0}).generator_losses(batch, 0, 100)
    assert "recon/cqt" not in off
    assert float(on["recon/cqt"].detach()) > 0
    torch.testing.assert_close(on["total"], off["total"] + 2.0 * on["recon/cqt"])
    for name in ("recon/magnitude", "recon/mr_stft"):  # the other terms are untouched
        torch.testing.assert_close(on[name], off[name])


def test_cqt_term_trains_the_decoder():
    obj = tiny_objective(weights={"cqt": 1.0})
    obj.generator_losses(random_batch([0, 1]), 0, 100)["recon/cqt"].backward()
    grads = [p.grad for p in obj.model.decoder.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
