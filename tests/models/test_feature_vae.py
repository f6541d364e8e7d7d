import numpy as np
import pytest
import torch

from audiostyle.features.descriptors import descriptor_names
from audiostyle.models.checkpoint import load_model, save_model
from audiostyle.models.feature_vae import FeatureVAE
from audiostyle.models.registry import build_model, model_config

TINY = {"kind": "feature-vae", "cnn_channels": 4, "latent_dim": 4, "style_dim": 5, "window_frames": 32,
        "griffin_lim_iters": 2}


def _tiny(**over):
    torch.manual_seed(0)
    return build_model({**TINY, **over}).eval()


def test_shapes():
    m = _tiny()
    assert isinstance(m, FeatureVAE) and m.kind == "feature-vae"
    wave = 0.1 * torch.randn(3, m.window_samples)
    spec = m.features(wave)
    assert spec.shape == (3, 513, 33) and spec.is_complex()
    assert m.descriptors(spec).shape == (3, len(descriptor_names(20)))
    assert m.encode_style(spec).shape == (3, 5)
    assert m.encode_content(spec).shape == (3, 9, 4 * 8)  # (B, steps, channels x bands): probes read this
    z, mu, logvar = m.sample_content(m.mel_input(spec))
    assert z.shape == mu.shape == logvar.shape == (3, 4, 9, 8)
    assert m.decode(mu, m.encode_style(spec), 33).shape == (3, 33, 256)  # the input's shape, always


def test_cache_input_is_the_linear_complex_stft():
    from audiostyle.features.normalize import complex_to_channels, compress
    from audiostyle.features.spectral import analyze, stft

    m = _tiny()
    wave = 0.1 * torch.randn(1, 8000)
    raw = analyze(wave)
    comp = complex_to_channels(compress(torch.complex(raw[:, 0], raw[:, 1]), 0.3))
    assert torch.allclose(m.norm.standardize(comp), stft(wave), atol=1e-4)


def test_checkpoint_rebuilds_from_its_config(tmp_path):
    m = _tiny()
    m.desc_mean.uniform_()
    m.prototypes.normal_()
    save_model(m, tmp_path / "m.safetensors")
    again = load_model(tmp_path / "m.safetensors")
    assert model_config(again) == model_config(m)
    spec = m.features(0.1 * torch.randn(2, m.window_samples))
    assert torch.allclose(again.encode_style(spec), m.encode_style(spec), atol=1e-6)
    assert torch.equal(again.prototypes, m.prototypes)


def test_style_vectors_and_transfer_window():
    m = _tiny()
    m.prototypes.normal_()
    assert torch.equal(m.style_vector("violin"), m.prototypes[1])
    ref = m.style_vector("violin", 0.1 * torch.randn(20000))
    assert ref.shape == (5,)
    wave = 0.1 * torch.randn(2, m.window_samples)
    out = m.transfer_window(wave, ref[None].expand(2, -1))
    assert out.shape == wave.shape and torch.isfinite(out).all()


def test_trains_and_transfers_with_a_reference(tiny_data, tmp_path):
    import audiostyle
    from audiostyle.config import load_config
    from audiostyle.training.loop import train

    cfg = load_config("feature-vae", ["train.steps=3", "train.batch_size=4", "train.warmup_steps=1",
                                       "model.cnn_channels=4", "model.window_frames=32", "model.griffin_lim_iters=4",
                                       "train.prototype_clips=2"])
    train(cfg, tiny_data, tmp_path / "run", progress=False)
    model = audiostyle.load(tmp_path / "run")
    m = model.model
    assert float(m.desc_std.sub(1).abs().sum()) > 0 and m.prototypes.abs().sum() > 0  # fitted on the train split
    wave = (0.1 * np.random.default_rng(0).standard_normal(30000)).astype(np.float32)
    out, _ = model.transfer(wave, 22050, to="piano", reference=wave[:20000])
    assert out.shape == wave.shape and np.isfinite(out).all()


def test_mismatched_cache_compression_is_refused():
    from audiostyle.features.normalize import FeatureNorm

    with pytest.raises(ValueError, match="do not match"):
        _tiny().set_norm(FeatureNorm(power=0.5))
