"""Disentanglement diagnostics: linear probes, t-SNE maps, and embeddings of a real model."""

import numpy as np
import pytest

from audiostyle.data.layout import Corpus
from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import probes


def _labels(n, rng):
    return [("piano", "violin")[i] for i in rng.integers(0, 2, size=n)]


def test_probe_reads_a_feature_that_encodes_the_label():
    rng = np.random.default_rng(0)
    ytr, yte = _labels(200, rng), _labels(200, rng)
    enc = lambda ys: np.column_stack([[y == "violin" for y in ys], rng.standard_normal((len(ys), 15))])  # noqa: E731
    out = probes.linear_probe(enc(ytr), ytr, enc(yte), yte)
    assert out["accuracy"] == pytest.approx(1.0)
    assert out["n_train"] == 200 and out["n_test"] == 200 and out["classes"] == ["piano", "violin"]


def test_probe_is_at_chance_on_random_features():
    rng = np.random.default_rng(1)
    ytr, yte = _labels(300, rng), _labels(400, rng)
    out = probes.linear_probe(rng.standard_normal((300, 16)), ytr, rng.standard_normal((400, 16)), yte)
    assert 0.5 <= out["chance"] < 0.6
    assert abs(out["accuracy"] - 0.5) < 0.1


def test_probe_needs_two_classes_and_matching_shapes():
    x = np.zeros((4, 3))
    with pytest.raises(AudioStyleError, match="two instruments"):
        probes.linear_probe(x, ["a"] * 4, x, ["a"] * 4)
    with pytest.raises(AudioStyleError, match="do not fit"):
        probes.linear_probe(x, ["a", "b"], x, ["a"] * 4)


def test_cross_validated_probe_reads_a_label_feature_and_not_noise():
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(60), 2)  # two renderings per work, as in the harness
    y = ["piano", "violin"] * 60
    signal = np.column_stack([[v == "violin" for v in y], rng.standard_normal((120, 7))])
    out = probes.cross_validated_probe(signal, y, groups)
    assert out["accuracy"] == pytest.approx(1.0) and out["folds"] == 5 and out["n"] == 120
    assert out["chance"] == pytest.approx(0.5)
    noise = probes.cross_validated_probe(rng.standard_normal((120, 8)), y, groups)
    assert abs(noise["accuracy"] - 0.5) < 0.15


def test_cross_validated_probe_needs_two_works_and_two_instruments():
    assert "skipped" in probes.cross_validated_probe(np.zeros((4, 2)), ["a", "b", "a", "b"], [0, 0, 0, 0])
    assert "skipped" in probes.cross_validated_probe(np.zeros((4, 2)), ["a"] * 4, [0, 0, 1, 1])
    out = probes.cross_validated_probe(np.eye(4), ["a", "b", "a", "b"], [0, 0, 1, 1])
    assert out["folds"] == 2  # fewer works than the asked 5 folds


def test_tsne_figure(tmp_path):
    rng = np.random.default_rng(2)
    labels = ["piano"] * 6 + ["violin"] * 6
    x = rng.standard_normal((12, 8)) + np.array([[3.0 * (lab == "violin")] for lab in labels])
    path = probes.tsne_figure(x, labels, "t-SNE", tmp_path / "t.png")
    assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG"
    assert probes.tsne_figure(x[:4], labels[:4], "t", tmp_path / "small.png") is None
    assert not (tmp_path / "small.png").exists()


def test_models_without_embeddings_are_skipped(tiny_data, tmp_path):
    out = probes.run_probes(None, Corpus(tiny_data), "test", [], ["piano", "violin"], tmp_path)
    assert "skipped" in out and "embeddings" in out["skipped"]


def test_probes_on_the_tiny_flagship(tiny_model, tiny_data, tmp_path):
    from audiostyle.hub import load

    model = load(tiny_model).model
    corpus = Corpus(tiny_data)
    wave = np.zeros(3 * model.window_samples + 100, dtype=np.float32)
    style, content = probes.clip_embedding(model, wave)
    # silent windows embed alike (batch size changes BLAS paths: float32 rounding, not a difference)
    assert np.allclose(probes.clip_embedding(model, wave, 1)[0], style, rtol=1e-4, atol=1e-5)
    d = model.cfg.latent_dim
    assert style.shape == (d,) and content.shape == (2 * d,)
    assert np.all(np.isfinite(style)) and np.all(np.isfinite(content))
    out = probes.run_probes(model, corpus, "test", corpus.clip_ids("test"), ["piano", "violin"], tmp_path,
                            train_clips=2, seed=0)
    assert out["n_train"] == 4 and out["n_eval"] == 2 * len(corpus.clip_ids("test"))
    for name in ("content", "style"):
        assert 0.0 <= out[name]["accuracy"] <= 1.0 and out[name]["n_train"] == 4
    assert out["embed_s"] >= 0 and "tsne_note" in out  # too few evaluated clips for a map
    for name in ("content_cv", "style_cv"):  # too few works to hold any out, or a real score
        assert "skipped" in out[name] or 0.0 <= out[name]["accuracy"] <= 1.0
