"""policy.method_choice: the lead-time-demand method per demand pattern kept by the
one-standard-error rule on the backtest's held-out calibration error."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    PATTERN_KEYS,
    SCORED_LEVELS,
    PendingDraws,
    calibration_curves,
    lead_time_demand_from,
)

CYCLES = 2000  # review cycles counted in each half of the origins


def _sums(shifts: dict[str, tuple[float, float]]) -> dict[str, np.ndarray]:
    """Summed calibration counts of the intermittent pattern, method -> [half, measure,
    level, pattern]: on half h a level q achieves q + shift_h, in cycle service and in
    fill rate (one unit of demand a cycle), over CYCLES cycles a half. Recalibrated on
    one half, the level for target t achieves t - shift_a + shift_b on the other: the
    held-out error is |shift_1 - shift_0| at every scored level."""
    p = PATTERN_KEYS.index("intermittent")
    sums = {}
    for method, halves in shifts.items():
        table = np.zeros((4, 4, CALIBRATION_GRID.size, len(PATTERN_KEYS)))
        for h, shift in enumerate(halves):
            achieved = np.clip(CALIBRATION_GRID + shift, 0.0, 1.0)
            for half in (h, 2 + h):
                table[half, 0, :, p] = CYCLES
                table[half, 1, :, p] = achieved * CYCLES
                table[half, 2, :, p] = CYCLES
                table[half, 3, :, p] = (1.0 - achieved) * CYCLES
        sums[method] = table
    return sums


def _standard_error() -> float:
    """sqrt(s_0^2 + s_1^2) / 2, s_h = mean_t sqrt(t (1 - t)) / sqrt(CYCLES)."""
    s = sum(np.sqrt(t * (1 - t)) for t in SCORED_LEVELS) / len(SCORED_LEVELS) / np.sqrt(CYCLES)
    return float(np.sqrt(2 * s**2) / 2)


def _chosen(sums: dict[str, np.ndarray], measure: str, rule: str) -> str:
    rng = np.random.default_rng(3)
    keys = pl.DataFrame({"sku": ["I"], "location": ["W"], "demand_pattern": ["intermittent"]})
    recent = 10.0 * (rng.random((1, 364)) < 0.1)
    settings = Policy(service_measure=measure, method_choice=rule)
    pending = PendingDraws(keys, recent, np.array([14.0]), np.zeros(1), 7, settings, False, 0, sums)
    return lead_time_demand_from(pending).methods["intermittent"]


def test_the_held_out_standard_error_is_the_binomial_one_of_the_halves_cycles():
    # SE = sqrt(2) x 0.2193 / sqrt(2000) / 2 = 0.00347 (0.35 points)
    se = _standard_error()
    assert se == pytest.approx(0.00347, abs=1e-5)
    held_out = calibration_curves(_sums({"parametric": (0.0, 0.004), "block": (0.0, 0.002)}))[1]
    for method, error in (("parametric", 0.004), ("block", 0.002)):
        cycle, fill, cycle_se, fill_se = held_out[method]["intermittent"]
        assert cycle == pytest.approx(error, abs=1e-9)
        assert fill == pytest.approx(error, abs=1e-9)
        assert cycle_se == pytest.approx(se) and fill_se == pytest.approx(se)


@pytest.mark.parametrize("measure", ["cycle", "fill_rate"])
def test_a_bootstrap_better_by_less_than_one_standard_error_leaves_the_parametric_levels(
    measure,
):
    # held-out errors 0.4 (parametric) and 0.2 points (block): 0.2 < SE 0.35 points
    sums = _sums({"parametric": (0.0, 0.004), "block": (0.0, 0.002)})
    assert _chosen(sums, measure, "smallest") == "bootstrap_block"
    assert _chosen(sums, measure, "one_se") == "parametric"


@pytest.mark.parametrize("measure", ["cycle", "fill_rate"])
def test_a_bootstrap_better_by_more_than_one_standard_error_is_kept(measure):
    # 1.0 (parametric) against 0.2 points (block): 0.8 > SE 0.35 points; days 0.15
    # points, within one SE of the block's 0.2: the simpler block is kept
    sums = _sums({"parametric": (0.0, 0.010), "block": (0.0, 0.002), "days": (0.0, 0.0015)})
    assert _chosen(sums, measure, "smallest") == "bootstrap_days"
    assert _chosen(sums, measure, "one_se") == "bootstrap_block"
