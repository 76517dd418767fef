"""Safety stocks beyond the calibration grid's top level (`policy.extend_levels`): scored in
the backtest like the grid's levels, set where a target lies above what the top level
achieved, and promised honestly where the cover cap cuts them.

Every expected number is worked out by hand in the comments (or taken from scipy).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    LeadTimeDemand,
    backtest_calibration,
    extension_scored,
    recalibrated_level,
)
from stockplan.policy import protection_levels

Z_TOP = stats.norm.ppf(0.999)  # 3.0902
# the smooth pattern's backtest: fill rate 0.10 below each grid level (0.899 at the top
# level 0.999), then 0.92 / 0.94 / 0.96 / 0.98 / 0.99 at 1.25 / 1.5 / 2 / 3 / 4 times the
# top level's safety stock
EXTENDED_FILL = np.concatenate([CALIBRATION_GRID - 0.1, [0.92, 0.94, 0.96, 0.98, 0.99]])
EXTENDED_CYCLE = np.concatenate([CALIBRATION_GRID, [0.9995, 0.9996, 0.9997, 0.9998, 0.9999]])


def _row(**overrides: object) -> pl.DataFrame:
    """One smooth series at 1 a day over L + R = 3 + 2 days: mu = 5, sigma_d = 0.5, so
    sigma_LTD = 0.5 sqrt(5) = 1.1180 and the top level's safety stock z(0.999) sigma_LTD
    = 3.0902 x 1.1180 = 3.4550."""
    row = {
        "sku": "A",
        "location": "W",
        "forecast_per_day": 1.0,
        "demand_protection": 5.0,
        "sigma_day": 0.5,
        "lead_time_days": 3.0,
        "lead_time_std_days": 0.0,
        "review_days": 2.0,
        "service_level": 0.95,
        "demand_pattern": "smooth",
        "unit_cost": 1.0,
    }
    row.update(overrides)
    return pl.DataFrame([row])


def _curves(pattern: str = "smooth", method: str = "parametric", lead=None, review=None):
    lead = np.zeros((1, 4)) if lead is None else lead
    review = np.ones((1, 4)) if review is None else review
    return LeadTimeDemand(
        keys=pl.DataFrame({"sku": ["A"], "location": ["W"]}),
        lead=lead.astype(np.float32),
        review=review.astype(np.float32),
        mean_day=np.array([1.0]),
        days=np.array([100]),
        methods={pattern: method},
        calibration={pattern: (EXTENDED_CYCLE, EXTENDED_FILL)},
    )


def test_a_target_above_the_top_level_takes_the_safety_multiple_that_reached_it():
    # 0.95 lies between 0.94 (1.5 x) and 0.96 (2 x): m = 1.5 + 0.5 (0.95 - 0.94) / 0.02
    # = 1.75, S = 5 + 1.75 x 3.0902 x 1.1180 = 11.046; the target is promised, no note
    out = protection_levels(
        _row(),
        Policy(service_measure="fill_rate", service_allocation="item", extend_levels="safety"),
        None,
        _curves(),
    ).row(0, named=True)
    sigma = 0.5 * 5**0.5
    assert out["reorder_point"] == pytest.approx(5 + 1.75 * Z_TOP * sigma)
    assert out["reorder_point"] == pytest.approx(11.046, abs=1e-3)
    assert out["promised_service"] == pytest.approx(0.95)
    assert out["service_note"] == ""


def test_a_target_the_grid_reaches_keeps_its_quantile_level():
    # 0.80 is reached at level 0.90 (0.90 - 0.10): S = 5 + z(0.9) sigma_LTD, multiple 1
    out = protection_levels(
        _row(service_level=0.8),
        Policy(service_measure="fill_rate", service_allocation="item", extend_levels="safety"),
        None,
        _curves(),
    )
    assert out["reorder_point"][0] == pytest.approx(5 + stats.norm.ppf(0.9) * 0.5 * 5**0.5)
    assert out["promised_service"][0] == pytest.approx(0.8)


def test_a_multiple_cut_by_the_cover_cap_promises_what_the_backtest_gave_at_the_cap():
    # target 0.98 needs 3 x the top safety stock (3 x 3.4550 = 10.37 units); a cap of 5
    # days at 1 a day leaves 5 / 3.4550 = 1.4472 x: between 1.25 (0.92) and 1.5 (0.94),
    # fill 0.92 + 0.02 (1.4472 - 1.25) / 0.25 = 0.9358, cycle 0.9995 + 0.0001 x 0.7887
    settings = Policy(
        service_measure="fill_rate",
        service_allocation="item",
        max_cover_days=5.0,
        extend_levels="safety",
    )
    out = protection_levels(_row(service_level=0.98), settings, None, _curves()).row(0, named=True)
    top = Z_TOP * 0.5 * 5**0.5
    m = 5.0 / top
    assert m == pytest.approx(1.4472, abs=1e-4)
    fill = 0.92 + 0.02 * (m - 1.25) / 0.25
    assert out["reorder_point"] == pytest.approx(10.0)
    assert out["promised_service"] == pytest.approx(fill)
    assert out["promised_service"] == pytest.approx(0.9358, abs=1e-4)
    note = out["service_note"]
    assert note.startswith("target not reachable at sane stock: safety stock capped at 5 days")
    assert f"promises fill rate {100 * fill:.1f}%" in note


def test_a_target_above_every_multiple_scored_takes_the_largest_and_says_so():
    # 0.995 is above the 4 x multiple's 0.99: S = 5 + 4 x 3.4550 = 18.82, promising 0.99
    out = protection_levels(
        _row(service_level=0.995),
        Policy(service_measure="fill_rate", service_allocation="item", extend_levels="safety"),
        None,
        _curves(),
    ).row(0, named=True)
    assert out["reorder_point"] == pytest.approx(5 + 4 * Z_TOP * 0.5 * 5**0.5)
    assert out["promised_service"] == pytest.approx(0.99)
    assert out["service_note"].startswith("target above the demand pattern's backtest")


def test_bootstrap_draws_scale_their_top_quantile_s_safety_stock():
    # four draws T = D_L + D_R = 2, 4, 6, 8 (D_R = 2 each), mean 5 = the plan's mu: the
    # 0.999 conditional quantile is 8, safety 3. Target 0.95 -> m = 1.75 (first test):
    # S = ceil(5 + 1.75 x 3) = ceil(10.25) = 11
    lead = np.array([[0.0, 2.0, 4.0, 6.0]])
    review = np.full((1, 4), 2.0)
    draws = _curves("lumpy", "bootstrap_block", lead, review)
    out = protection_levels(
        _row(demand_pattern="lumpy"),
        Policy(service_measure="fill_rate", service_allocation="item", extend_levels="safety"),
        None,
        draws,
    )
    assert out["ltd_method"][0] == "bootstrap_block"
    assert out["reorder_point"][0] == pytest.approx(11.0)
    assert out["promised_service"][0] == pytest.approx(0.95)


def test_a_curve_without_multiples_still_tops_out_at_the_grid_s_top_level():
    # the grid's 15 scores alone: a target above the last takes level 0.999, as before
    achieved = CALIBRATION_GRID - 0.1
    assert recalibrated_level(np.array([0.95]), achieved)[0] == CALIBRATION_GRID[-1]
    # with the multiples: 0.95 -> knob 0.999 + 0.75 (m = 1.75)
    assert recalibrated_level(np.array([0.95]), EXTENDED_FILL)[0] == pytest.approx(1.749)


def _spiked_windows() -> tuple[tuple, dict]:
    """`backtest_calibration`'s arguments for 60 smooth series selling 2 a day, with one
    extra 25-unit day on the last day of each window's review week (origins 84, 112, 140;
    L = 14, R = 7, forecast 2 a day, sigma_d = 1)."""
    n, first = 60, dt.date(2024, 1, 1)
    origins = [84, 112, 140]
    daily = np.full((n, 200), 2.0)
    for origin in origins:
        daily[:, origin + 20] += 25.0
    windows = pl.DataFrame(
        {
            "sku": [str(i) for i in range(n) for _ in origins],
            "location": ["W"] * (n * len(origins)),
            "origin": [first + dt.timedelta(days=o) for _ in range(n) for o in origins],
            "rate_per_day": [2.0] * (n * len(origins)),
            "sigma_day": [1.0] * (n * len(origins)),
        }
    )
    keys = pl.DataFrame(
        {"sku": [str(i) for i in range(n)], "location": ["W"] * n, "demand_pattern": ["smooth"] * n}
    )
    args = (keys, daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.full(n, 1.0), "discrete": np.zeros(n, bool)}
    return args, kwargs


def test_the_backtest_scores_safety_steps_like_the_grid_s_levels():
    # 60 series selling 2 a day, with one extra 25-unit day on the last day of each
    # window's review week (origins 84, 112, 140; L = 14, R = 7): D_L = 28, D_R = 14 + 25
    # = 39, T = 67. The forecast is mu = 2 x 21 = 42 with sigma_d = 1, sigma_LTD =
    # sqrt(21) = 4.583: the top level's S = 42 + 3.0902 x 4.583 = 56.16 (safety 14.16), and
    # S = 42 + m 14.16 = 59.70 / 63.24 / 70.33 / 84.49 / 98.65 for m = 1.25 / 1.5 / 2 / 3 /
    # 4. Cycle: served (T <= S) from m = 2 on. Fill (lost sales, short = (D_R - (S -
    # D_L)^+)^+ = (67 - S)^+): 1 - 7.30 / 39 and 1 - 3.76 / 39, then 1.
    args, kwargs = _spiked_windows()
    curves, _ = backtest_calibration(*args, extend_levels="safety", **kwargs)
    cycle, fill = curves["parametric"]["smooth"]
    assert cycle.size == fill.size == CALIBRATION_GRID.size + 5
    assert np.all(cycle[: CALIBRATION_GRID.size] == 0.0)  # S <= 56.16 < 67 on the grid
    assert cycle[CALIBRATION_GRID.size :].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    safety = Z_TOP * 21**0.5
    expected = [1 - max(67 - (42 + m * safety), 0) / 39 for m in (1.25, 1.5, 2, 3, 4)]
    assert expected[:2] == pytest.approx([1 - 7.30 / 39, 1 - 3.76 / 39], abs=1e-3)
    assert fill[CALIBRATION_GRID.size :] == pytest.approx(expected)
    # the grid's own scores are those of the backtest without the multiples
    plain, _ = backtest_calibration(*args, **kwargs)
    assert fill[: CALIBRATION_GRID.size] == pytest.approx(plain["parametric"]["smooth"][1])
    assert plain["parametric"]["smooth"][1].size == CALIBRATION_GRID.size


def test_demand_steps_add_cover_to_the_top_level_s_stock():
    # extend_levels demand: S = S_0.999 + c mu. Target 0.95 -> c = 0.75 (first test):
    # S = 5 + 3.4550 + 0.75 x 5 = 12.205
    settings = Policy(
        service_measure="fill_rate", service_allocation="item", extend_levels="demand"
    )
    out = protection_levels(_row(), settings, None, _curves()).row(0, named=True)
    assert out["reorder_point"] == pytest.approx(5 + Z_TOP * 0.5 * 5**0.5 + 0.75 * 5)
    assert out["reorder_point"] == pytest.approx(12.205, abs=1e-3)
    assert out["promised_service"] == pytest.approx(0.95)
    # the draws of the bootstrap test: S = ceil(8 + 0.75 x 5) = ceil(11.75) = 12
    lead = np.array([[0.0, 2.0, 4.0, 6.0]])
    draws = _curves("lumpy", "bootstrap_block", lead, np.full((1, 4), 2.0))
    lumpy = protection_levels(_row(demand_pattern="lumpy"), settings, None, draws)
    assert lumpy["reorder_point"][0] == pytest.approx(12.0)


def test_a_demand_step_cut_by_the_cover_cap_promises_the_curve_at_the_cap():
    # target 0.98 -> c = 2 (0.98); the 5-day cap leaves c = (5 - 3.4550) / 5 = 0.3090:
    # fill 0.92 + 0.02 (0.3090 - 0.25) / 0.25 = 0.92472
    settings = Policy(
        service_measure="fill_rate",
        service_allocation="item",
        max_cover_days=5.0,
        extend_levels="demand",
    )
    out = protection_levels(_row(service_level=0.98), settings, None, _curves()).row(0, named=True)
    c = (5.0 - Z_TOP * 0.5 * 5**0.5) / 5.0
    assert c == pytest.approx(0.3090, abs=1e-4)
    assert out["reorder_point"] == pytest.approx(10.0)
    assert out["promised_service"] == pytest.approx(0.92 + 0.02 * (c - 0.25) / 0.25)
    assert out["promised_service"] == pytest.approx(0.92472, abs=1e-4)
    assert "capped at 5 days" in out["service_note"]


def test_the_backtest_scores_demand_steps_beyond_the_top_level():
    # the windows of the test above: S_c = 56.16 + 42 c = 66.66 / 77.16 / ... for c = 0.25,
    # 0.5, 1, 2, 3 against T = 67: cycle served from c = 0.5 on; fill at c = 0.25
    # 1 - (67 - 66.66) / 39
    args, kwargs = _spiked_windows()
    curves, _ = backtest_calibration(*args, extend_levels="demand", **kwargs)
    cycle, fill = curves["parametric"]["smooth"]
    assert cycle[CALIBRATION_GRID.size :].tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    top = 42 + Z_TOP * 21**0.5
    assert top + 0.25 * 42 == pytest.approx(66.66, abs=0.01)
    assert fill[CALIBRATION_GRID.size] == pytest.approx(1 - (67 - top - 0.25 * 42) / 39)
    assert fill[CALIBRATION_GRID.size + 1 :].tolist() == [1.0, 1.0, 1.0, 1.0]
    # replayed on the lost-sales path (as cycle targets are scored by default) the same:
    # at the origin the order of the review 7 days before (14 units) is in the pipeline,
    # on hand S - 14; 14 sold by day 7, when those 14 arrive; 14 sold by day 14, leaving
    # S - 28 for the review period's 39 units: short exactly when S < 67, by 67 - S
    path, _ = backtest_calibration(*args, extend_levels="demand", lost_sales_path=True, **kwargs)
    path_cycle, path_fill = path["parametric"]["smooth"]
    assert path_cycle[CALIBRATION_GRID.size :].tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert path_fill[CALIBRATION_GRID.size :] == pytest.approx(fill[CALIBRATION_GRID.size :])


def test_by_default_both_service_measures_are_scored_beyond_the_top_level():
    # `demand`, the default: the steps for cycle and fill-rate targets (with the pattern
    # allocation, see test_service_allocation.py); `cycle` keeps fill-rate targets at the
    # top level
    assert extension_scored(Policy()) == "demand"
    assert extension_scored(Policy(service_measure="fill_rate")) == "demand"
    only_cycle = Policy(service_measure="fill_rate", extend_levels="cycle")
    assert extension_scored(only_cycle) is None
    assert extension_scored(Policy(extend_levels="cycle")) == "demand"
    assert extension_scored(Policy(extend_levels="safety")) == "safety"
    assert extension_scored(Policy(extend_levels="none")) is None
