"""The flagship model of "Disentangled Latent Representations for Audio Style Transfer"
(Brigante, Federici, Fornetti, 2025), rebuilt so that it works.

Generator = style encoder + content encoder + autoregressive decoder. The discriminator is a
separate module owned by training (see :mod:`audiostyle.training.objectives.flagship`), so the
released weights hold only what inference needs, plus the data set's normalisation statistics
and the class prototypes computed over the training set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from audiostyle.data.pianoroll import NOTE_PITCHES
from audiostyle.errors import AudioStyleError
from audiostyle.features.normalize import FeatureNorm, channels_to_complex, complex_to_channels
from audiostyle.features.spectral import SpectralConfig, analyze, griffin_lim, istft
from audiostyle.models.decoder import ARDecoder
from audiostyle.models.encoders import FRAMES_PER_TOKEN, ClassStyle, ContentEncoder, StyleEncoder
from audiostyle.models.layers import low_gain_init
from audiostyle.models.base import WindowedModel

STYLE_ENCODERS = ("transformer", "learned", "onehot")
INFERENCE_FEEDBACKS = ("masked", "generated")  # what a decoder step is fed (FlagshipConfig)
CONTENT_BOTTLENECKS = ("none", "notes")
NOTE_PRIOR_LOGIT = -3.4  # log-odds of 1 in 31: about a pitch in 30 sounds, fewer start


@dataclass
class FlagshipConfig:
    """Architecture of the flagship; stored in every checkpoint and enforced on resume."""

    instruments: list[str] = field(default_factory=lambda: ["piano", "violin"])
    d_model: int = 192
    latent_dim: int = 64
    enc_layers: int = 3
    dec_layers: int = 4
    heads: int = 4
    dropout: float = 0.0
    cnn_channels: int = 16
    head_hidden: int = 256
    memory: str = "2S"
    content_to_input: bool = True
    content_instance_norm: bool = True
    # Content frontend also reads each token's CQT magnitudes unstrided (pitch detail the
    # strided CNN blurs); off in models trained before it existed.
    content_pitch_path: bool = False
    # Content encoder levels its input frame by frame (encoders.frame_normalize): the source
    # instrument's note envelopes (decay, sustain) never reach z_content.
    content_frame_norm: bool = False
    # A linear head from each content token to the pitches sounding at its centre
    # (data.pianoroll), trained by the objective's "notes" term on a rendered corpus's note
    # lists: it asks z_content to keep every voice of a polyphonic texture, not just the loudest.
    note_head: bool = False
    # "notes": z_content is made of the note head's decisions alone, the pitches sounding in
    # and starting in each token (0/1, straight-through gradients), projected to latent_dim.
    # A sequence of notes carries the instrument only through the encoder's mistakes, where a
    # free latent keeps whatever of the sound helps the decoder. Needs note_head and the
    # objective's notes term; "none" = the paper's free latent.
    content_bottleneck: str = "none"
    # With the note bottleneck: a narrow continuous path beside the notes, this many numbers a
    # token projected to latent_dim and added, for what a 0/1 roll cannot say (loudness,
    # articulation). The adversaries and the erasure act on z_content whole, and the notes carry
    # little of the instrument, so they press on this path. 0 = the notes alone.
    content_residual_dim: int = 0
    # STFT frames per content token and per decoder step (1, 2 or 4): 2 doubles the time
    # resolution of z_content and the length of the decoder's sequence. The style encoder
    # pools its tokens and keeps 4.
    content_frames_per_token: int = 4
    style_encoder: str = "transformer"
    power: float = 0.3
    init_gain: float = 0.5
    window_frames: int = 256  # training crop and inference window, in STFT frames (3 s)
    # Inference only: fast Griffin-Lim iterations that make the generated spectrum's phase
    # consistent, starting from the decoder's phase. 0 keeps the decoder's phase as is, which
    # tracks pitch better on trained models (docs/design.md).
    phase_refine_iters: int = 0
    # Inference only: what each decoder step receives from the previous one. "generated" is the
    # paper's loop (its own output fed back, KV-cached); "masked" feeds the learned mask token
    # that training uses for token_dropout, so the output follows the content alone (one pass).
    # The generated loop needs a decoder trained on its own frames (train.objective.
    # scheduled_sampling); without that it drifts away from the content.
    inference_feedback: str = "masked"
    # Inference only: push the target prototype away from the other instruments' mean,
    # z = p + style_gain * (p - mean of the others); 0 uses the prototype as it is.
    style_gain: float = 0.0
    # Inference only, reconstruction (target instrument = the input's, when the caller names
    # the source): blend the prototype with the input's own mean z_style,
    # z = (1 - a) * prototype + a * z_style(input); 0 = the prototype alone, as in the paper.
    recon_own_style: float = 0.0

    def __post_init__(self):
        if len(self.instruments) < 2 or len(set(self.instruments)) != len(self.instruments):
            raise ValueError(f"need at least two distinct instruments, got {self.instruments}")
        if self.inference_feedback not in INFERENCE_FEEDBACKS:
            raise ValueError(f"inference_feedback must be 'generated' or 'masked', got {self.inference_feedback!r}")
        if self.style_encoder not in STYLE_ENCODERS:
            raise ValueError(f"style_encoder must be one of {STYLE_ENCODERS}, got {self.style_encoder!r}")
        if self.window_frames % 4 or self.window_frames < 8:
            raise ValueError(f"window_frames must be a multiple of 4 and at least 8, got {self.window_frames}")
        if self.content_frames_per_token not in FRAMES_PER_TOKEN:
            raise ValueError(
                f"content_frames_per_token must be one of {FRAMES_PER_TOKEN}, got {self.content_frames_per_token}"
            )
        if self.content_bottleneck not in CONTENT_BOTTLENECKS:
            raise ValueError(f"content_bottleneck must be one of {CONTENT_BOTTLENECKS}, got {self.content_bottleneck!r}")
        if self.content_bottleneck == "notes" and not self.note_head:
            raise ValueError("content_bottleneck 'notes' reads the note head: set note_head: true")
        if self.content_residual_dim < 0 or (self.content_residual_dim and self.content_bottleneck != "notes"):
            raise ValueError(
                f"content_residual_dim {self.content_residual_dim} needs content_bottleneck 'notes' and must be >= 0"
            )
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by heads {self.heads}")

    @property
    def num_classes(self) -> int:
        return len(self.instruments)

    def to_dict(self) -> dict:
        return asdict(self)


class Flagship(WindowedModel, nn.Module):
    """Disentangled style/content transfer model over complex STFT+CQT features."""

    kind = "flagship"
    # Griffin-Lim steps from the decoded phase; prototype extrapolation (see FlagshipConfig)
    INFERENCE_SETTINGS = {"phase_refine_iters": int, "style_gain": float, "recon_own_style": float,
                          "inference_feedback": INFERENCE_FEEDBACKS}

    def __init__(self, cfg: FlagshipConfig, spectral: SpectralConfig = SpectralConfig()):
        super().__init__()
        self.cfg, self.spectral = cfg, spectral
        self.fpt = cfg.content_frames_per_token
        n_bins, k, d = spectral.n_bins, cfg.num_classes, cfg.latent_dim
        if cfg.style_encoder == "transformer":
            self.style_encoder = StyleEncoder(n_bins, cfg.d_model, d, cfg.enc_layers, cfg.heads, cfg.dropout, cfg.cnn_channels)
        else:
            self.style_encoder = ClassStyle(k, d, learned=cfg.style_encoder == "learned")
        self.content_encoder = ContentEncoder(
            n_bins, cfg.d_model, d, cfg.enc_layers, cfg.heads, cfg.dropout, cfg.cnn_channels, cfg.content_instance_norm,
            spectral.cqt_bins if cfg.content_pitch_path else 0, cfg.content_frame_norm, self.fpt,
        )
        self.decoder = ARDecoder(
            spectral.stft_bins, self.fpt, d, cfg.d_model, cfg.dec_layers, cfg.heads, cfg.dropout,
            cfg.memory, cfg.content_to_input, cfg.head_hidden,
        )
        self.bottleneck = cfg.content_bottleneck == "notes"
        # with the bottleneck the head also names the pitches starting in each token: a roll
        # alone shows a repeated note as one long one
        self.note_head = nn.Linear(d, NOTE_PITCHES * (2 if self.bottleneck else 1)) if cfg.note_head else None
        self.from_notes = nn.Linear(2 * NOTE_PITCHES, d) if self.bottleneck else None
        r = cfg.content_residual_dim
        self.to_residual = nn.Linear(d, r) if r else None
        self.from_residual = nn.Linear(r, d) if r else None
        low_gain_init(self, cfg.init_gain)
        if self.bottleneck:
            # Start the decisions at the notes' rarity (a few of 73 pitches sound in a token) rather
            # than at coin flips: Adam moves a bias by about one learning rate a step, so a zero
            # bias would feed the decoder random notes for thousands of steps (the prior
            # initialisation of Lin et al., "Focal Loss for Dense Object Detection", 2017).
            nn.init.constant_(self.note_head.bias, NOTE_PRIOR_LOGIT)
        self.register_buffer("norm_mean", torch.zeros(2, n_bins))
        self.register_buffer("norm_std", torch.ones(2, n_bins))
        self.register_buffer("prototypes", torch.zeros(k, d))

    # -- normalisation -------------------------------------------------------------------------
    @property
    def norm(self) -> FeatureNorm:
        return FeatureNorm(power=self.cfg.power, mean=self.norm_mean, std=self.norm_std)

    def set_norm(self, norm: FeatureNorm) -> None:
        if norm.mean.shape != self.norm_mean.shape or abs(norm.power - self.cfg.power) > 1e-9:
            raise ValueError("feature statistics do not match the model's features")
        self.norm_mean.copy_(norm.mean)
        self.norm_std.copy_(norm.std)
        # typical compressed magnitude per STFT bin -> typical linear log-magnitude
        f = self.spectral.stft_bins
        typical = (norm.std[:, :f].square().sum(0) + norm.mean[:, :f].square().sum(0)).sqrt()
        self.decoder.head.log_mag_offset.copy_(typical.clamp_min(1e-6).log() / self.cfg.power)

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """``(B, N)`` waveform -> standardised input ``(B, 2, T, n_bins)``, ``T`` cut to a multiple
        of 4 (the style encoder's token; a multiple of every content token size too)."""
        x = self.norm.normalize(analyze(wave, self.spectral))
        return x[:, :, : x.shape[2] // 4 * 4]

    # -- encoders --------------------------------------------------------------------------------
    def encode_style(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, 2, T, n_bins)`` -> ``z_style`` ``(B, D)`` (ablations read ``labels`` ``(B,)`` instead)."""
        if isinstance(self.style_encoder, ClassStyle):
            if labels is None:
                raise ValueError("this model's style comes from class labels; pass labels")
            return self.style_encoder(labels)
        return self.style_encoder(x)

    def encode_content(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 2, T, n_bins)`` -> ``z_content`` ``(B, T // fpt, D)``, ``fpt`` =
        ``cfg.content_frames_per_token``."""
        return self.encode_content_notes(x)[0]

    def encode_content_notes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, 2, T, n_bins)`` -> ``z_content`` ``(B, S, D)`` and the note head's logits
        ``(B, S, P)`` (None without a note head), ``S = T // fpt``. Without the bottleneck
        ``P = NOTE_PITCHES``, read from ``z_content``; with it ``P = 2 * NOTE_PITCHES`` (sounding,
        then starting), read from the encoder's tokens, and ``z_content`` is their 0/1
        decisions projected to ``D``, the decisions passing gradients as their probabilities do,
        plus, with ``content_residual_dim`` ``r > 0``, the tokens through an ``r``-wide linear path."""
        h = self.content_encoder(x)
        if not self.bottleneck:
            return h, None if self.note_head is None else self.note_head(h)
        logits = self.note_head(h)
        prob = torch.sigmoid(logits)
        decided = prob + ((logits > 0).to(prob.dtype) - prob).detach()
        z = self.from_notes(decided)
        if self.to_residual is not None:
            z = z + self.from_residual(self.to_residual(h))
        return z, logits

    def note_logits(self, z_content: torch.Tensor) -> torch.Tensor:
        """``z_content`` ``(B, S, D)`` -> pitch logits ``(B, S, NOTE_PITCHES)`` (MIDI
        ``data.pianoroll.NOTE_LOW`` upwards); only for models built with ``note_head`` and no
        bottleneck (there the logits come before ``z_content``: :meth:`encode_content_notes`)."""
        if self.note_head is None:
            raise AudioStyleError("this model has no note head (model.note_head: false)")
        if self.bottleneck:
            raise AudioStyleError("this model's notes come before z_content (content_bottleneck: notes); "
                                  "use encode_content_notes")
        return self.note_head(z_content)

    # -- decoder outputs -------------------------------------------------------------------------
    def to_spectrum(self, log_mag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Decoder output ``(B, T, F)`` twice -> linear complex STFT ``(B, F, T)`` (float32)."""
        return torch.polar(log_mag.float().exp(), phase.float()).transpose(1, 2)

    def to_decoder_input(self, log_mag: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Decoder output ``(B, T, F)`` twice -> standardised frames ``(B, 2, T, F)``, the scale
        the decoder is teacher-forced with."""
        comp = torch.polar((self.cfg.power * log_mag.float()).exp(), phase.float())
        return self.norm.standardize(complex_to_channels(comp))

    def target_frames(self, x: torch.Tensor) -> torch.Tensor:
        """STFT part of the standardised input ``(B, 2, T, n_bins)`` -> ``(B, 2, T, F)``."""
        return x[..., : self.spectral.stft_bins]

    def target_spectrum(self, x: torch.Tensor) -> torch.Tensor:
        """Standardised input ``(B, 2, T, n_bins)`` -> linear complex STFT ``(B, F, T)``."""
        return self.norm.denormalize(self.target_frames(x)).transpose(1, 2)

    def decode(
        self, target: torch.Tensor, z_content: torch.Tensor, z_class: torch.Tensor,
        token_dropout: float = 0.0, full_mask: float = 0.0, fed_back: torch.Tensor | None = None,
        fed_back_share: float = 0.0,
    ):
        """Teacher-forced decoding; see :meth:`ARDecoder.forward`. Returns ``(log_mag, phase)``."""
        return self.decoder(target, z_content, z_class, token_dropout, full_mask, fed_back, fed_back_share)

    @torch.no_grad()
    def generate(self, z_content: torch.Tensor, z_class: torch.Tensor) -> torch.Tensor:
        """Inference decoding (``cfg.inference_feedback``): ``(B, S, D)``, ``(B, D)`` -> linear
        complex STFT ``(B, F, fpt * S)``."""
        if self.cfg.inference_feedback == "masked":
            log_mag, phase = self.decoder.decode_masked(z_content, z_class)
        else:
            log_mag, phase = self.decoder.generate(z_content, z_class, self.to_decoder_input)
        return self.to_spectrum(log_mag, phase)

    # -- inference -------------------------------------------------------------------------------
    @torch.no_grad()
    def style_vector(self, to: str, reference: torch.Tensor | None = None) -> torch.Tensor:
        """Target style ``(D,)``: the prototype of instrument ``to`` (extrapolated by
        ``cfg.style_gain``), or with ``reference``
        ``(M,)`` samples, the mean ``z_style`` over that clip's windows (one-shot transfer)."""
        if reference is None:
            k = self.cfg.instruments.index(to)
            target = self.prototypes[k]
            if self.cfg.style_gain:
                others = torch.cat([self.prototypes[:k], self.prototypes[k + 1 :]]).mean(dim=0)
                target = target + self.cfg.style_gain * (target - others)
            return target
        if isinstance(self.style_encoder, ClassStyle):
            raise AudioStyleError("this model's style comes from class labels (an ablation); it cannot take a reference clip")
        win = self.window_samples
        reference = torch.nn.functional.pad(reference, (0, max(0, win - reference.shape[0])))
        starts = range(0, reference.shape[0] - win + 1, win // 2)
        windows = torch.stack([reference[s : s + win] for s in starts])[:32]
        return self.encode_style(self.features(windows)).mean(dim=0)

    @torch.no_grad()
    def reconstruction_style(self, to: str, wave: torch.Tensor) -> torch.Tensor:
        """Style ``(D,)`` for re-rendering ``wave`` ``(N,)`` with its own instrument ``to``:
        the prototype blended with the clip's own mean ``z_style`` by ``cfg.recon_own_style``."""
        prototype = self.style_vector(to)
        share = float(self.cfg.recon_own_style)
        if share <= 0 or isinstance(self.style_encoder, ClassStyle):
            return prototype
        return (1.0 - share) * prototype + share * self.style_vector(to, wave)

    @torch.no_grad()
    def transfer_window(self, wave: torch.Tensor, z_class: torch.Tensor) -> torch.Tensor:
        """One window: ``(B, N)`` waveform and target style ``(B, D)`` -> ``(B, N)`` waveform."""
        x = self.features(wave)
        spec = self.generate(self.encode_content(x), z_class)
        length = (spec.shape[-1] - 1) * self.spectral.hop
        if self.cfg.phase_refine_iters > 0:
            out = griffin_lim(spec.abs(), length, self.cfg.phase_refine_iters, init=spec, cfg=self.spectral)
        else:
            out = istft(spec, length=length, cfg=self.spectral)
        if out.shape[1] >= wave.shape[1]:
            return out[:, : wave.shape[1]]
        return torch.nn.functional.pad(out, (0, wave.shape[1] - out.shape[1]))
