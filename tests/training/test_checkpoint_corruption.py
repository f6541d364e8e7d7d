"""Silent corruption of the newest checkpoint (bytes flipped, size unchanged) is caught by its
digest, reported by file name, and ``--resume`` falls back to the previous checkpoint.

(Truncation, as a kill mid-write leaves it, is covered by
``tests/training/test_training.py::test_resume_skips_a_corrupt_checkpoint``; a flipped byte is
the case only the digest catches: the file still unpickles.)
"""


import torch

from audiostyle.cli import main
from audiostyle.training.state import list_states, verify_state
from tests.training.metrics import logged_rows

ARGS = ["--no-progress", "--set", "train.steps=6", "--set", "train.log_every=1", "--set", "train.checkpoint_every=2"]


def _rows(run) -> list[dict]:
    return logged_rows(run)


def test_flipped_bytes_are_reported_and_resume_falls_back(tiny_data, tmp_path, capsys):
    run = tmp_path / "run"
    base = ["train", "flagship-tiny", "--data", str(tiny_data), "--out", str(run), *ARGS]
    assert main(base + ["--stop-at-step", "4"]) == 0  # checkpoints at steps 2 and 4
    first = _rows(run)
    newest = list_states(run)[0]
    assert newest.name == "state-00000004.ckpt"
    data = bytearray(newest.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 16):  # inside the weights
        data[i] ^= 0xFF
    newest.write_bytes(bytes(data))
    torch.load(newest, map_location="cpu", weights_only=True)  # still loads: only the digest can tell
    capsys.readouterr()

    assert main(base + ["--resume"]) == 0
    err = capsys.readouterr().err
    expected = f"skipping checkpoint: {newest}: SHA-256 mismatch: the checkpoint is truncated or corrupt"
    assert expected in err and expected in (run / "train.log").read_text()
    assert "resumed from step 2" in err
    # Steps 3-4 were redone from step 2's state, exactly as first trained (their first rows
    # dropped, each step logged once), and the corrupt file was replaced by a good one.
    after = _rows(run)
    assert [r["step"] for r in after] == [1, 2, 3, 4, 5, 6]
    assert after[:4] == first
    verify_state(newest)
