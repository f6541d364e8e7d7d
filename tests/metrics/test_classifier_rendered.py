"""The real-instrument bar: the classifier separates piano from violin renderings of unseen works
in the unseen test soundfont at >= 95%.

Renders a small paired corpus with :func:`audiostyle.data.render.render_corpus` (train/val in the
train font, test in a different font, works split so none is shared), trains on train and scores
test. Skipped only while the data module does not exist; anything else failing is a failure.
"""

import time

import numpy as np
import pytest

render = pytest.importorskip("audiostyle.data.render")

from audiostyle.metrics.classifier import InstrumentClassifier, load_split  # noqa: E402

CLIPS_PER_INSTRUMENT = 100  # 80 train / 10 val / 10 test each
SECONDS = 4.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("rendered") / "set"
    t0 = time.monotonic()
    summary = render.render_corpus(out, instruments=("piano", "violin"), clips_per_instrument=CLIPS_PER_INSTRUMENT,
                                   seconds=SECONDS, seed=0, workers=2, progress=False)
    assert time.monotonic() - t0 < 120
    return out, summary


def test_piano_violin_separated_in_unseen_font(corpus):
    out, summary = corpus
    assert summary["fonts"]["test"] != summary["fonts"]["train"]
    x_train, y_train = load_split(out / "train")
    x_test, y_test = load_split(out / "test")
    assert sorted(set(y_train)) == sorted(set(y_test)) == ["piano", "violin"]
    assert len(x_test) >= 20

    clf = InstrumentClassifier(n_jobs=2).fit(x_train, y_train)
    pred = clf.predict(x_test)
    accuracy = float(np.mean([p == t for p, t in zip(pred, y_test)]))
    wrong = [(t, p) for p, t in zip(pred, y_test) if p != t]
    assert accuracy >= 0.95, f"test-font accuracy {accuracy:.3f}; errors (true, predicted): {wrong}"
