"""Instrument classifier for "style accuracy": does an output sound like the target instrument?

A deliberately small, fast model: summary statistics over time of band-limited MFCCs (+ deltas)
and of the temporal envelope (how energy rises and decays in 8 bands, spectral flux, energy
modulation), fed to a standardised multinomial logistic regression (scikit-learn). Training on
~1500 ten-second clips takes about half a minute on 2 cores (features ~20-35 ms per clip,
extracted in parallel with joblib).

The features deliberately ignore everything above 5 kHz and leave out full-band descriptors
(spectral contrast, roll-off, full-band log-mel): those separate *soundfonts* (or vocoders)
by their bandwidth and brightness rather than instruments, and a classifier built on them
scored only 50-93% on piano/violin rendered with an unseen soundfont, against 100% with these.
Limitation: among several *sustained* instruments the cues are subtler and a single training
font does not generalise (piano/violin/flute/trumpet, 120 train clips each: 100% on the train
font, 57% on the unseen font). For such sets, train on renderings in several soundfonts.

Waveforms are mono float32 ``(N,)`` at 22050 Hz (:data:`audiostyle.MODEL_SR`).

Saved files are joblib pickles with a format tag, version and the feature configuration, all
checked on load. Like any pickle, only load classifier files you trust.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from audiostyle import MODEL_SR
from audiostyle.errors import AudioStyleError, CheckpointError
from audiostyle.metrics._common import check_wave, pad_to

FORMAT = "audiostyle-instrument-classifier"
FORMAT_VERSION = 1

FEATURE_CONFIG = {
    "feature_version": 2,
    "sr": MODEL_SR,
    "n_fft": 2048,
    "hop": 512,
    "fmax": 5000.0,
    "n_mels": 64,
    "n_mfcc": 20,
    "env_bands": 8,
    "active_db": 50.0,
    "target_rms": 0.07,
}
"""Everything that determines the feature vector; a saved model must match it exactly."""

_ENV_PCT = (5, 25, 50, 75, 95)
_LEVEL_PCT = (5, 10, 25, 50, 75, 90, 95)
_FLUX_PCT = (50, 75, 90, 95, 99)
_MOD_BANDS_HZ = ((0.5, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0), (8.0, 12.0))


def clip_features(wave: np.ndarray, sr: int = MODEL_SR) -> np.ndarray:
    """Fixed-length timbre descriptor of one ``(N,)`` clip.

    The clip is RMS-normalised and analysed with a 2048/512 STFT up to 5 kHz. Statistics use
    *active* frames (within 50 dB of the loudest frame), so the amount of silence does not
    matter. Blocks, in order:

    1. 20 MFCCs (64 mel bands, 0-5 kHz): mean and std over time (40);
    2. their deltas: mean and std (40);
    3. envelope of 8 mel bands (0-5 kHz), frame-to-frame dB change: mean rise, mean fall,
       fraction of falling frames, 5/25/50/75/95th percentiles (64);
    4. total frame level change (dB/frame): 5/10/25/50/75/90/95th percentiles and the fractions
       of frames falling, falling by > 0.5 dB, rising by > 3 dB (10);
    5. spectral flux (log magnitude, 0-5 kHz) normalised by its mean: 50/75/90/95/99th
       percentiles and std (6);
    6. modulation spectrum of the frame level in 0.5-2, 2-4, 4-6, 6-8, 8-12 Hz, as fractions (5);
    7. frame level (dB) 10/50/90th percentiles (3).

    Returns:
        ``(D,)`` float64 feature vector (D = :func:`feature_dim` = 168).
    Raises:
        AudioStyleError: empty / non-finite input, or ``sr`` other than 22050.
    """
    import librosa

    cfg = FEATURE_CONFIG
    if sr != cfg["sr"]:
        raise AudioStyleError(f"the instrument classifier works at {cfg['sr']} Hz, got {sr} Hz")
    wave = check_wave(wave)
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64))))
    if rms > 1e-8:
        wave = (wave * (cfg["target_rms"] / rms)).astype(np.float32)
    n_fft, hop = cfg["n_fft"], cfg["hop"]
    y = pad_to(wave, 2 * n_fft)  # at least 9 frames
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))  # (1 + n_fft/2, F) float32
    power = mag**2
    frame_db = 10.0 * np.log10(np.mean(power, axis=0, dtype=np.float64) + 1e-12)
    active = frame_db >= frame_db.max() - cfg["active_db"]
    if active.sum() < 3:
        active[:] = True
    step_active = active[1:] & active[:-1]
    if step_active.sum() < 2:
        step_active[:] = True

    log_mel = librosa.power_to_db(_mel_basis(cfg["n_mels"]) @ power, ref=1.0, amin=1e-10, top_db=None)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=cfg["n_mfcc"]).astype(np.float64)
    d_mfcc = librosa.feature.delta(mfcc, width=9, mode="nearest")

    bands = librosa.power_to_db(_mel_basis(cfg["env_bands"]) @ power, ref=1.0, amin=1e-10, top_db=None)
    d_bands = np.diff(bands.astype(np.float64), axis=1)[:, step_active]
    d_level = np.diff(frame_db)[step_active]

    low = mag[: _n_bins_below(cfg["fmax"])]
    flux = np.maximum(np.diff(np.log1p(1000.0 * low), axis=1), 0.0).sum(axis=0, dtype=np.float64)
    flux = flux / (flux.mean() + 1e-9)

    level = frame_db - frame_db.mean()
    n_mod = max(256, 1 << int(np.ceil(np.log2(level.shape[0]))))
    spectrum = np.abs(np.fft.rfft(level * np.hanning(level.shape[0]), n=n_mod))
    mod_freqs = np.fft.rfftfreq(n_mod, hop / sr)
    mod = np.array([spectrum[(mod_freqs >= lo) & (mod_freqs < hi)].mean() for lo, hi in _MOD_BANDS_HZ])
    mod = mod / (spectrum[1:].sum() + 1e-9)

    blocks = [
        mfcc[:, active].mean(axis=1), mfcc[:, active].std(axis=1),
        d_mfcc[:, active].mean(axis=1), d_mfcc[:, active].std(axis=1),
        np.maximum(d_bands, 0.0).mean(axis=1), np.minimum(d_bands, 0.0).mean(axis=1),
        (d_bands < 0).mean(axis=1), np.percentile(d_bands, _ENV_PCT, axis=1).T.ravel(),
        np.percentile(d_level, _LEVEL_PCT), [(d_level < 0).mean(), (d_level < -0.5).mean(), (d_level > 3).mean()],
        np.percentile(flux, _FLUX_PCT), [flux.std()],
        mod,
        np.percentile(frame_db[active], (10, 50, 90)),
    ]
    return np.concatenate([np.asarray(b, dtype=np.float64).ravel() for b in blocks])


@functools.lru_cache(maxsize=4)
def _mel_basis(n_mels: int) -> np.ndarray:
    import librosa

    cfg = FEATURE_CONFIG
    return librosa.filters.mel(sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=n_mels, fmax=cfg["fmax"]).astype(np.float32)


def _n_bins_below(fmax: float) -> int:
    cfg = FEATURE_CONFIG
    return int(np.floor(fmax * cfg["n_fft"] / cfg["sr"])) + 1


def feature_dim() -> int:
    """Length of :func:`clip_features` vectors."""
    cfg = FEATURE_CONFIG
    return (4 * cfg["n_mfcc"] + cfg["env_bands"] * (3 + len(_ENV_PCT)) + len(_LEVEL_PCT) + 3
            + len(_FLUX_PCT) + 1 + len(_MOD_BANDS_HZ) + 3)


def extract_features(waves: Sequence[np.ndarray], n_jobs: int = 2) -> np.ndarray:
    """:func:`clip_features` for many clips -> ``(len(waves), D)``, in parallel with joblib."""
    waves = list(waves)
    if not waves:
        raise AudioStyleError("no clips given to the instrument classifier")
    if n_jobs == 1 or len(waves) < 8:
        feats = [clip_features(w) for w in waves]
    else:
        from joblib import Parallel, delayed

        # one clip here first, so numba's kernel cache is written by one process (numba #10128)
        feats = [clip_features(waves[0])]
        feats += Parallel(n_jobs=n_jobs, batch_size=16)(delayed(clip_features)(w) for w in waves[1:])
    return np.vstack(feats)


class InstrumentClassifier:
    """Standardised logistic regression on :func:`clip_features`.

    Attributes:
        classes_: sorted instrument names (strings) after :meth:`fit`.
    """

    def __init__(self, C: float = 1.0, n_jobs: int = 2):
        self.C = float(C)
        self.n_jobs = int(n_jobs)
        self.pipeline_ = None
        self.classes_: list[str] = []
        self.meta: dict = {}  # free-form JSON-able facts saved with the model (e.g. training data)

    # -- training / inference ------------------------------------------------------------

    def fit(self, waves: Sequence[np.ndarray], labels: Sequence[str]) -> "InstrumentClassifier":
        """Train on ``(N_i,)`` clips and their instrument labels; returns ``self``."""
        labels = [str(x) for x in labels]
        if len(labels) != len(waves):
            raise AudioStyleError(f"{len(waves)} clips but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise AudioStyleError("the instrument classifier needs clips of at least two instruments")
        return self.fit_features(extract_features(waves, self.n_jobs), labels)

    def fit_features(self, features: np.ndarray, labels: Sequence[str]) -> "InstrumentClassifier":
        """Train on precomputed ``(n, D)`` :func:`clip_features` rows."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        labels = [str(x) for x in labels]
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != feature_dim() or features.shape[0] != len(labels):
            raise AudioStyleError(f"features of shape {features.shape} do not fit {len(labels)} labels")
        if len(set(labels)) < 2:
            raise AudioStyleError("the instrument classifier needs clips of at least two instruments")
        pipe = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=5000))
        pipe.fit(features, labels)
        self.pipeline_ = pipe
        self.classes_ = [str(c) for c in pipe.classes_]
        return self

    def _check_fitted(self):
        if self.pipeline_ is None:
            raise AudioStyleError("the instrument classifier is not trained (call fit or load)")

    def predict_proba(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities ``(len(waves), len(classes_))``, columns in ``classes_`` order."""
        self._check_fitted()
        return self.pipeline_.predict_proba(extract_features(waves, self.n_jobs))

    def predict(self, waves: Sequence[np.ndarray]) -> list[str]:
        """Most probable instrument name for each ``(N,)`` clip."""
        proba = self.predict_proba(waves)
        return [self.classes_[i] for i in np.argmax(proba, axis=1)]

    def accuracy(self, waves: Sequence[np.ndarray], labels: Sequence[str]) -> float:
        """Fraction of clips classified as their label ("style accuracy")."""
        if len(waves) != len(labels):
            raise AudioStyleError(f"{len(waves)} clips but {len(labels)} labels")
        pred = self.predict(waves)
        return float(np.mean([p == str(t) for p, t in zip(pred, labels)]))

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the trained model atomically (joblib) with format tag, version and feature config."""
        import joblib
        import sklearn

        from audiostyle.fileio import atomic_output

        self._check_fitted()
        path = Path(path)
        if not (path.parent if str(path.parent) else Path(".")).is_dir():
            raise AudioStyleError(f"{path}: output folder does not exist")
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "feature_config": dict(FEATURE_CONFIG),
            "sklearn_version": sklearn.__version__,
            "classes": list(self.classes_),
            "C": self.C,
            "meta": dict(self.meta),
            "pipeline": self.pipeline_,
        }
        with atomic_output(path) as tmp:
            joblib.dump(payload, tmp)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, n_jobs: int = 2) -> "InstrumentClassifier":
        """Load a model written by :meth:`save`.

        Raises:
            CheckpointError: missing, unreadable or corrupt file, not a classifier file, another
                format version, or features computed differently from this version's.
        """
        import joblib

        path = Path(path)
        if not path.is_file():
            raise CheckpointError(path, "no such classifier file")
        try:
            payload = joblib.load(path)
        except Exception as exc:  # truncated/corrupt pickles raise many different types
            raise CheckpointError(path, f"not a readable classifier file ({type(exc).__name__})") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise CheckpointError(path, "not an audiostyle instrument classifier file")
        if payload.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(
                path, f"classifier format version {payload.get('format_version')} (this audiostyle reads {FORMAT_VERSION})"
            )
        if payload.get("feature_config") != FEATURE_CONFIG:
            raise CheckpointError(path, "classifier was trained on different features; retrain it")
        pipe = payload.get("pipeline")
        if pipe is None or not hasattr(pipe, "predict_proba"):
            raise CheckpointError(path, "classifier file has no model")
        model = cls(C=payload.get("C", 1.0), n_jobs=n_jobs)
        model.pipeline_ = pipe
        model.classes_ = [str(c) for c in payload["classes"]]
        model.meta = dict(payload.get("meta") or {})
        return model


