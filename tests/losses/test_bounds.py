import math

import pytest
import torch

from audiostyle.losses import generator_entropy_loss, info_nce, info_nce_bounds
from audiostyle.losses.bounds import BoundContext, BoundMonitor, check_bounds

K = 4
LABELS = torch.arange(K).repeat_interleave(8)  # B = 32
FLOOR, CHANCE = info_nce_bounds(LABELS)
CTX = BoundContext(num_classes=K, info_nce_bounds=(FLOOR, CHANCE))

HEALTHY = {
    "info_nce": (FLOOR + CHANCE) / 2,
    "generator_entropy_loss": -0.8 * math.log(K),
    "generator_ce_loss": 1.5 * math.log(K),
    "disc_loss_content": 1.0,
    "disc_loss_style": 0.3,
    "disc_acc_content": 0.6,
    "disc_acc_style": 0.95,
    "normalized_hsic": 0.2,
    "margin_loss": 0.1,
    "masked_recon_ratio": 1.05,
    "reconstruction": 3.0,  # unknown keys are ignored
}


def test_healthy_values_give_no_warning():
    assert check_bounds(HEALTHY, CTX) == []


@pytest.mark.parametrize("key,value,needle", [
    ("info_nce", CHANCE, "collapse"),
    ("info_nce", FLOOR + 1e-3, "floor"),
    ("generator_entropy_loss", -math.log(K), "uniformly on content"),
    ("generator_ce_loss", math.log(K) + 1e-3, "uniformly on content"),
    ("disc_loss_style", math.log(K), "style"),
    ("disc_acc_content", 0.25, "chance"),
    ("disc_acc_style", 0.26, "no instrument information"),
    ("normalized_hsic", 5e-4, "HSIC"),
    ("margin_loss", 0.0, "inactive"),
    ("masked_recon_ratio", 1.4, "leans on its previous frames"),
    ("info_nce", float("nan"), "not finite"),
])
def test_each_bound_is_detected(key, value, needle):
    warnings = check_bounds(HEALTHY | {key: value}, CTX)
    assert len(warnings) == 1 and needle in warnings[0] and key in warnings[0]


def test_tolerances_are_parameters():
    values = {"disc_acc_style": 0.30, "normalized_hsic": 5e-3, "masked_recon_ratio": 1.15}
    assert check_bounds(values, CTX) == []
    loose = BoundContext(num_classes=K, accuracy_tol=0.06, hsic_tol=1e-2, masked_ratio_tol=1.1)
    assert len(check_bounds(values, loose)) == 3


def test_missing_context_skips_keys_and_tensors_accepted():
    values = {"generator_entropy_loss": torch.tensor(-math.log(K)), "info_nce": torch.tensor(CHANCE)}
    assert check_bounds(values, BoundContext()) == []
    assert len(check_bounds(values, CTX)) == 2


def test_real_loss_values_are_recognised():
    uniform = torch.zeros(16, K)
    collapsed = torch.ones(32, 8)
    values = {"generator_entropy_loss": generator_entropy_loss(uniform).item(),
              "info_nce": info_nce(collapsed, LABELS).item()}
    assert len(check_bounds(values, CTX)) == 2


def test_monitor_warns_once_after_window_since_first_check():
    mon = BoundMonitor(CTX, window=3)
    stuck = HEALTHY | {"generator_entropy_loss": -math.log(K)}
    assert mon.update(stuck) == []
    assert mon.update(stuck) == []
    warnings = mon.update(stuck)
    assert len(warnings) == 1 and "since the first check" in warnings[0]
    assert mon.update(stuck) == []  # once per streak
    assert mon.sustained == {"generator_entropy_loss": 4}


def test_monitor_streak_resets_and_reports_recent_streak():
    mon = BoundMonitor(CTX, window=2)
    stuck = HEALTHY | {"normalized_hsic": 0.0}
    mon.update(HEALTHY)
    assert mon.update(stuck) == []
    assert mon.update(HEALTHY) == []  # left the bound: streak reset
    assert mon.update(stuck) == []
    warnings = mon.update(stuck)
    assert len(warnings) == 1 and "for the last 2 checks" in warnings[0]
    assert "normalized_hsic" in mon.sustained
    mon.update(HEALTHY)
    assert mon.sustained == {}


def test_monitor_context_override_and_validation():
    mon = BoundMonitor(BoundContext(), window=1)
    assert mon.update({"disc_acc_content": 0.25}) == []  # K unknown
    assert len(mon.update({"disc_acc_content": 0.25}, context=CTX)) == 1
    with pytest.raises(ValueError):
        BoundMonitor(CTX, window=0)
