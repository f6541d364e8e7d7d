"""Clip selection and result tables shared by the quality diagnostics under benchmarks/."""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np

PARTIAL_FFT = 4096
_PARTIAL_WINDOW = np.hanning(PARTIAL_FFT)


def clips_of(data: Path, split: str, per_kind: int | None = None) -> list[dict]:
    """Manifest entries of ``split`` in a rendered corpus; with ``per_kind``, only the first
    that many of each source kind (chorale, fiddle)."""
    clips = [c for c in json.loads((data / "manifest.json").read_text())["clips"] if c["split"] == split]
    if per_kind is None:
        return clips
    kinds = collections.defaultdict(list)
    for clip in clips:
        kinds[clip["source_kind"]].append(clip)
    return [clip for kind in kinds.values() for clip in kind[:per_kind]]


def read_clip(data: Path, split: str, instrument: str, clip: dict) -> tuple[np.ndarray, int]:
    """``((samples,) float32, sample rate)`` of one manifest entry's rendering by ``instrument``."""
    import soundfile as sf

    return sf.read(data / split / instrument / f"{clip['clip_id']}.wav", dtype="float32")


def partial_energies(wave: np.ndarray, sr: int, centre: int, freqs_hz) -> list[float] | None:
    """Energy of the partials at ``freqs_hz`` in the Hann-windowed :data:`PARTIAL_FFT`-point frame
    of ``(N,)`` ``wave`` centred on sample ``centre``: the power within +-3 bins of each (the
    window's main lobe spans +-2 bins, so +-3 counts a partial wherever it falls). None when the
    frame runs past either end of ``wave``."""
    start = int(centre) - PARTIAL_FFT // 2
    if start < 0 or start + PARTIAL_FFT > len(wave):
        return None
    power = np.abs(np.fft.rfft(wave[start : start + PARTIAL_FFT] * _PARTIAL_WINDOW)) ** 2 + 1e-18
    return [float(power[max(0, k - 3) : k + 4].sum()) for k in (int(round(f * PARTIAL_FFT / sr)) for f in freqs_hz)]


def print_kind_table(title: str, columns: list[str], scores: dict) -> None:
    """Markdown table of mean scores per (source kind, instrument) row and column, with counts.

    ``scores`` maps ``(source kind, instrument, column)`` to the list of per-clip values; a
    column with no values for a row prints ``n/a``.
    """
    print(title)
    print("| source | instrument | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for kind, inst in sorted({(k, i) for k, i, _ in scores}):
        cells = [f"{sum(v) / len(v):.3f} (n={len(v)})" if v else "n/a" for v in (scores.get((kind, inst, c), []) for c in columns)]
        print(f"| {kind} | {inst} | " + " | ".join(cells) + " |")


def training_font_renderer(data: Path):
    """``render(split, clip_id, instrument) -> (samples,)``: a clip of the rendered corpus at
    ``data`` synthesised again in its training soundfont (``audiostyle.data.render.rerender``),
    the manifest read once. Exits with the one-line reason when the corpus cannot be re-rendered
    (prepared recordings have no notes)."""
    from audiostyle.data.layout import Corpus
    from audiostyle.data.render import rerender, split_font
    from audiostyle.errors import AudioStyleError

    try:
        corpus = Corpus(data)
        font = split_font(corpus.manifest, "train")
    except AudioStyleError as exc:
        raise SystemExit(str(exc)) from None
    if font is None:
        raise SystemExit(f"{data}: the manifest names no training soundfont (not a rendered corpus)")

    def render(split: str, clip_id: str, instrument: str):
        try:
            return rerender(corpus, split, clip_id, instrument, font=font)
        except AudioStyleError as exc:
            raise SystemExit(str(exc)) from None

    return render


def work_renderings(data: Path, split: str, per_kind: int | None = None):
    """Every rendering of the split's works (:func:`clips_of`, ``per_kind`` of each source kind) as the harness's
    cross-validated probe takes them: ``(corpus, clips, instruments, waves, labels, groups)``,
    with ``waves`` the ``(samples,)`` renderings at the model rate, ``labels`` their instruments
    and ``groups`` their clip ids (a work's renderings share one). Exits with the one-line
    reason when the corpus cannot be read."""
    from audiostyle import MODEL_SR
    from audiostyle.audio.io import load_audio
    from audiostyle.data.layout import Corpus
    from audiostyle.errors import AudioStyleError

    try:
        corpus = Corpus(data)
        instruments = corpus.instruments(split)
        clips = clips_of(data, split, per_kind)
        waves, labels, groups = [], [], []
        for clip in clips:
            for inst in instruments:
                waves.append(load_audio(corpus.audio_path(split, inst, clip["clip_id"]), sr=MODEL_SR))
                labels.append(inst)
                groups.append(clip["clip_id"])
    except AudioStyleError as exc:
        raise SystemExit(str(exc)) from None
    return corpus, clips, instruments, waves, labels, groups


def clip_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by ``doc``'s first line, holding the options every per-clip diagnostic
    takes: ``--data``, ``--split``, ``--max-clips``, ``--threads``. Add a script's own arguments
    to it, then read them with :func:`parse_clip_args`."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path, help="corpus from `audiostyle data render`")
    ap.add_argument("--split", default="test")
    ap.add_argument("--max-clips", type=int, default=None, help="at most this many clips per source kind")
    ap.add_argument("--threads", type=int, default=2)
    return ap


def parse_clip_args(ap: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line with a :func:`clip_parser` and set torch's thread count from it."""
    import torch

    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    return args


def flagship_reconstruction_setup(doc: str):
    """``(args, model)`` for a diagnostic that reconstructs clips with one flagship: parses the
    model argument and the clip options (:func:`clip_parser`), sets the thread count and
    loads the model in eval mode with the decoded phase kept as it is (``phase_refine_iters``
    0, inference's default)."""
    ap = clip_parser(doc)
    ap.add_argument("model", help="shipped model name, .safetensors file or run folder (a flagship)")
    args = parse_clip_args(ap)

    import audiostyle

    return args, audiostyle.load(args.model, settings={"phase_refine_iters": 0}).model.eval()