def load_split(split_dir: str | os.PathLike, instruments: Sequence[str] | None = None) -> tuple[list[np.ndarray], list[str]]:
    """Read every ``{split_dir}/{instrument}/*.wav`` -> (waves, instrument labels).

    Folders without WAV files (e.g. ``notes/``) are ignored. Clips are loaded at 22050 Hz.
    """
    from audiostyle.audio.io import load_audio

    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise AudioStyleError(f"{split_dir}: split folder not found")
    names = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and any(p.glob("*.wav")))
    if instruments is not None:
        missing = sorted(set(instruments) - set(names))
        if missing:
            raise AudioStyleError(f"{split_dir}: no clips for {', '.join(missing)}")
        names = [n for n in names if n in set(instruments)]
    waves, labels = [], []
    for name in names:
        for wav in sorted((split_dir / name).glob("*.wav")):
            waves.append(load_audio(wav, sr=MODEL_SR))
            labels.append(name)
    if not waves:
        raise AudioStyleError(f"{split_dir}: no instrument clips found")
    return waves, labels


def split_fingerprint(split_dir: str | os.PathLike) -> str:
    """SHA-1 over the relative paths and sizes of every WAV under ``split_dir``."""
    import hashlib

    split_dir = Path(split_dir)
    h = hashlib.sha1()
    for wav in sorted(split_dir.glob("*/*.wav")):
        h.update(f"{wav.relative_to(split_dir).as_posix()}\t{wav.stat().st_size}\n".encode())
    return h.hexdigest()


def train_or_load(data_dir: str | os.PathLike, cache_path: str | os.PathLike, instruments: Sequence[str] | None = None,
                  n_jobs: int = 2) -> InstrumentClassifier:
    """The classifier trained on ``data_dir/train``, cached at ``cache_path``.

    A cached model is reused only if it loads cleanly and was trained on the same files
    (same relative paths and sizes, see :func:`split_fingerprint`) and instruments; otherwise
    the classifier is retrained and saved to ``cache_path``.
    """
    train_dir = Path(data_dir) / "train"
    if not train_dir.is_dir():
        raise AudioStyleError(f"{train_dir}: split folder not found")
    key = {"train_fingerprint": split_fingerprint(train_dir),
           "instruments": sorted(instruments) if instruments is not None else None}
    cache_path = Path(cache_path)
    if cache_path.is_file():
        try:
            model = InstrumentClassifier.load(cache_path, n_jobs=n_jobs)
            if all(model.meta.get(k) == v for k, v in key.items()):
                return model
        except CheckpointError:
            pass
    waves, labels = load_split(train_dir, instruments)
    model = InstrumentClassifier(n_jobs=n_jobs).fit(waves, labels)
    model.meta.update(key)
    model.save(cache_path)
    return model
