import numpy as np
import pytest
import torch

from audiostyle.features.spectral import istft, stft
from audiostyle.models.registry import build_model
from audiostyle.training.data import Batch
from audiostyle.training.objectives import make_objective
from audiostyle.training.objectives.feature_vae import add_noise, augment, pitch_shift, time_stretch

SR = 22050


def _sine(f, seconds=1.0):
    t = torch.arange(int(seconds * SR)) / SR
    return (0.3 * torch.sin(2 * np.pi * f * t))[None]


def test_augmentations_at_their_neutral_values_change_nothing():
    spec = stft(0.1 * torch.randn(2, 8000))
    assert torch.allclose(pitch_shift(spec, torch.zeros(2)), spec, atol=1e-5)
    assert torch.allclose(time_stretch(spec, torch.ones(2)), spec, atol=1e-5)
    wave = torch.randn(2, 100)
    assert torch.equal(add_noise(wave, torch.full((2,), float("inf"))), wave)


def test_pitch_shift_moves_a_sine_by_the_interval():
    spec = stft(_sine(440.0))
    up = pitch_shift(spec, torch.tensor([2.0]))
    peak = lambda s: float(s.abs()[0, :, 20].argmax()) * SR / 1024
    assert peak(up) == pytest.approx(440.0 * 2 ** (2 / 12), abs=SR / 1024)
    wave = istft(up, length=SR)
    assert peak(stft(wave)) == pytest.approx(440.0 * 2 ** (2 / 12), abs=SR / 1024)  # survives resynthesis


def test_time_stretch_and_noise():
    env = torch.zeros(1, SR)
    env[0, 11025:12025] = torch.randn(1000)  # a burst at 0.5 s
    spec = stft(env)
    fast = time_stretch(spec, torch.tensor([1.25]))
    frame = lambda s: int(s.abs()[0].sum(0).argmax())
    assert frame(fast) == pytest.approx(frame(spec) / 1.25, abs=2)
    wave = _sine(300.0)
    noisy = add_noise(wave, torch.tensor([20.0]))
    snr = 10 * torch.log10(wave.square().sum() / (noisy - wave).square().sum())
    assert float(snr) == pytest.approx(20.0, abs=0.5)


def test_augment_keeps_shapes_and_switches_work():
    spec = stft(0.1 * torch.randn(4, 8000))
    cfg = {"prob": 1.0, "pitch_shift": 2.0, "time_stretch": 0.2, "noise_snr_db": [20.0, 40.0]}
    out, wave = augment(spec, cfg)
    assert out.shape == spec.shape and wave.shape == (4, (spec.shape[2] - 1) * 256)
    off, _ = augment(spec, {**cfg, "prob": 0.0})
    assert torch.allclose(off, spec, atol=1e-4)


def test_objective_terms_are_finite_and_reach_every_part():
    torch.manual_seed(0)
    m = build_model({"kind": "feature-vae", "cnn_channels": 4, "latent_dim": 4, "window_frames": 32})
    obj = make_objective(m, {"objective": {"augment": {"prob": 1.0}}})
    assert obj.discriminator is None
    batch = Batch(0.3 * torch.rand(4, 2, 32, 597), torch.tensor([0, 0, 1, 1]))
    g = obj.generator_losses(batch, 0, 10)
    assert set(g) == {"recon/mel", "recon/style", "kl", "total"} and all(torch.isfinite(v) for v in g.values())
    g["total"].backward()
    for part in (m.content_encoder, m.style_encoder, m.style_decoder, m.recombination):
        assert all(p.grad is not None for p in part.parameters())  # trained together
