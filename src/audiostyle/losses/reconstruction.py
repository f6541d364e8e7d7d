"""Composite reconstruction loss on linear-scale complex STFTs (paper §3.5).

Every term takes ``pred, target: (B, F, T)`` complex64 (``F = n_fft // 2 + 1 = 513``, STFT of
the project's convention: n_fft 1024, hop 256, periodic Hann, centred, zero padding — see
:mod:`audiostyle.losses._spectral`) and returns a 0-dim tensor that is 0 for ``pred == target``
(the consistency term: for a *consistent* ``pred``). All are safe at ``|X| = 0``: no NaN/inf in
values or gradients.

Most terms work on power-law compressed spectra, ``|X|^c`` with ``c = 0.3``: STFT magnitudes span
several orders of magnitude and an uncompressed distance is dominated by a few loud low-frequency
bins.

:func:`reconstruction_losses` computes all terms and their weighted ``"total"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from audiostyle.features.spectral import SpectralConfig
from audiostyle.losses._constant_q import CQT_LOSS_CONFIG, CQT_LOSS_DECIMATION, cqt_distance, decimate
from audiostyle.losses._spectral import (
    POWER_EPS, compress as _compress, compressed_magnitude, istft, power, safe_sqrt, stft, unit_phasor,
)

__all__ = [
    "CQT_LOSS_CONFIG", "CQT_LOSS_DECIMATION", "DEFAULT_RESOLUTIONS", "DEFAULT_WEIGHTS", "TERMS",
    "complex_mse_loss", "consistency_loss", "cqt_loss", "decimate", "magnitude_loss", "mr_stft_loss",
    "phase_loss", "reconstruction_losses", "spectral_loss", "temporal_loss",
]

TERMS = ("complex_mse", "magnitude", "phase", "temporal", "spectral", "consistency", "mr_stft", "cqt")
"""Names of the terms returned by :func:`reconstruction_losses` (plus ``"total"``)."""

DEFAULT_WEIGHTS: dict[str, float] = {name: 1.0 for name in TERMS}
"""Default weights: all 1.0. Every term is O(1) for a poor prediction; these are neutral
defaults of this implementation, not values from the paper — set them in the training config."""

DEFAULT_RESOLUTIONS: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))
"""``(n_fft, hop)`` pairs of the multi-resolution STFT loss (window length = n_fft)."""


def _check(pred: torch.Tensor, target: torch.Tensor | None = None, n_fft: int | None = None) -> None:
    if not pred.is_complex() or pred.dim() != 3:
        raise ValueError(f"pred must be a (B, F, T) complex tensor, got {pred.dtype} {tuple(pred.shape)}")
    if target is not None and (not target.is_complex() or target.shape != pred.shape):
        raise ValueError(f"target must be complex with pred's shape {tuple(pred.shape)}, "
                         f"got {target.dtype} {tuple(target.shape)}")
    if n_fft is not None and pred.shape[1] != n_fft // 2 + 1:
        raise ValueError(f"expected F = n_fft // 2 + 1 = {n_fft // 2 + 1} bins, got {pred.shape[1]}")


def complex_mse_loss(pred: torch.Tensor, target: torch.Tensor, compress: float = 0.3) -> torch.Tensor:
    """MSE between power-law compressed complex spectra ``|X|^c · X/|X|``.

    Args:
        pred, target: ``(B, F, T)`` complex.
        compress: exponent ``c``.
    Returns:
        0-dim tensor, mean over bins of ``|C(pred) - C(target)|^2``.
    """
    _check(pred, target)
    return power(_compress(pred, compress) - _compress(target, compress)).mean()


def _magnitudes(spec: torch.Tensor, compress: float, scale: str) -> torch.Tensor:
    if scale == "compressed":
        return compressed_magnitude(spec, compress)
    if scale == "log":
        # log(|X| + eps) in spirit; 0.5 * log(|X|^2 + eps) avoids sqrt's infinite slope at 0.
        return 0.5 * torch.log(power(spec) + POWER_EPS)
    raise ValueError(f"magnitude scale must be 'compressed' or 'log', got {scale!r}")


def magnitude_loss(
    pred: torch.Tensor, target: torch.Tensor, compress: float = 0.3, scale: str = "compressed",
    distance: str = "l1",
) -> torch.Tensor:
    """Distance between magnitudes: compressed ``|X|^c`` (default) or ``log |X|``.

    Args:
        pred, target: ``(B, F, T)`` complex.
        compress: exponent ``c`` (used when ``scale == "compressed"``).
        scale: ``"compressed"`` or ``"log"`` (``0.5 log(|X|^2 + 1e-8)``, floor ≈ -9.2).
        distance: ``"l1"`` or ``"mse"``.
    Returns:
        0-dim tensor, mean over bins.
    """
    _check(pred, target)
    diff = _magnitudes(pred, compress, scale) - _magnitudes(target, compress, scale)
    if distance == "l1":
        return diff.abs().mean()
    if distance == "mse":
        return diff.square().mean()
    raise ValueError(f"distance must be 'l1' or 'mse', got {distance!r}")


def phase_loss(
    pred: torch.Tensor, target: torch.Tensor, compress: float = 0.3, mode: str = "cosine",
) -> torch.Tensor:
    """Phase difference weighted by the target's compressed magnitude.

    Per bin, with ``Δ`` the phase difference:

    * ``mode="cosine"`` (default, smooth): ``½|u_p - u_t|^2`` with ``u = X / sqrt(|X|^2 + eps)``,
      which equals ``1 - cos Δ`` wherever both magnitudes are >> 1e-4, and is exactly 0 for
      ``pred == target``. Range ``[0, 2]``.
    * ``mode="wrapped"``: ``|atan2(sin Δ, cos Δ)|`` in ``[0, π]`` (gradient 0 in bins where either
      spectrum is ~0, where the phase is undefined).

    Weights ``w = |target|^c`` (detached), normalised to sum to 1 per example: the phase of
    near-silent bins is noise and must not dominate; exactly silent target bins get weight 0.
    A silent target gives 0.

    Args:
        pred, target: ``(B, F, T)`` complex.
        compress: exponent ``c`` of the weights.
        mode: ``"cosine"`` or ``"wrapped"``.
    Returns:
        0-dim tensor, mean over the batch of the weighted per-example sums.
    """
    _check(pred, target)
    w = compressed_magnitude(target.detach(), compress)
    w = w / w.sum(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    up, ut = unit_phasor(pred), unit_phasor(target)
    if mode == "cosine":
        d = 0.5 * power(up - ut)
    elif mode == "wrapped":
        cross = up * ut.conj()  # = r·e^{iΔ}, r <= 1
        ok = power(cross) > 1e-12
        # Double-where: atan2's gradient is 0/0 at the origin; feed it a safe point there.
        re = torch.where(ok, cross.real, torch.ones_like(cross.real))
        im = torch.where(ok, cross.imag, torch.zeros_like(cross.imag))
        d = torch.where(ok, torch.atan2(im, re).abs(), torch.zeros_like(re))
    else:
        raise ValueError(f"phase mode must be 'cosine' or 'wrapped', got {mode!r}")
    return (w * d).sum(dim=(1, 2)).mean()


def temporal_loss(pred: torch.Tensor, target: torch.Tensor, compress: float = 0.3) -> torch.Tensor:
    """L1 between frame-to-frame transitions ``M[..., t+1] - M[..., t]`` of compressed magnitudes.

    Penalises smeared onsets and wrong envelopes that a per-bin loss averages away.
    Returns 0 (attached) when ``T < 2``.
    """
    _check(pred, target)
    mp, mt = compressed_magnitude(pred, compress), compressed_magnitude(target, compress)
    if mp.shape[-1] < 2:
        return mp.sum() * 0.0
    return (mp.diff(dim=-1) - mt.diff(dim=-1)).abs().mean()


def spectral_loss(pred: torch.Tensor, target: torch.Tensor, compress: float = 0.3) -> torch.Tensor:
    """L1 between spectral gradients (differences along frequency) of compressed magnitudes.

    Penalises wrong harmonic peak shapes/spectral envelopes (timbre) independently of level.
    """
    _check(pred, target)
    mp, mt = compressed_magnitude(pred, compress), compressed_magnitude(target, compress)
    return (mp.diff(dim=1) - mt.diff(dim=1)).abs().mean()


def _consistency(pred: torch.Tensor, pred_wave: torch.Tensor, compress: float, n_fft: int, hop: int) -> torch.Tensor:
    re_spec = stft(pred_wave, n_fft, hop)
    return power(_compress(re_spec, compress) - _compress(pred, compress)).mean()


def consistency_loss(
    pred: torch.Tensor, compress: float = 0.3, n_fft: int = 1024, hop: int = 256, length: int | None = None,
) -> torch.Tensor:
    """STFT consistency: ``pred`` vs ``STFT(iSTFT(pred))``, as a compressed complex MSE.

    ``STFT ∘ iSTFT`` projects onto the spectrograms of real signals (overlapping frames must
    agree), so this is 0 for the STFT of any real signal and > 0 for a generic prediction (e.g.
    random complex noise, or a phase that does not match across frames). The gradient flows
    through both paths. Does not use the target.

    Args:
        pred: ``(B, F, T)`` complex.
        compress: exponent ``c``.
        n_fft, hop: STFT parameters of ``pred``.
        length: waveform length used for the round trip; default ``(T - 1) * hop``. It must give
            back ``T`` frames (``length // hop + 1 == T``).
    Returns:
        0-dim tensor.
    """
    _check(pred, None, n_fft)
    t = pred.shape[-1]
    length = (t - 1) * hop if length is None else length
    if length // hop + 1 != t:
        raise ValueError(f"length {length} gives {length // hop + 1} frames, expected {t}")
    return _consistency(pred, istft(pred, length, n_fft, hop), compress, n_fft, hop)


def _wave_pair(
    pred: torch.Tensor, target: torch.Tensor | None, target_wave: torch.Tensor | None, n_fft: int, hop: int, caller: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(iSTFT(pred), reference)`` of a waveform-domain term: the reference is ``target_wave``
    ``(B, N)`` when given (``pred`` is then inverted to ``N`` samples), else ``iSTFT(target)``."""
    _check(pred, target, n_fft)
    if target_wave is not None:
        return istft(pred, target_wave.shape[-1], n_fft, hop), target_wave
    if target is None:
        raise ValueError(f"{caller} needs target or target_wave")
    return istft(pred, None, n_fft, hop), istft(target, None, n_fft, hop)


def _mr_stft_waves(
    pred_wave: torch.Tensor, target_wave: torch.Tensor, resolutions: Sequence[tuple[int, int]],
) -> torch.Tensor:
    total = pred_wave.new_zeros(())
    for n_fft, hop in resolutions:
        # Power floored at 1e-7 as in Parallel WaveGAN: keeps sqrt/log and their gradients finite.
        pp = power(stft(pred_wave, n_fft, hop)).clamp_min(1e-7)
        pt = power(stft(target_wave, n_fft, hop)).clamp_min(1e-7)
        mp, mt = pp.sqrt(), pt.sqrt()
        # Spectral convergence per example (a loud example does not swamp a quiet one).
        sc = safe_sqrt((mt - mp).square().sum(dim=(1, 2))) / mt.square().sum(dim=(1, 2)).sqrt()
        log_l1 = 0.5 * (torch.log(pt) - torch.log(pp)).abs().mean()
        total = total + sc.mean() + log_l1
    return total / len(resolutions)


def mr_stft_loss(
    pred: torch.Tensor,
    target: torch.Tensor | None = None,
    target_wave: torch.Tensor | None = None,
    n_fft: int = 1024,
    hop: int = 256,
    resolutions: Sequence[tuple[int, int]] = DEFAULT_RESOLUTIONS,
) -> torch.Tensor:
    """Multi-resolution STFT loss on waveforms (Yamamoto et al. 2020, Parallel WaveGAN).

    ``iSTFT(pred)`` is compared with ``target_wave`` if given (``(B, N)``; ``pred`` is inverted to
    ``N`` samples), else with ``iSTFT(target)``. For each ``(n_fft, hop)`` resolution:
    spectral convergence ``||S_t - S_p||_F / ||S_t||_F`` (per example, then mean) plus the L1
    distance of log magnitudes; the result is the mean over resolutions of their sum.

    Args:
        pred: ``(B, F, T)`` complex.
        target: ``(B, F, T)`` complex, or None when ``target_wave`` is given.
        target_wave: optional ``(B, N)`` real reference waveform.
        n_fft, hop: STFT parameters of ``pred``/``target``.
        resolutions: ``(n_fft, hop)`` pairs of the comparison STFTs.
    Returns:
        0-dim tensor.
    """
    return _mr_stft_waves(*_wave_pair(pred, target, target_wave, n_fft, hop, "mr_stft_loss"), resolutions)


def cqt_loss(
    pred: torch.Tensor,
    target: torch.Tensor | None = None,
    target_wave: torch.Tensor | None = None,
    compress: float = 0.3,
    n_fft: int = 1024,
    hop: int = 256,
    cfg: SpectralConfig = CQT_LOSS_CONFIG,
) -> torch.Tensor:
    """L1 distance of compressed constant-Q magnitudes of the waveforms (pitch resolution).

    ``iSTFT(pred)`` is compared with ``target_wave`` if given (``(B, N)``), else with
    ``iSTFT(target)``; both (at :data:`audiostyle.MODEL_SR`) are decimated to ``cfg.sr``, which
    must be that rate divided by an integer, and analysed with ``cfg``'s CQT
    (:func:`audiostyle.features.spectral.cqt`, default :data:`CQT_LOSS_CONFIG`, a quarter of the
    rate). The target's analysis carries no gradient.

    Args:
        pred: ``(B, F, T)`` complex.
        target: ``(B, F, T)`` complex, or None when ``target_wave`` is given.
        target_wave: optional ``(B, N)`` real reference waveform.
        compress: exponent ``c`` of ``|C|^c``.
        n_fft, hop: STFT parameters of ``pred``/``target``.
        cfg: the constant-Q analysis.
    Returns:
        0-dim tensor, mean over ``(B, K, T')`` CQT bins.
    """
    return cqt_distance(*_wave_pair(pred, target, target_wave, n_fft, hop, "cqt_loss"), compress, cfg)


def reconstruction_losses(
    pred: torch.Tensor,
    target: torch.Tensor,
    weights: Mapping[str, float] | None = None,
    compress: float = 0.3,
    n_fft: int = 1024,
    hop: int = 256,
    *,
    target_wave: torch.Tensor | None = None,
    magnitude_scale: str = "compressed",
    magnitude_distance: str = "l1",
    phase_mode: str = "cosine",
    resolutions: Sequence[tuple[int, int]] = DEFAULT_RESOLUTIONS,
    cqt_config: SpectralConfig = CQT_LOSS_CONFIG,
    report_zero_weight: bool = True,
) -> dict[str, torch.Tensor]:
    """All reconstruction terms of §3.5 and their weighted sum.

    Args:
        pred, target: ``(B, F, T)`` complex64 linear-scale STFTs (``F = n_fft // 2 + 1``).
        weights: per-term weights; missing terms take :data:`DEFAULT_WEIGHTS` (1.0); unknown
            names raise ``ValueError`` (catches config typos).
        compress: power-law exponent ``c`` used by every compressed term.
        n_fft, hop: STFT parameters of ``pred``/``target``.
        target_wave: optional ``(B, N)`` reference waveform for ``mr_stft`` and ``cqt`` (see
            :func:`mr_stft_loss`); the other terms always use ``target``.
        magnitude_scale, magnitude_distance: see :func:`magnitude_loss`.
        phase_mode: see :func:`phase_loss`.
        resolutions: see :func:`mr_stft_loss`.
        cqt_config: the constant-Q analysis of the ``cqt`` term (see :func:`cqt_loss`).
        report_zero_weight: terms with weight 0 are still computed and reported, but under
            ``torch.no_grad()`` (detached, no graph kept); set False to skip them entirely
            (they are then absent from the dict), e.g. to save the iSTFTs during training.
    Returns:
        ``{term: 0-dim tensor}`` for the terms of :data:`TERMS` plus ``"total"`` =
        ``sum(weight * term)`` over nonzero weights (always attached to ``pred``'s graph).
    """
    _check(pred, target, n_fft)
    w = dict(DEFAULT_WEIGHTS)
    if weights is not None:
        unknown = set(weights) - set(TERMS)
        if unknown:
            raise ValueError(f"unknown reconstruction terms {sorted(unknown)}; known: {list(TERMS)}")
        w.update({k: float(v) for k, v in weights.items()})

    cache: dict[str, torch.Tensor] = {}

    def pred_wave() -> torch.Tensor:
        # One iSTFT of pred shared by the consistency and multi-resolution terms.
        if "wave" not in cache:
            cache["wave"] = istft(pred, None, n_fft, hop)
        return cache["wave"]

    def waves() -> tuple[torch.Tensor, torch.Tensor]:
        # (prediction, reference) waveforms of the waveform-domain terms (mr_stft, cqt).
        if target_wave is not None:
            n = target_wave.shape[-1]
            pw = pred_wave() if n == (pred.shape[-1] - 1) * hop else istft(pred, n, n_fft, hop)
            return pw, target_wave
        if "target_wave" not in cache:
            cache["target_wave"] = istft(target, None, n_fft, hop).detach()
        return pred_wave(), cache["target_wave"]

    def mr() -> torch.Tensor:
        return _mr_stft_waves(*waves(), resolutions)

    fns = {
        "complex_mse": lambda: complex_mse_loss(pred, target, compress),
        "magnitude": lambda: magnitude_loss(pred, target, compress, magnitude_scale, magnitude_distance),
        "phase": lambda: phase_loss(pred, target, compress, phase_mode),
        "temporal": lambda: temporal_loss(pred, target, compress),
        "spectral": lambda: spectral_loss(pred, target, compress),
        "consistency": lambda: _consistency(pred, pred_wave(), compress, n_fft, hop),
        "mr_stft": mr,
        "cqt": lambda: cqt_distance(*waves(), compress, cqt_config),
    }
    out: dict[str, torch.Tensor] = {}
    # Starts attached to pred, so total.backward() works even if every weight is 0.
    total = pred.real.sum() * 0.0
    for name in TERMS:
        if w[name] != 0.0:
            out[name] = fns[name]()
            total = total + w[name] * out[name]
    # Zero-weight terms after the weighted ones, so the shared iSTFT cache never holds a
    # no-grad wave that a weighted term would then use.
    for name in TERMS:
        if w[name] == 0.0 and report_zero_weight:
            with torch.no_grad():
                out[name] = fns[name]()
    result = {name: out[name] for name in TERMS if name in out}
    result["total"] = total
    return result
