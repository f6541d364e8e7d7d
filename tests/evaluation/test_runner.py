"""Known-answer tests of the evaluation runner on the tiny rendered pairs.

An oracle "model" that returns the true rendering must score exactly like the target row; a
model that returns silence must score worse than doing nothing; the target row is perfect on
the ground-truth metrics; style accuracy matches the classifier's own predictions.
"""

import json
import shutil

import numpy as np
import pytest

from audiostyle.audio.io import load_audio
from audiostyle.data.layout import Corpus
from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import runner, scoring
from audiostyle.evaluation.systems import ClipAudio
from audiostyle.metrics.classifier import InstrumentClassifier

TRANSFER = ("piano:violin", "violin:piano")


class Oracle:
    """Returns the true rendering of the same notes with the requested instrument."""

    name = "oracle"
    instruments = ["piano", "violin"]
    sr = 22050

    def __init__(self, root, split="test"):
        corpus = Corpus(root)
        self.index = {}
        for cid in corpus.clip_ids(split):
            waves = {i: load_audio(corpus.audio_path(split, i, cid)) for i in self.instruments}
            for w in waves.values():
                self.index[scoring.wave_digest(w)] = waves

    def transfer(self, wave, sr, to, reference=None):
        return self.index[scoring.wave_digest(np.asarray(wave, dtype=np.float32))][to], sr


class Silence:
    name = "silence"
    instruments = ["piano", "violin"]
    sr = 22050

    def transfer(self, wave, sr, to, reference=None):
        return np.zeros(len(wave), dtype=np.float32), sr


@pytest.fixture(scope="module")
def data(tiny_data, tmp_path_factory):
    """A private copy of the tiny data set, so this module's cache starts empty."""
    dst = tmp_path_factory.mktemp("eval-data") / "data"
    shutil.copytree(tiny_data, dst, ignore=shutil.ignore_patterns("cache"))
    return dst


# The tiny test split holds a single pair; two train pairs exercise the parallel path (two
# jobs, two loky workers) while the known answers hold on any split.
SPLIT, LIMIT = "train", 2


@pytest.fixture(scope="module")
def oracle_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("oracle") / "report"
    res = runner.evaluate(Oracle(data, SPLIT), data, out, split=SPLIT, limit=LIMIT, workers=2, progress=False)
    return res, out


@pytest.fixture(scope="module")
def silence_run(data, oracle_run, tmp_path_factory):
    # In-process path (one worker); same clips, so every baseline row comes from the cache.
    out = tmp_path_factory.mktemp("silence") / "report"
    res = runner.evaluate(Silence(), data, out, split=SPLIT, limit=LIMIT, workers=1, progress=False)
    return res, out


def per_clip(results, system, task, metric):
    return results["results"][system][task][metric]["per_clip"]


def test_target_row_is_perfect_on_ground_truth(oracle_run):
    res, _ = oracle_run
    for task in TRANSFER:
        stats = res["results"]["target"][task]
        assert stats["lsd"]["mean"] == pytest.approx(0.0, abs=1e-9)
        assert stats["chroma_cos"]["mean"] == pytest.approx(1.0, abs=1e-9)
        assert stats["mfcc_dist"]["mean"] == pytest.approx(0.0, abs=1e-6)
        assert stats["instr_sim"]["mean"] == pytest.approx(1.0, abs=1e-9)
        assert stats["ssm_dist"]["mean"] == pytest.approx(0.0, abs=1e-9)
    for task in ("piano:piano", "violin:violin"):  # reconstruction: the target is the input
        stats = res["results"]["target"][task]
        assert stats["chroma_distance"]["mean"] == pytest.approx(0.0, abs=1e-9)
        assert stats["spec_mse"]["mean"] == pytest.approx(0.0, abs=1e-12)
        assert stats["onset_f1"]["mean"] in (None, 1.0)
        assert stats["pitch_agree"]["mean"] in (None, 1.0)  # the same contour on both sides


def test_style_accuracy_matches_the_classifiers_own_predictions(oracle_run, data):
    res, _ = oracle_run
    clf = InstrumentClassifier.load(res["classifier"]["path"], n_jobs=1)
    corpus = Corpus(data)
    clips = res["data"]["clips"]
    for task in TRANSFER:
        a, b = task.split(":")
        pred_a = clf.predict([load_audio(corpus.audio_path(SPLIT, a, c)) for c in clips])
        pred_b = clf.predict([load_audio(corpus.audio_path(SPLIT, b, c)) for c in clips])
        # target row = the classifier's accuracy on real target renderings
        assert res["results"]["target"][task]["style_acc"]["mean"] == pytest.approx(np.mean([p == b for p in pred_b]))
        # content input = how often the source rendering is mistaken for the target
        assert res["results"]["content_input"][task]["style_acc"]["mean"] == pytest.approx(np.mean([p == b for p in pred_a]))
    truth = [(p == i) for i in ("piano", "violin")
             for p in clf.predict([load_audio(corpus.audio_path(SPLIT, i, c)) for c in clips])]
    assert res["classifier"]["accuracy_on_real"] == pytest.approx(np.mean(truth))


