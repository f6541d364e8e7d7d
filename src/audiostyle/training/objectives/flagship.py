"""One training step of the flagship: generator losses, discriminator losses, curriculum.

Generator = style encoder + content encoder + decoder. Its loss is a weighted sum of named
terms; the discriminator has its own optimiser and sees only detached embeddings, so the two
players' gradients never mix.

Curriculum (the paper's appendix): phase 1 reconstruction only; phase 2 adds the contrastive
terms (InfoNCE, margin); phase 3 adds HSIC; phase 4 adds the adversarial term with a weight
ramped linearly from 0. Phase boundaries are fractions of the run; ``curriculum: null`` turns
every term on from step 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from audiostyle.config import take
from audiostyle.losses import (
    RunningClassMeans, class_mean_gap, class_prototypes, discriminator_accuracy, discriminator_loss, generator_ce_loss,
    generator_entropy_loss, hsic_style_content, info_nce, margin_loss, normalized_hsic, note_activation_loss,
    note_f1, paired_content_gap, reconstruction_losses, running_class_mean_gap,
)
from audiostyle.losses.bounds import BoundContext, BoundMonitor
from audiostyle.losses.contrastive import info_nce_bounds
from audiostyle.models.discriminator import Discriminator, pooled_statistics
from audiostyle.training.objectives import feedback
from audiostyle.training.objectives.equalizers import Equalizers
from audiostyle.training.objectives.masked_check import masked_decode_gap
from audiostyle.training.objectives.transfer_check import real_log_magnitude, style_transfer_terms

RECON_TERMS = ("complex_mse", "magnitude", "phase", "temporal", "spectral", "consistency", "mr_stft", "cqt")

DEFAULTS = {
    "weights": {
        "complex_mse": 1.0, "magnitude": 1.0, "phase": 0.1, "temporal": 0.5, "spectral": 0.5,
        "consistency": 0.1, "mr_stft": 1.0,
        # Constant-Q magnitudes of the decoded waveform (losses.cqt_loss): off by default, and
        # then not computed at all (it costs a long-window STFT of every clip).
        "cqt": 0.0,
        "info_nce": 0.1, "margin": 0.1, "hsic": 0.5, "adversarial": 0.1, "style_ce": 0.1, "cross_recon": 1.0,
        "style_transfer": 0.3,
        # Note supervision of z_content through the model's note head (model.note_head): binary
        # cross-entropy summed over pitches per token, from the data set's note lists. 0 = off.
        "notes": 0.0,
        # Gap between the instruments' mean pooled z_content statistics, what a linear probe with
        # a convex loss reads (losses.erasure): closed form on every batch, no adversary. 0 = off.
        "linear_erasure": 0.0,
        # Gap between each crop's z_content and that of the same span rendered by another
        # instrument (losses.content_match); needs a data set with pairs. 0 = off.
        "content_match": 0.0,
    },
    # 0: the linear-erasure gap of each batch on its own (unbiased); in (0, 1): its direction
    # from running class means with this momentum (losses.erasure.running_class_mean_gap),
    # updated on every step from the first, kept in checkpoints.
    "linear_erasure_momentum": 0.0,
    # Crops per batch whose paired rendering is encoded for content matching, a random subset
    # drawn anew each step; 0 = all. The pair's content-encoder pass costs about 1.2 s a step
    # on 2 cores at the shipped size (3.1 s a step against 1.9 for the recipe without it).
    "content_match_clips": 0,
    # Fraction of the run over which content matching ramps from 0 to its weight, from the
    # start of phase 3; 0 = the whole weight at once. At once, the pair gap fell in 50 steps and
    # the note head went silent for good in one run (flagship-matchlite).
    "content_match_ramp": 0.0,
    # Instruments whose clips the note term sees (names from model.instruments); null = all.
    # The note head lifted the piano and cost the violin (docs/training.md): on piano only it
    # tests whether that cost comes through the term's gradient on violin content.
    "notes_instruments": None,
    "temperature": 0.1,
    "margin": 1.0,
    "adversarial": "entropy",     # or "ce": cross-entropy to the uniform distribution
    "curriculum": [0.1, 0.2, 0.3],  # start of phases 2, 3, 4 as fractions of the run; null = off
    "adv_ramp": 0.2,              # fraction of the run over which the adversarial weight ramps up
    "token_dropout": 0.3,
    # Share of sequences decoded with every previous-step input masked: inference decodes
    # that way (the free-running decoder drifts), so part of every batch trains exactly it.
    "full_mask": 0.0,
    "paired": False,
    # Also play the adversarial game on each clip's z_content statistics over time (mean and
    # standard deviation per channel). A per-token discriminator at chance can still leave a
    # small per-token bias that a whole clip turns into a clear instrument signal (what a probe
    # on pooled z_content reads); the mean alone is nearly fixed by the instance norm.
    "pooled_adversary": False,
    # And on the z_content sequence through a 1-D CNN over time: per token and per clip
    # statistics miss a note's envelope (decay against sustain), which the decoder otherwise
    # copies from the source instrument in transfer.
    "temporal_adversary": False,
    # Unpaired transfer check (beyond the paper): decode clips with another instrument's
    # z_class, every input masked as at inference, and train the generator so that the
    # discriminator's spectral head, trained on real clips only, hears the new instrument.
    # Without it nothing in the unpaired recipe asks the decoder to follow z_class when the
    # content says otherwise. Costs one more decoder pass over `style_transfer_clips` clips.
    "style_transfer": False,
    "style_transfer_clips": 8,
    # Content encoder input randomly equalised per clip (features.equalize): gains up to this
    # many dB at `content_eq_points` control frequencies; the style encoder and the
    # reconstruction target see the clip untouched. 0 = off. The training set is one sound
    # font per instrument; this asks z_content to hold the notes and not that font's envelope.
    "content_eq_db": 0.0,
    "content_eq_points": 6,
    # Points in time the equaliser's curve is drawn at, spread over the clip and interpolated
    # between (features.equalize.random_eq_field_db); 1 = one curve per clip. A changing balance
    # hides how a note's partials decay relative to each other, which a static curve leaves.
    "content_eq_time_points": 1,
    # Whole clip (style encoder input and reconstruction target) randomly equalised per clip,
    # before the content encoder's own equaliser: clips of one instrument then differ in their
    # balance of registers, which only z_style can carry to the decoder. Same curve shape as the
    # content equaliser (`content_eq_points` control frequencies), drawn independently. 0 = off.
    "clip_eq_db": 0.0,
    # Share of clips whose reconstruction is decoded from their own z_style instead of their
    # instrument's prototype. The paper decodes from prototypes only, so the decoder reads the
    # style as a choice of instrument and a clip's own spectral balance has no way through
    # but z_content, which the equaliser and the adversary train to drop it. 0 = the paper.
    "own_style_share": 0.0,
    # Clips per batch also decoded as inference decodes (every previous-step input masked),
    # without gradient, to log how much worse that is than the teacher-forced decode
    # (losses.bounds, masked_recon_ratio), on step 0 and every `masked_check_every`-th step
    # after: the loop logs one step in train.log_every (25), so a check on every step is
    # wasted. 0 = off.
    "masked_check_clips": 4,
    "masked_check_every": 25,
    "disc_hidden": 128,
    "prototype_momentum": 0.99,
    **feedback.DEFAULTS,  # scheduled sampling of the decoder's own frames (objectives.feedback)
}


class FlagshipObjective:
    """Losses of the flagship for one batch; owns the discriminator."""

    def __init__(self, model, cfg: dict):
        weights = take(cfg.get("weights", {}), DEFAULTS["weights"], "train.objective.weights")
        self.cfg = take({**cfg, "weights": weights}, DEFAULTS, "train.objective")
        if self.cfg["adversarial"] not in ("entropy", "ce"):
            raise ValueError(f"train.objective.adversarial must be 'entropy' or 'ce', got {self.cfg['adversarial']!r}")
        self.model = model
        self.num_classes = model.cfg.num_classes
        self.discriminator = Discriminator(
            model.cfg.latent_dim, self.num_classes, self.cfg["disc_hidden"], pooled=bool(self.cfg["pooled_adversary"]),
            spectral_bins=model.spectral.stft_bins if self.cfg["style_transfer"] else 0, sr=model.spectral.sr,
            temporal=bool(self.cfg["temporal_adversary"]),
        )
        self.equalizers = Equalizers(model, self.cfg)
        if not 0.0 <= self.cfg["own_style_share"] <= 1.0:
            raise ValueError(f"train.objective.own_style_share must be in [0, 1], got {self.cfg['own_style_share']}")
        feedback.check(self.cfg)
        for key, least in (("content_match_clips", 0), ("masked_check_clips", 0), ("masked_check_every", 1),
                           ("content_match_ramp", 0)):
            if self.cfg[key] < least:
                raise ValueError(f"train.objective.{key} must be >= {least}, got {self.cfg[key]}")
        for key in ("notes", "linear_erasure", "content_match"):
            if self.cfg["weights"][key] < 0:
                raise ValueError(f"train.objective.weights.{key} must be >= 0, got {self.cfg['weights'][key]}")
        momentum = float(self.cfg["linear_erasure_momentum"])
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"train.objective.linear_erasure_momentum must be in [0, 1), got {momentum}")
        self.erasure_means = (RunningClassMeans(self.num_classes, 2 * model.cfg.latent_dim, momentum)
                              if momentum > 0 and self.cfg["weights"]["linear_erasure"] > 0 else None)
        if self.needs_notes and getattr(model, "note_head", None) is None:
            raise ValueError("train.objective.weights.notes > 0 needs a model with a note head (model.note_head: true)")
        if self.needs_onsets and not self.needs_notes:
            raise ValueError("model.content_bottleneck: notes makes z_content of the note head's decisions; "
                             "train them with train.objective.weights.notes > 0")
        names = self.cfg["notes_instruments"]
        unknown = [n for n in (names or []) if n not in model.cfg.instruments]
        if names is not None and (not names or unknown):
            raise ValueError(f"train.objective.notes_instruments: {names} must name some of {list(model.cfg.instruments)}")
        self._note_classes = None if names is None else torch.tensor([model.cfg.instruments.index(n) for n in names])
        self._cache: dict = {}
        self._monitor = BoundMonitor(BoundContext(num_classes=self.num_classes, accuracy_tol=0.03), window=5)

    @property
    def paired(self) -> bool:
        """Whether batches must carry each crop's rendering by another instrument."""
        return bool(self.cfg["paired"]) or self.cfg["weights"]["content_match"] > 0

    @property
    def needs_notes(self) -> bool:
        """Whether batches must carry piano rolls (``Batch.notes``) for the note term."""
        return self.cfg["weights"]["notes"] > 0

    @property
    def needs_onsets(self) -> bool:
        """Whether batches must also carry note starts (``Batch.onsets``): the note bottleneck's
        head names them."""
        return bool(getattr(self.model, "bottleneck", False))

    def stateful_modules(self) -> dict[str, torch.nn.Module]:
        """State beside the networks that a checkpoint must hold for an exact resume."""
        return {} if self.erasure_means is None else {"erasure_means": self.erasure_means}

    # -- curriculum --------------------------------------------------------------------------
    def term_scales(self, step: int, total: int) -> dict[str, float]:
        """Multiplier of each auxiliary term at ``step`` (reconstruction terms are always on)."""
        bounds = self.cfg["curriculum"]
        frac = step / max(1, total)
        if bounds is None:
            phase, match_start, adv_start = 4, 0.0, 0.0
        else:
            phase = 1 + sum(frac >= b for b in bounds)
            match_start, adv_start = bounds[1], bounds[2]

        def ramped(on: bool, start: float, ramp: float) -> float:
            return 0.0 if not on else (1.0 if ramp <= 0 else min(1.0, (frac - start) / ramp))

        adv = ramped(phase >= 4, adv_start, self.cfg["adv_ramp"])
        match = ramped(phase >= 3, match_start, self.cfg["content_match_ramp"])
        return {
            "info_nce": float(phase >= 2), "margin": float(phase >= 2), "style_ce": float(phase >= 2),
            "style_transfer": float(phase >= 2),
            "hsic": float(phase >= 3), "linear_erasure": float(phase >= 3), "content_match": match,
            "adversarial": adv, "phase": phase,
        }

    # -- generator ---------------------------------------------------------------------------
    def generator_losses(self, batch, step: int, total: int) -> dict[str, torch.Tensor]:
        """Named generator terms and their weighted ``"total"`` for one batch."""
        m, w = self.model, self.cfg["weights"]
        scales = self.term_scales(step, total)
        comp = self.equalizers.clip(batch.x)
        x = m.norm.standardize(comp)
        labels = batch.labels
        z_style = m.encode_style(x, labels)
        prototypes, present = class_prototypes(z_style, labels, self.num_classes)
        z_class = prototypes[labels]
        z_content, note_logits = m.encode_content_notes(self.equalizers.content_input(comp, x))

        z_decode = self._decoder_style(z_style, z_class)
        share = feedback.sampling_share(self.cfg, step, total)
        own = feedback.own_frames(m, z_content, z_decode, self.cfg["scheduled_sampling_passes"]) if share > 0 else None
        log_mag, phase = m.decode(m.target_frames(x), z_content, z_decode, self.cfg["token_dropout"], self.cfg["full_mask"],
                                  own, share)
        target = m.target_spectrum(x)
        recon = reconstruction_losses(
            m.to_spectrum(log_mag, phase), target, weights=self._recon_weights(), report_zero_weight=False,
        )
        out = {f"recon/{k}": v for k, v in recon.items() if k != "total"}
        total_loss = recon["total"]
        if self.cfg["masked_check_clips"] > 0 and (step == 0 or (step + 1) % self.cfg["masked_check_every"] == 0):
            out.update(masked_decode_gap(m, x, target, z_content, z_decode, int(self.cfg["masked_check_clips"]),
                                         self.cfg["token_dropout"]))

        if self.cfg["paired"] and batch.pair_x is not None:
            xp = m.norm.standardize(batch.pair_x)
            lm, ph = m.decode(m.target_frames(xp), z_content, prototypes[batch.pair_labels], self.cfg["token_dropout"], self.cfg["full_mask"])
            cross = reconstruction_losses(
                m.to_spectrum(lm, ph), m.target_spectrum(xp), weights=self._recon_weights(), report_zero_weight=False,
            )
            out["cross_recon"] = cross["total"]
            total_loss = total_loss + w["cross_recon"] * cross["total"]

        if self.needs_notes:
            # From step 0, like reconstruction: what the notes are is never in question.
            if batch.notes is None:
                raise ValueError("the note term needs batches with piano rolls (CropSampler(notes=...))")
            if self.needs_onsets and batch.onsets is None:
                raise ValueError("the note bottleneck needs batches with note starts (CropSampler(onsets=True))")
            rolls = torch.cat([batch.notes, batch.onsets], dim=-1) if self.needs_onsets else batch.notes
            clips = None if self._note_classes is None else torch.isin(labels, self._note_classes.to(labels.device))
            out["notes"] = note_activation_loss(note_logits, rolls, clips)
            if clips is None or bool(clips.any()):  # no clip of the named instruments: no F1 to log
                sel = slice(None) if clips is None else clips
                pitches = batch.notes.shape[-1]
                out["notes_f1"] = note_f1(note_logits.detach()[sel][..., :pitches], batch.notes[sel])
                if self.needs_onsets:
                    out["onsets_f1"] = note_f1(note_logits.detach()[sel][..., pitches:], batch.onsets[sel])
            total_loss = total_loss + w["notes"] * out["notes"]

        out["info_nce"] = info_nce(z_style, labels, self.cfg["temperature"])
        out["margin"] = margin_loss(prototypes[present], self.cfg["margin"])
        out["hsic"] = hsic_style_content(z_style, z_content)
        self.discriminator.requires_grad_(False)  # generator step: no gradient into D's weights
        adversarial = generator_entropy_loss if self.cfg["adversarial"] == "entropy" else generator_ce_loss
        out["adversarial"] = adversarial(self.discriminator(z_content.reshape(-1, z_content.shape[-1])))
        if self.cfg["pooled_adversary"]:
            out["adversarial_pooled"] = adversarial(self.discriminator(z_content, clip=True))
        if self.cfg["temporal_adversary"]:
            out["adversarial_temporal"] = adversarial(self.discriminator(z_content, sequence=True))
        out["style_ce"] = F.cross_entropy(self.discriminator(z_style), labels)
        names = ["info_nce", "margin", "hsic", "adversarial", "style_ce"]
        if w["linear_erasure"] > 0:
            pooled = pooled_statistics(z_content)
            if self.erasure_means is None:
                out["linear_erasure"] = class_mean_gap(pooled, labels, self.num_classes)
            else:
                out["linear_erasure"], out["linear_erasure_running"] = running_class_mean_gap(pooled, labels, self.erasure_means)
            names.append("linear_erasure")
        if w["content_match"] > 0 and scales["content_match"] > 0:  # before its phase the pair pass is not spent
            out["content_match"] = self._content_match(batch, z_content)
            names.append("content_match")
        if self.cfg["style_transfer"]:
            out.update(style_transfer_terms(m.decoder, self.discriminator, z_content, prototypes, present, labels,
                                            int(self.cfg["style_transfer_clips"])))
            names.append("style_transfer")
        self.discriminator.requires_grad_(True)
        for name in names:
            total_loss = total_loss + w[name] * scales[name] * out[name]
        for name in ("adversarial_pooled", "adversarial_temporal"):  # same weight and ramp as per token
            if name in out:
                total_loss = total_loss + w["adversarial"] * scales["adversarial"] * out[name]
        out["total"] = total_loss
        out["curriculum_phase"] = torch.tensor(float(scales["phase"]))
        out["adv_scale"] = torch.tensor(scales["adversarial"])
        if self.cfg["scheduled_sampling"] > 0:
            out["sampled_share"] = torch.tensor(share)
        with torch.no_grad():
            out["hsic_normalized"] = normalized_hsic(z_style.float(), z_content.float().mean(dim=1))
            self._update_prototypes(prototypes.detach(), present)
        self._cache = {"z_style": z_style.detach(), "z_class": z_class.detach(), "z_content": z_content.detach(), "labels": labels}
        if self.cfg["style_transfer"]:
            self._cache["log_mag"] = real_log_magnitude(target)
        return out

    def _content_match(self, batch, z_content: torch.Tensor) -> torch.Tensor:
        """Gap between ``z_content`` ``(B, S, D)`` and the content sequence of each crop's
        paired rendering, which goes through the same random equalisers, drawn anew; over
        ``content_match_clips`` random crops of the batch when that is set and under ``B``."""
        if batch.pair_x is None:
            raise ValueError("train.objective.weights.content_match needs paired batches (CropSampler(paired=True))")
        pair_x, n = batch.pair_x, int(self.cfg["content_match_clips"])
        if 0 < n < pair_x.shape[0]:
            keep = torch.randperm(pair_x.shape[0])[:n].to(pair_x.device)
            pair_x, z_content = pair_x[keep], z_content[keep]
        z_pair, _ = self.model.encode_content_notes(self.equalizers.content_input(self.equalizers.clip(pair_x)))
        return paired_content_gap(z_content, z_pair)

    def _decoder_style(self, z_style: torch.Tensor, z_class: torch.Tensor) -> torch.Tensor:
        """Style each clip is reconstructed from, ``(B, D)``: its prototype ``z_class``, or for
        a random ``own_style_share`` of the clips its own ``z_style`` (both ``(B, D)``)."""
        share = float(self.cfg["own_style_share"])
        if share <= 0:
            return z_class
        own = torch.rand(z_style.shape[0], device=z_style.device) < share
        return torch.where(own[:, None], z_style, z_class)

    def _recon_weights(self) -> dict[str, float]:
        return {k: self.cfg["weights"][k] for k in RECON_TERMS}

    def _update_prototypes(self, prototypes: torch.Tensor, present: torch.Tensor) -> None:
        """Running mean of the batch prototypes, used for inference until the final pass
        over the training set replaces it."""
        mom = self.cfg["prototype_momentum"]
        buf = self.model.prototypes
        fresh = buf.abs().sum(dim=1) == 0
        for k in torch.nonzero(present).flatten().tolist():
            buf[k] = prototypes[k] if fresh[k] else mom * buf[k] + (1 - mom) * prototypes[k]

    # -- discriminator -----------------------------------------------------------------------
    def discriminator_losses(self) -> dict[str, torch.Tensor]:
        """Discriminator cross-entropy on the last generator step's detached embeddings."""
        c = self._cache
        labels = c["labels"]
        k = self.num_classes
        z_content = c["z_content"]
        content_labels = labels[:, None].expand(-1, z_content.shape[1]).reshape(-1)
        logits_c = self.discriminator(z_content.reshape(-1, z_content.shape[-1]).float())
        logits_s = self.discriminator(c["z_style"].float())
        logits_p = self.discriminator(c["z_class"].float())
        loss = discriminator_loss(logits_c, content_labels) + discriminator_loss(logits_s, labels) + discriminator_loss(logits_p, labels)
        extra = {}
        if self.cfg["style_transfer"]:
            logits_spec = self.discriminator(c["log_mag"], spectrum=True)
            loss = loss + discriminator_loss(logits_spec, labels)
            extra["acc_spectral"] = torch.tensor(discriminator_accuracy(logits_spec, labels))
        if self.cfg["pooled_adversary"]:
            logits_pooled = self.discriminator(z_content.float(), clip=True)
            loss = loss + discriminator_loss(logits_pooled, labels)
            extra["acc_content_pooled"] = torch.tensor(discriminator_accuracy(logits_pooled, labels))
        if self.cfg["temporal_adversary"]:
            logits_temporal = self.discriminator(z_content.float(), sequence=True)
            loss = loss + discriminator_loss(logits_temporal, labels)
            extra["acc_content_temporal"] = torch.tensor(discriminator_accuracy(logits_temporal, labels))
        return {
            "total": loss,
            **extra,
            "acc_content": torch.tensor(discriminator_accuracy(logits_c, content_labels)),
            "acc_style": torch.tensor(discriminator_accuracy(logits_s, labels)),
            "chance": torch.tensor(1.0 / k),
            "content_entropy": -generator_entropy_loss(logits_c.detach()),
            "max_entropy": torch.tensor(math.log(k)),
        }

    # -- bound detection ---------------------------------------------------------------------
    def bound_warnings(self, values: dict[str, float]) -> list[str]:
        """Warnings for terms sitting at their bounds, from one set of logged values.

        Terms switched off by the curriculum are not checked: a term that is not trained yet
        is expected to sit anywhere.
        """
        phase = values.get("gen/curriculum_phase", 4)
        checked = {}
        if phase >= 2 and "gen/masked_ratio" in values:  # phase 1 is the decoder's first lessons
            checked["masked_recon_ratio"] = values["gen/masked_ratio"]
        if phase >= 2 and "gen/info_nce" in values:
            checked["info_nce"] = values["gen/info_nce"]
            checked["margin_loss"] = values["gen/margin"]
            checked["disc_acc_style"] = values.get("disc/acc_style", float("nan"))
        if phase >= 3:
            checked["normalized_hsic"] = values["gen/hsic_normalized"]
        if phase >= 4 and values.get("gen/adv_scale", 0) > 0:
            key = "generator_entropy_loss" if self.cfg["adversarial"] == "entropy" else "generator_ce_loss"
            checked[key] = values["gen/adversarial"]
            checked["disc_acc_content"] = values.get("disc/acc_content", float("nan"))
        labels = self._cache.get("labels")
        ctx = BoundContext(
            num_classes=self.num_classes, accuracy_tol=0.03,
            info_nce_bounds=info_nce_bounds(labels.cpu(), self.cfg["temperature"]) if labels is not None else None,
        )
        return self._monitor.update({k: v for k, v in checked.items() if v == v}, ctx)
