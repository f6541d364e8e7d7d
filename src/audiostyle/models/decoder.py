"""Autoregressive Transformer decoder generating a complex STFT (seed paper §3.4).

A learnable start token, sinusoidal positions and a causal mask; each step consumes the frames
generated at the previous step (teacher-forced in training, its own output at inference, with a
key/value cache) and cross-attends to a memory built from ``z_content`` and ``z_class``:

* ``memory="2S"`` (the paper's final design): projected ``z_content`` followed by projected
  ``z_class`` repeated once per content step, ``(B, 2S, d)``;
* ``memory="S+1"`` (the paper's first design): ``z_class`` once, ``(B, S + 1, d)``.

One decoder step emits ``frames_per_token`` STFT frames. The output head predicts, per frame and
bin, a log-magnitude and a phase (as an unnormalised 2-D vector), so every frame is a nonlinear
function of a per-frame hidden vector: no low-rank bottleneck over a whole chunk like the paper
implementation's single 294k -> 256 -> 294k linear pair.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from audiostyle.models.encoders import with_magnitude
from audiostyle.models.layers import sinusoidal_positions

LOG_MAG_RANGE = (-14.0, 5.0)  # |X| in [8e-7, 150]: full-scale STFT bins stay below ~100 here


class DecoderLayer(nn.Module):
    """Pre-norm self-attention (causal, cached) + cross-attention + feed-forward, ``(B, L, d)``."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.n1, self.qkv, self.o1 = nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.n2, self.q2, self.kv2, self.o2 = nn.LayerNorm(d), nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)
        self.n3 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, l, d = x.shape
        return x.view(b, l, self.heads, d // self.heads).transpose(1, 2)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:
        b, h, l, dh = x.shape
        return x.transpose(1, 2).reshape(b, l, h * dh)

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-attention keys and values for ``(B, M, d)`` memory, computed once per sequence."""
        k, v = self.kv2(memory).chunk(2, dim=-1)
        return self._split(k), self._split(v)

    def forward(self, x: torch.Tensor, mem_kv, cache: dict | None = None) -> torch.Tensor:
        """``x`` ``(B, L, d)``; with ``cache`` (inference) ``L`` new positions are appended to it."""
        q, k, v = (self._split(t) for t in self.qkv(self.n1(x)).chunk(3, dim=-1))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        causal = q.shape[2] > 1  # a single cached step may see every earlier position
        a = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        x = x + self.drop(self.o1(self._merge(a)))
        a = F.scaled_dot_product_attention(self._split(self.q2(self.n2(x))), *mem_kv)
        x = x + self.drop(self.o2(self._merge(a)))
        return x + self.drop(self.ff(self.n3(x)))


class FrameHead(nn.Module):
    """``(B, S, d)`` -> log-magnitude and phase ``(B, S * frames, n_freq)`` each."""

    def __init__(self, d: int, frames: int, n_freq: int, hidden: int):
        super().__init__()
        self.frames, self.hidden, self.n_freq = frames, hidden, n_freq
        self.expand = nn.Linear(d, frames * hidden)
        self.mlp = nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 3 * n_freq))
        # Typical log-magnitude per bin, set from the data set's statistics. Real spectra sit
        # around log|X| ~ -5; learning that offset through a bias at Adam's ~lr-per-step pace
        # takes thousands of steps, so the head predicts the deviation from it instead.
        self.register_buffer("log_mag_offset", torch.zeros(n_freq))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, s, _ = h.shape
        out = self.mlp(self.expand(h).view(b, s * self.frames, self.hidden))
        log_mag, re, im = out.split(self.n_freq, dim=-1)
        log_mag = (log_mag + self.log_mag_offset).clamp(*LOG_MAG_RANGE)
        return log_mag, torch.atan2(im, re + 1e-7)


class ARDecoder(nn.Module):
    """Autoregressive STFT decoder conditioned on ``z_content`` ``(B, S, D)`` and ``z_class`` ``(B, D)``."""

    def __init__(
        self, n_freq: int, frames_per_token: int, latent_dim: int, d_model: int, layers: int,
        heads: int, dropout: float, memory: str = "2S", content_to_input: bool = True, head_hidden: int = 256,
    ):
        super().__init__()
        if memory not in ("2S", "S+1"):
            raise ValueError(f"memory must be '2S' or 'S+1', got {memory!r}")
        self.n_freq, self.fpt, self.memory_kind = n_freq, frames_per_token, memory
        self.content_to_input = content_to_input
        self.in_proj = nn.Linear(3 * n_freq * frames_per_token, d_model)
        self.start = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        self.masked = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        self.content_proj = nn.Linear(latent_dim, d_model)
        self.style_proj = nn.Linear(latent_dim, d_model)
        self.input_content_proj = nn.Linear(latent_dim, d_model) if content_to_input else None
        self.layers = nn.ModuleList(DecoderLayer(d_model, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = FrameHead(d_model, frames_per_token, n_freq, head_hidden)

    def build_memory(self, z_content: torch.Tensor, z_class: torch.Tensor) -> torch.Tensor:
        """``(B, S, D)``, ``(B, D)`` -> memory ``(B, 2S, d)`` or ``(B, S + 1, d)``."""
        b, s, _ = z_content.shape
        content = self.content_proj(z_content)
        content = content + sinusoidal_positions(s, content.shape[-1], device=content.device)
        style = self.style_proj(z_class)[:, None]
        if self.memory_kind == "2S":
            style = style.expand(b, s, -1) + sinusoidal_positions(s, content.shape[-1], device=content.device)
        return torch.cat([content, style], dim=1)

    def _embed_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, 2, S * fpt, n_freq)`` standardised frames -> ``(B, S, d)`` token embeddings
        (real, imaginary and magnitude of each frame, see :func:`with_magnitude`)."""
        frames = with_magnitude(frames)
        b, c, t, f = frames.shape
        tokens = frames.reshape(b, c, t // self.fpt, self.fpt, f).permute(0, 2, 1, 3, 4)
        return self.in_proj(tokens.reshape(b, t // self.fpt, -1))

    def _inputs(self, prev_tokens: torch.Tensor, z_content: torch.Tensor, offset: int) -> torch.Tensor:
        s = prev_tokens.shape[1]
        x = prev_tokens + sinusoidal_positions(s, prev_tokens.shape[-1], offset, device=prev_tokens.device)
        if self.input_content_proj is not None:
            x = x + self.input_content_proj(z_content[:, offset : offset + s])
        return x

    def forward(
        self, target: torch.Tensor, z_content: torch.Tensor, z_class: torch.Tensor, token_dropout: float = 0.0,
        full_mask: float = 0.0, fed_back: torch.Tensor | None = None, fed_back_share: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced pass.

        Args:
            target: ``(B, 2, S * fpt, n_freq)`` standardised compressed STFT frames to predict;
                step ``t`` sees frames of steps ``< t``.
            z_content: ``(B, S, D)``; z_class: ``(B, D)``.
            token_dropout: probability of replacing a previous-step input by a learned mask, so
                the decoder cannot lean on copying the previous frames and must use the memory.
            full_mask: probability that a whole sequence has every previous-step input masked:
                the exact input of mask-token inference (:meth:`decode_masked`), trained as such.
            fed_back: ``(B, 2, S * fpt, n_freq)`` frames the decoder itself produced for this
                sequence (standardised like ``target``); with ``fed_back_share`` > 0 each
                previous-step input is taken from them instead of ``target`` with that
                probability (scheduled sampling, so that :meth:`generate`, which feeds back its
                own frames, sees inputs like those it was trained on). Masking applies after.
        Returns:
            log-magnitude and phase, ``(B, S * fpt, n_freq)`` each.
        """
        b, s = z_content.shape[:2]
        prev = self._embed_frames(target[:, :, : (s - 1) * self.fpt])
        if fed_back is not None and fed_back_share > 0:
            own = self._embed_frames(fed_back[:, :, : (s - 1) * self.fpt])
            pick = torch.rand(b, prev.shape[1], 1, device=prev.device) < fed_back_share
            prev = torch.where(pick, own, prev)
        if (token_dropout > 0 or full_mask > 0) and self.training:
            drop = torch.rand(b, prev.shape[1], 1, device=prev.device) < token_dropout
            drop = drop | (torch.rand(b, 1, 1, device=prev.device) < full_mask)
            prev = torch.where(drop, self.masked.expand_as(prev), prev)
        x = self._inputs(torch.cat([self.start.expand(b, 1, -1), prev], dim=1), z_content, 0)
        memory = self.build_memory(z_content, z_class)
        for layer in self.layers:
            x = layer(x, layer.memory_kv(memory))
        return self.head(self.norm(x))

    @torch.no_grad()
    def decode_masked(self, z_content: torch.Tensor, z_class: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Content-only decoding: every previous-step input is the learned mask token.

        Training replaces ``token_dropout`` of the inputs by that token, so the decoder knows
        it; with no generated frames fed back, the steps are independent and run in one pass.
        ``(B, S, D)``, ``(B, D)`` -> log-magnitude and phase ``(B, S * fpt, n_freq)``.
        """
        return self.masked_forward(z_content, z_class)

    def masked_forward(self, z_content: torch.Tensor, z_class: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`decode_masked` with gradients (training losses on inference-style decodes),
        in train and eval mode alike. ``(B, S, D)``, ``(B, D)`` -> ``(B, S * fpt, n_freq)`` twice."""
        b, s = z_content.shape[:2]
        x = self._inputs(torch.cat([self.start.expand(b, 1, -1), self.masked.expand(b, s - 1, -1)], dim=1), z_content, 0)
        memory = self.build_memory(z_content, z_class)
        for layer in self.layers:
            x = layer(x, layer.memory_kv(memory))
        return self.head(self.norm(x))

    @torch.no_grad()
    def generate(self, z_content: torch.Tensor, z_class: torch.Tensor, to_input) -> tuple[torch.Tensor, torch.Tensor]:
        """Free-running generation with a key/value cache.

        Args:
            z_content: ``(B, S, D)``; z_class: ``(B, D)``.
            to_input: maps generated ``(log_mag, phase)`` ``(B, fpt, n_freq)`` to the standardised
                frames ``(B, 2, fpt, n_freq)`` the next step consumes (the model's normalisation).
        Returns:
            log-magnitude and phase, ``(B, S * fpt, n_freq)`` each.
        """
        b, s = z_content.shape[:2]
        memory = self.build_memory(z_content, z_class)
        mem_kv = [layer.memory_kv(memory) for layer in self.layers]
        caches: list[dict] = [{} for _ in self.layers]
        # Everything that does not depend on generated frames is computed once, not per step.
        extra = sinusoidal_positions(s, self.start.shape[-1], device=z_content.device)[None]
        if self.input_content_proj is not None:
            extra = extra + self.input_content_proj(z_content)
        token = self.start.expand(b, 1, -1)
        mags, phases = [], []
        for t in range(s):
            x = token + extra[:, t : t + 1]
            for layer, kv, cache in zip(self.layers, mem_kv, caches):
                x = layer(x, kv, cache)
            log_mag, phase = self.head(self.norm(x))
            mags.append(log_mag)
            phases.append(phase)
            token = self._embed_frames(to_input(log_mag, phase))
        return torch.cat(mags, dim=1), torch.cat(phases, dim=1)
