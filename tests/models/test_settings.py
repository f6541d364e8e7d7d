"""Inference settings: which config fields a trained model lets a caller change, checked."""

import pytest
import torch

from audiostyle.config import load_config
from audiostyle.errors import AudioStyleError
from audiostyle.models.registry import build_model
from audiostyle.models.settings import apply_settings, parse_pairs


def test_parse_pairs():
    assert parse_pairs(["ddim_steps=10", " strength = 0.3 "]) == {"ddim_steps": "10", "strength": "0.3"}
    assert parse_pairs(None) == {}
    with pytest.raises(AudioStyleError, match="NAME=VALUE"):
        parse_pairs(["ddim_steps"])


@pytest.fixture(scope="module")
def ldm():
    torch.manual_seed(0)
    return build_model(load_config("ldm")["model"])


def test_values_are_converted_and_applied(ldm):
    applied = apply_settings(ldm, {"ddim_steps": "10", "strength": "0.25", "griffin_lim_iters": 8.0})
    assert applied == {"ddim_steps": 10, "strength": 0.25, "griffin_lim_iters": 8}
    assert isinstance(applied["ddim_steps"], int)
    assert (ldm.cfg.ddim_steps, ldm.cfg.strength, ldm.cfg.griffin_lim_iters) == (10, 0.25, 8)


@pytest.mark.parametrize("settings, message", [
    ({"strength": "1.5"}, r"strength='1.5': must be in \[0.0, 1.0\]"),
    ({"ddim_steps": "0"}, "ddim_steps='0': must be >= 1"),
    ({"ddim_steps": "2.5"}, "expected an integer"),
    ({"griffin_lim_iters": "-1"}, "must be >= 0"),
    ({"eta": "fast"}, "expected a number"),
    ({"n_mels": "64"}, "no inference setting 'n_mels'.*ddim_steps, eta, griffin_lim_iters, strength"),
])
def test_bad_settings_are_refused_and_nothing_changes(ldm, settings, message):
    before = dict(vars(ldm.cfg))
    with pytest.raises(AudioStyleError, match=message):
        apply_settings(ldm, {"ddim_steps": "7", **settings})
    assert vars(ldm.cfg) == before  # all-or-nothing: the valid ddim_steps=7 was not applied either


@pytest.mark.parametrize("kind, name", [("flagship-tiny", "phase_refine_iters"), ("twin-ae", "griffin_lim_iters"),
                                        ("feature-vae", "griffin_lim_iters")])
def test_every_model_kind_declares_its_settings(kind, name):
    model = build_model(load_config(kind)["model"])
    assert apply_settings(model, {name: "3"}) == {name: 3} and getattr(model.cfg, name) == 3


def test_a_word_setting_takes_only_its_words():
    model = build_model(load_config("flagship-tiny")["model"])
    assert apply_settings(model, {"inference_feedback": "generated"}) == {"inference_feedback": "generated"}
    assert model.cfg.inference_feedback == "generated"
    with pytest.raises(AudioStyleError, match="inference_feedback='fed': must be one of masked, generated"):
        apply_settings(model, {"inference_feedback": "fed"})
    assert model.cfg.inference_feedback == "generated"
