"""Detect losses that sit at their bounds, where they give (almost) no training signal.

A loss pinned at a bound is a silent failure: the total still decreases through the other
terms, but the pinned term does nothing (collapsed embeddings, a discriminator that never
learned, an HSIC penalty that is already ~0...). :func:`check_bounds` inspects one set of logged
values; :class:`BoundMonitor` warns only when a value stays at its bound for ``window``
consecutive checks, and says when it has been there since the first check.

Recognised keys of ``values`` (others are ignored, so a whole log dict can be passed):

==========================  ===================================  ==========================
key                         bound                                needs
==========================  ===================================  ==========================
``info_nce``                floor or collapse value ``ln(B-1)``  ``context.info_nce_bounds``
``generator_entropy_loss``  ``-ln K`` (uniform predictions)      ``context.num_classes``
``generator_ce_loss``       ``ln K`` (uniform predictions)       ``context.num_classes``
``disc_loss_content``       ``ln K`` (CE of uniform predictions) ``context.num_classes``
``disc_loss_style``         ``ln K``                             ``context.num_classes``
``disc_acc_content``        chance ``1/K``                       ``context.num_classes``
``disc_acc_style``          chance ``1/K``                       ``context.num_classes``
``normalized_hsic``         0                                    —
``margin_loss``             0 (every prototype pair past margin) —
``masked_recon_ratio``      above ``masked_ratio_tol``           —
==========================  ===================================  ==========================

``masked_recon_ratio`` is the reconstruction loss of a decode with every previous-step input
masked (how inference decodes, from ``z_content`` and the style alone) over that of the
teacher-forced decode the loss trains. It is not a loss at a bound but a ratio that a healthy
decoder keeps near 1: well above it, the decoder reconstructs from its previous frames and not
from ``z_content``, and a model whose training loss looks fine can output a drone at inference.

A key whose context entry is missing is skipped. Non-finite values are always reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BoundContext", "BoundMonitor", "MONITORED_KEYS", "check_bounds"]

MONITORED_KEYS = (
    "info_nce", "generator_entropy_loss", "generator_ce_loss", "disc_loss_content", "disc_loss_style",
    "disc_acc_content", "disc_acc_style", "normalized_hsic", "margin_loss", "masked_recon_ratio",
)


@dataclass
class BoundContext:
    """What the bounds depend on, and how close counts as "at" a bound.

    Attributes:
        num_classes: number of instruments ``K`` of the discriminator.
        info_nce_bounds: ``(floor, chance)`` from
            :func:`audiostyle.losses.contrastive.info_nce_bounds` for the batch's labels (they
            depend on the batch composition; pass a fresh context to ``update`` if it varies).
        loss_tol: absolute tolerance in nats for the InfoNCE / entropy / cross-entropy bounds.
        accuracy_tol: absolute tolerance around chance accuracy ``1/K`` (batch accuracies are
            noisy: with N samples their std is about ``sqrt(p(1-p)/N)``; widen it for small N).
        hsic_tol: normalised HSIC at or below this counts as 0.
        margin_tol: margin loss at or below this counts as 0 (inactive hinge).
        masked_ratio_tol: a masked-over-teacher-forced reconstruction ratio above this counts
            as a decoder that ignores ``z_content`` (1.02 on the shipped flagship, 1.40 on a
            run whose ``z_content`` lost its notes; docs/training.md, ``flagship-match``).
    """

    num_classes: int | None = None
    info_nce_bounds: tuple[float, float] | None = None
    loss_tol: float = 1e-2
    accuracy_tol: float = 0.02
    hsic_tol: float = 1e-3
    margin_tol: float = 0.0
    masked_ratio_tol: float = 1.2


def _bound_messages(values: Mapping[str, float], ctx: BoundContext) -> dict[str, str]:
    """``{key: message}`` for every recognised key at its bound (or non-finite) now."""
    out: dict[str, str] = {}
    k = ctx.num_classes
    log_k = math.log(k) if k else None
    for key in MONITORED_KEYS:
        if key not in values:
            continue
        v = float(values[key])
        if not math.isfinite(v):
            out[key] = f"{key} is {v} (not finite)"
            continue
        msg = None
        if key == "info_nce" and ctx.info_nce_bounds is not None:
            floor, chance = ctx.info_nce_bounds
            if abs(v - chance) <= ctx.loss_tol:
                msg = (f"info_nce = {v:.4f} is at its collapse value ln(B-1) = {chance:.4f}: all style "
                       "embeddings coincide (style encoder collapsed to a constant)")
            elif v - floor <= ctx.loss_tol:
                msg = (f"info_nce = {v:.4f} is at its floor {floor:.4f} (classes collapsed to separated "
                       "points): the contrastive term gives almost no gradient")
        elif key == "generator_entropy_loss" and log_k is not None:
            if v + log_k <= ctx.loss_tol:
                msg = (f"generator_entropy_loss = {v:.4f} is at its minimum -ln K = {-log_k:.4f}: the "
                       "discriminator predicts uniformly on content, so the adversarial term gives no gradient")
        elif key == "generator_ce_loss" and log_k is not None:
            if v - log_k <= ctx.loss_tol:
                msg = (f"generator_ce_loss = {v:.4f} is at its minimum ln K = {log_k:.4f}: the "
                       "discriminator predicts uniformly on content, so the adversarial term gives no gradient")
        elif key in ("disc_loss_content", "disc_loss_style") and log_k is not None:
            if abs(v - log_k) <= ctx.loss_tol:
                what = key.removeprefix("disc_loss_")
                msg = (f"{key} = {v:.4f} is at ln K = {log_k:.4f}: the discriminator predicts uniformly "
                       f"on {what} embeddings")
        elif key in ("disc_acc_content", "disc_acc_style") and k:
            if abs(v - 1.0 / k) <= ctx.accuracy_tol:
                if key == "disc_acc_style":
                    msg = (f"disc_acc_style = {v:.3f} is at chance 1/K = {1 / k:.3f}: style embeddings carry "
                           "no instrument information")
                else:
                    msg = (f"disc_acc_content = {v:.3f} is at chance 1/K = {1 / k:.3f}: content is "
                           "instrument-free, or the discriminator is not learning")
        elif key == "normalized_hsic":
            if v <= ctx.hsic_tol:
                msg = (f"normalized_hsic = {v:.2e} <= {ctx.hsic_tol:.0e}: style and content are already "
                       "independent under the kernel, the HSIC penalty does nothing")
        elif key == "margin_loss":
            if v <= ctx.margin_tol:
                msg = f"margin_loss = {v:.4f}: every prototype pair is past the margin, the hinge is inactive"
        elif key == "masked_recon_ratio":
            if v > ctx.masked_ratio_tol:
                msg = (f"masked_recon_ratio = {v:.2f} > {ctx.masked_ratio_tol:.2f}: decoding from z_content alone, "
                       "as inference does, reconstructs much worse than the teacher-forced decode: the decoder "
                       "leans on its previous frames, and z_content may have lost the notes")
        if msg is not None:
            out[key] = msg
    return out


def check_bounds(values: Mapping[str, float], context: BoundContext) -> list[str]:
    """One-shot check: a human-readable warning per recognised value now at its bound.

    Args:
        values: logged scalars (floats or 0-dim tensors) keyed as in the module table.
        context: bounds and tolerances.
    Returns:
        warnings (empty if nothing is at a bound), in :data:`MONITORED_KEYS` order.
    """
    return list(_bound_messages(values, context).values())


class BoundMonitor:
    """Warn when a loss stays at its bound for ``window`` consecutive checks.

    Call :meth:`update` at every logging step. A warning is returned once per streak, when
    the streak reaches ``window`` checks; a value leaving its bound resets its streak. If the
    value has been at its bound on every check since the first one, the warning says so (for
    the adversarial terms this usually means the discriminator never learned at all — e.g. it
    is not being stepped, or its input is detached/constant). A key absent from ``values`` at
    a check keeps its streak unchanged.

    Args:
        context: default :class:`BoundContext`.
        window: consecutive checks at the bound before warning (>= 1).
    """

    def __init__(self, context: BoundContext, window: int = 5):
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.context = context
        self.window = window
        self.reset()

    def reset(self) -> None:
        self.checks = 0
        self._streak: dict[str, int] = {}
        self._seen: dict[str, int] = {}  # checks that included the key

    @property
    def sustained(self) -> dict[str, int]:
        """``{key: streak}`` for values currently at their bound for >= ``window`` checks."""
        return {k: n for k, n in self._streak.items() if n >= self.window}

    def update(self, values: Mapping[str, float], context: BoundContext | None = None) -> list[str]:
        """Record one check; return the warnings whose streak just reached ``window``."""
        ctx = self.context if context is None else context
        self.checks += 1
        at = _bound_messages(values, ctx)
        warnings = []
        for key in MONITORED_KEYS:
            if key not in values:
                continue
            self._seen[key] = self._seen.get(key, 0) + 1
            if key not in at:
                self._streak[key] = 0
                continue
            n = self._streak.get(key, 0) + 1
            self._streak[key] = n
            if n == self.window:
                since = "since the first check" if n == self._seen[key] else f"for the last {n} checks"
                warnings.append(f"{at[key]} [{since}]")
        return warnings
