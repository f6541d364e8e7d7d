"""What an evaluation covers: the data set split, the model, the transfer directions, the clip
pairs and the tasks, checked before anything runs or is written (:func:`plan_evaluation`), and
the report folder it may write into (:func:`check_output`, :func:`prepare_output`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiostyle.errors import AudioStyleError
from audiostyle.evaluation import scoring
from audiostyle.evaluation.loading import load_system
from audiostyle.evaluation.systems import ClipAudio


def parse_directions(spec, available: list[str]) -> list[tuple[str, str]]:
    """``"piano:violin,violin:piano"`` (or pairs) -> ``[("piano", "violin"), ...]``.

    ``None``: every ordered pair of ``available``. Names are resolved to folder names.
    """
    from audiostyle.data.instruments import resolve_instrument

    if spec is None:
        return [(a, b) for a in available for b in available if a != b]
    parts = [p.strip() for p in spec.split(",") if p.strip()] if isinstance(spec, str) else list(spec)
    out = []
    for part in parts:
        pair = part.split(":") if isinstance(part, str) else list(part)
        if len(pair) != 2 or not all(str(x).strip() for x in pair):
            raise AudioStyleError(f"direction {part!r}: expected SOURCE:TARGET, e.g. piano:violin")
        a, b = (_canonical(str(x).strip(), resolve_instrument) for x in pair)
        if a == b:
            raise AudioStyleError(f"direction {part!r}: source and target are the same instrument")
        if (a, b) in out:
            raise AudioStyleError(f"direction {a}:{b} is listed twice")
        out.append((a, b))
    if not out:
        raise AudioStyleError("no transfer directions given")
    return out


def _canonical(name: str, resolve) -> str:
    try:
        return resolve(name).name
    except AudioStyleError:
        return name  # a folder name outside the GM table (prepared data sets)


def select_clips(ids: list[str], limit: int | None, seed: int) -> list[str]:
    """All ``ids``, or ``limit`` of them drawn without replacement with ``seed`` (sorted)."""
    ids = sorted(ids)
    if limit is not None and limit < 1:
        raise AudioStyleError(f"--limit must be at least 1 (got {limit})")
    if limit is None or limit >= len(ids):
        return ids
    rng = np.random.default_rng(seed)
    return sorted(str(ids[i]) for i in rng.choice(len(ids), size=limit, replace=False))


def check_output(out_dir: Path) -> None:
    """Refuse a report path that is a file, or a non-empty folder that is not an earlier report.

    Raises:
        AudioStyleError: naming the folder and the problem.
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise AudioStyleError(f"{out_dir}: output path exists and is not a folder")
    if any(not p.name.startswith(".") for p in out_dir.iterdir()) and not (out_dir / "results.json").is_file():
        raise AudioStyleError(f"{out_dir}: output folder is not empty and holds no evaluation report; "
                              f"choose a new or empty folder")


def prepare_output(out_dir: Path) -> None:
    """Create the report folder; remove an earlier report's figures and examples from it (their
    stale files would otherwise sit beside this report's)."""
    for sub in ("figures", "examples"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)


@dataclass
class Plan:
    """What an evaluation covers: data, model, directions, clips and tasks."""

    root: Path
    split: str
    corpus: object
    transfer: object
    model_info: dict
    played: list[str]
    dirs: list[tuple[str, str]]
    instruments: list[str]
    clips: list[ClipAudio]
    tasks: list[str]

    @property
    def clip_ids(self) -> list[str]:
        return [c.clip_id for c in self.clips]


def plan_evaluation(model, data_dir, split: str = "test", limit: int | None = None, directions=None,
                    seed: int = 0, settings: dict | None = None) -> Plan:
    """Check the data set, split and model; choose directions, clip pairs and tasks.

    Raises:
        AudioStyleError: missing data set or split, instruments absent from the split or not
            played by the model, no paired clips, unknown model.
    """
    from audiostyle.data.layout import Corpus

    root = Path(data_dir)
    corpus = Corpus(root)
    if split not in corpus.splits():
        raise AudioStyleError(f"{root}: no '{split}' split (it has: {', '.join(corpus.splits()) or 'none'})")
    present = corpus.instruments(split)
    transfer, model_info = load_system(model, settings)
    played = list(getattr(transfer, "instruments", None) or present)
    dirs = parse_directions(directions, [i for i in played if i in present])
    instruments = list(dict.fromkeys(i for pair in dirs for i in pair))  # first-seen order
    for inst in instruments:
        if inst not in present:
            raise AudioStyleError(f"{root}/{split}: no {inst} clips (it has: {', '.join(present) or 'none'})")
        if inst not in played:
            raise AudioStyleError(f"model '{model_info['name']}' cannot play {inst!r}; it plays: {', '.join(played)}")
    ids = set(corpus.clip_ids(split, instruments[0]))
    for inst in instruments[1:]:
        ids &= set(corpus.clip_ids(split, inst))
    if not ids:
        raise AudioStyleError(f"{root}/{split}: no paired clips for {', '.join(instruments)} "
                              f"(ground-truth metrics need the same notes rendered for each instrument)")
    kinds = corpus.source_kinds(split)
    clips = [ClipAudio(cid, {i: str(corpus.audio_path(split, i, cid)) for i in instruments},
                       corpus.notes(split, cid), kinds.get(cid)) for cid in select_clips(sorted(ids), limit, seed)]
    tasks = [scoring.task_key(i, i) for i in instruments] + [scoring.task_key(a, b) for a, b in dirs]
    return Plan(root, split, corpus, transfer, model_info, played, dirs, instruments, clips, tasks)
