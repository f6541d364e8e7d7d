"""The flagship objective's unpaired transfer check: the spectral head and the style_transfer term."""

import pytest
import torch
import torch.nn.functional as F

from audiostyle.losses import class_prototypes, discriminator_loss
from audiostyle.models.discriminator import Discriminator, band_dynamics, band_matrix
from audiostyle.training.objectives.transfer_check import interleaved_by_class, other_present_class, real_log_magnitude
from tests.training.objectives.conftest import random_batch, tiny_objective


def objective(transfer: bool, clips: int = 2):
    return tiny_objective(style_transfer=transfer, style_transfer_clips=clips)


@pytest.fixture()
def batch():
    return random_batch([0, 0, 1, 1])  # grouped by class, as the sampler draws them


def test_band_matrix_sums_log_spaced_bands_of_at_least_one_bin():
    m = band_matrix(513, 22050, bands=16)
    assert m.shape == (16, 513) and set(m.unique().tolist()) == {0.0, 1.0}
    assert (m.sum(dim=0) <= 1).all() and (m.sum(dim=1) >= 1).all()  # disjoint, none empty
    hz = 22050 / 2 / 512
    used = torch.nonzero(m.sum(dim=0)).flatten()
    assert used.min() * hz == pytest.approx(60, abs=hz) and used.max() * hz == pytest.approx(5000, abs=2 * hz)
    with pytest.raises(ValueError, match="do not fit"):
        band_matrix(10, 22050)  # 16 bands need 16 bins


def test_band_dynamics_known_answer():
    bands = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # (nb=2, F=3)
    # band 0 holds two bins of |X| = e^t (energy 2 e^{2t}); band 1 is steady
    t = torch.tensor([0.0, 1.0, 2.0])
    log_mag = torch.stack([t, t, torch.zeros(3)], dim=-1)[None]  # (B=1, T=3, F=3)
    out = band_dynamics(log_mag, bands)
    assert out.shape == (1, 2, 3)
    torch.testing.assert_close(out[0, 0], 2 * t - 2.0, atol=1e-5, rtol=0)  # log(2e^{2t}) minus its mean
    torch.testing.assert_close(out[0, 1], torch.zeros(3), atol=1e-5, rtol=0)
    # loudness does not count: the same clip 10x louder has the same dynamics
    torch.testing.assert_close(band_dynamics(log_mag + 2.3, bands), out, atol=1e-4, rtol=0)


def test_spectral_head_needs_spectral_bins():
    with pytest.raises(RuntimeError, match="spectral head"):
        Discriminator(8, 2)(torch.zeros(1, 4, 513), spectrum=True)
    assert Discriminator(8, 3, spectral_bins=513)(torch.zeros(2, 40, 513), spectrum=True).shape == (2, 3)


def test_interleaved_by_class_balances_every_prefix():
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    idx = interleaved_by_class(labels, 3)
    assert labels[idx].tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2]
    assert sorted(idx.tolist()) == list(range(9))


def test_other_present_class_is_never_the_own_class_nor_an_absent_one():
    torch.manual_seed(0)
    present = torch.tensor([True, True, False, True])
    labels = torch.tensor([0, 1, 3] * 50)
    to = other_present_class(labels, present)
    assert (to != labels).all() and (to != 2).all() and (to >= 0).all()
    assert set(to[labels == 0].tolist()) == {1, 3}  # random among the others, not always one
    only = other_present_class(torch.tensor([1]), torch.tensor([False, True]))
    assert only.tolist() == [-1]


def test_style_transfer_term_is_the_spectral_head_on_a_masked_decode_with_the_other_prototype(batch):
    with_t, without = objective(True), objective(False)
    total = 100
    a, b = with_t.generator_losses(batch, total, total), without.generator_losses(batch, total, total)
    assert "style_transfer" not in b

    m = with_t.model
    x = m.norm.standardize(batch.x)
    prototypes, _ = class_prototypes(m.encode_style(x, batch.labels), batch.labels, 2)
    z_content = m.encode_content(x)
    idx = torch.tensor([0, 2])  # first clip of each class (style_transfer_clips=2)
    to = torch.tensor([1, 0])   # two instruments: the other one
    log_mag, _ = m.decoder.masked_forward(z_content[idx], prototypes[to])
    expected = F.cross_entropy(with_t.discriminator.spectral(log_mag), to)
    torch.testing.assert_close(a["style_transfer"], expected)
    w = with_t.cfg["weights"]["style_transfer"]
    torch.testing.assert_close(a["total"], b["total"] + w * expected)


def test_style_transfer_is_off_in_the_first_curriculum_phase(batch):
    with_t, without = objective(True), objective(False)
    a, b = with_t.generator_losses(batch, 0, 100), without.generator_losses(batch, 0, 100)
    torch.testing.assert_close(a["total"], b["total"])


def test_style_transfer_trains_the_generator_not_the_discriminator(batch):
    obj = objective(True)
    obj.generator_losses(batch, 100, 100)["style_transfer"].backward()
    for part in (obj.model.decoder, obj.model.content_encoder, obj.model.style_encoder):
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads)
    assert all(p.grad is None for p in obj.discriminator.parameters())


def test_spectral_head_learns_from_real_clips_only(batch):
    with_t, without = objective(True), objective(False)
    with_t.generator_losses(batch, 100, 100)
    without.generator_losses(batch, 100, 100)
    d_a, d_b = with_t.discriminator_losses(), without.discriminator_losses()
    m = with_t.model
    real = real_log_magnitude(m.target_spectrum(m.norm.standardize(batch.x)))
    extra = discriminator_loss(with_t.discriminator(real, spectrum=True), batch.labels)
    torch.testing.assert_close(d_a["total"], d_b["total"] + extra)
    assert 0.0 <= float(d_a["acc_spectral"]) <= 1.0 and "acc_spectral" not in d_b
