"""Evaluation harness: score any loadable model against ground truth, baselines and the paper.

``audiostyle evaluate --model M --data DIR --out REPORT_DIR`` (or :func:`evaluate`) writes
``report.md``, ``results.json``, figures and example WAVs. Modules (imported on use; importing
this package loads nothing heavy):

- :mod:`~audiostyle.evaluation.runner`: :func:`evaluate`, clip selection, caching, aggregation.
- :mod:`~audiostyle.evaluation.systems`: the rows: model, content input, target, transcribe + re-render.
- :mod:`~audiostyle.evaluation.scoring`: the metrics of one clip (runs in worker processes).
- :mod:`~audiostyle.evaluation.probes`: linear probes and t-SNE of style/content embeddings.
- :mod:`~audiostyle.evaluation.report`: ``report.md``, ``results.json`` and figures.
"""

from __future__ import annotations


def evaluate(*args, **kwargs):
    """Score a model and write its report (see :func:`audiostyle.evaluation.runner.evaluate`)."""
    from audiostyle.evaluation.runner import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


__all__ = ["evaluate"]
