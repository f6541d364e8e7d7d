"""PESTO, the f0 tracker of the pitch metrics, built from the checkpoint inside the
``pesto-pitch`` wheel (nothing is downloaded).

PESTO (Riou et al., "PESTO: Pitch Estimation with Self-supervised Transposition-equivariant
Objective", ISMIR 2023) 2.0.1 imports ``torchaudio`` and ``tqdm`` at import time but only uses
them in its file CLI, and its checkpoint pickles ``omegaconf`` containers. None of the three is
needed to run the model, so :func:`load_pesto` (called on first use, never at import) briefly
installs inert stand-ins for whichever of ``torchaudio``/``tqdm`` is not importable, removes them
again once PESTO is imported, and unpickles the checkpoint with ``omegaconf`` objects mapped to
plain dicts/lists.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pickle
import sys
import types

from audiostyle.errors import AudioStyleError

PESTO_CHECKPOINT = "mir-1k_g7"


@functools.lru_cache(maxsize=8)
def load_pesto(step_ms: float, sr: int):
    """Build PESTO from the checkpoint bundled in the ``pesto-pitch`` wheel (cached per process)."""
    import torch

    _import_pesto()
    from pesto.data import Preprocessor
    from pesto.model import PESTO, Resnet1d

    import pesto

    path = os.path.join(os.path.dirname(pesto.__file__), "weights", PESTO_CHECKPOINT + ".ckpt")
    if not os.path.exists(path):
        raise AudioStyleError(f"{path}: PESTO checkpoint missing from the pesto-pitch installation")
    ckpt = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_OmegaConfFreePickle)
    hparams = _plain(ckpt["hparams"])
    hcqt = _plain(ckpt["hcqt_params"])
    model = PESTO(
        Resnet1d(**hparams["encoder"]),
        preprocessor=Preprocessor(hop_size=step_ms, sampling_rate=sr, **hcqt),
        crop_kwargs=hparams["pitch_shift"],
        reduction=hparams["reduction"],
    )
    missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
    # The CQT kernels are rebuilt from hcqt_params, so only they may be absent from the file.
    bad = [k for k in missing if not k.startswith("preprocessor.hcqt_kernels.")] + list(unexpected)
    if bad:
        raise AudioStyleError(f"{path}: PESTO checkpoint does not match the model ({', '.join(bad[:3])})")
    model.eval()
    return model


def _import_pesto() -> None:
    """Import ``pesto`` with inert stand-ins for missing CLI-only dependencies (see module doc)."""
    if "pesto.model" in sys.modules:
        return
    inserted = []
    for name, factory in (("torchaudio", _torchaudio_stub), ("tqdm", _tqdm_stub)):
        if name not in sys.modules and not _importable(name):
            sys.modules[name] = factory()
            inserted.append(name)
    try:
        import pesto  # noqa: F401
        import pesto.data  # noqa: F401
        import pesto.model  # noqa: F401
    finally:
        for name in inserted:
            sys.modules.pop(name, None)


def _importable(name: str) -> bool:
    """True if ``name`` imports cleanly (an installed but broken torchaudio counts as absent)."""
    if importlib.util.find_spec(name) is None:
        return False
    try:
        importlib.import_module(name)
    except Exception:  # e.g. a torchaudio built for another torch / CUDA
        return False
    return True


def _torchaudio_stub() -> types.ModuleType:
    mod = types.ModuleType("torchaudio")
    mod.__doc__ = "audiostyle stand-in: torchaudio is not installed (PESTO only needs it for its file CLI)."

    def load(*_args, **_kwargs):
        raise AudioStyleError("torchaudio is not installed; use audiostyle.audio.io.load_audio instead")

    mod.load = load
    return mod


def _tqdm_stub() -> types.ModuleType:
    mod = types.ModuleType("tqdm")
    mod.__doc__ = "audiostyle stand-in: tqdm is not installed."

    def tqdm(iterable=None, *_args, **_kwargs):
        return iterable

    mod.tqdm = tqdm
    return mod


class _OmegaNode:
    """Stand-in for any ``omegaconf`` class found in a pickle; keeps its pickled state."""

    def __setstate__(self, state):
        self.__dict__["_state"] = state


_OMEGA_CLASSES: dict[tuple[str, str], type] = {}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "omegaconf" or module.startswith("omegaconf."):
            return _OMEGA_CLASSES.setdefault((module, name), type(name, (_OmegaNode,), {}))
        return super().find_class(module, name)


_OmegaConfFreePickle = types.SimpleNamespace(
    __name__="audiostyle_omegaconf_free_pickle", Unpickler=_Unpickler, load=pickle.load
)


def _plain(obj):
    """Convert unpickled ``omegaconf`` stand-ins (DictConfig/ListConfig/nodes) to dicts/lists/values."""
    if isinstance(obj, _OmegaNode):
        state = obj.__dict__.get("_state") or {}
        if "_content" in state:
            return _plain(state["_content"])
        return _plain(state.get("_val"))
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj
