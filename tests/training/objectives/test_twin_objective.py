import pytest
import torch

from audiostyle.models.registry import build_model
from audiostyle.training.data import Batch
from audiostyle.training.objectives import make_objective
from audiostyle.training.objectives.twin import partner_indices, translation_targets

TINY = {"cnn_channels": 4, "latent_dim": 4, "style_dim": 3, "window_frames": 32}


def _setup(kind, instruments=("piano", "violin"), per_class=2):
    torch.manual_seed(0)
    m = build_model({"kind": kind, **TINY, "instruments": list(instruments)})
    obj = make_objective(m, {"objective": {}})
    k = len(instruments)
    labels = torch.arange(k).repeat_interleave(per_class)
    batch = Batch(torch.rand(len(labels), 2, 32, 597), labels)
    return m, obj, batch


class _IdentityEncoder(torch.nn.Module):
    def forward(self, x):
        return x, x  # (hidden, head)


class _IdentityDecoder(torch.nn.Module):
    def forward(self, z, style=None):
        return z


def test_translation_targets_give_every_domain_the_same_number_of_translations():
    labels = torch.arange(3).repeat_interleave(4)
    for step in range(4):
        t = translation_targets(labels, step, 3)
        assert (t != labels).all() and torch.bincount(t, minlength=3).tolist() == [4, 4, 4]
    idx = partner_indices(labels, translation_targets(labels, 0, 3))
    assert (labels[idx] == translation_targets(labels, 0, 3)).all()


@pytest.mark.parametrize("kind", ["twin-ae", "twin-vae", "twin-gan-adain", "twin-vae-gan"])
def test_terms_of_each_kind_are_finite_and_train(kind):
    m, obj, batch = _setup(kind)
    g = obj.generator_losses(batch, 0, 10)
    expected = {"recon/self", "recon/cycle", "total"}
    expected |= {"kl"} if m.cfg.vae else set()
    expected |= {"recon/cycle_style", "gan"} if m.cfg.adain else set()
    expected |= {"kl_style"} if m.cfg.vae and m.cfg.adain else set()
    assert set(g) == expected | {"ramp"} and all(torch.isfinite(v) for v in g.values())
    g["total"].backward()
    assert all(p.grad is not None for p in m.decoders.parameters())  # both decoders learn (self + swapped)
    if m.cfg.gan:
        assert all(p.grad is None for p in obj.discriminator.parameters())  # generator step leaves D alone
        d = obj.discriminator_losses()
        assert torch.isfinite(d["total"])
        d["total"].backward()
        assert all(p.grad is not None for net in obj.discriminator.nets for p in net.parameters())
    else:
        assert obj.discriminator is None


def test_cycle_and_reconstruction_are_zero_when_the_autoencoders_are_identities():
    m, obj, batch = _setup("twin-ae")
    for k in range(2):
        m.encoders[k], m.decoders[k] = _IdentityEncoder(), _IdentityDecoder()
    g = obj.generator_losses(batch, 0, 10)
    assert float(g["recon/self"]) == 0.0 and float(g["recon/cycle"]) == 0.0


def test_every_domain_counts_once_in_the_gan_term(monkeypatch):
    """The paper's code added one side's term twice and left the other out."""
    from audiostyle.training.objectives import twin

    class ConstantScores(torch.nn.Module):  # domain j scores everything j + 1
        def forward(self, x, j):
            return torch.full((len(x), 1, 2, 2), j + 1.0)

    m, obj, batch = _setup("twin-gan-adain", ("piano", "violin", "flute"))
    obj.discriminator = ConstantScores()
    monkeypatch.setattr(twin, "ralsgan_generator_loss", lambda real, fake: real.mean())
    monkeypatch.setattr(twin, "ralsgan_discriminator_loss", lambda real, fake: fake.mean())
    assert float(obj.generator_losses(batch, 0, 10)["gan"]) == pytest.approx((1 + 2 + 3) / 3)
    assert float(obj.discriminator_losses()["total"]) == pytest.approx((1 + 2 + 3) / 3)


def test_cycle_and_gan_weights_ramp_up_from_zero():
    m, obj, batch = _setup("twin-gan-adain")
    g0 = obj.generator_losses(batch, 0, 100)
    assert float(g0["ramp"]) == 0.0 and float(g0["total"].detach()) == pytest.approx(float(g0["recon/self"].detach()))
    assert float(obj.generator_losses(batch, 15, 100)["ramp"]) == pytest.approx(0.5)  # ramp: 0.3 of the run
    assert float(obj.generator_losses(batch, 40, 100)["ramp"]) == 1.0
    m, obj, batch = _setup("twin-ae")
    obj.cfg["ramp"] = 0
    g = obj.generator_losses(batch, 0, 100)
    assert float(g["total"].detach()) == pytest.approx(float((g["recon/self"] + g["recon/cycle"]).detach()), rel=1e-6)


def test_three_instruments():
    m, obj, batch = _setup("twin-vae-gan", ("piano", "violin", "flute"))
    for step in range(2):  # shift 1 then 2
        g = obj.generator_losses(batch, step, 10)
        assert torch.isfinite(g["total"]) and torch.isfinite(obj.discriminator_losses()["total"])
    assert len(obj.discriminator.nets) == 3


def test_unknown_objective_keys_are_refused():
    from audiostyle.errors import ConfigError

    m = build_model({"kind": "twin-ae", **TINY})
    with pytest.raises(ConfigError, match="unknown key"):
        make_objective(m, {"objective": {"weights": {"style": 1.0}}})
