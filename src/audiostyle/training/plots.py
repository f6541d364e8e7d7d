"""Loss-curve figure of a run (the paper's Figures 3-4), from ``metrics.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path


def plot_losses(metrics_path: str | Path, out_path: str | Path) -> Path:
    """One panel per group of logged scalars (reconstruction, disentanglement, discriminator)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiostyle.plots import save_figure

    rows = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line.strip()]
    if not rows:
        raise FileNotFoundError(metrics_path)
    keys = sorted({k for r in rows for k in r if k != "step"})
    groups = {
        "reconstruction": [k for k in keys if k.startswith("gen/recon/") or k in ("gen/total", "gen/cross_recon")],
        "disentanglement": [k for k in keys if k in ("gen/info_nce", "gen/margin", "gen/hsic", "gen/hsic_normalized", "gen/adversarial", "gen/style_ce")],
        "discriminator": [k for k in keys if k.startswith("disc/")],
    }
    groups = {g: ks for g, ks in groups.items() if ks}
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 3.2 * len(groups)), squeeze=False)
    for ax, (title, ks) in zip(axes[:, 0], groups.items()):
        for k in ks:
            pts = [(r["step"], r[k]) for r in rows if k in r]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=k.split("/", 1)[1], lw=1)
        ax.set_title(title)
        ax.set_xlabel("step")
        if title == "reconstruction":
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=3)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out_path, dpi=110)
