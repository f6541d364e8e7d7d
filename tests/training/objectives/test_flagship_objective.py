"""The flagship objective's extra content adversaries (pooled clip statistics, temporal CNN):
exact terms and where gradients go."""

import pytest
import torch

from audiostyle.losses import discriminator_loss, generator_entropy_loss
from audiostyle.models.discriminator import pooled_statistics
from tests.training.objectives.conftest import random_batch, tiny_objective

# switch in train.objective -> (generator term, discriminator accuracy, the head's logits for z_content)
HEADS = {
    "pooled_adversary": ("adversarial_pooled", "acc_content_pooled", lambda d, z: d.pooled(pooled_statistics(z))),
    "temporal_adversary": ("adversarial_temporal", "acc_content_temporal", lambda d, z: d.temporal(z)),
}


@pytest.fixture()
def batch():
    return random_batch([0, 1, 0, 1])


def test_pooled_statistics_known_answer():
    z = torch.tensor([[[1.0, 0.0], [3.0, 0.0]]])  # (B=1, S=2, D=2)
    stats = pooled_statistics(z)
    torch.testing.assert_close(stats, torch.tensor([[2.0, 0.0, (1 + 1e-5) ** 0.5, 1e-5 ** 0.5]]))


@pytest.mark.parametrize("switch", sorted(HEADS))
def test_head_term_is_the_entropy_of_its_logits(switch, batch):
    term, _acc, head = HEADS[switch]
    with_head, without = tiny_objective(**{switch: True}), tiny_objective(**{switch: False})
    total = 100  # step == total: last curriculum phase, adversarial weight fully ramped
    a = with_head.generator_losses(batch, total, total)
    b = without.generator_losses(batch, total, total)
    assert term not in b

    z_content = with_head.model.encode_content(with_head.model.norm.standardize(batch.x))
    expected = generator_entropy_loss(head(with_head.discriminator, z_content))
    torch.testing.assert_close(a[term], expected)
    # the per-token term is unchanged and the head's term enters with the adversarial weight
    torch.testing.assert_close(a["adversarial"], b["adversarial"])
    w = with_head.cfg["weights"]["adversarial"]
    torch.testing.assert_close(a["total"], b["total"] + w * a[term])


@pytest.mark.parametrize("switch", sorted(HEADS))
def test_head_term_follows_the_adversarial_ramp(switch, batch):
    term = HEADS[switch][0]
    early, off = tiny_objective(**{switch: True}), tiny_objective(**{switch: False})
    step, total = 35, 100  # phase 4 starts at 0.3 and ramps over 0.2: scale 0.25
    a, b = early.generator_losses(batch, step, total), off.generator_losses(batch, step, total)
    scale = float(a["adv_scale"])
    assert 0.0 < scale < 1.0
    w = early.cfg["weights"]["adversarial"]
    torch.testing.assert_close(a["total"], b["total"] + w * scale * a[term])


@pytest.mark.parametrize("switch", sorted(HEADS))
def test_discriminator_also_learns_the_head(switch, batch):
    _term, acc, head = HEADS[switch]
    with_head, without = tiny_objective(**{switch: True}), tiny_objective(**{switch: False})
    with_head.generator_losses(batch, 100, 100)
    without.generator_losses(batch, 100, 100)
    d_a, d_b = with_head.discriminator_losses(), without.discriminator_losses()
    extra = discriminator_loss(head(with_head.discriminator, with_head._cache["z_content"]), batch.labels)
    torch.testing.assert_close(d_a["total"], d_b["total"] + extra)
    assert 0.0 <= float(d_a[acc]) <= 1.0 and acc not in d_b


@pytest.mark.parametrize("switch", sorted(HEADS))
def test_head_term_trains_the_content_encoder_not_the_discriminator(switch, batch):
    obj = tiny_objective(**{switch: True})
    out = obj.generator_losses(batch, 100, 100)
    out[HEADS[switch][0]].backward()
    grads = [p.grad for p in obj.model.content_encoder.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in obj.discriminator.parameters())
