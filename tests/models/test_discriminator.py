"""The discriminator's heads over z_content: what each can and cannot see."""

import torch

from audiostyle.models.discriminator import Discriminator, pooled_statistics


def envelopes(n: int, s: int = 32, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(2n, s, d)`` sequences: class 0 decays after random onsets, class 1 is the same
    sequence reversed in time (it swells). Each class has the same values at the same
    frequency, so per-token and clip-statistic views carry no label information."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(s, dtype=torch.float32)
    period = torch.randint(6, 12, (n, 1), generator=g).float()
    phase = torch.rand(n, 1, generator=g) * period
    decay = torch.exp(-torch.remainder(t[None] + phase, period) / 3.0)  # (n, s): onset, decay
    z = decay[..., None] * torch.randn(n, 1, d, generator=g).abs() + 0.05 * torch.randn(n, s, d, generator=g)
    return torch.cat([z, z.flip(1)]), torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)])


def fit(logits_of, params, z, y, steps=150):
    opt = torch.optim.Adam(params, lr=3e-3)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(logits_of(z), y).backward()
        opt.step()
    with torch.no_grad():
        return float((logits_of(z).argmax(-1) == y).float().mean())


def test_temporal_head_shape_and_forward_route():
    d = Discriminator(latent_dim=8, num_classes=3, hidden=16, temporal=True)
    z = torch.randn(5, 20, 8)
    assert d(z, sequence=True).shape == (5, 3)
    torch.testing.assert_close(d(z, sequence=True), d.temporal(z))


def test_without_the_head_a_sequence_call_fails_clearly():
    d = Discriminator(latent_dim=8, num_classes=2, hidden=16)
    try:
        d(torch.randn(2, 10, 8), sequence=True)
    except RuntimeError as err:
        assert "temporal head" in str(err)
    else:
        raise AssertionError("expected a RuntimeError")


def test_only_the_temporal_head_hears_decay_against_swell():
    torch.manual_seed(0)
    z, y = envelopes(64)
    d = Discriminator(latent_dim=8, num_classes=2, hidden=32, pooled=True, temporal=True)
    # per-token and pooled views: the two classes hold the same tokens and the same statistics
    torch.testing.assert_close(pooled_statistics(z[:64]), pooled_statistics(z[64:]))
    acc_temporal = fit(d.temporal, d.temporal.parameters(), z, y)
    acc_pooled = fit(lambda v: d.pooled(pooled_statistics(v)), d.pooled.parameters(), z, y)
    assert acc_temporal > 0.95
    assert acc_pooled < 0.65
