"""Disentanglement diagnostics: can the instrument be read off a model's embeddings?

For models exposing ``features``, ``encode_style`` and ``encode_content`` (the flagship), the
first ``windows_per_clip`` model windows of each clip (default one: 3 s for the flagship,
~0.7 s of CPU per window) are embedded:

* ``z_style`` ``(B, D)`` per window, averaged over the windows -> ``(D,)``;
* ``z_content`` ``(B, S, D)``, pooled over all steps of all windows by mean **and** standard
  deviation -> ``(2D,)``. The content encoder removes each channel's mean and variance over
  time before its output layer (instance normalisation), so a mean alone would be nearly
  constant by construction and would make the probe look better than it is.

A logistic-regression *linear probe* (standardised features, scikit-learn, deterministic
lbfgs) is trained to predict the instrument on train-split clips and scored on the evaluated
split. Good disentanglement: the style probe near 100%, the content probe near chance (the
share of the majority class). t-SNE maps of the evaluated clips, coloured by instrument,
show the same visually.

The train-split probe crosses a soundfont change (the test split is rendered with a font never
used in training), so a boundary fitted on the training font can miss an instrument the
evaluated embeddings still separate plainly. A second, *cross-validated* probe is therefore
fitted and scored within the evaluated clips themselves (k folds, both renderings of a work
always in the same fold): it asks whether the instrument is linearly readable in the font
under test.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.errors import AudioStyleError

MAX_WINDOWS_PER_BATCH = 16


def has_embeddings(model) -> bool:
    """True for models with ``features``, ``encode_style``, ``encode_content`` and ``window_samples``."""
    needed = ("features", "encode_style", "encode_content", "window_samples")
    return model is not None and all(hasattr(model, a) for a in needed)


def clip_embedding(model, wave: np.ndarray,
                   windows_per_clip: int | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """Embed one ``(N,)`` clip (its first ``windows_per_clip`` windows; None: all):
    ``(z_style (D,) or None, pooled z_content (2D,))``.

    ``z_style`` is None when the model's style comes from class labels (an ablation) rather
    than from audio: probing it would only read the label back.
    """
    import torch

    win = int(model.window_samples)
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    if wave.shape[0] < win:
        wave = np.pad(wave, (0, win - wave.shape[0]))
    starts = list(range(0, wave.shape[0] - win + 1, win))[:windows_per_clip]  # non-overlapping windows
    windows = np.stack([wave[s: s + win] for s in starts])
    styles, steps = [], []
    with torch.no_grad():
        for b in range(0, len(windows), MAX_WINDOWS_PER_BATCH):
            x = model.features(torch.from_numpy(windows[b: b + MAX_WINDOWS_PER_BATCH]))
            z = model.encode_content(x)  # (B, S, D)
            steps.append(z.reshape(-1, z.shape[-1]).double().numpy())
            if styles is not None:
                try:
                    styles.append(model.encode_style(x).double().numpy())  # (B, D)
                except ValueError:  # style from class labels: nothing to probe
                    styles = None
    steps = np.concatenate(steps)
    content = np.concatenate([steps.mean(axis=0), steps.std(axis=0)])
    style = None if styles is None else np.concatenate(styles).mean(axis=0)
    return style, content


def embed_clips(model, waves, windows_per_clip: int | None = None, progress: bool = False, desc: str = "embeddings"):
    """:func:`clip_embedding` for many ``(N,)`` clips -> ``(style (n, D) or None, content (n, 2D))``."""
    from tqdm import tqdm

    styles, contents = [], []
    for wave in tqdm(waves, disable=not progress, desc=desc, unit="clip", dynamic_ncols=True):
        s, c = clip_embedding(model, wave, windows_per_clip)
        styles.append(s)
        contents.append(c)
    style = None if any(s is None for s in styles) else np.stack(styles)
    return style, np.stack(contents)


def linear_probe(train_x: np.ndarray, train_y, test_x: np.ndarray, test_y, seed: int = 0) -> dict:
    """Fit a logistic-regression probe on ``(n, D)`` features and score it on held-out ones.

    Returns:
        ``accuracy`` on the test rows, ``chance`` (share of the test set's most common label),
        ``n_train``, ``n_test``, ``classes``.
    Raises:
        AudioStyleError: fewer than two classes to train on, or mismatched shapes.
    """
    train_x, test_x = np.asarray(train_x, dtype=np.float64), np.asarray(test_x, dtype=np.float64)
    train_y, test_y = [str(y) for y in train_y], [str(y) for y in test_y]
    if train_x.ndim != 2 or train_x.shape[0] != len(train_y) or test_x.shape[0] != len(test_y):
        raise AudioStyleError(f"probe: features {train_x.shape}/{test_x.shape} do not fit the labels")
    if len(set(train_y)) < 2:
        raise AudioStyleError("probe: the training clips hold fewer than two instruments")
    pred = _new_probe(seed).fit(train_x, train_y).predict(test_x)
    return {"accuracy": float(np.mean([p == t for p, t in zip(pred, test_y)])),
            "chance": _chance(test_y), "n_train": len(train_y), "n_test": len(test_y),
            "classes": sorted(set(train_y))}


def _new_probe(seed: int):
    """The probe both evaluations fit: standardised features, deterministic logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000, random_state=seed))


def _chance(labels) -> float:
    """Share of the most common label: what always guessing it scores."""
    labels = list(labels)
    return max(labels.count(c) for c in set(labels)) / len(labels)


