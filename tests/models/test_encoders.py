"""Content-encoder input levelling: what it keeps and what it removes."""

import torch

from audiostyle.models.encoders import ContentEncoder, frame_normalize


def _note(envelope: torch.Tensor, n_bins: int = 32) -> torch.Tensor:
    """A fixed spectral pattern scaled per frame by ``envelope`` ``(T,)`` -> ``(1, 2, T, F)``."""
    g = torch.Generator().manual_seed(0)
    pattern = torch.randn(2, 1, n_bins, generator=g)
    return (pattern * envelope[None, :, None])[None]


def test_decay_and_sustain_level_to_the_same_frames():
    t = torch.arange(64, dtype=torch.float32)
    decay, sustain = _note(torch.exp(-t / 20.0)), _note(torch.ones(64))
    assert (decay - sustain).abs().max() > 0.9  # the raw inputs differ by most of their scale
    a, b = frame_normalize(decay, floor=0.0), frame_normalize(sustain, floor=0.0)
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    # every frame has unit RMS magnitude
    rms = a.square().sum(1).mean(-1).sqrt()
    torch.testing.assert_close(rms, torch.ones_like(rms), atol=1e-4, rtol=1e-4)


def test_floor_keeps_silence_quiet_and_patterns_distinct():
    env = torch.ones(16)
    env[8:] = 1e-4  # note, then near-silence
    out = frame_normalize(_note(env))
    rms = out.square().sum(1).mean(-1).sqrt()[0]
    assert rms[:8].min() > 0.95 and rms[8:].max() < 0.01
    # a different spectral pattern stays different after levelling
    other = frame_normalize(torch.roll(_note(env), shifts=5, dims=-1))
    assert (out - other).abs().max() > 0.5


def test_frame_normalised_content_encoder_ignores_each_frames_gain():
    torch.manual_seed(0)
    enc = ContentEncoder(n_bins=64, d_model=32, latent_dim=8, layers=1, heads=2, dropout=0.0, channels=8, frame_norm=True)
    enc.eval()
    x = torch.randn(1, 2, 32, 64)
    gains = torch.linspace(1.0, 0.3, 32)  # a decay applied frame by frame
    with torch.no_grad():
        same = enc(x * gains[None, None, :, None])
        ref = enc(x)
        enc.frame_norm = False
        raw = enc(x * gains[None, None, :, None])
    # levelled, the decayed clip encodes almost as the undecayed one; raw, it does not
    assert (same - ref).abs().mean() < 0.1 * (raw - ref).abs().mean()
