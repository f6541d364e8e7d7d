import shutil

import numpy as np
import soundfile as sf
import torch

from audiostyle.data.layout import Corpus
from audiostyle.features.normalize import STATS_FILE, FeatureNorm, compute_stats
from audiostyle.features.store import FeatureStore, ensure_stats


def _copy(tiny_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data, ignore=shutil.ignore_patterns("cache", STATS_FILE))
    return data


def _scale_split(data, split, factor):
    for wav in (data / split).rglob("*.wav"):
        x, sr = sf.read(wav, dtype="float32")
        sf.write(wav, np.clip(x * factor + 0.01 * np.random.default_rng(0).standard_normal(len(x)), -1, 1), sr)


def test_statistics_come_from_the_train_split_only(tiny_data, tmp_path):
    data = _copy(tiny_data, tmp_path)
    store = FeatureStore(data)
    before = ensure_stats(Corpus(data), store)
    assert (data / STATS_FILE).exists()
    assert before.meta["split"] == "train" and before.meta["clips"] == len(Corpus(data).items("train"))

    # Changing val and test changes nothing ...
    _scale_split(data, "val", 5.0)
    _scale_split(data, "test", 0.1)
    shutil.rmtree(data / "cache")
    (data / STATS_FILE).unlink()
    same = ensure_stats(Corpus(data), FeatureStore(data))
    assert torch.allclose(before.mean, same.mean) and torch.allclose(before.std, same.std)

    # ... while changing train does.
    _scale_split(data, "train", 3.0)
    shutil.rmtree(data / "cache")
    (data / STATS_FILE).unlink()
    changed = ensure_stats(Corpus(data), FeatureStore(data))
    assert not torch.allclose(before.std, changed.std, rtol=0.05)


def test_statistics_are_shared_by_all_instruments(tiny_data, tmp_path):
    data = _copy(tiny_data, tmp_path)
    corpus, store = Corpus(data), FeatureStore(data)
    shared = ensure_stats(corpus, store)
    assert shared.mean.shape == (2, store.cfg.n_bins)  # one set, not one per instrument

    def per(inst):
        feats = [torch.from_numpy(store.get("train", i, c, p).astype(np.float32))[None] for i, c, p in corpus.items("train") if i == inst]
        return compute_stats(feats, power=store.power)

    piano, violin = per("piano"), per("violin")
    # pooled std lies between (or above, through the mean shift) the per-instrument ones; it
    # must differ from both: per-instrument statistics would divide each timbre out
    assert not torch.allclose(shared.std, piano.std, rtol=0.02)
    assert not torch.allclose(shared.std, violin.std, rtol=0.02)
    lo = torch.minimum(piano.std, violin.std)
    assert bool((shared.std >= lo * 0.999).all())


def test_stats_file_round_trip_and_stale_key_recomputes(tiny_data, tmp_path):
    data = _copy(tiny_data, tmp_path)
    norm = ensure_stats(Corpus(data), FeatureStore(data))
    loaded = FeatureNorm.load(data / STATS_FILE)
    assert torch.equal(loaded.std, norm.std)
    other = FeatureStore(data, power=0.5)  # other settings: other cache key, fresh statistics
    assert ensure_stats(Corpus(data), other).power == 0.5
