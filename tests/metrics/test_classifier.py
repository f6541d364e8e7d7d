import numpy as np
import pytest

from audiostyle.errors import AudioStyleError, CheckpointError
from audiostyle.metrics import classifier as C
from audiostyle.metrics.classifier import InstrumentClassifier, clip_features, feature_dim


def _clip(synth, kind: str, rng: np.random.Generator, seconds: float = 2.0) -> np.ndarray:
    n = int(rng.integers(3, 8))
    onsets = np.sort(rng.uniform(0, seconds - 0.4, n))
    notes = [(o, min(o + rng.uniform(0.2, 0.8), seconds), int(rng.integers(45, 85))) for o in onsets]
    decay = rng.uniform(0.5, 3.0)
    if kind == "saw":  # bright: 25 partials at 1/k
        return synth.render(notes, seconds, n_harm=25, rolloff=1.0, decay=decay, peak=rng.uniform(0.1, 0.9))
    return synth.render(notes, seconds, n_harm=2, rolloff=2.0, decay=decay, peak=rng.uniform(0.1, 0.9))


@pytest.fixture(scope="module")
def data(synth):
    rng = np.random.default_rng(0)
    labels = ["saw" if i % 2 else "sine" for i in range(100)]
    waves = [_clip(synth, k, rng) for k in labels]
    return waves[:60], labels[:60], waves[60:], labels[60:]


@pytest.fixture(scope="module")
def trained(data):
    return InstrumentClassifier(n_jobs=1).fit(data[0], data[1])


def test_features(synth):
    rng = np.random.default_rng(1)
    f = clip_features(_clip(synth, "saw", rng))
    assert f.shape == (feature_dim(),) and np.all(np.isfinite(f))
    assert np.all(np.isfinite(clip_features(np.zeros(3000, np.float32))))  # silence is defined
    wave = _clip(synth, "sine", rng)
    # Level-normalised: a gain change moves features only by float32 rounding in near-silent bins.
    np.testing.assert_allclose(clip_features(wave), clip_features(0.1 * wave), rtol=0.05, atol=0.1)


def test_separates_two_timbres_on_held_out_clips(trained, data):
    _xtr, _ytr, x_test, y_test = data
    assert trained.classes_ == ["saw", "sine"]
    assert trained.accuracy(x_test, y_test) >= 0.95
    proba = trained.predict_proba(x_test)
    assert proba.shape == (len(x_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_parallel_features_match_serial(data):
    waves = data[2][:8]
    np.testing.assert_allclose(C.extract_features(waves, n_jobs=2), C.extract_features(waves, n_jobs=1), rtol=1e-6, atol=1e-6)


def test_save_load_round_trip(trained, data, tmp_path):
    path = trained.save(tmp_path / "clf.joblib")
    loaded = InstrumentClassifier.load(path, n_jobs=1)
    assert loaded.classes_ == trained.classes_
    x_test = data[2]
    np.testing.assert_array_equal(loaded.predict_proba(x_test), trained.predict_proba(x_test))
    assert loaded.predict(x_test) == trained.predict(x_test)


def test_load_rejects_bad_files(trained, tmp_path, monkeypatch):
    import joblib

    with pytest.raises(CheckpointError, match="no such"):
        InstrumentClassifier.load(tmp_path / "missing.joblib")
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"not a pickle at all")
    with pytest.raises(CheckpointError, match="not a readable"):
        InstrumentClassifier.load(garbage)
    other = tmp_path / "other.joblib"
    joblib.dump({"format": "something-else"}, other)
    with pytest.raises(CheckpointError, match="not an audiostyle"):
        InstrumentClassifier.load(other)
    good = trained.save(tmp_path / "good.joblib")
    truncated = tmp_path / "truncated.joblib"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError):
        InstrumentClassifier.load(truncated)
    monkeypatch.setattr(C, "FORMAT_VERSION", 99)
    with pytest.raises(CheckpointError, match="version"):
        InstrumentClassifier.load(good)
    monkeypatch.setattr(C, "FORMAT_VERSION", 1)
    monkeypatch.setitem(C.FEATURE_CONFIG, "n_mels", 80)
    with pytest.raises(CheckpointError, match="different features"):
        InstrumentClassifier.load(good)


def test_usage_errors(synth):
    rng = np.random.default_rng(2)
    waves = [_clip(synth, "saw", rng, 1.0) for _ in range(3)]
    with pytest.raises(AudioStyleError, match="not trained"):
        InstrumentClassifier().predict(waves)
    with pytest.raises(AudioStyleError, match="two instruments"):
        InstrumentClassifier(n_jobs=1).fit(waves, ["saw"] * 3)
    with pytest.raises(AudioStyleError, match="labels"):
        InstrumentClassifier(n_jobs=1).fit(waves, ["saw", "sine"])
    with pytest.raises(AudioStyleError):
        clip_features(np.zeros(0, np.float32))
    with pytest.raises(AudioStyleError, match="22050"):
        clip_features(waves[0], sr=16000)


def test_train_or_load_caches(synth, tmp_path, monkeypatch):
    import soundfile as sf

    rng = np.random.default_rng(3)
    for kind in ("saw", "sine"):
        (tmp_path / "data" / "train" / kind).mkdir(parents=True)
        for i in range(6):
            sf.write(tmp_path / "data" / "train" / kind / f"{i}.wav", _clip(synth, kind, rng, 1.0), 22050)
    (tmp_path / "data" / "train" / "notes").mkdir()  # not an instrument: ignored
    cache = tmp_path / "clf.joblib"
    first = C.train_or_load(tmp_path / "data", cache, n_jobs=1)
    assert first.classes_ == ["saw", "sine"] and cache.is_file()

    def no_fit(*_a, **_k):
        raise AssertionError("retrained although the cache is valid")

    monkeypatch.setattr(InstrumentClassifier, "fit", no_fit)
    second = C.train_or_load(tmp_path / "data", cache, n_jobs=1)
    assert second.meta == first.meta
    # A changed training set invalidates the cache.
    sf.write(tmp_path / "data" / "train" / "saw" / "extra.wav", _clip(synth, "saw", rng, 1.0), 22050)
    with pytest.raises(AssertionError, match="retrained"):
        C.train_or_load(tmp_path / "data", cache, n_jobs=1)
