import os
import sys

import numpy as np

from audiostyle.metrics import pesto_model as PM
from audiostyle.metrics import pitch as P


def test_pesto_loads_bundled_weights_without_leaving_stubs():
    P.f0_contour(np.zeros(4096, np.float32))  # loads the model
    import pesto

    ckpt = os.path.join(os.path.dirname(pesto.__file__), "weights", PM.PESTO_CHECKPOINT + ".ckpt")
    assert os.path.isfile(ckpt)
    for name in ("torchaudio", "tqdm"):
        mod = sys.modules.get(name)
        assert mod is None or "audiostyle stand-in" not in (mod.__doc__ or "")


def test_load_pesto_is_built_once_per_hop_and_rate():
    a = PM.load_pesto(256 * 1000.0 / 22050, 22050)
    assert PM.load_pesto(256 * 1000.0 / 22050, 22050) is a
    assert PM.load_pesto(512 * 1000.0 / 22050, 22050) is not a
    assert not a.training


def test_omegaconf_stand_ins_become_plain_containers():
    node = type("DictConfig", (PM._OmegaNode,), {})()
    leaf = type("AnyNode", (PM._OmegaNode,), {})()
    leaf.__setstate__({"_val": 3})
    items = type("ListConfig", (PM._OmegaNode,), {})()
    items.__setstate__({"_content": [leaf, 4]})
    node.__setstate__({"_content": {"a": items, "b": "x"}})
    assert PM._plain(node) == {"a": [3, 4], "b": "x"}
