"""Does the flagship's decoder use ``z_content``? A check on every training batch.

Training decodes teacher-forced: each step's input is the previous target frame, a share of
them replaced by a mask token. Inference decodes with every input masked, from ``z_content``
and the style alone. A decoder can learn to reconstruct from the previous frames while
``z_content`` loses the notes (a matching or erasure term pressing on it, say); its training
loss then looks fine while inference outputs a steady drone. Decoding a few clips of each
batch the inference way and comparing their loss with the teacher-forced one shows it as it
happens (``losses.bounds``, ``masked_recon_ratio``).
"""

from __future__ import annotations

import torch

from audiostyle.losses import reconstruction_losses


@torch.no_grad()
def masked_decode_gap(model, x: torch.Tensor, target: torch.Tensor, z_content: torch.Tensor, z_style: torch.Tensor,
                      clips: int, token_dropout: float = 0.0) -> dict[str, torch.Tensor]:
    """Magnitude loss of ``clips`` clips decoded with every previous-step input masked, and its
    ratio to the same clips decoded teacher-forced (none of them wholly masked, unlike the
    training decode's ``full_mask`` share, which would hide the difference).

    Args:
        model: the flagship (``decode``, ``decoder.decode_masked``, ``target_frames``, ``to_spectrum``).
        x: the standardised batch ``(B, 2, T, n_bins)`` the decoder is teacher-forced with.
        target: the reconstruction target, complex ``(B, n_freq, T)`` as the loss takes it.
        z_content: ``(B, S, D)``; z_style: ``(B, D)``, the style each clip was decoded from.
        clips: how many clips, spread over the batch (batches are ordered by instrument).
        token_dropout: share of the teacher-forced inputs masked, as in training.
    Returns:
        ``{"recon_masked/magnitude": 0-dim, "masked_ratio": 0-dim}``.
    """
    b = z_content.shape[0]
    idx = torch.arange(b, device=z_content.device)[:: max(1, b // clips)][:clips]
    z_content, z_style, target = z_content[idx], z_style[idx], target[idx]
    # The decoder's dropout and token masks would draw from the training stream: keep it as it was.
    devices = [z_content.device.index or 0] if z_content.is_cuda else []
    with torch.random.fork_rng(devices=devices):
        masked = model.to_spectrum(*model.decoder.decode_masked(z_content, z_style))
        forced = model.to_spectrum(*model.decode(model.target_frames(x[idx]), z_content, z_style, token_dropout))
    weights = {"magnitude": 1.0}
    masked = reconstruction_losses(masked, target, weights=weights, report_zero_weight=False)["magnitude"]
    forced = reconstruction_losses(forced, target, weights=weights, report_zero_weight=False)["magnitude"]
    return {"recon_masked/magnitude": masked, "masked_ratio": masked / forced.clamp_min(1e-8)}
