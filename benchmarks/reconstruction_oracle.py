"""Where a flagship reconstruction loses pitch: in its magnitude or in its phase.

    python benchmarks/reconstruction_oracle.py MODEL --data DIR [--split test] [--max-clips N] [--threads 2]

For the first model window (3 s) of every clip of the split, each instrument's rendering is
reconstructed with its own instrument, and three waveforms are scored against the input with
the harness's pitch correlation (PESTO f0 contours): the decoded spectrum as inference inverts
it; the decoded magnitude with the input's true phase; the input's true magnitude with the
decoded phase. Two more columns compare with the same notes rendered by the corpus's training
soundfont (the timbre the model learned): that rendering scored against the input, and the
decoded spectrum scored against that rendering instead of the input; on the test split they
tell how much of the shortfall is the model rendering its training font's balance of voices
rather than the input's. The last column decodes with the clip's own style embedding (the
mean ``z_style`` over its windows, as one-shot transfer computes it) instead of the
instrument's prototype: whether the style path carries anything of the clip beyond its
instrument. Prints the mean per source kind (chorale, fiddle) and instrument. A quality
diagnostic, not a speed benchmark: it takes ~5 minutes on 2 cores for the 77 test pairs.
``--split train --max-clips 40`` (the first 40 clips of each source kind) tells underfitting
from a failure to generalise to unseen works and the unseen font.
"""

from __future__ import annotations

import collections

import numpy as np
import torch
from _corpus import (clips_of, flagship_reconstruction_setup, print_kind_table, read_clip,
                     training_font_renderer)

VARIANTS = ("decoded", "decoded magnitude + true phase", "true magnitude + decoded phase")
FONT_COLUMNS = ("training-font rendering", "decoded vs training-font rendering")
OWN_STYLE = "decoded with the clip's own z_style"


def main() -> None:
    args, model = flagship_reconstruction_setup(__doc__)

    from audiostyle.features.spectral import istft
    from audiostyle.metrics.pitch import pitch_correlation

    clips = clips_of(args.data, args.split, args.max_clips)
    scores = collections.defaultdict(list)
    in_training_font = training_font_renderer(args.data)
    for clip in clips:
        for k, inst in enumerate(model.cfg.instruments):
            full, sr = read_clip(args.data, args.split, inst, clip)
            wave = torch.from_numpy(full[: model.window_samples])[None]
            with torch.no_grad():
                x = model.features(wave)
                z_content = model.encode_content(x)
                decoded = model.generate(z_content, model.prototypes[k][None])
                own_style = model.generate(z_content, model.style_vector(inst, reference=torch.from_numpy(full))[None])
                true = model.target_spectrum(x)
            n = (decoded.shape[-1] - 1) * model.spectral.hop
            spectra = (decoded, torch.polar(decoded.abs(), true.angle()), torch.polar(true.abs(), decoded.angle()))
            heard = wave[0, :n].numpy()
            waves = {name: istft(spec, length=n, cfg=model.spectral)[0].numpy() for name, spec in zip(VARIANTS, spectra)}
            font_copy = in_training_font(args.split, clip["clip_id"], inst)[:n]
            pairs = [(heard, waves[name], name) for name in VARIANTS]
            pairs += [(heard, font_copy, FONT_COLUMNS[0]), (font_copy, waves["decoded"], FONT_COLUMNS[1])]
            pairs.append((heard, istft(own_style, length=n, cfg=model.spectral)[0].numpy(), OWN_STYLE))
            for ref, est, name in pairs:
                r = pitch_correlation(ref, est, sr)
                if np.isfinite(r):
                    scores[(clip["source_kind"], inst, name)].append(r)

    title = f"reconstruction pitch correlation, first window of each {args.split} clip ({args.model})"
    print_kind_table(title, [*VARIANTS, *FONT_COLUMNS, OWN_STYLE], scores)


if __name__ == "__main__":
    main()
