"""``audiostyle demo --out DIR``: the main job end to end on a freshly rendered excerpt.

Renders a short excerpt of a Bach chorale with the piano and violin of a General MIDI
soundfont (the violin rendering is the ground truth), transfers the piano to violin and that
output back to piano with the default model, and writes the WAVs and a side-by-side
spectrogram figure.
"""

from __future__ import annotations

import argparse

BACK_MODEL = "flagship-paired"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="render an excerpt and transfer it piano -> violin -> piano", description=__doc__)
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--model", default=None, help="model name or path (default: 'default')")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from audiostyle.audio.io import load_audio, save_audio
    from audiostyle.data.render import render_corpus
    from audiostyle.hub import load, shipped_models
    from audiostyle.plots import spectrogram_panels

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        render_corpus(Path(tmp) / "d", instruments=("piano", "violin"), clips_per_instrument=10,
                      seconds=args.seconds, seed=args.seed, progress=False, workers=1)
        test_piano = sorted((Path(tmp) / "d" / "test" / "piano").glob("*.wav"))[0]
        piano = load_audio(test_piano)
        violin_true = load_audio(test_piano.parent.parent / "violin" / test_piano.name)
    if args.model is None and not shipped_models():
        return _pipeline_only(out, piano, violin_true, 22050)
    model = load(args.model)
    # The excerpt is a chorale: violin -> piano on the test chorales sounds like piano to the
    # harness's classifier in 94% of clips with the paired model and 88% with the default
    # (docs/reports), so the way back uses the paired one.
    back = load(BACK_MODEL) if args.model is None and BACK_MODEL in shipped_models() else model
    to_violin, sr = model.transfer(piano, model.sr, to="violin")
    back_to_piano, _ = back.transfer(to_violin, sr, to="piano")
    files = {
        "input_piano.wav": piano, "true_violin.wav": violin_true,
        "piano_to_violin.wav": to_violin, "violin_back_to_piano.wav": back_to_piano,
    }
    for name, wave in files.items():
        save_audio(out / name, wave, sr)
    png = spectrogram_panels(
        [("input: piano (test font)", piano), ("transfer: piano -> violin", to_violin),
         ("ground truth: violin", violin_true), ("back: -> piano", back_to_piano)],
        sr, out / "spectrograms.png",
    )
    print(f"model: {model.name} (-> violin), {back.name} (-> piano)")
    for name in files:
        print(f"wrote {out / name}")
    print(f"wrote {png}")
    return 0


def _pipeline_only(out, piano, violin_true, sr) -> int:
    """Without a shipped model: the data and feature pipeline on the rendered pair."""
    import torch

    from audiostyle.audio.io import save_audio
    from audiostyle.features import SpectralConfig, analyze, compute_stats, istft
    from audiostyle.features.normalize import complex_to_channels, compress, channels_to_complex
    from audiostyle.plots import spectrogram_panels

    cfg = SpectralConfig()
    x = torch.from_numpy(piano)[None]
    raw = analyze(x, cfg)
    norm = compute_stats([complex_to_channels(compress(channels_to_complex(raw), 0.3))])
    back = istft(norm.denormalize(norm.normalize(raw))[:, :, : cfg.stft_bins].transpose(1, 2), x.shape[1], cfg)[0]
    snr = float(10 * torch.log10(x.square().sum() / (x[0] - back).square().sum()))
    save_audio(out / "input_piano.wav", piano, sr)
    save_audio(out / "true_violin.wav", violin_true, sr)
    save_audio(out / "features_round_trip.wav", back.numpy(), sr)
    png = spectrogram_panels([("piano", piano), ("violin (same notes)", violin_true)], sr, out / "spectrograms.png")
    print("no transfer model is shipped in this installation yet: ran the data and feature pipeline only")
    print(f"features {tuple(raw.shape)} (batch, re/im, frames, STFT+CQT bins); round-trip SNR {snr:.1f} dB")
    for name in ("input_piano.wav", "true_violin.wav", "features_round_trip.wav"):
        print(f"wrote {out / name}")
    print(f"wrote {png}")
    return 0
