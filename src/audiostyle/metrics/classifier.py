"""Instrument classifier for "style accuracy": does an output sound like the target instrument?

A deliberately small, fast model: summary statistics over time of log-mel, MFCC (+ deltas),
spectral contrast and a few scalar spectral descriptors, fed to a standardised multinomial
logistic regression (scikit-learn). Training on ~1500 ten-second clips takes well under a
minute on 2 cores (feature extraction is parallel with joblib).

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
    "feature_version": 1,
    "sr": MODEL_SR,
    "n_fft": 2048,
    "hop": 512,
    "n_mels": 64,
    "n_mfcc": 20,
    "contrast_bands": 6,
    "active_db": 50.0,
    "target_rms": 0.07,
}
"""Everything that determines the feature vector; a saved model must match it exactly."""


def clip_features(wave: np.ndarray, sr: int = MODEL_SR) -> np.ndarray:
    """Fixed-length timbre descriptor of one ``(N,)`` clip.

    The clip is RMS-normalised; statistics use only *active* frames (within 50 dB of the
    loudest frame), so the amount of silence in a clip does not matter. Per feature row:
    mean and standard deviation over active frames of 64 log-mel bands, 20 MFCCs, their
    deltas, 7 spectral-contrast bands, and spectral centroid / bandwidth / roll-off /
    flatness (log) / zero-crossing rate; plus the 10th/50th/90th percentiles of frame RMS (dB).

    Returns:
        ``(D,)`` float64 feature vector (D = :func:`feature_dim`).
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
    y = pad_to(wave, n_fft)
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))  # (1 + n_fft/2, F) float32
    power = mag**2
    mel = _mel_basis(sr, n_fft, cfg["n_mels"]) @ power
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=cfg["n_mfcc"])
    d_mfcc = librosa.feature.delta(mfcc, width=min(9, _odd_at_most(mfcc.shape[1])), mode="nearest")
    contrast = librosa.feature.spectral_contrast(S=mag, sr=sr, n_bands=cfg["contrast_bands"])
    # Centroid / bandwidth / 85% roll-off (fractions of Nyquist) and flatness: librosa's
    # definitions, inlined because librosa's versions cost more than everything else together.
    freqs = np.linspace(0.0, 1.0, mag.shape[0], dtype=np.float32)
    total = mag.sum(axis=0) + 1e-12
    centroid = (freqs @ mag) / total
    bandwidth = np.sqrt(np.maximum((freqs**2) @ mag / total - centroid**2, 0.0))
    cum = np.cumsum(mag, axis=0)
    rolloff = freqs[np.argmax(cum >= 0.85 * cum[-1:], axis=0)]
    pw = np.maximum(power, 1e-10)
    flatness = np.log10(np.exp(np.mean(np.log(pw), axis=0)) / np.mean(pw, axis=0))
    # Zero-crossing rate over the same centred n_fft windows, from one cumulative sum.
    yp = np.pad(y, n_fft // 2, mode="edge")
    crossings = np.concatenate([[0], np.cumsum(np.signbit(yp[1:]) != np.signbit(yp[:-1]))])
    starts = np.arange(mag.shape[1]) * hop
    zcr = (crossings[np.minimum(starts + n_fft - 1, yp.shape[0] - 1)] - crossings[starts]) / (n_fft - 1)
    scalars = np.vstack([centroid, bandwidth, rolloff, flatness, zcr])
    frame_db = 10.0 * np.log10(np.mean(power, axis=0) + 1e-12)

    active = frame_db >= frame_db.max() - cfg["active_db"]
    rows = np.vstack([log_mel, mfcc, d_mfcc, contrast, scalars]).astype(np.float64)[:, active]
    stats = [rows.mean(axis=1), rows.std(axis=1), np.percentile(frame_db[active], [10, 50, 90])]
    return np.concatenate(stats).astype(np.float64)


@functools.lru_cache(maxsize=4)
def _mel_basis(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float32)


def feature_dim() -> int:
    """Length of :func:`clip_features` vectors."""
    cfg = FEATURE_CONFIG
    n_rows = cfg["n_mels"] + 2 * cfg["n_mfcc"] + (cfg["contrast_bands"] + 1) + 5
    return 2 * n_rows + 3


def _odd_at_most(n: int) -> int:
    n = max(3, n)
    return n if n % 2 else n - 1


def extract_features(waves: Sequence[np.ndarray], n_jobs: int = 2) -> np.ndarray:
    """:func:`clip_features` for many clips -> ``(len(waves), D)``, in parallel with joblib."""
    waves = list(waves)
    if not waves:
        raise AudioStyleError("no clips given to the instrument classifier")
    if n_jobs == 1 or len(waves) < 8:
        feats = [clip_features(w) for w in waves]
    else:
        from joblib import Parallel, delayed

        feats = Parallel(n_jobs=n_jobs, batch_size=16)(delayed(clip_features)(w) for w in waves)
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
        pred = self.predict(waves)
        return float(np.mean([p == str(t) for p, t in zip(pred, labels, strict=True)]))

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
