"""The run logger after a resume: each step appears once in metrics.jsonl and in TensorBoard."""

import json
import time

from audiostyle.training.logger import RunLogger


def _steps(run):
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_resume_drops_rows_logged_after_the_checkpoint(tmp_path):
    first = RunLogger(tmp_path)
    for step in range(1, 6):
        first.scalars(step, {"gen/total": float(step)})
    first.finish({})
    with open(tmp_path / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 6, "gen/to')  # a line a kill cut short
    second = RunLogger(tmp_path)
    second.resumed_at(3)
    assert _steps(tmp_path) == [1, 2, 3]
    assert "dropped 3 rows logged after step 3" in (tmp_path / "train.log").read_text()
    second.scalars(4, {"gen/total": 40.0})
    second.finish({})
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["gen/total"]) for r in rows] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 40.0)]


def test_resume_purges_tensorboard_events_after_the_checkpoint(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    first = RunLogger(tmp_path)
    for step in range(1, 6):
        first.scalars(step, {"gen/total": float(step)})
    first.finish({})
    # Event files are read in name order, and a name starts with its creation second: two
    # invocations of a run never share one, two writers in one test could.
    time.sleep(1.1)
    second = RunLogger(tmp_path)
    second.resumed_at(3)
    second.scalars(4, {"gen/total": 40.0})
    second.finish({})
    events = EventAccumulator(str(tmp_path / "events"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("gen/total")] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 40.0)]


def test_resume_without_metrics_or_with_nothing_to_drop(tmp_path):
    logger = RunLogger(tmp_path)
    logger.resumed_at(3)  # no metrics.jsonl yet: nothing to do
    assert not (tmp_path / "metrics.jsonl").exists()
    logger.scalars(1, {"gen/total": 1.0})
    logger.resumed_at(1)
    assert _steps(tmp_path) == [1] and not (tmp_path / "train.log").exists()  # nothing dropped, nothing said
