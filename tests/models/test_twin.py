import numpy as np
import pytest
import torch

from audiostyle.errors import AudioStyleError
from audiostyle.models.checkpoint import load_model, save_model
from audiostyle.models.registry import build_model, model_config
from audiostyle.models.twin import TwinAutoencoders

KINDS = ["twin-ae", "twin-vae", "twin-gan-adain", "twin-vae-gan"]
TINY = {"cnn_channels": 4, "latent_dim": 4, "style_dim": 3, "window_frames": 32}


def _tiny(kind, **over):
    torch.manual_seed(0)
    return build_model({"kind": kind, **TINY, **over}).eval()


@pytest.mark.parametrize("kind", KINDS)
def test_kind_sets_the_switches_and_shapes(kind):
    m = _tiny(kind)
    assert isinstance(m, TwinAutoencoders) and m.kind == kind
    assert (m.cfg.vae, m.cfg.adain, m.cfg.gan) == {
        "twin-ae": (False, False, False), "twin-vae": (True, False, False),
        "twin-gan-adain": (False, True, True), "twin-vae-gan": (True, True, True),
    }[kind]
    x = torch.rand(4, 33, 256)  # odd length: padded for the strides, cropped back
    labels = torch.tensor([0, 0, 1, 1])
    lat = m.encode(x, labels)
    assert lat.content.shape == (4, 4, 9, 8)  # 33 frames padded to 36 -> one step per 4 frames; 256 bands / 32
    assert (lat.style is not None) == m.cfg.adain and (lat.content_mu is not None) == m.cfg.vae
    assert m.decode(lat.content, labels, lat.style, 33).shape == x.shape
    assert m.encode_style(x, labels).shape == (4, m.style_size)


def test_each_instrument_has_its_own_autoencoder():
    m = _tiny("twin-ae", instruments=["piano", "violin", "flute"])
    assert len(m.encoders) == len(m.decoders) == 3
    x = torch.rand(3, 32, 256)
    lat = m.encode(x, torch.tensor([0, 1, 2]))
    alone = m.encoders[2](x[2:, None])[1]
    assert torch.allclose(lat.content[2:], alone, atol=1e-6)  # routed through encoder 2 only


@pytest.mark.parametrize("kind", KINDS)
def test_checkpoint_rebuilds_from_its_config(kind, tmp_path):
    m = _tiny(kind)
    m.codec.band_std.uniform_(0.5, 2.0)
    m.prototypes[:, :2] = torch.eye(2)
    save_model(m, tmp_path / "m.safetensors")
    again = load_model(tmp_path / "m.safetensors")
    assert again.kind == kind and model_config(again) == model_config(m)
    x = torch.rand(2, 32, 256)
    d = torch.tensor([0, 1])
    a, b = m.encode(x, d), again.encode(x, d)
    assert torch.allclose(m.decode(a.content, d, a.style), again.decode(b.content, d, b.style), atol=1e-6)
    assert torch.equal(again.codec.band_std, m.codec.band_std)


def test_invalid_geometry_is_a_config_error():
    from audiostyle.errors import ConfigError

    with pytest.raises(ConfigError, match="not divisible"):
        build_model({"kind": "twin-ae", "n_mels": 100})
    with pytest.raises(ConfigError, match="at least two"):
        build_model({"kind": "twin-vae", "instruments": ["piano"]})


def test_source_detection_picks_the_autoencoder_that_reconstructs_best():
    m = _tiny("twin-ae")

    class IdentityEncoder(torch.nn.Module):
        def forward(self, x):
            return x, x

    class IdentityDecoder(torch.nn.Module):
        def forward(self, z, style=None):
            return z

    m.encoders[1], m.decoders[1] = IdentityEncoder(), IdentityDecoder()  # domain 1 reconstructs perfectly
    x = torch.rand(2, 32, 256)
    assert float(m.reconstruction_errors(x)[1]) == 0.0
    assert m.detect_source(x) == 1


def test_a_given_source_chooses_the_encoder_and_skips_detection(monkeypatch):
    from audiostyle.inference import Transfer

    m = _tiny("twin-ae", griffin_lim_iters=0)
    seen = []
    original = m.encode
    monkeypatch.setattr(m, "encode", lambda x, domains, sample=False: seen.append(domains.tolist()) or original(x, domains))
    monkeypatch.setattr(m, "detect_source", lambda x: 1)  # a wrong guess, if it were asked
    wave = 0.1 * np.random.default_rng(0).standard_normal(m.window_samples).astype(np.float32)
    transfer = Transfer(m)
    assert transfer.uses_source
    transfer.transfer(wave, 22050, to="violin", source="piano")
    assert seen and all(set(d) == {0} for d in seen)  # piano's encoder, detection never consulted
    seen.clear()
    transfer.transfer(wave, 22050, to="violin")
    assert seen and all(set(d) == {1} for d in seen)  # without a source: the guess
    with pytest.raises(AudioStyleError, match="cannot play 'banjo'"):
        transfer.transfer(wave, 22050, to="violin", source="banjo")


def test_style_vectors():
    ae = _tiny("twin-ae")
    assert torch.equal(ae.style_vector("violin"), torch.tensor([0.0, 1.0]))  # usable before training
    with pytest.raises(AudioStyleError, match="cannot take a reference"):
        ae.style_vector("violin", torch.zeros(5000))
    gan = _tiny("twin-gan-adain")
    s = gan.style_vector("piano", 0.1 * torch.randn(20000))
    assert s.shape == (gan.style_size,) and s[0] == 1 and s[1] == 0


@pytest.mark.parametrize("kind", ["twin-ae", "twin-vae-gan"])
def test_transfer_window_keeps_length_and_is_finite(kind):
    m = _tiny(kind, griffin_lim_iters=2)
    wave = 0.1 * torch.randn(2, m.window_samples)
    out = m.transfer_window(wave, m.style_vector("violin")[None].expand(2, -1))
    assert out.shape == wave.shape and torch.isfinite(out).all()


def test_transfer_round_trip_of_a_tiny_trained_model(tiny_data, tmp_path):
    import audiostyle
    from audiostyle.config import load_config
    from audiostyle.training.loop import train

    cfg = load_config("twin-ae", ["train.steps=3", "train.batch_size=4", "train.warmup_steps=1", "model.cnn_channels=4",
                                   "model.window_frames=32", "model.griffin_lim_iters=4", "train.prototype_clips=2"])
    train(cfg, tiny_data, tmp_path / "run", progress=False)
    model = audiostyle.load(tmp_path / "run")
    assert model.instruments == ["piano", "violin"] and float(model.model.codec.global_std) != 1.0  # fitted
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(int(1.3 * 22050))).astype(np.float32)
    out, sr = model.transfer(wave, 22050, to="violin")
    assert sr == 22050 and out.shape == wave.shape and np.isfinite(out).all()
