"""What a flagship's z_content knows about the notes: a probe from each content token to the
pitches sounding at its centre.

    python benchmarks/content_notes_probe.py MODEL --data DIR [--fit-clips 60] [--threads 2]

The first model window (3 s) of each clip's renderings is encoded; every content token (4 STFT
frames) is labelled with the MIDI pitches the data set's note list has sounding at the token's
centre. A linear probe and a one-hidden-layer probe (multi-label, binary cross-entropy) are
fitted on training-split tokens (the first ``--fit-clips`` clips of each source kind) and scored
with frame-level note F1 (threshold 0.5) on the fitted tokens, the val split (works never
trained on, the training font) and the test split (unseen works, unseen font), per source kind
and instrument. The same probes fitted on the model's own input, each token's CQT magnitudes
(84 semitone bins, 4 frames averaged), are the reference for what such a probe can read. High
chorale F1 puts the polyphony in z_content and the loss in the decoder; low F1 puts it in the
encoder. A model trained with a note head (``model.note_head``) is also scored through that
head as it is, nothing fitted (column "note head"). A quality diagnostic, not a speed
benchmark: ~1 minute on 2 cores.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import torch
from _corpus import clips_of, read_clip

from audiostyle.data.layout import Corpus
from audiostyle.data.pianoroll import NOTE_PITCHES, token_roll
from audiostyle.losses.notes import note_f1


def encode(model, data: Path, split: str, clips: list[dict]) -> list[tuple]:
    """``(source kind, instrument, z_content (S, D), labels (S, P), CQT (S, cqt_bins), note head
    logits (S, P) or None)`` per clip rendering; the CQT is the model's standardised input
    magnitude, averaged over each token."""
    out = []
    frame_seconds = model.spectral.hop / model.spectral.sr
    corpus = Corpus(data)
    for clip in clips:
        notes = corpus.notes(split, clip["clip_id"])
        if notes is None:
            raise SystemExit(f"{data}: split '{split}' has no notes file for clip '{clip['clip_id']}' (render the corpus)")
        for inst in model.cfg.instruments:
            wave, _ = read_clip(data, split, inst, clip)
            with torch.no_grad():
                x = model.features(torch.from_numpy(wave[: model.window_samples])[None])
                z, logits = model.encode_content_notes(x)
            z, head = z[0], None if logits is None else logits[0, :, :NOTE_PITCHES]  # sounding pitches
            q = x[0, :, :, -model.spectral.cqt_bins :].norm(dim=0)  # (T, cqt_bins)
            q = q.reshape(z.shape[0], model.fpt, -1).mean(dim=1)
            out.append((clip["source_kind"], inst, z, torch.from_numpy(token_roll(notes, z.shape[0], model.fpt, frame_seconds)), q, head))
    return out


def fit_probe(z: torch.Tensor, y: torch.Tensor, hidden: int, steps: int = 600) -> torch.nn.Module:
    """Multi-label probe ``(N, D)`` -> ``(N, P)`` logits, full-batch Adam on binary cross-entropy."""
    torch.manual_seed(0)
    d, p = z.shape[1], y.shape[1]
    probe = torch.nn.Linear(d, p) if hidden == 0 else torch.nn.Sequential(
        torch.nn.Linear(d, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, p))
    opt = torch.optim.Adam(probe.parameters(), lr=1e-2, weight_decay=1e-4)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(probe(z), y).backward()
        opt.step()
    return probe.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="shipped model name, .safetensors file or run folder (a flagship)")
    ap.add_argument("--data", required=True, type=Path, help="corpus from `audiostyle data render`")
    ap.add_argument("--fit-clips", type=int, default=60, help="training-split clips per source kind to fit on")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import audiostyle

    model = audiostyle.load(args.model).model.eval()
    fit = encode(model, args.data, "train", clips_of(args.data, "train", args.fit_clips))
    sets = {"train (fitted)": fit}
    for split in ("val", "test"):
        sets[split] = encode(model, args.data, split, clips_of(args.data, split, None))
    y_fit = torch.cat([r[3] for r in fit])
    columns = {}
    for name, idx in (("z_content", 2), ("input CQT", 4)):
        feats = torch.cat([r[idx] for r in fit])
        mean, std = feats.mean(0), feats.std(0).clamp_min(1e-6)
        for probe_name, hidden in (("linear", 0), ("MLP", 256)):
            columns[f"{name}, {probe_name}"] = (idx, mean, std, fit_probe((feats - mean) / std, y_fit, hidden))
    if getattr(model, "note_head", None) is not None:
        columns["note head"] = (5, 0.0, 1.0, torch.nn.Identity())

    print(f"note F1 of probes from z_content and from the input CQT ({args.model}); fitted on {len(fit)} training-split renderings")
    print("| split | source | instrument | " + " | ".join(columns) + " | notes per token |")
    print("|---|---|---|" + "---|" * (len(columns) + 1))
    for split, records in sets.items():
        rows = collections.defaultdict(list)
        for rec in records:
            rows[(rec[0], rec[1])].append(rec)
        for (kind, inst), items in sorted(rows.items()):
            y = torch.cat([i[3] for i in items])
            scores = []
            for idx, mean, std, probe in columns.values():
                with torch.no_grad():
                    logits = probe((torch.cat([i[idx] for i in items]) - mean) / std)
                scores.append(float(note_f1(logits, y)))
            cells = " | ".join(f"{s:.3f}" for s in scores)
            print(f"| {split} | {kind} | {inst} | {cells} | {float(y.sum(1).mean()):.2f} |")


if __name__ == "__main__":
    main()
