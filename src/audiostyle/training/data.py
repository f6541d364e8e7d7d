"""Class-balanced batches of random crops, read from the feature cache.

Each batch holds ``batch_size // K`` crops of every one of the ``K`` instruments (the paper's
appendix: balanced class representatives per batch, which the contrastive and prototype losses
need). With ``paired=True`` every crop also comes with the same time span of the same clip
rendered by another instrument (same notes), for cross-reconstruction. With ``notes`` every crop
also comes with its piano roll at the content token rate
(:func:`audiostyle.data.pianoroll.token_roll`), from the data set's note lists, for note
supervision, and with ``onsets`` also the pitches starting in each token. With
``subharmonic_cut`` every crop (and so every model input and target) has the partials an octave
under its high notes lowered (:mod:`audiostyle.data.subharmonics`), also from the note lists.

Sampling runs in the training process: crops are slices of memory-mapped float16 arrays, far
cheaper than worker processes on two cores. Under data parallelism each rank reads a disjoint
shard of the clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audiostyle.data.pianoroll import token_onsets, token_roll
from audiostyle.data.subharmonics import SubharmonicCut
from audiostyle.errors import AudioStyleError


@dataclass
class Batch:
    """``x``: compressed features ``(B, 2, T, n_bins)``; ``labels``: ``(B,)`` instrument indices.

    Paired batches add ``pair_x`` (same clip and span, other instrument) and ``pair_labels``;
    batches with notes add ``notes`` ``(B, T // frames_per_token, NOTE_PITCHES)`` 0/1, and
    ``onsets`` of the same shape when the sampler draws them.
    """

    x: torch.Tensor
    labels: torch.Tensor
    pair_x: torch.Tensor | None = None
    pair_labels: torch.Tensor | None = None
    notes: torch.Tensor | None = None
    onsets: torch.Tensor | None = None


class CropSampler:
    """Draws balanced batches of ``crop_frames``-frame crops from one split.

    ``notes`` = ``(frames_per_token, frame_seconds)`` adds each crop's piano roll at that token
    rate, and ``onsets=True`` the pitches starting in each token (:func:`token_onsets`);
    ``subharmonic_cut`` lowers the sub-octave partials of high notes in every crop. Either
    needs a notes file for every clip of the split (rendered data sets have them).
    ``source_weights`` (``{source kind: weight}``, kinds not named weigh 1) draws clips of each
    instrument in proportion to their kind's weight; it needs the manifest's clip list.
    """

    def __init__(
        self, corpus, store, split: str, instruments: list[str], crop_frames: int,
        paired: bool = False, rank: int = 0, world_size: int = 1, notes: tuple[int, float] | None = None,
        subharmonic_cut: SubharmonicCut | None = None, source_weights: dict[str, float] | None = None,
        onsets: bool = False,
    ):
        if onsets and notes is None:
            raise ValueError("onsets come with the piano rolls: pass notes=(frames_per_token, frame_seconds)")
        self.store, self.split, self.instruments = store, split, list(instruments)
        self.crop_frames, self.paired, self.note_rate = crop_frames, paired, notes
        self.cut, self._gains, self.onsets = subharmonic_cut, {}, onsets
        present = corpus.instruments(split)
        missing = [i for i in self.instruments if i not in present]
        if missing:
            raise AudioStyleError(f"{corpus.root}: split '{split}' has no clips for {missing} (has {present})")
        if paired:
            ids = corpus.clip_ids(split)  # ids rendered by every instrument of the split
            if not ids:
                raise AudioStyleError(f"{corpus.root}: paired training needs clips rendered by several instruments")
            self.clips = {inst: ids[rank::world_size] for inst in self.instruments}
        else:
            self.clips = {inst: corpus.clip_ids(split, inst)[rank::world_size] for inst in self.instruments}
        for inst, ids in self.clips.items():
            if not ids:
                raise AudioStyleError(f"{corpus.root}: no '{inst}' clips in split '{split}' for rank {rank}")
        self.paths = {(inst, cid): corpus.audio_path(split, inst, cid) for inst, ids in self.clips.items() for cid in ids}
        if paired:
            self.paths.update({(i, c): corpus.audio_path(split, i, c) for i in self.instruments for c in self.clips[i]})
        self.probs = self._clip_probs(corpus, split, source_weights) if source_weights else None
        self.notes = {}
        if notes is not None or subharmonic_cut is not None:
            purpose = "note supervision" if notes is not None else "the sub-octave cut (train.subharmonic_cut_db)"
            for cid in sorted({c for ids in self.clips.values() for c in ids}):
                found = corpus.notes(split, cid)
                if found is None:
                    raise AudioStyleError(
                        f"{corpus.root}: {purpose} needs a notes file for every clip, and split '{split}' "
                        f"has none for clip '{cid}' (only rendered data sets have notes)")
                self.notes[cid] = found

    def _clip_probs(self, corpus, split: str, weights: dict[str, float]) -> dict[str, np.ndarray]:
        """``{instrument: (n_clips,) probabilities}`` from ``weights`` by source kind."""
        kinds = corpus.source_kinds(split)
        absent = sorted(set(weights) - set(kinds.values()))
        if absent and kinds:  # a misspelt kind would otherwise weigh nothing, silently
            raise AudioStyleError(f"{corpus.root}: train.source_weights names {absent}, which split '{split}' "
                                  f"does not hold (its source kinds: {sorted(set(kinds.values()))})")
        probs = {}
        for inst, ids in self.clips.items():
            unknown = [c for c in ids if c not in kinds]
            if unknown:
                raise AudioStyleError(
                    f"{corpus.root}: train.source_weights needs each clip's source kind from the manifest, "
                    f"and split '{split}' has none for clip '{unknown[0]}' (only rendered data sets list them)")
            w = np.array([float(weights.get(kinds[c], 1.0)) for c in ids])
            if w.sum() <= 0:
                raise AudioStyleError(f"{corpus.root}: train.source_weights {weights} leave no '{inst}' clip to draw")
            probs[inst] = w / w.sum()
        return probs

    def draw_clips(self, inst: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` clip ids of ``inst``, drawn with replacement (by source weight when there are any)."""
        return rng.choice(self.clips[inst], size=n, p=None if self.probs is None else self.probs[inst])

    def features(self, inst: str, clip_id: str) -> np.ndarray:
        """Compressed features ``(2, T, n_bins)`` of one rendering, from the feature store."""
        return self.store.get(self.split, inst, clip_id, self.paths[(inst, clip_id)])

    def warm_cache(self, progress: bool = False) -> None:
        """Compute every clip's cached features now rather than during the first steps."""
        keys = list(self.paths)
        if progress:
            from tqdm import tqdm

            keys = tqdm(keys, desc=f"feature cache ({self.split})", unit="clip")
        for inst, cid in keys:
            self.features(inst, cid)

    def crop(self, feats: np.ndarray, clip_id: str, start: int) -> np.ndarray:
        """Compressed features ``(2, crop_frames, n_bins)`` float32 from frame ``start`` of one
        rendering of ``clip_id`` (``feats``, ``(2, T, n_bins)`` from :meth:`features`),
        zero-padded past its end, with the sub-octave cut when there is one."""
        crop = np.asarray(feats[:, start : start + self.crop_frames], dtype=np.float32)
        if self.cut is not None:
            if clip_id not in self._gains:  # one gain per clip: every rendering holds its notes
                self._gains[clip_id] = self.cut.clip_gain(
                    self.notes[clip_id], feats.shape[1], self.store.cfg, self.store.power)
            crop = crop * self._gains[clip_id][None, start : start + self.crop_frames]
        if crop.shape[1] < self.crop_frames:  # clip shorter than a crop: pad with silence
            crop = np.pad(crop, ((0, 0), (0, self.crop_frames - crop.shape[1]), (0, 0)))
        return crop

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        k = len(self.instruments)
        if batch_size % k:
            raise AudioStyleError(f"batch_size {batch_size} must be a multiple of the {k} instruments")
        xs, labels, pxs, plabels, rolls, starts = [], [], [], [], [], []
        for label, inst in enumerate(self.instruments):
            for cid in self.draw_clips(inst, batch_size // k, rng):
                feats = self.features(inst, cid)
                start = int(rng.integers(0, max(1, feats.shape[1] - self.crop_frames + 1)))
                xs.append(self.crop(feats, cid, start))
                labels.append(label)
                if self.note_rate is not None:
                    fpt, frame_seconds = self.note_rate
                    rolls.append(token_roll(self.notes[cid], self.crop_frames // fpt, fpt, frame_seconds, start))
                    if self.onsets:
                        starts.append(token_onsets(self.notes[cid], self.crop_frames // fpt, fpt, frame_seconds, start))
                if self.paired:
                    other = int(rng.choice([j for j in range(k) if j != label]))
                    pxs.append(self.crop(self.features(self.instruments[other], cid), cid, start))
                    plabels.append(other)
        batch = Batch(torch.from_numpy(np.stack(xs)), torch.tensor(labels))
        if self.paired:
            batch.pair_x, batch.pair_labels = torch.from_numpy(np.stack(pxs)), torch.tensor(plabels)
        if rolls:
            batch.notes = torch.from_numpy(np.stack(rolls))
        if starts:
            batch.onsets = torch.from_numpy(np.stack(starts))
        return batch
