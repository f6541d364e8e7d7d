"""The on-disk data set layout: read it (:class:`Corpus`) and guard or install a new one.

A data set folder holds::

    manifest.json
    {train,val,test}/{instrument}/{clip_id}.wav    # 22050 Hz mono 16-bit
    {train,val,test}/notes/{clip_id}.json          # rendered sets only: [[onset_s, offset_s, midi], ...]

Clips with the same id in several instrument folders of a split are a pair: the same notes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from audiostyle.errors import AudioStyleError

SPLITS = ("train", "val", "test")
NOTES_DIR = "notes"
MANIFEST = "manifest.json"
DATASET_FORMAT = "audiostyle-dataset"


class Corpus:
    """A data set folder written by ``audiostyle data render`` or ``audiostyle data prepare``.

    Raises:
        AudioStyleError: ``root`` is missing, not a folder, has neither ``manifest.json`` nor a
            split folder, or its manifest is not valid JSON.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise AudioStyleError(f"{self.root}: data set folder not found")
        manifest = self.root / MANIFEST
        if manifest.is_file():
            try:
                self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise AudioStyleError(f"{manifest}: not a readable manifest ({exc})") from None
            if not isinstance(self.manifest, dict):
                raise AudioStyleError(f"{manifest}: not a data set manifest (expected a JSON object)")
        elif any((self.root / s).is_dir() for s in SPLITS):
            self.manifest = {}
        else:
            raise AudioStyleError(
                f"{self.root}: not an audiostyle data set (no {MANIFEST} and no train/val/test folders)")

    def splits(self) -> list[str]:
        """The splits present, among train/val/test, in that order."""
        return [s for s in SPLITS if (self.root / s).is_dir()]

    def instruments(self, split: str = "train") -> list[str]:
        """Sorted instrument folder names of a split (empty when the split is absent)."""
        folder = self.root / split
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if p.is_dir() and p.name != NOTES_DIR and not p.name.startswith("."))

    def clip_ids(self, split: str, instrument: str | None = None) -> list[str]:
        """Sorted clip ids of one instrument, or (``None``) the ids every instrument has: the pairs."""
        if instrument is not None:
            folder = self.root / split / instrument
            if not folder.is_dir():
                return []
            return sorted(p.stem for p in folder.glob("*.wav") if not p.name.startswith("."))
        names = self.instruments(split)
        if not names:
            return []
        common = set(self.clip_ids(split, names[0]))
        for name in names[1:]:
            common &= set(self.clip_ids(split, name))
        return sorted(common)

    def audio_path(self, split: str, instrument: str, clip_id: str) -> Path:
        """Where a clip's WAV is (the path is built, not checked)."""
        return self.root / split / instrument / f"{clip_id}.wav"

    def notes(self, split: str, clip_id: str) -> list[tuple[float, float, int]] | None:
        """The clip's notes as ``(onset_s, offset_s, midi_pitch)``; None when it has no notes file.

        Raises:
            AudioStyleError: a notes file that is not a JSON list of ``[onset, offset, pitch]``.
        """
        path = self.root / split / NOTES_DIR / f"{clip_id}.json"
        if not path.is_file():
            return None
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [(float(on), float(off), int(p)) for on, off, p in rows]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as exc:
            raise AudioStyleError(f"{path}: not a notes file ({type(exc).__name__}: {exc})") from None

    def source_kinds(self, split: str) -> dict[str, str]:
        """``{clip_id: source kind}`` (``"chorale"``, ``"fiddle"`` ...) of a split's clips, from
        the manifest of a rendered set; empty for data sets whose manifest has no clip list."""
        return {c["clip_id"]: c["source_kind"] for c in self.manifest.get("clips") or []
                if isinstance(c, dict) and c.get("split") == split and "clip_id" in c and c.get("source_kind")}

    def items(self, split: str) -> list[tuple[str, str, Path]]:
        """``(instrument, clip_id, wav path)`` for every clip of the split, sorted."""
        return [(inst, cid, self.audio_path(split, inst, cid))
                for inst in self.instruments(split) for cid in self.clip_ids(split, inst)]


def held_out_sizes(n: int, fractions=(0.8, 0.1, 0.1)) -> tuple[int, int]:
    """``(val, test)`` sizes for ``n`` units (works, files, clips): ``round(fraction * n)``,
    at least one each once ``n >= 3`` so small sets still get held-out data; train keeps the rest.
    """
    if n < 3:
        return 0, 0
    return max(1, round(fractions[1] * n)), max(1, round(fractions[2] * n))


def is_dataset(folder: str | Path) -> bool:
    """True if ``folder`` holds an audiostyle manifest, or (an interrupted run) only split folders."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            return json.loads(manifest.read_text(encoding="utf-8")).get("format") == DATASET_FORMAT
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return False
    visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return bool(visible) and all(p.is_dir() and p.name in SPLITS for p in visible)


def check_output_dir(folder: str | Path) -> None:
    """Refuse an output folder that is a file, or non-empty and not a previous data set.

    Raises:
        AudioStyleError: naming the folder and the problem.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise AudioStyleError(f"{folder}: output path exists and is not a folder")
    if not any(p for p in folder.iterdir() if not p.name.startswith(".")) or is_dataset(folder):
        return
    raise AudioStyleError(
        f"{folder}: output folder is not empty and is not an audiostyle data set; "
        f"choose a new or empty folder")


def install_staged(staging: Path, out_dir: Path, manifest: dict) -> None:
    """Replace ``out_dir``'s split folders by the staged ones, then write the manifest last.

    The old manifest goes first, so a crash part-way never leaves a manifest describing
    files it does not match.
    """
    from audiostyle.fileio import write_json

    (out_dir / MANIFEST).unlink(missing_ok=True)
    for split in SPLITS:
        shutil.rmtree(out_dir / split, ignore_errors=True)
        if (staging / split).is_dir():
            (staging / split).rename(out_dir / split)
    write_json(out_dir / MANIFEST, manifest)
    shutil.rmtree(staging, ignore_errors=True)
