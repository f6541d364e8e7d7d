"""Shipped models: publishing a trained model and loading it back by name, hash-checked."""

import json

import numpy as np
import pytest

from audiostyle import hub
from audiostyle.errors import AudioStyleError, CheckpointError


@pytest.fixture
def pretrained(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    (folder / "models.json").write_text("{}")
    monkeypatch.setattr(hub, "PRETRAINED_DIR", folder)
    return folder


def test_publish_then_load_by_name(tiny_model, pretrained):
    entry = hub.publish(tiny_model, "tiny", "test model", "audiostyle train flagship-tiny ...", pretrained_dir=pretrained)
    listed = json.loads((pretrained / "models.json").read_text())
    assert listed == {"tiny": entry}
    assert entry["instruments"] == ["piano", "violin"] and entry["kind"] == "flagship"
    assert len(entry["sha256"]) == 64 and entry["size_mb"] > 0
    model = hub.load("tiny")
    out, sr = model.transfer(np.zeros(4000, np.float32) + 0.01, 22050, to="violin")
    assert out.shape == (4000,) and np.isfinite(out).all()


def test_a_tampered_shipped_model_is_refused(tiny_model, pretrained):
    hub.publish(tiny_model, "tiny", "test model", "cmd", pretrained_dir=pretrained)
    path = pretrained / "tiny.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        hub.load("tiny")


def test_publish_refuses_what_is_not_a_model(tmp_path, pretrained):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(AudioStyleError):
        hub.publish(bad, "bad", "d", "c", pretrained_dir=pretrained)
    assert json.loads((pretrained / "models.json").read_text()) == {}
    assert not (pretrained / "bad.safetensors").exists()


def test_inference_settings_from_the_shipped_entry_and_the_caller(tiny_model, pretrained):
    entry = hub.publish(tiny_model, "tiny", "d", "c", pretrained_dir=pretrained, settings={"phase_refine_iters": "5"})
    assert entry["inference"] == {"phase_refine_iters": 5}
    shipped = hub.load("tiny")
    assert shipped.settings == {"phase_refine_iters": 5} and shipped.model.cfg.phase_refine_iters == 5
    overridden = hub.load("tiny", settings={"phase_refine_iters": "4"})  # the caller's value wins
    assert overridden.settings == {"phase_refine_iters": 4} and overridden.model.cfg.phase_refine_iters == 4
    plain = hub.load(tiny_model)
    assert plain.settings == {} and plain.model.cfg.phase_refine_iters == 0  # the config's own value


def test_publish_refuses_a_setting_the_model_does_not_have(tiny_model, pretrained):
    with pytest.raises(AudioStyleError, match="no inference setting 'ddim_steps'.*phase_refine_iters"):
        hub.publish(tiny_model, "tiny", "d", "c", pretrained_dir=pretrained, settings={"ddim_steps": "10"})
    assert json.loads((pretrained / "models.json").read_text()) == {}


def _tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * 22050)) / 22050
    return (0.2 * np.sin(2 * np.pi * hz * t) * np.exp(-3 * (t % 0.4))).astype(np.float32)


def test_with_prototype_of_one_recording_is_the_one_shot_style(tiny_model, tmp_path):
    ref, src = _tone(3.5, 660), _tone(2.0, 330)
    record = hub.with_prototype(tiny_model, "violin", [ref], tmp_path / "v.safetensors")
    assert record["instrument"] == "violin" and record["recordings"] == 1 and record["seconds"] == 3.5
    original, copy = hub.load(tiny_model), hub.load(tmp_path / "v.safetensors")
    one_shot, _ = original.transfer(src, 22050, to="violin", reference=ref)
    from_copy, _ = copy.transfer(src, 22050, to="violin")
    np.testing.assert_allclose(from_copy, one_shot, atol=1e-5)
    np.testing.assert_array_equal(copy.model.prototypes[0].numpy(), original.model.prototypes[0].numpy())  # piano kept
    assert not np.allclose(copy.model.prototypes[1].numpy(), original.model.prototypes[1].numpy())
    assert copy.model.extra["prototypes"] == [record]
    assert record["distance_from_previous"] > 0


def test_with_prototype_weighs_each_recording_once_and_keeps_settings(tiny_model, pretrained, tmp_path):
    hub.publish(tiny_model, "tiny", "d", "c", pretrained_dir=pretrained, settings={"phase_refine_iters": "3"})
    short, long = _tone(1.0, 440), _tone(9.0, 880)
    hub.with_prototype("tiny", "piano", [short, long], tmp_path / "p.safetensors")
    copy, shipped = hub.load(tmp_path / "p.safetensors"), hub.load("tiny")
    model = shipped.model
    import torch

    expected = (model.style_vector("piano", torch.from_numpy(short)) + model.style_vector("piano", torch.from_numpy(long))) / 2
    np.testing.assert_allclose(copy.model.prototypes[0].numpy(), expected.numpy(), atol=1e-6)
    assert copy.model.cfg.phase_refine_iters == 3  # the shipped entry's setting travels with the copy


def test_with_prototype_refuses_bad_requests_and_writes_nothing(tiny_model, tmp_path):
    tone = [_tone(1.0, 440)]
    with pytest.raises(AudioStyleError, match="cannot play 'cello'"):
        hub.with_prototype(tiny_model, "cello", tone, tmp_path / "c.safetensors")
    with pytest.raises(AudioStyleError, match="must be a .safetensors file"):
        hub.with_prototype(tiny_model, "violin", tone, tmp_path / "c.pt")
    with pytest.raises(AudioStyleError, match="does not exist"):
        hub.with_prototype(tiny_model, "violin", tone, tmp_path / "no" / "c.safetensors")
    assert list(tmp_path.iterdir()) == []