def test_oracle_model_scores_like_the_target_row(oracle_run):
    res, _ = oracle_run
    for task in res["tasks"]:
        for spec in scoring.metrics_for(task):
            model = per_clip(res, "model", task, spec.key)
            target = per_clip(res, "target", task, spec.key)
            assert model.keys() == target.keys()
            for clip in model:
                assert model[clip] == pytest.approx(target[clip], abs=1e-9, nan_ok=True), (task, spec.key)


def test_content_input_differs_from_target_and_silence_is_worse(oracle_run, silence_run):
    res, _ = silence_run
    for task in TRANSFER:
        content = res["results"]["content_input"][task]["lsd"]["mean"]
        assert content > 1.0  # piano and violin renderings of the same notes differ
        assert res["results"]["model"][task]["lsd"]["mean"] > content
        assert res["results"]["model"][task]["note_f1"]["mean"] == 0.0


def test_baseline_rows_come_from_the_cache_and_match(oracle_run, silence_run):
    first, _ = oracle_run
    second, _ = silence_run
    n_baseline_items = 3 * len(first["tasks"]) * first["data"]["n_clips"]
    assert first["cache"]["misses"] == n_baseline_items and first["cache"]["hits"] == 0
    assert second["cache"]["hits"] == n_baseline_items and second["cache"]["misses"] == 0
    assert first["data"]["n_clips"] == LIMIT and first["timings"]["metric_jobs"] == LIMIT
    assert second["timings"]["metric_jobs"] == LIMIT  # only the model row was computed
    for system in ("content_input", "target", "transcribe_rerender"):
        assert second["results"][system] == first["results"][system]


def test_report_files_are_written(oracle_run):
    res, out = oracle_run
    assert (out / "report.md").is_file()
    on_disk = json.loads((out / "results.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert on_disk["data"]["clips"] == res["data"]["clips"]
    assert set(on_disk["results"]) == {"model", "content_input", "target", "transcribe_rerender"}
    for key in ("command", "seed", "timings", "model", "data"):
        assert key in on_disk
    clip = res["data"]["clips"][0]
    for kind in ("input", "output", "target"):
        assert (out / "examples" / "piano-to-violin" / f"{clip}-{kind}.wav").is_file()
    assert (out / "figures" / "metric_table.png").is_file()
    assert any(p.name.startswith("spectrogram_") for p in (out / "figures").iterdir())
    assert res["diagnostics"]["skipped"]  # the oracle has no embeddings
    assert not any(p.name.startswith(".evaluate-") for p in out.iterdir())  # scratch folder removed


def test_memo_gives_identical_scores(data):
    corpus = Corpus(data)
    cid = corpus.clip_ids("test")[0]
    clip = ClipAudio(cid, {i: str(corpus.audio_path("test", i, cid)) for i in ("piano", "violin")}, corpus.notes("test", cid), "fiddle")
    x, t = clip.rendering("piano"), clip.rendering("violin")
    y = (0.8 * x + 0.01 * np.random.default_rng(0).standard_normal(len(x))).astype(np.float32)
    for task in ("piano:piano", "piano:violin"):
        plain, _ = scoring.score_output(task, x, y, t, clip.notes, True, None)
        with scoring.memo_scope():
            once, _ = scoring.score_output(task, x, y, t, clip.notes, True, None)
            twice, _ = scoring.score_output(task, x, y, t, clip.notes, True, None)  # from the memo
        assert plain.keys() == once.keys() == twice.keys()
        for k in plain:
            assert once[k] == pytest.approx(plain[k], nan_ok=True) and twice[k] == pytest.approx(plain[k], nan_ok=True)


@pytest.mark.parametrize("case", ["missing_data", "missing_split", "absent_instrument", "unplayable", "unknown_model"])
def test_errors_are_one_line(case, data, tmp_path):
    kwargs = {"model": Silence(), "data_dir": data, "out_dir": tmp_path / "r", "progress": False}
    expect = {"missing_data": "not found", "missing_split": "no 'nope' split", "absent_instrument": "no flute clips",
              "unplayable": "cannot play", "unknown_model": "no such model"}[case]
    if case == "missing_data":
        kwargs["data_dir"] = tmp_path / "absent"
    elif case == "missing_split":
        kwargs["split"] = "nope"
    elif case == "absent_instrument":
        kwargs["directions"] = "piano:flute"
        kwargs["model"].instruments = ["piano", "violin", "flute"]
    elif case == "unplayable":
        kwargs["model"] = Silence()
        kwargs["model"].instruments = ["piano"]
        kwargs["directions"] = "piano:violin"
    elif case == "unknown_model":
        kwargs["model"] = str(tmp_path / "nomodel.safetensors")
    with pytest.raises(AudioStyleError) as err:
        runner.evaluate(**kwargs)
    assert expect in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "r").exists()  # nothing written before the inputs are checked


def test_a_failed_run_leaves_no_half_written_report(data, tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(runner, "_score", crash)  # fails after figures/ and inference work exist
    with pytest.raises(RuntimeError, match="worker died"):
        runner.evaluate(Silence(), data, tmp_path / "r", split=SPLIT, limit=1, workers=1, progress=False)
    assert not (tmp_path / "r").exists()
