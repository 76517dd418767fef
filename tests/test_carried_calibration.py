"""The calibration's lost-sales path carried from one origin to the next
(`policy.calibrate_carry_stock`): the stock a higher S bought is not sent back when the
next origin's S is lower, as `simulate` holds it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from stockplan.config import Policy
from stockplan.lead_time_demand import _lost_sales_path, calibration_sums

# One series, lead time L = 2, review R = 2 (no order in the pipeline at an origin: the
# order of the review R before it arrived on the origin's day). First origin: S = 10, then
# the next origin 4 days later: S = 6.
#   first window, days 0-3 sell 3, 1, 2, 1: on hand 10, no order at day 0; 7, 6 left; the
#     review at day 2 orders up to 10: 10 - 6 = 4 (arrives day 4); 4, 3 left. Its review
#     period, days 2-3 (L to L + R), sells 3 from 6 on hand: served. The position at the
#     next origin: 3 on hand + 4 on order = 7, one unit above the new S = 6.
#   second window, days 0-3 sell 2, 2, 3, 0:
#     carried (position 7 > S = 6: no order at day 0): 7 -> 5 -> 3; the review at day 2
#       orders 6 - 3 = 3 (arrives day 4); day 2 sells 3 of 3: served, nothing short.
#     started at S (position 6, as before): 6 -> 4 -> 2; day 2 sells 2 of 3: 1 short,
#       the cycle runs out.
# Two cycles with demand (3 units each): cycle service 2 / 2 carried, 1 / 2 started at S;
# fill rate 1 - 0 / 6 carried, 1 - 1 / 6 started at S.
FIRST = np.array([[3.0, 1.0, 2.0, 1.0]])
SECOND = np.array([[2.0, 2.0, 3.0, 0.0]])
LEAD = np.array([2])


def test_the_position_left_above_a_lower_s_is_carried_to_the_next_origin_by_hand():
    demand = np.hstack([FIRST, SECOND])
    left = np.full((1, 1), np.nan)
    out, short = _lost_sales_path(
        demand, 0, [np.array([[10.0]])], LEAD, 2, carried=np.full((1, 1), np.nan),
        carry_day=np.array([4]), left=left,
    )  # fmt: skip
    assert not out[0, 0, 0] and short[0, 0, 0] == 0.0
    assert left[0, 0] == 7.0  # 3 on hand + the 4 ordered at day 2
    out, short = _lost_sales_path(demand, 4, [np.array([[6.0]])], LEAD, 2, carried=left)
    assert not out[0, 0, 0] and short[0, 0, 0] == 0.0
    # started at S, as without the carry: one unit short in the review period
    out, short = _lost_sales_path(demand, 4, [np.array([[6.0]])], LEAD, 2)
    assert out[0, 0, 0] and short[0, 0, 0] == 1.0


@pytest.mark.parametrize(("carry", "served", "units_short"), [(True, 2, 0.0), (False, 1, 1.0)])
def test_the_calibration_scores_the_second_origin_from_the_stock_the_first_left(
    carry, served, units_short
):
    # the same path in the calibration: origins at days 10 and 14, forecasts 2.5 and 1.5 a
    # day with sigma 0, so S = rate (L + R) = 10 and 6 at every level
    first = dt.date(2024, 1, 1)
    daily = np.zeros((1, 20))
    daily[0, 10:18] = np.hstack([FIRST, SECOND])[0]
    keys = pl.DataFrame({"sku": ["a"], "location": ["W"], "demand_pattern": ["smooth"]})
    windows = pl.DataFrame(
        {
            "sku": ["a", "a"],
            "location": ["W", "W"],
            "origin": [first + dt.timedelta(days=10), first + dt.timedelta(days=14)],
            "rate_per_day": [2.5, 1.5],
        }
    )
    sums = calibration_sums(
        keys, daily, first, windows, np.array([2.0]), np.zeros(1), 2, 364,
        sigma_day=np.zeros(1), lost_sales_path=True, carry_stock=carry,
    )  # fmt: skip
    counts = sums["parametric"][:2].sum(axis=0)[:, :, 0]  # [measure, level], smooth
    np.testing.assert_array_equal(counts[0], 2.0)  # cycles with demand
    np.testing.assert_array_equal(counts[1], served)  # cycles served
    np.testing.assert_array_equal(counts[2], 6.0)  # demand in the review periods
    np.testing.assert_array_equal(counts[3], units_short)


def test_the_carried_start_is_opt_in():
    assert Policy().calibrate_carry_stock is False
    assert Policy.model_validate({"calibrate_carry_stock": True}).calibrate_carry_stock
    with pytest.raises(ValidationError, match="calibrate_carry_stock"):
        Policy.model_validate({"calibrate_carry_stock": "sometimes"})


def test_the_carried_counts_of_a_partition_of_the_series_add_up_to_all_at_once():
    # each series carries only its own position: two halves of the series, calibrated
    # apart (as on a cluster), count what all of them count together; the windows come
    # latest origin first, as the short-history windows do, and are replayed in date order
    rng = np.random.default_rng(7)
    first, n = dt.date(2024, 1, 1), 4
    daily = rng.poisson(2.0, (n, 240)).astype(float)
    daily[:, 150:] = rng.poisson(0.5, (n, 90))  # demand falls: S falls, stock is left over
    keys = pl.DataFrame(
        {"sku": list("abcd"), "location": ["W"] * n, "demand_pattern": ["smooth"] * n}
    )
    origins = [200, 172, 144, 116]
    windows = pl.DataFrame(
        {
            "sku": [s for _ in origins for s in "abcd"],
            "location": ["W"] * (n * len(origins)),
            "origin": [first + dt.timedelta(days=o) for o in origins for _ in range(n)],
            "rate_per_day": [2.0 if o < 150 else 0.6 for o in origins for _ in range(n)],
        }
    )

    def sums(part, carry=True):
        rows = list(part)
        mine = windows.filter(pl.col("sku").is_in(keys["sku"][rows].to_list()))
        return calibration_sums(
            keys[rows], daily[rows], first, mine,
            np.full(len(rows), 7.0), np.zeros(len(rows)), 7, 100, draws=50,
            sigma_day=np.ones(len(rows)), lost_sales_path=True, carry_stock=carry,
            forecast_age_days=21, level_alpha=0.1,
        )  # fmt: skip

    together, halves = sums(range(n)), [sums((0, 1)), sums((2, 3))]
    for method, counts in together.items():
        np.testing.assert_allclose(counts, halves[0][method] + halves[1][method])
    # and the carry changes what is counted here (units short over the review periods)
    assert not np.allclose(
        together["parametric"][:2, 3], sums(range(n), False)["parametric"][:2, 3]
    )
