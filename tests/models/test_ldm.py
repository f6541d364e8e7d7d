"""The latent-diffusion baseline (kind ``ldm``): schedule, DDIM, autoencoder, losses, transfer."""

import numpy as np
import pytest
import torch

from audiostyle.config import load_config
from audiostyle.errors import AudioStyleError, ConfigError
from audiostyle.models.ldm_diffusion import NoiseSchedule
from audiostyle.models.registry import build_model
from audiostyle.training.objectives.ldm import (
    LDMObjective, perceptual_loss, same_class_partners, style_loss,
)

TINY = {"cnn_channels": 4, "d_model": 32, "heads": 2, "context_dim": 16, "style_tokens": 4, "window_frames": 32}


def _model(seed=0, **over):
    cfg = load_config("ldm")["model"]
    cfg.update({**TINY, **over})
    torch.manual_seed(seed)
    return build_model(cfg).eval()


def _untrained_to_random(model, scale=0.05):
    """Give the zero-initialised residual branches small random weights, as after training,
    so that every path of the network carries signal and gradient."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.copy_(scale * torch.randn(p.shape, generator=g))
    return model


def _patches(model, b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, model.cfg.window_frames, model.cfg.n_mels, generator=g) * 2


# -- noise schedule and DDIM ---------------------------------------------------------------------
def test_linear_schedule_known_values():
    s = NoiseSchedule(1000, "linear", 1e-4, 0.02)
    betas = np.linspace(1e-4, 0.02, 1000)
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert s.alpha_bar[0].item() == pytest.approx(1 - 1e-4, abs=1e-7)  # alpha_bar_0 = 1 - beta_1
    closed = float(np.prod(1 - betas))  # ~4.0e-5
    assert s.alpha_bar[-1].item() == pytest.approx(closed, rel=1e-4)
    assert s.alpha_bar[499].item() == pytest.approx(float(np.prod(1 - betas[:500])), rel=1e-4)
    root = s.alpha_bar.sqrt()
    assert (root[1:] < root[:-1]).all()  # sqrt(alpha_bar) strictly decreasing
    assert NoiseSchedule(1000, "cosine").alpha_bar[-1] < 1e-4


def test_forward_process_and_x0_estimate_invert_each_other():
    s = NoiseSchedule(100)
    z0, eps = torch.randn(3, 4, 8, 8), torch.randn(3, 4, 8, 8)
    t = torch.tensor([0, 50, 99])
    zt = s.q_sample(z0, t, eps)
    assert torch.allclose(s.predict_x0(zt, t, eps), z0, atol=1e-3)
    assert torch.allclose(zt[0], s.alpha_bar[0].sqrt() * z0[0] + (1 - s.alpha_bar[0]).sqrt() * eps[0])


def test_ddim_timesteps_follow_the_strength():
    s = NoiseSchedule(1000)
    assert s.ddim_timesteps(10, strength=0.0) == []
    full = s.ddim_timesteps(10, strength=1.0)
    assert len(full) == 10 and full[0] == 999 and full[-1] == 0 and full == sorted(full, reverse=True)
    half = s.ddim_timesteps(25, strength=0.5)
    assert len(half) == 25 and half[0] == 499
    assert s.ddim_timesteps(50, strength=0.01) == list(range(9, -1, -1))  # capped by t0 + 1 steps


@pytest.mark.parametrize("strength, steps", [(1.0, 10), (0.5, 7), (0.3, 1)])
def test_ddim_with_the_true_noise_returns_the_clean_latent(strength, steps):
    """With an oracle that predicts the exact noise, every deterministic DDIM step stays on the
    trajectory of ``z0``: a check of the update formula itself."""
    s = NoiseSchedule(1000)
    z0 = torch.randn(2, 4, 8, 8)
    oracle = lambda z, t: (z - s._ab(t).sqrt() * z0) / (1 - s._ab(t)).sqrt()
    out = s.ddim_sample(oracle, z0, steps, strength, eta=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, z0, atol=1e-3)


def test_ddim_eta0_is_deterministic_and_the_seed_picks_the_noise():
    m = _untrained_to_random(_model())
    x = _patches(m)
    style = m.encode_style(_patches(m, seed=1))
    a = m.transfer_mel(x, style, steps=5, strength=0.6, eta=0.0)
    b = m.transfer_mel(x, style, steps=5, strength=0.6, eta=0.0)
    assert torch.equal(a, b)
    c = m.transfer_mel(x, style, steps=5, strength=0.6, eta=0.0, seed=123)
    assert not torch.allclose(a, c)


def test_strength_zero_returns_the_decoded_input_latent():
    m = _untrained_to_random(_model())
    m.latent_std.fill_(0.37)  # a measured scale other than 1 must cancel out
    x = _patches(m)
    style = m.encode_style(_patches(m, seed=1))
    out = m.transfer_mel(x, style, steps=10, strength=0.0)
    assert torch.equal(out, m.decode_latent(m.encode_latent(x)))  # no step taken: bit-identical
    assert torch.allclose(out, m.autoencoder.decode(m.autoencoder.posterior(x)[0]), atol=1e-5)


# -- shapes, config, errors ----------------------------------------------------------------------
def test_full_size_shapes():
    cfg = load_config("ldm")["model"]
    torch.manual_seed(0)
    m = build_model(cfg).eval()
    x = torch.rand(2, 128, 128)
    z = m.encode_latent(x)
    assert z.shape == (2, 4, 16, 16)  # 128x128 patch -> 4x16x16 latent
    assert m.decode_latent(z).shape == (2, 128, 128)
    style = m.encode_style(x)
    assert style.shape == (2, 3 * cfg["style_tokens"] * cfg["context_dim"])
    assert m.predict_noise(z, torch.tensor([0, 999]), style).shape == z.shape
    assert m.window_samples == 128 * 256
    assert m.features(torch.zeros(2, m.window_samples)).shape == (2, 128, 128)
    assert sum(p.numel() for p in m.parameters()) * 4 / 2**20 < 20  # float32 weights under 20 MB


def test_bad_configs_are_config_errors():
    with pytest.raises(ConfigError, match="multiples of 32"):
        _model(window_frames=40)
    with pytest.raises(ConfigError, match="strength"):
        _model(strength=1.5)
    with pytest.raises(ConfigError, match="one entry per UNet level"):
        _model(style_mult=[1, 2])


def test_style_vector_needs_a_prototype_or_a_reference():
    m = _model()
    with pytest.raises(AudioStyleError, match="no style prototype"):
        m.style_vector("violin")
    ref = torch.randn(m.window_samples * 2) * 0.1
    assert m.style_vector("violin", ref).shape == (m.style_encoder.size,)


# -- autoencoder ---------------------------------------------------------------------------------
def test_autoencoder_round_trip_on_a_rendered_clip(tiny_data):
    """What this proves: the full-size autoencoder (4x16x16 latent) can represent a real rendered
    128x128 mel patch. After 200 Adam steps on that one patch its reconstruction error is under
    5% of the patch's variance (about 1.6% measured). It says nothing about generalisation to
    unseen clips, which the training run's ``recon/mel`` curve shows."""
    from audiostyle.audio.io import load_audio
    from audiostyle.data.layout import Corpus

    corpus = Corpus(tiny_data)
    cid = corpus.clip_ids("train", "piano")[0]
    wave = torch.from_numpy(load_audio(corpus.audio_path("train", "piano", cid)))[None]
    cfg = load_config("ldm")["model"]
    torch.manual_seed(0)
    m = build_model(cfg)
    mel = m.codec.mel_from_wave(wave)
    m.codec.fit(lambda: iter([mel]))
    x = m.features(wave)[:, :128]
    assert x.shape == (1, 128, 128) and x.var() > 0.1
    opt = torch.optim.Adam(m.autoencoder.parameters(), 3e-3)
    for _ in range(200):
        y = m.autoencoder.decode(m.autoencoder.posterior(x)[0])
        loss = (y - x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        y = m.autoencoder.decode(m.autoencoder.posterior(x)[0])
        rel = float((y - x).square().mean() / x.var())
    assert rel < 0.05


# -- losses and their gradients ------------------------------------------------------------------
def test_perceptual_and_style_losses_are_differentiable():
    """The seed computed these under no_grad; here both the input and the parameters of every
    feature layer receive non-zero gradients (the classifier head plays no part in them)."""
    m = _model()
    obj = LDMObjective(m, {})
    net = obj.discriminator
    x, target = _patches(m), _patches(m, seed=1)
    x_hat = x.clone().requires_grad_()
    (perceptual_loss(net, x_hat, target) + style_loss(net, x_hat, target)).backward()
    assert x_hat.grad.abs().sum() > 0
    for name, p in net.stages.named_parameters():  # every layer the features come from
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert perceptual_loss(net, target, target) == 0 and style_loss(net, target, target) == 0


def _batch(m, b=4):
    from audiostyle.training.data import Batch

    frames, bins = m.cfg.window_frames, m.spectral.n_bins
    g = torch.Generator().manual_seed(0)
    return Batch(torch.randn(b, 2, frames, bins, generator=g) * 0.3, torch.arange(b) % 2)


def test_x0_losses_train_the_generator_through_the_feature_network():
    """Stage 2 with only the decoded-x0 terms on: gradients reach the decoder, the UNet and the
    style encoder through the feature network; the frozen encoder and the feature network's
    own weights get none (the latter learn from their classification loss)."""
    m = _untrained_to_random(_model()).train()
    obj = LDMObjective(m, {"weights": {"recon": 0.0, "diffusion": 0.0}})
    _untrained_to_random(obj.discriminator)
    out = obj.generator_losses(_batch(m), step=99, total=100)
    assert out["stage"] == 2 and out["x0_perceptual"] > 0 and out["style"] > 0
    out["total"].backward()
    grad = lambda mod: sum(float(p.grad.abs().sum()) for p in mod.parameters() if p.grad is not None)
    assert grad(m.autoencoder.decoder) > 0 and grad(m.unet) > 0 and grad(m.style_encoder) > 0
    assert all(p.grad is None for p in m.autoencoder.encoder.parameters())
    assert all(p.grad is None for p in obj.discriminator.parameters())
    d = obj.discriminator_losses()
    d["total"].backward()
    assert grad(obj.discriminator) > 0


def test_two_stages_switch_at_the_configured_fraction():
    m = _model().train()
    obj = LDMObjective(m, {"ae_fraction": 0.3})
    assert [obj.stage(s, 100) for s in (0, 29, 30, 99)] == [1, 1, 2, 2]
    out = obj.generator_losses(_batch(m), step=0, total=100)
    assert set(out) >= {"recon/mel", "recon/perceptual", "kl"} and "diffusion" not in out
    out["total"].backward()
    assert all(p.grad is None for p in m.unet.parameters())
    assert float(m.latent_std) == 0
    m.zero_grad(set_to_none=True)
    out = obj.generator_losses(_batch(m), step=30, total=100)
    assert "diffusion" in out and float(m.latent_std) > 0  # latent scale measured on entering stage 2
    out["total"].backward()
    assert all(p.grad is None for p in m.autoencoder.encoder.parameters())


def test_style_partners_are_other_clips_of_the_same_instrument():
    labels = torch.tensor([0, 0, 1, 1, 0, 2])
    p = same_class_partners(labels)
    assert torch.equal(labels[p], labels)
    assert p.tolist() == [1, 4, 3, 2, 0, 5]


# -- end to end ----------------------------------------------------------------------------------
def test_trained_tiny_model_transfers_through_audiostyle_load(tiny_data, tmp_path):
    import audiostyle
    from audiostyle.training.loop import train

    over = [f"model.{k}={v}" for k, v in TINY.items()] + ["model.ddim_steps=3"]
    over += ["train.steps=4", "train.batch_size=4", "train.warmup_steps=1", "train.log_every=1",
             "train.checkpoint_every=4", "train.prototype_clips=2", "train.objective.ae_fraction=0.5"]
    train(load_config("ldm", over), tiny_data, tmp_path / "run", progress=False)
    model = audiostyle.load(tmp_path / "run" / "model.safetensors")
    assert model.model.kind == "ldm" and float(model.model.latent_std) > 0
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(int(2.3 * 22050))).astype(np.float32)  # several windows
    out, sr = model.transfer(wave, 22050, to="violin")
    assert sr == 22050 and out.shape == wave.shape and np.isfinite(out).all()
    out, _ = model.transfer(wave[:30000], 44100, to="piano", reference=wave, reference_sr=22050)
    assert out.shape == (15000,) and np.isfinite(out).all()
