"""Does a flagship's decoder use z_content? Masked against teacher-forced reconstruction.

    python benchmarks/masked_decode_gap.py MODEL [MODEL ...] --data DIR [--split train] [--batches 4] [--threads 2]

Random training crops (16 a batch, both instruments, the training sampler with a fixed seed)
are reconstructed twice by each model, from each crop's instrument prototype: teacher-forced as
in training (30% of the previous-step inputs masked) and as inference decodes, every input
masked. The table gives both magnitude losses (compressed magnitudes, L1) and their ratio, the
value the training loop logs as ``gen/masked_ratio`` and warns on above 1.2
(``audiostyle.losses.bounds``). Near 1 the decoder reconstructs from ``z_content``; well above
it, from its previous frames, and inference (which has none) can fail while the training loss
looks fine. A quality diagnostic, not a speed benchmark: a few seconds a model.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="shipped model names, .safetensors files or run folders (flagships)")
    ap.add_argument("--data", required=True, help="corpus from `audiostyle data render`")
    ap.add_argument("--split", default="train")
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import audiostyle
    from audiostyle.data.layout import Corpus
    from audiostyle.features.store import FeatureStore
    from audiostyle.training.data import CropSampler
    from audiostyle.training.objectives.masked_check import masked_decode_gap

    print(f"{args.batches} batches of 16 crops from {args.data}/{args.split}")
    print("| model | teacher-forced magnitude | masked magnitude | ratio |")
    print("|---|---|---|---|")
    for name in args.models:
        m = audiostyle.load(name).model.eval()
        store = FeatureStore(args.data, m.spectral, m.cfg.power)
        sampler = CropSampler(Corpus(args.data), store, args.split, m.cfg.instruments, m.cfg.window_frames)
        rng = np.random.default_rng(0)
        torch.manual_seed(0)
        rows = []
        with torch.no_grad():
            for _ in range(args.batches):
                batch = sampler.sample(16, rng)
                x = m.norm.standardize(batch.x)
                z_class = m.prototypes[batch.labels]
                out = masked_decode_gap(m, x, m.target_spectrum(x), m.encode_content(x), z_class, 16, 0.3)
                masked = float(out["recon_masked/magnitude"])
                rows.append((masked / float(out["masked_ratio"]), masked))
        forced, masked = np.mean(rows, axis=0)
        print(f"| {name} | {forced:.4f} | {masked:.4f} | {masked / forced:.2f} |")


if __name__ == "__main__":
    main()
