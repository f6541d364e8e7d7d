"""Where a note-bottleneck flagship loses pitch: in the notes its head decides or in the
decoder's rendering of them.

    python benchmarks/note_oracle.py MODEL --data DIR [--split test] [--max-clips N] [--threads 2]

For models whose ``z_content`` is made of notes (``model.content_bottleneck: notes``). The first
model window (3 s) of every clip's renderings is reconstructed with its own instrument's
prototype twice: from the note head's 0/1 decisions, as inference decodes it, and from the data
set's true notes (which pitches sound at each content token's centre and which start within it,
the targets the head is trained on), the rest of ``z_content`` (the residual path of
``model.content_residual_dim``, if any) kept as the encoder gives it. Both are scored against the
input with the harness's pitch correlation and pitch agreement (PESTO f0 contours), beside the same
notes rendered by the corpus's training soundfont (a note-perfect rendering in a timbre the model
learned). If the true notes score well above the head's, the head's mistakes cost the pitch; if
they score alike, the decoder's rendering does. A last source decodes the head's notes with the
clip's own style (its mean ``z_style`` over its windows, as ``model.recon_own_style: 1`` does)
instead of the prototype: whether the style path carries the recording's timbre to the decoder.
Prints the mean per source kind (chorale, fiddle) and instrument. A quality diagnostic, not a
speed benchmark: ~15 minutes on 2 cores for the 77 test pairs.
"""

from __future__ import annotations

import collections

import numpy as np
import torch
from _corpus import (clips_of, flagship_reconstruction_setup, print_kind_table, read_clip,
                     training_font_renderer)

from audiostyle.data.layout import Corpus
from audiostyle.data.pianoroll import token_onsets, token_roll

SOURCES = ("head's notes", "true notes", "training-font rendering", "head's notes, own z_style")


def true_notes(notes, n_tokens: int, model) -> torch.Tensor:
    """``(1, S, 2 * NOTE_PITCHES)`` 0/1: the pitches sounding at each token's centre, then the
    pitches starting within it, for a crop starting at the clip's first frame."""
    frame_seconds = model.spectral.hop / model.spectral.sr
    roll = token_roll(notes, n_tokens, model.fpt, frame_seconds)
    starts = token_onsets(notes, n_tokens, model.fpt, frame_seconds)
    return torch.from_numpy(np.concatenate([roll, starts], axis=1))[None]


def main() -> None:
    args, model = flagship_reconstruction_setup(__doc__)
    if not getattr(model, "bottleneck", False):
        raise SystemExit(f"{args.model}: z_content is not made of notes (model.content_bottleneck); nothing to compare")

    from audiostyle.features.spectral import istft
    from audiostyle.metrics.pitch import pitch_agreement, pitch_correlation

    corpus = Corpus(args.data)
    in_training_font = training_font_renderer(args.data)
    scores = collections.defaultdict(list)
    for clip in clips_of(args.data, args.split, args.max_clips):
        notes = corpus.notes(args.split, clip["clip_id"])
        if notes is None:
            raise SystemExit(f"{args.data}: split '{args.split}' has no notes file for clip '{clip['clip_id']}'")
        for k, inst in enumerate(model.cfg.instruments):
            full, sr = read_clip(args.data, args.split, inst, clip)
            wave = torch.from_numpy(full[: model.window_samples])[None]
            with torch.no_grad():
                x = model.features(wave)
                z_head, logits = model.encode_content_notes(x)
                # The residual path, if any, is what z_content holds beyond the projected notes
                # (the head's decisions are its logits' signs, as encode_content_notes takes them).
                rest = z_head - model.from_notes((logits > 0).to(z_head.dtype))
                z_true = model.from_notes(true_notes(notes, z_head.shape[1], model)) + rest
                style = model.prototypes[k][None]
                own = model.style_vector(inst, reference=torch.from_numpy(full))[None]
                decoded = {name: model.generate(z, s) for name, z, s in
                           zip(SOURCES[:2] + SOURCES[3:], (z_head, z_true, z_head), (style, style, own))}
            n = (decoded[SOURCES[0]].shape[-1] - 1) * model.spectral.hop
            heard = wave[0, :n].numpy()
            outputs = {name: istft(spec, length=n, cfg=model.spectral)[0].numpy() for name, spec in decoded.items()}
            outputs[SOURCES[2]] = in_training_font(args.split, clip["clip_id"], inst)[:n]
            for name, est in outputs.items():
                for measure, fn in (("r", pitch_correlation), ("agreement", pitch_agreement)):
                    value = fn(heard, est, sr)
                    if np.isfinite(value):
                        scores[(clip["source_kind"], inst, f"{measure}, {name}")].append(value)

    columns = [f"{m}, {s}" for m in ("r", "agreement") for s in SOURCES]
    print_kind_table(f"reconstruction pitch correlation (r) and agreement, first window of each {args.split} clip "
                     f"({args.model})", columns, scores)


if __name__ == "__main__":
    main()
