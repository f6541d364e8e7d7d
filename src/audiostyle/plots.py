"""Figures shared by the CLI and the evaluation report."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_figure(fig, out_path: str | Path, dpi: int = 100, **savefig_kw) -> Path:
    """Write a matplotlib figure as PNG atomically (never a half-written image), then close it."""
    import matplotlib.pyplot as plt

    from audiostyle.fileio import atomic_output

    out_path = Path(out_path)
    with atomic_output(out_path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, **savefig_kw)
    plt.close(fig)
    return out_path


def _mel_db(wave: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(y=wave, sr=sr, n_fft=2048, hop_length=256, n_mels=128)
    return librosa.power_to_db(mel, ref=1.0, top_db=None).clip(min=-100)


def spectrogram_panels(panels: list[tuple[str, np.ndarray]], sr: int, out_path: str | Path) -> Path:
    """Side-by-side mel spectrograms (dB, shared colour scale), one panel per ``(title, (N,) wave)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    specs = [(t, _mel_db(w, sr)) for t, w in panels]
    vmax = max(s.max() for _, s in specs)
    fig, axes = plt.subplots(1, len(specs), figsize=(4.2 * len(specs), 3.6), squeeze=False)
    for ax, (title, s) in zip(axes[0], specs):
        im = ax.imshow(s, origin="lower", aspect="auto", vmin=vmax - 80, vmax=vmax, cmap="magma",
                       extent=[0, s.shape[1] * 256 / sr, 0, s.shape[0]])
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("mel bin")
    fig.colorbar(im, ax=axes[0].tolist(), label="dB", shrink=0.8)
    return save_figure(fig, out_path)
