"""Whether a flagship's decoded magnitude is smeared along frequency: harmonic contrast.

    python benchmarks/spectral_contrast.py MODEL --data DIR [--split test] [--max-clips N] [--threads 2]

A regression decoder that cannot tell where a dense texture's partials lie predicts their
average, which shows as peaks that stand less far above the valleys between them. For the
first model window (3 s) of every clip of the split, each instrument's rendering is
reconstructed with its own instrument's prototype, and the harmonic contrast of its STFT
magnitude (the model's own frames) between 43 Hz and 1.5 kHz, where the voices of a chorale
and their first partials lie, is compared with the input's and with that of the same notes
rendered by the corpus's training soundfont (the timbre the model learned). The contrast of a
frame is the 95th percentile, over those bins, of the level in dB above a 9-bin running median
along frequency (the partials over the valleys around them); frames more than 40 dB under the
window's loudest bin in the band are left out. Prints the mean per source kind and instrument,
in dB. A decoder that smears partials scores under both references; one that renders its
training font scores near that font's column whatever the input's. A quality diagnostic, not a
speed benchmark: about 2 minutes on 2 cores for the 77 test pairs.
"""

from __future__ import annotations

import collections

import numpy as np
import torch
from _corpus import (clips_of, flagship_reconstruction_setup, print_kind_table, read_clip,
                     training_font_renderer)
from scipy.ndimage import median_filter

BAND_HZ = (43.0, 1500.0)
MEDIAN_BINS = 9
FLOOR_DB = 40.0
COLUMNS = ("input", "decoded", "training-font rendering")


def harmonic_contrast(magnitude: np.ndarray, bin_hz: float) -> float:
    """Mean over frames of the 95th-percentile level above a running median along frequency, in
    dB, of a linear magnitude spectrogram ``(F, T)`` with bins ``bin_hz`` apart, within
    :data:`BAND_HZ`; frames :data:`FLOOR_DB` under the band's loudest bin are left out. NaN when
    no frame is left."""
    lo, hi = (int(round(f / bin_hz)) for f in BAND_HZ)
    level = 20.0 * np.log10(magnitude[lo : hi + 1] + 1e-7)
    above = level - median_filter(level, size=(MEDIAN_BINS, 1), mode="nearest")
    loud = level.max(axis=0) > level.max() - FLOOR_DB
    if not loud.any():
        return float("nan")
    return float(np.percentile(above[:, loud], 95, axis=0).mean())


def main() -> None:
    args, model = flagship_reconstruction_setup(__doc__)
    bin_hz = model.spectral.sr / model.spectral.n_fft
    clips = clips_of(args.data, args.split, args.max_clips)
    in_training_font = training_font_renderer(args.data)
    scores = collections.defaultdict(list)
    for clip in clips:
        for k, inst in enumerate(model.cfg.instruments):
            full, _ = read_clip(args.data, args.split, inst, clip)
            font_copy = in_training_font(args.split, clip["clip_id"], inst)
            with torch.no_grad():
                x = model.features(torch.from_numpy(full[: model.window_samples])[None])
                decoded = model.generate(model.encode_content(x), model.prototypes[k][None])
                true = model.target_spectrum(x)
                font = model.target_spectrum(model.features(torch.from_numpy(font_copy[: model.window_samples])[None]))
            for name, spec in zip(COLUMNS, (true, decoded, font)):
                value = harmonic_contrast(spec[0].abs().numpy(), bin_hz)
                if np.isfinite(value):
                    scores[(clip["source_kind"], inst, name)].append(value)

    title = f"harmonic contrast (dB, {BAND_HZ[0]:.0f}-{BAND_HZ[1]:.0f} Hz), first window of each {args.split} clip ({args.model})"
    print_kind_table(title, list(COLUMNS), scores)


if __name__ == "__main__":
    main()