def cross_validated_probe(x: np.ndarray, y, groups, folds: int = 5, seed: int = 0) -> dict:
    """Logistic-regression probe scored by grouped k-fold cross-validation on ``(n, D)`` features.

    Rows sharing a ``groups`` value (the renderings of one work) never straddle train and test.
    Returns ``accuracy`` (over all rows, each predicted by the fold that held it out),
    ``chance`` and ``folds`` (fewer than asked when there are fewer groups); ``{"skipped": why}``
    with fewer than two groups or two classes.
    """
    from sklearn.model_selection import GroupKFold

    x, y, groups = np.asarray(x, dtype=np.float64), np.array([str(v) for v in y]), np.asarray(groups)
    k = min(folds, len(set(groups.tolist())))
    if k < 2 or len(set(y.tolist())) < 2:
        return {"skipped": "fewer than two works or two instruments to cross-validate on"}
    order = np.random.default_rng(seed).permutation(len(y))  # GroupKFold is deterministic: shuffle rows once
    x, y, groups = x[order], y[order], groups[order]
    pred = np.empty(len(y), dtype=object)
    for tr, te in GroupKFold(n_splits=k).split(x, y, groups):
        if len(set(y[tr].tolist())) < 2:
            return {"skipped": "a fold's training part holds one instrument only"}
        pred[te] = _new_probe(seed).fit(x[tr], y[tr]).predict(x[te])
    return {"accuracy": float(np.mean(pred == y)), "chance": _chance(y.tolist()), "folds": k, "n": len(y)}


def tsne_figure(x: np.ndarray, labels, title: str, out_path, seed: int = 0) -> Path | None:
    """2-D t-SNE of ``(n, D)`` embeddings coloured by label; None (nothing written) when n < 5."""
    if len(labels) < 5:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    from audiostyle.plots import save_figure

    from threadpoolctl import threadpool_limits

    x = StandardScaler().fit_transform(np.asarray(x, dtype=np.float64))
    perplexity = float(min(30.0, max(2.0, (len(labels) - 1) / 3.0)))
    # One OpenMP thread: on a busy machine Barnes-Hut's spinning threads made 300 points take
    # 24 s instead of 1 s.
    with threadpool_limits(1):
        xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name in sorted(set(labels)):
        sel = np.array([lab == name for lab in labels])
        ax.scatter(xy[sel, 0], xy[sel, 1], s=14, label=name, alpha=0.8)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out_path)


def run_probes(model, corpus, split: str, eval_ids: list[str], instruments: list[str], fig_dir,
               train_clips: int = 32, seed: int = 0, progress: bool = False, windows_per_clip: int = 1) -> dict:
    """Probes and t-SNE maps for ``model`` (a torch module) on a :class:`~audiostyle.data.layout.Corpus`.

    Train: up to ``train_clips`` train-split clips per instrument (drawn with ``seed``).
    Test: the evaluated clips ``eval_ids`` of ``split``, every instrument's rendering.

    Returns:
        ``{"content": probe, "style": probe or {"skipped": why}, "n_train", "n_eval", "pooling",
        "figures": {name: path}, "embed_s", "fit_s"}``, or ``{"skipped": why}`` when the model
        has no embeddings or there is nothing to train on.
    """
    from audiostyle.audio.io import load_audio

    if not has_embeddings(model):
        return {"skipped": "the model exposes no style/content embeddings (encode_style/encode_content)"}
    if "train" not in corpus.splits():
        return {"skipped": f"{corpus.root}: no train split to fit the probes on"}
    rng = np.random.default_rng(seed)
    train = []
    for inst in instruments:
        ids = corpus.clip_ids("train", inst)
        if len(ids) > train_clips:
            ids = sorted(ids[i] for i in rng.choice(len(ids), size=train_clips, replace=False))
        train += [(inst, corpus.audio_path("train", inst, cid)) for cid in ids]
    test = [(inst, corpus.audio_path(split, inst, cid)) for cid in eval_ids for inst in instruments]
    te_groups = [cid for cid in eval_ids for _inst in instruments]
    if len({inst for inst, _ in train}) < 2:
        return {"skipped": "the train split holds fewer than two of the evaluated instruments"}

    t0 = time.perf_counter()
    tr_style, tr_content = embed_clips(model, (load_audio(p, sr=MODEL_SR) for _i, p in train), windows_per_clip,
                                       progress, "probe: train")
    te_style, te_content = embed_clips(model, (load_audio(p, sr=MODEL_SR) for _i, p in test), windows_per_clip,
                                       progress, "probe: eval")
    embed_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    tr_y, te_y = [i for i, _ in train], [i for i, _ in test]
    fig_dir = Path(fig_dir)
    out = {"n_train": len(train), "n_eval": len(test), "embed_s": embed_s, "figures": {},
           "windows_per_clip": windows_per_clip,
           "pooling": (f"first {windows_per_clip} model window(s) of each clip; z_content: mean and std over "
                       "every step; z_style: mean over windows"),
           "content": linear_probe(tr_content, tr_y, te_content, te_y, seed)}
    out["content_cv"] = cross_validated_probe(te_content, te_y, te_groups, seed=seed)
    if te_style is not None and tr_style is not None:
        out["style"] = linear_probe(tr_style, tr_y, te_style, te_y, seed)
        out["style_cv"] = cross_validated_probe(te_style, te_y, te_groups, seed=seed)
    else:
        out["style"] = {"skipped": "the model's style comes from class labels, not from audio"}
    for name, feats in (("content", te_content), ("style", te_style)):
        if feats is not None:
            path = tsne_figure(feats, te_y, f"t-SNE of z_{name} ({split} split)", fig_dir / f"tsne_{name}.png", seed)
            if path is not None:
                out["figures"][f"t-SNE z_{name}"] = str(path)
    if not out["figures"]:
        out["tsne_note"] = "too few evaluated clips for a t-SNE map (at least 5 needed)"
    out["fit_s"] = time.perf_counter() - t0
    return out
