"""Scheduled sampling: training the flagship's decoder on the frames it feeds itself back.

The paper's decoder generates one token of frames per step and consumes them at the next
(``inference_feedback: generated``). Trained on true previous frames (and the mask token) only,
it meets its own imperfect frames first at inference and drifts away from the content: the
`default` model trained that way decodes its own feedback to a reconstruction onset F1 of
0.13 / 0.15 on the test split, with too few voiced frames for a pitch correlation on most clips,
the failure of the paper's own code. Scheduled sampling
(Bengio, Vinyals, Jaitly and Shazeer, "Scheduled Sampling for Sequence Prediction with Recurrent
Neural Networks", 2015) trains on a growing share of the model's own inputs; here in the
parallel form of Duckworth, Neelakantan, Goodrich, Kaiser and Bengio ("Parallel Scheduled
Sampling", 2019): gradient-free passes of the decoder produce its frames for the whole sequence
at once, and the training pass takes each previous-step input from them with a probability that
rises over the run. The first pass decodes from the mask token alone and each further pass
feeds back the previous pass's frames (one more step of the generated loop), so no true frame
reaches what is fed back, as at inference. It applies to the reconstruction decode; the paired
option's cross-reconstruction stays teacher-forced.
"""

from __future__ import annotations

import torch

DEFAULTS = {
    # Share of previous-step inputs taken from the decoder's own frames at the end of the ramp.
    # 0 = off (teacher forcing and the mask token only).
    "scheduled_sampling": 0.0,
    # Fractions of the run over which the share rises linearly from 0 to its final value.
    "scheduled_sampling_ramp": [0.1, 0.5],
    # Gradient-free decoder passes that produce the fed-back frames (the first from the mask
    # token alone; each further one from the previous pass's frames).
    "scheduled_sampling_passes": 2,
}


def check(cfg: dict) -> None:
    """Refuse out-of-range scheduled-sampling settings of ``train.objective`` by name.

    Raises:
        ValueError: a share outside [0, 1], a ramp that is not two fractions ``0 <= a <= b <= 1``,
            or fewer than one pass.
    """
    share, ramp, passes = (cfg[k] for k in DEFAULTS)
    if not 0.0 <= float(share) <= 1.0:
        raise ValueError(f"train.objective.scheduled_sampling must be in [0, 1], got {share}")
    if not (isinstance(ramp, (list, tuple)) and len(ramp) == 2 and 0.0 <= ramp[0] <= ramp[1] <= 1.0):
        raise ValueError(f"train.objective.scheduled_sampling_ramp must be [start, end] with 0 <= start <= end <= 1, "
                         f"got {ramp}")
    if int(passes) != passes or passes < 1:
        raise ValueError(f"train.objective.scheduled_sampling_passes must be an integer >= 1, got {passes}")


def sampling_share(cfg: dict, step: int, total: int) -> float:
    """Probability that a previous-step input is the decoder's own frame at ``step`` of ``total``."""
    final = float(cfg["scheduled_sampling"])
    start, end = cfg["scheduled_sampling_ramp"]
    frac = step / max(1, total)
    if final <= 0 or frac < start:
        return 0.0
    if end <= start or frac >= end:
        return final
    return final * (frac - start) / (end - start)


@torch.no_grad()
def own_frames(model, z_content: torch.Tensor, z_class: torch.Tensor, passes: int) -> torch.Tensor:
    """The decoder's own frames for a sequence, at the scale it consumes them.

    ``z_content`` ``(B, S, D)``, ``z_class`` ``(B, D)`` -> standardised frames
    ``(B, 2, S * fpt, F)`` (:meth:`Flagship.to_decoder_input`), after ``passes`` passes: the
    first with every input masked, each further one fed the previous pass's frames.
    """
    frames = model.to_decoder_input(*model.decoder.masked_forward(z_content, z_class))
    for _ in range(int(passes) - 1):
        frames = model.to_decoder_input(*model.decode(frames, z_content, z_class))
    return frames
