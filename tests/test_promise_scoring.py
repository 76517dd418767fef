"""`policy.promise_scoring`: the promise read on a second calibration curve, the levels not.

Every expected number is worked out by hand in the comments (or taken from scipy).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from test_promised_service import _row as promised_row
from test_weekly_plan_calibration import one_erratic_lead_time

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    PATTERN_KEYS,
    PROMISE_SUMS,
    LeadTimeDemand,
    PendingDraws,
    lead_time_demand_from,
    promise_replayed,
)
from stockplan.policy import protection_levels

LEVELS = CALIBRATION_GRID.size  # 15 quantile levels, 0.30 ... 0.999
# the levels' fill curve rises from 0.50 to 0.80 at the top level, the replayed path's
# from 0.60 to 0.85: a fill target of 0.90 is above both
LEVEL_FILL = 0.5 + 0.3 * np.arange(LEVELS) / (LEVELS - 1)
PROMISE_FILL = 0.6 + 0.25 * np.arange(LEVELS) / (LEVELS - 1)
CYCLE = np.linspace(0.6, 0.99, LEVELS)


def _row() -> pl.DataFrame:
    # one smooth (R, S) row: 1 a day over L + R = 3 + 2 days, sigma_LTD = 1 x sqrt(5)
    return promised_row(service_level=0.9, demand_pattern="smooth", policy_type="rs")


def _curves(promise: dict) -> LeadTimeDemand:
    return LeadTimeDemand(
        keys=pl.DataFrame({"sku": ["A"], "location": ["W"]}),
        lead=np.array([[0.0, 2.0, 4.0, 6.0]]),
        review=np.array([[2.0, 2.0, 2.0, 2.0]]),
        mean_day=np.array([1.0]),
        days=np.array([100]),
        methods={"smooth": "parametric"},
        calibration={"smooth": (CYCLE, LEVEL_FILL)},
        promise=promise,
    )


def test_promise_is_read_on_the_replayed_curve_and_the_level_stays():
    # fill target 0.90 above the levels' curve (top 0.80): the knob is the top level 0.999,
    # S = mu + z(0.999) sigma_LTD = 5 + 3.0902 x sqrt(5) = 11.910 (parametric normal), with
    # or without the second curve. The promise is that curve's fill at 0.999: 0.80 on the
    # levels' curve, 0.85 on the replayed path's.
    settings = Policy(service_measure="fill_rate", service_allocation="item")
    before = protection_levels(_row(), settings, None, _curves({}))
    after = protection_levels(_row(), settings, None, _curves({"smooth": (CYCLE, PROMISE_FILL)}))
    expected = 5.0 + stats.norm.ppf(0.999) * np.sqrt(5.0)
    assert before["reorder_point"][0] == pytest.approx(expected, abs=1e-6)
    assert after["reorder_point"][0] == before["reorder_point"][0]
    assert after["safety_stock"][0] == before["safety_stock"][0]
    assert before["promised_service"][0] == pytest.approx(0.80)
    assert after["promised_service"][0] == pytest.approx(0.85)
    assert "no level reached fill rate 90.0%" in after["service_note"][0]
    assert "this stock promises fill rate 85.0%" in after["service_note"][0]


def test_promise_curve_at_or_above_the_target_promises_the_target():
    # a replayed curve reaching 0.95 at the top: 0.95 >= 0.90, so the row promises its
    # target and carries no note
    settings = Policy(service_measure="fill_rate", service_allocation="item")
    high = 0.6 + 0.35 * np.arange(LEVELS) / (LEVELS - 1)
    out = protection_levels(_row(), settings, None, _curves({"smooth": (CYCLE, high)}))
    assert out["promised_service"][0] == pytest.approx(0.9)
    assert out["service_note"][0] == ""


def _sums(fill: np.ndarray, cycle: np.ndarray, pattern: str) -> np.ndarray:
    # [half, measure, level, pattern]: per origin half 50 cycles (served 50 x cycle service)
    # and 50 units of review demand (short 50 x (1 - fill)) at every level
    counts = np.zeros((4, 4, LEVELS, len(PATTERN_KEYS)))
    p = PATTERN_KEYS.index(pattern)
    for half in (0, 1):
        counts[half, 0, :, p] = 50.0
        counts[half, 1, :, p] = 50.0 * cycle
        counts[half, 2, :, p] = 50.0
        counts[half, 3, :, p] = 50.0 * (1.0 - fill)
    return counts


@pytest.mark.parametrize("pattern", ["smooth", "lumpy"])
def test_promise_counts_give_the_promise_curve_and_leave_the_levels_curve(pattern):
    # 100 cycles and 100 units per level over both halves: the levels' curve is the
    # counts' 1 - short / demand = LEVEL_FILL, the promise's PROMISE_FILL. "smooth" is
    # not a bootstrap pattern (the parametric curves of the rest), "lumpy" is one, with
    # `lead_time_demand: parametric` forced
    settings = Policy(service_measure="fill_rate", lead_time_demand="parametric")
    keys = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "lead_time_days": [3.0],
            "lead_time_std_days": [0.0],
            "demand_pattern": [pattern],
        }
    )
    recent = np.ones((1, 60))
    levels = {"parametric": _sums(LEVEL_FILL, CYCLE, pattern)}
    both = levels | {PROMISE_SUMS + "parametric": _sums(PROMISE_FILL, CYCLE, pattern)}

    def drawn(sums):
        pending = PendingDraws(
            keys, recent, np.array([3.0]), np.array([0.0]), 2, settings, False, 0, sums
        )
        return lead_time_demand_from(pending)

    alone, with_promise = drawn(levels), drawn(both)
    assert with_promise.methods[pattern] == "parametric"
    np.testing.assert_allclose(with_promise.calibration[pattern][1], LEVEL_FILL)
    np.testing.assert_allclose(with_promise.calibration[pattern][0], CYCLE)
    np.testing.assert_allclose(with_promise.promise[pattern][1], PROMISE_FILL)
    assert alone.promise == {}
    np.testing.assert_array_equal(
        alone.calibration[pattern][1], with_promise.calibration[pattern][1]
    )
    np.testing.assert_array_equal(alone.lead, with_promise.lead)


def test_promise_is_scored_again_only_under_lost_sales_with_the_lower_bound_levels():
    replayed = Policy(
        service_allocation="item", promise_scoring="replayed", service_measure="fill_rate"
    )
    assert promise_replayed(replayed, backorder=False)
    assert not promise_replayed(replayed, backorder=True)  # no lost sales to replay
    assert not promise_replayed(Policy(service_measure="fill_rate"), backorder=False)
    # cycle targets: their levels' curve is scored on the lost-sales path already
    cycle = Policy(service_allocation="item", promise_scoring="replayed", service_measure="cycle")
    assert not promise_replayed(cycle, backorder=False)
    # levels already scored on the replayed path: their curve is the promise's
    both = Policy(
        service_allocation="item",
        promise_scoring="replayed",
        service_measure="fill_rate",
        calibrate_lost_sales="replayed",
    )
    assert not promise_replayed(both, backorder=False)


def test_promise_curve_with_the_pattern_allocation_is_refused():
    # the allocation promises each item off the levels' curve: a second curve would be ignored
    with pytest.raises(
        ValueError, match="promise_scoring: replayed needs service_allocation: item"
    ):
        Policy(promise_scoring="replayed", service_allocation="pattern")


def test_windows_bench_measures_what_each_window_sold_after_its_origin_over_its_forecast():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import promise_windows

    # 1 a day for four days, then 3 a day (one day unmeasured, NaN, counts as 0): from day
    # 0 over 4 days 4 / 4 = 1 a day against a forecast of 1; from day 4, (3 + 0 + 3 + 3) /
    # 4 = 2.25 against 1; from day 6 the history ends after 2 days: 6 / 2 = 3 against 1.5
    # = 2; a zero forecast gives inf
    daily = np.array([[1.0, 1.0, 1.0, 1.0, 3.0, np.nan, 3.0, 3.0]])
    ratio = promise_windows.demand_after_over_forecast(
        daily, np.zeros(4, dtype=int), np.array([0, 4, 6, 0]), np.array([1.0, 1.0, 1.5, 0.0]), 4
    )
    np.testing.assert_allclose(ratio[:3], [1.0, 2.25, 2.0])
    assert ratio[3] == np.inf


def test_the_backtest_scores_the_same_windows_again_for_the_promise_and_keeps_the_levels():
    import datetime as dt

    from stockplan.lead_time_demand import lead_time_demand_sums

    # one item selling 1 a day, then 8 a day for the last 30 days; L = 14, R = 7
    as_of = dt.date(2024, 12, 30)
    days = np.arange(-7, 364)
    sales = pl.DataFrame(
        {
            "date": [as_of - dt.timedelta(days=364 - int(d)) for d in days],
            "sku": ["A"] * days.size,
            "location": ["W"] * days.size,
            "quantity": np.where(days >= 334, 8.0, 1.0),
        }
    )
    lead_times = one_erratic_lead_time()

    def sums(**policy):
        settings = Policy(service_measure="fill_rate", service_allocation="item", **policy)
        return lead_time_demand_sums(sales, lead_times, as_of, None, 7, settings).sums

    levels, both = sums(), sums(promise_scoring="replayed")
    methods = sorted(levels)
    assert sorted(both) == sorted(methods + [PROMISE_SUMS + m for m in methods])
    erratic = PATTERN_KEYS.index("erratic")
    for method in methods:
        np.testing.assert_array_equal(both[method], levels[method])  # the levels' counts
        again = both[PROMISE_SUMS + method]
        # the same review periods and their demand, scored again: only the shortage moves
        np.testing.assert_array_equal(again[:, 0], levels[method][:, 0])
        np.testing.assert_array_equal(again[:, 2], levels[method][:, 2])
        assert again[:2, 2, 0, erratic].sum() > 0
    # where unmet demand waits there is no lost-sales path to score: no second count
    settings = Policy(
        service_allocation="item", service_measure="fill_rate", promise_scoring="replayed"
    )
    waiting = lead_time_demand_sums(sales, lead_times, as_of, None, 7, settings, backorder=True)
    assert not any(m.startswith(PROMISE_SUMS) for m in waiting.sums)
