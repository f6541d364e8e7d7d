"""Class prototypes over the training set, stored in the released model for inference.

In training, ``z_class`` is the mean ``z_style`` of each class within a batch (the paper). A
transfer at inference has no batch, so the model keeps one prototype per instrument: the mean
``z_style`` over crops of up to ``clips_per_class`` training clips. A prototype can also be
taken from example recordings (:func:`recording_prototype`, ``audiostyle prototype``): a
target timbre of the user's choosing, e.g. one violin's recordings.
"""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def compute_prototypes(model, sampler, clips_per_class: int, crop_frames: int, crops_per_clip: int = 3) -> torch.Tensor:
    """Fill ``model.prototypes`` ``(K, D)`` from the sampler's training clips; returns it."""
    was_training = model.training
    model.eval()
    for k, inst in enumerate(sampler.instruments):
        ids = sampler.clips[inst][:clips_per_class]
        zs = []
        for cid in ids:
            feats = sampler.features(inst, cid)
            span = max(1, feats.shape[1] - crop_frames + 1)
            starts = np.linspace(0, span - 1, crops_per_clip).astype(int)
            crops = torch.from_numpy(np.stack([sampler.crop(feats, cid, int(s)) for s in starts]))
            x = model.norm.standardize(crops.to(model.prototypes.device))
            labels = torch.full((len(starts),), k, dtype=torch.long, device=x.device)
            zs.append(model.encode_style(x, labels).float())
        model.prototypes[k] = torch.cat(zs).mean(dim=0)
    model.train(was_training)
    return model.prototypes


@torch.no_grad()
def recording_prototype(model, instrument: str, waves: list[torch.Tensor]) -> torch.Tensor:
    """Prototype ``(D,)`` of ``instrument`` from example recordings ``waves`` (each ``(N_i,)``
    samples at the model rate): each recording's mean style code over its windows (the model's
    one-shot ``style_vector(instrument, reference)``), then the mean over recordings, so a long
    file weighs as much as a short one. The training prototypes are the same mean over training
    crops, so the result is a drop-in replacement for ``model.prototypes[k]``."""
    if not waves:
        raise ValueError("recording_prototype needs at least one recording")
    codes = [model.style_vector(instrument, w.to(model.prototypes.device)).float() for w in waves]
    return torch.stack(codes).mean(dim=0)
