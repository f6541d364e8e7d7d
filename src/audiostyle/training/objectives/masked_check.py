"""Does the flagship's decoder use ``z_content``? A check on every training batch.

Training decodes teacher-forced: each step's input is the previous target frame, a share of
them replaced by a mask token. Inference decodes with every input masked, from ``z_content``
and the style alone. A decoder can learn to reconstruct from the previous frames while
``z_content`` loses the notes (a matching or erasure term pressing on it, say); its training
loss then looks fine while inference outputs noise. Decoding a few clips of each batch the
inference way and comparing their loss with the teacher-forced one shows it as it happens
(``losses.bounds``, ``masked_recon_ratio``).
"""

from __future__ import annotations

import torch

from audiostyle.losses import reconstruction_losses


@torch.no_grad()
def masked_decode_gap(model, log_mag: torch.Tensor, phase: torch.Tensor, target: torch.Tensor,
                      z_content: torch.Tensor, z_style: torch.Tensor, clips: int) -> dict[str, torch.Tensor]:
    """Magnitude loss of ``clips`` clips decoded with every previous-step input masked, and its
    ratio to the same clips' teacher-forced loss.

    Args:
        model: the flagship (``decoder.decode_masked``, ``to_spectrum``).
        log_mag, phase: the teacher-forced decode, ``(B, S * fpt, n_freq)`` each.
        target: the reconstruction target, complex ``(B, n_freq, S * fpt)`` as the loss takes it.
        z_content: ``(B, S, D)``; z_style: ``(B, D)``, the style each clip was decoded from.
        clips: how many clips, spread over the batch (batches are ordered by instrument).
    Returns:
        ``{"recon_masked/magnitude": 0-dim, "masked_ratio": 0-dim}``.
    """
    b = z_content.shape[0]
    idx = torch.arange(b, device=z_content.device)[:: max(1, b // clips)][:clips]
    weights = {"magnitude": 1.0}
    # The decoder's dropout would draw from the training stream: keep that stream as it was.
    devices = [z_content.device.index or 0] if z_content.is_cuda else []
    with torch.random.fork_rng(devices=devices):
        spectrum = model.to_spectrum(*model.decoder.decode_masked(z_content[idx], z_style[idx]))
    masked = reconstruction_losses(spectrum, target[idx], weights=weights, report_zero_weight=False)["magnitude"]
    forced = reconstruction_losses(model.to_spectrum(log_mag[idx], phase[idx]), target[idx], weights=weights,
                                   report_zero_weight=False)["magnitude"]
    return {"recon_masked/magnitude": masked, "masked_ratio": masked / forced.clamp_min(1e-8)}
