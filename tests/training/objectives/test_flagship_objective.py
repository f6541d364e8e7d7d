"""The flagship objective's pooled content adversary: exact terms and where gradients go."""

import pytest
import torch

from audiostyle.losses import discriminator_loss, generator_entropy_loss
from audiostyle.models.discriminator import pooled_statistics
from tests.training.objectives.conftest import random_batch, tiny_objective


def objective(pooled: bool):
    return tiny_objective(pooled_adversary=pooled)


@pytest.fixture()
def batch():
    return random_batch([0, 1, 0, 1])


def test_pooled_statistics_known_answer():
    z = torch.tensor([[[1.0, 0.0], [3.0, 0.0]]])  # (B=1, S=2, D=2)
    stats = pooled_statistics(z)
    torch.testing.assert_close(stats, torch.tensor([[2.0, 0.0, (1 + 1e-5) ** 0.5, 1e-5 ** 0.5]]))


def test_pooled_term_is_the_entropy_of_the_clip_statistics(batch):
    with_pool, without = objective(True), objective(False)
    total = 100  # step == total: last curriculum phase, adversarial weight fully ramped
    a = with_pool.generator_losses(batch, total, total)
    b = without.generator_losses(batch, total, total)
    assert "adversarial_pooled" not in b

    z_content = with_pool.model.encode_content(with_pool.model.norm.standardize(batch.x))
    expected = generator_entropy_loss(with_pool.discriminator.pooled(pooled_statistics(z_content)))
    torch.testing.assert_close(a["adversarial_pooled"], expected)
    # the per-token term is unchanged and the pooled one enters with the adversarial weight
    torch.testing.assert_close(a["adversarial"], b["adversarial"])
    w = with_pool.cfg["weights"]["adversarial"]
    torch.testing.assert_close(a["total"], b["total"] + w * a["adversarial_pooled"])


def test_discriminator_also_learns_the_clip_statistics(batch):
    with_pool, without = objective(True), objective(False)
    with_pool.generator_losses(batch, 100, 100)
    without.generator_losses(batch, 100, 100)
    d_a, d_b = with_pool.discriminator_losses(), without.discriminator_losses()
    pooled = pooled_statistics(with_pool._cache["z_content"])
    extra = discriminator_loss(with_pool.discriminator.pooled(pooled), batch.labels)
    torch.testing.assert_close(d_a["total"], d_b["total"] + extra)
    assert 0.0 <= float(d_a["acc_content_pooled"]) <= 1.0 and "acc_content_pooled" not in d_b


def test_pooled_term_trains_the_content_encoder_not_the_discriminator(batch):
    obj = objective(True)
    out = obj.generator_losses(batch, 100, 100)
    out["adversarial_pooled"].backward()
    grads = [p.grad for p in obj.model.content_encoder.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in obj.discriminator.parameters())
