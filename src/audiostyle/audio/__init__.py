"""Audio input/output: loading any common format to model-rate mono, atomic saving."""

from audiostyle.audio.io import load_audio, save_audio, resample, rms_normalize

__all__ = ["load_audio", "save_audio", "resample", "rms_normalize"]
