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
