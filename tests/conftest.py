"""Shared fixtures: tiny rendered data sets and a tiny trained model, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_OVERRIDES = ["train.steps=4", "train.log_every=1", "train.checkpoint_every=2"]


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """Piano + violin pairs: 10 clips per instrument of 2 s, split by work."""
    from audiostyle.data.render import render_corpus

    out = tmp_path_factory.mktemp("tiny") / "data"
    render_corpus(out, instruments=("piano", "violin"), clips_per_instrument=10, seconds=2.0, seed=3, progress=False, workers=1)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_data, tmp_path_factory) -> Path:
    """A flagship-tiny run trained for a few steps; returns its run folder."""
    from audiostyle.config import load_config
    from audiostyle.training.loop import train

    run = tmp_path_factory.mktemp("run") / "tiny"
    train(load_config("flagship-tiny", TINY_OVERRIDES), tiny_data, run, progress=False)
    return run
