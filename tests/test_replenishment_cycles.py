"""Cycle service of min-max series: promised and counted per replenishment cycle."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from calibration_windows import one_origin_windows

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    LeadTimeDemand,
    replenishment_cycle_level,
    review_demand_share,
)
from stockplan.policy import protection_levels
from stockplan.replay import Replay, metrics, replay_policy

# ten draws of (D_L, D_R): six have demand in the review, T = 2, 3, 5, 6, 9, 20 among them
LEAD = np.array([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], dtype=np.float32)
REVIEW = np.array([[2, 2, 0, 0, 1, 1, 0, 0, 1, 11]], dtype=np.float32)


def test_replenishment_cycle_target_becomes_a_lower_level_per_review_with_demand():
    # 1 - (1 - 0.9) / 0.5 = 0.8; every review has demand: unchanged; 1 - 0.1 / 0.05 < 0 -> 0
    level = replenishment_cycle_level(np.array([0.9, 0.9, 0.9, 0.9]), np.array([0.5, 1, 0.05, 0]))
    np.testing.assert_allclose(level, [0.8, 0.9, 0.0, 0.9])


def _minmax_pair(service_level: float) -> tuple[pl.DataFrame, LeadTimeDemand]:
    """The same series as (R, S) row A and min-max row B, 1 a day (scale 1 on the draws)."""
    frame = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "forecast_per_day": [1.0, 1.0],
            "demand_protection": [21.0, 21.0],
            "sigma_day": [1.0, 1.0],
            "lead_time_days": [14.0, 14.0],
            "lead_time_std_days": [0.0, 0.0],
            "review_days": [7.0, 7.0],
            "service_level": [service_level, service_level],
            "demand_pattern": ["lumpy", "lumpy"],
            "unit_cost": [10.0, 10.0],
            "policy_type": ["rs", "ss"],
        }
    )
    ltd = LeadTimeDemand(
        keys=frame.select("sku", "location"),
        lead=np.vstack([LEAD, LEAD]),
        review=np.vstack([REVIEW, REVIEW]),
        mean_day=np.array([1.0, 1.0]),
        days=np.array([364, 364]),
        methods={"lumpy": "bootstrap_block"},
    )
    return frame, ltd


def test_minmax_reorder_point_meets_the_target_per_replenishment_cycle():
    frame, ltd = _minmax_pair(0.88)
    assert review_demand_share(frame, ltd).tolist() == [0.6, 0.6]
    out = protection_levels(frame, Policy(service_measure="cycle"), lead_time_demand=ltd)
    # (R, S): ceil(0.88 x 6) = 6th of the sorted conditioned T -> 20
    # min-max: level 1 - 0.12 / 0.6 = 0.8, ceil(0.8 x 6) = 5th -> 9; P(T > 9) over all
    # ten draws is 1 / 10 (only T = 20), within the 0.12 allowed per cycle
    assert out["reorder_point"].to_list() == [20.0, 9.0]
    assert out["ltd_method"].to_list() == ["bootstrap_block", "bootstrap_block"]


def test_minmax_row_promises_its_target_per_replenishment_cycle():
    frame, ltd = _minmax_pair(0.88)
    out = protection_levels(frame, Policy(service_measure="cycle"), lead_time_demand=ltd)
    # min-max S = 9: P(T <= 9 | D_R > 0) = 5 / 6 per review period with demand, per
    # replenishment cycle 1 - (1 - 5/6) x 0.6 = 0.9 >= 0.88: the target is promised,
    # not reported as unreachable
    assert out["promised_service"].to_list() == pytest.approx([0.88, 0.88])
    assert out["service_note"].to_list() == ["", ""]


def test_fill_rate_reorder_point_of_a_minmax_series_protects_its_order_quantity():
    # fill 0.995. (R, S): E[D_R] = 19 / 10 = 1.9 may lose 0.0095; lost-sales short
    # (D_R - (S - D_L)+)+ is only the last draw's 11 - (S - 9) over 10 draws: S >= 19.905 -> 20.
    # Min-max orders EOQ = sqrt(2 x 50 x 365 / (0.25 x 10)) = 120.83 a cycle: per review
    # 1 - 0.005 x 120.83 / 7 = 0.91369 (E[D_R] of the forecast: 7), allowed short
    # 0.08631 x 1.9 = 0.164: S >= 20 - 1.64 = 18.36 -> 19
    frame, ltd = _minmax_pair(0.995)
    out = protection_levels(frame, Policy(service_measure="fill_rate"), lead_time_demand=ltd)
    assert out["reorder_point"].to_list() == [20.0, 19.0]
    assert out["promised_service"].to_list() == pytest.approx([0.995, 0.995])


def _replay(order_cycles: bool) -> Replay:
    # 6 in stock, 2 a day for 21 days, reviews on days 0, 7, 14
    return Replay(
        series=pl.DataFrame({"sku": ["A"], "location": ["W"], "unit_cost": [1.0]}).with_columns(
            pl.lit(None, pl.Float64).alias(c) for c in ("moq", "pack_size", "max_order")
        ),
        start=dt.date(2025, 1, 6),
        demand=np.hstack([np.zeros((1, 56)), np.full((1, 21), 2.0)]),
        review_days=7,
        lead_draws=np.full((1, 3), 4),
        initial_stock=np.array([6.0]),
        levels=[],
        order_cycles=np.array([order_cycles]),
    )


@pytest.mark.parametrize(("order_cycles", "expected"), [(False, 1 / 3), (True, 0.0)])
def test_replay_counts_minmax_service_per_replenishment_cycle(order_cycles, expected):
    # order 30 on day 0, arriving day 4; no more. Stock by end of day: 4 2 0 0(2 short)
    # | +30: 28 26 ... 36 - 2k ... 0 on day 18 | days 19, 20 short.
    # review periods [0, 7) short, [7, 14) fine, [14, 21) short: 1 of 3;
    # replenishment cycles [0, 4) short, [4, 21) short: 0 of 2
    decisions = iter([np.array([30.0]), np.array([0.0]), np.array([0.0])])
    totals = replay_policy(
        _replay(order_cycles), lambda review, day, position: next(decisions), backorder=False
    )
    assert totals["cycles"][0] == (2 if order_cycles else 3)
    assert metrics(totals)["cycle_service_level"] == pytest.approx(expected)
    assert metrics(totals)["unmet_units"] == 2 + 2 + 2


def test_minmax_recalibrated_normal_level_uses_the_per_review_target():
    from scipy import stats

    from stockplan.lead_time_demand import CALIBRATION_GRID

    frame, ltd = _minmax_pair(0.94)
    frame = frame.with_columns(pl.lit("erratic").alias("demand_pattern"))
    # a backtest that delivered exactly each level: recalibration keeps the level
    ltd = LeadTimeDemand(
        ltd.keys,
        ltd.lead,
        ltd.review,
        ltd.mean_day,
        ltd.days,
        methods={"erratic": "parametric"},
        calibration={"erratic": (CALIBRATION_GRID.copy(), CALIBRATION_GRID.copy())},
    )
    out = protection_levels(frame, Policy(service_measure="cycle"), lead_time_demand=ltd)
    sigma = 21**0.5  # sqrt((L + R) sigma_d^2), sigma_d = 1, no lead-time spread
    # (R, S) at 0.94; min-max at 1 - 0.06 / 0.6 = 0.90 per review period with demand
    assert out["safety_stock"][0] == pytest.approx(stats.norm.ppf(0.94) * sigma, rel=1e-9)
    assert out["safety_stock"][1] == pytest.approx(stats.norm.ppf(0.90) * sigma, rel=1e-9)


def test_lost_sales_path_does_not_carry_lost_demand_into_the_next_review_period():
    from stockplan.lead_time_demand import _lost_sales_path

    # 2 a day throughout, R = 7, L = 14, S = 35 < T = 42 at both reviews after the origin
    # (day 28). At the origin the order placed on day 21 (the 14 sold on days 14-20) is in
    # the pipeline, arriving day 35; on hand 35 - 14 = 21. Review 0 (day 28): position 35,
    # no order; days 28-34 leave 7; +14 on day 35 -> 21; review 1 (day 35): order 14 (day
    # 49); days 35-41 leave 7; review 2 would be day 42: on hand 7 + on order 14, so the
    # review period of review 0, days 42-48, runs out on day 45: 1 + 2 + 2 + 2 = 7 short
    # (as T - S = 7). Review 1's period, days 49-55: the 14 arrive on day 49 and the 7 lost
    # units are not owed, so 14 cover the 7 days exactly: no stockout, where T > S counts one.
    demand = np.full((1, 56), 2.0)
    stocks = [np.array([[35.0]]), np.array([[35.0]])]
    out, short = _lost_sales_path(demand, 28, stocks, np.array([14]), 7)
    assert out[:, 0, 0].tolist() == [True, False]
    assert short[:, 0, 0].tolist() == [7.0, 0.0]


def test_backtest_scores_lost_sales_by_the_replayed_path_only_when_asked():
    from stockplan.lead_time_demand import backtest_calibration

    # 30 series selling 2 a day; the forecast at day 400 says 5/3 a day, sigma 0, so
    # S = 35 at every level against T = 42, scored at ages 0 and 7 (the case of the path
    # test above). T > S: both windows short, 7 units each of D_R = 14: cycle 0, fill 0.5.
    # Replayed with lost sales: only the first runs short: cycle 1 / 2, fill 1 - 7 / 28.
    first, n = dt.date(2024, 1, 1), 30
    keys, windows = one_origin_windows(n, first + dt.timedelta(days=400), 5 / 3)
    args = (keys, np.full((n, 428), 2.0), first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.zeros(n), "forecast_age_days": 7}
    window, _ = backtest_calibration(*args, **kwargs)
    path, _ = backtest_calibration(*args, lost_sales_path=True, **kwargs)
    np.testing.assert_allclose(window["parametric"]["smooth"][0], 0.0)
    np.testing.assert_allclose(window["parametric"]["smooth"][1], 0.5)
    np.testing.assert_allclose(path["parametric"]["smooth"][0], 0.5)
    np.testing.assert_allclose(path["parametric"]["smooth"][1], 0.75)
    # backorders are owed: T > S is exact there and the path is not used
    owed, _ = backtest_calibration(*args, backorder=True, lost_sales_path=True, **kwargs)
    np.testing.assert_allclose(owed["parametric"]["smooth"][0], 0.0)
