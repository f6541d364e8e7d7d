import math

import pytest
import torch

from audiostyle.losses.autoencoders import (
    domain_mean, kl_standard_normal, l1_loss, ralsgan_discriminator_loss, ralsgan_generator_loss, relative_l1_loss,
    reparameterize,
)
from audiostyle.models.mel_nets import adain


def test_l1_known_answers():
    x = torch.randn(3, 5, 7)
    assert float(l1_loss(x, x)) == 0.0
    assert float(l1_loss(x + 0.25, x)) == pytest.approx(0.25, abs=1e-6)
    with pytest.raises(ValueError, match="shapes differ"):
        l1_loss(x, x[:, :4])


def test_relative_l1_is_measured_against_each_channel_spread():
    torch.manual_seed(0)
    h = torch.randn(8, 3, 5)
    h[:, 1] = 10 * h[:, 1] + 7  # a large channel cannot hide the others
    assert float(relative_l1_loss(h, h)) == 0.0
    offset = h.clone()
    offset[:, 0] += 0.5  # error 0.5 on channel 0 only
    expected = 0.5 / float(h[:, 0].std()) / 3
    assert float(relative_l1_loss(offset, h)) == pytest.approx(expected, rel=1e-5)
    # a common scale and offset of both latents changes nothing: shrinking the latent gains nothing
    assert float(relative_l1_loss(0.01 * offset + 3, 0.01 * h + 3)) == pytest.approx(expected, rel=1e-3)


def test_kl_known_answers():
    zeros = torch.zeros(4, 8)
    assert float(kl_standard_normal(zeros, zeros)) == 0.0  # N(0, I) against itself
    mu, sigma = 1.5, 0.5
    closed = 0.5 * (sigma**2 + mu**2 - 1 - math.log(sigma**2))
    got = kl_standard_normal(torch.full((2, 3), mu), torch.full((2, 3), math.log(sigma**2)))
    assert float(got) == pytest.approx(closed, rel=1e-6)


def test_reparameterisation_has_the_posterior_moments():
    torch.manual_seed(0)
    mu, logvar = torch.full((200_000,), 2.0), torch.full((200_000,), math.log(0.25))
    z = reparameterize(mu, logvar)
    assert float(z.mean()) == pytest.approx(2.0, abs=0.01) and float(z.std()) == pytest.approx(0.5, abs=0.01)
    assert torch.equal(reparameterize(mu, logvar, sample=False), mu)


def test_relativistic_least_squares_gan_at_known_scores():
    real, fake = torch.tensor([1.0, 1.0]), torch.tensor([-1.0, -1.0])
    # eq. 5: real scores 2 above the mean fake one: ((2 - 1)^2 + (-2 + 1)^2) / 2 = 1
    assert float(ralsgan_discriminator_loss(real, fake)) == pytest.approx(1.0)
    # eq. 6: ((1 + 1 + 1)^2 + (-1 - 1 - 1)^2) / 2 = 9
    assert float(ralsgan_generator_loss(real, fake)) == pytest.approx(9.0)
    half = torch.tensor([0.5]), torch.tensor([-0.5])
    assert float(ralsgan_discriminator_loss(*half)) == 0.0  # the discriminator's optimum
    assert float(ralsgan_generator_loss(half[1], half[0])) == 0.0  # and the generator's (roles swapped)
    same = torch.zeros(3)
    assert float(ralsgan_discriminator_loss(same, same)) == pytest.approx(1.0)
    assert float(ralsgan_generator_loss(same, same)) == pytest.approx(1.0)


def test_domain_mean_counts_every_domain_once():
    values = {0: torch.tensor(1.0), 1: torch.tensor(3.0), 2: None}
    assert float(domain_mean(lambda k: values[k], [0, 1, 2])) == 2.0
    with pytest.raises(ValueError):
        domain_mean(lambda k: None, [0, 1])


def test_adain_output_has_the_style_statistics_per_channel():
    torch.manual_seed(0)
    x = 3 * torch.randn(2, 4, 10, 12) + 5
    mean, std = torch.randn(2, 4), torch.rand(2, 4) + 0.5
    y = adain(x, mean, std)
    assert torch.allclose(y.mean(dim=(2, 3)), mean, atol=1e-5)
    assert torch.allclose(y.std(dim=(2, 3), unbiased=False), std, atol=1e-4)
    # the content's pattern survives: the same map, rescaled
    corr = torch.corrcoef(torch.stack([x[0, 0].flatten(), y[0, 0].flatten()]))[0, 1]
    assert float(corr) == pytest.approx(1.0, abs=1e-5)
