"""policy.bootstrap_level: the bootstrap's days read at the history's level (the season the
forecast holds is not counted a second time as spread between the draws)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy import stats

from stockplan.config import Policy
from stockplan.lead_time_demand import (
    backtest_calibration,
    bootstrap_lead_time_demand,
    empirical_order_up_to,
    history_lead_time_demand,
    history_level_days,
    window_lead_time_demand,
)

BUILDS = (window_lead_time_demand, bootstrap_lead_time_demand)


def _frame(n: int, protection: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [str(i) for i in range(n)],
            "location": ["W"] * n,
            "demand_protection": [protection] * n,
            "lead_time_days": [14.0] * n,
            "review_days": [7.0] * n,
            "service_level": [0.95] * n,
            "demand_pattern": ["lumpy"] * n,
        }
    )


def _sine_days(n: int, days: int = 364, seed: int = 1) -> np.ndarray:
    """Poisson days at 10 (1 + sin(2 pi t / 364)) a day: 0 to 20, 10 on average."""
    rate = 10.0 * (1.0 + np.sin(2.0 * np.pi * np.arange(days) / 364.0))
    return np.random.default_rng(seed).poisson(rate, (n, days)).astype(float)


def _levels(daily: np.ndarray, protection: float) -> dict[str, np.ndarray]:
    n = daily.shape[0]
    keys = _frame(n, protection).select("sku", "location")
    lead, std = np.full(n, 14.0), np.zeros(n)
    return {
        build.__name__: empirical_order_up_to(
            _frame(n, protection), build(keys, daily, lead, std, 7, 500), "cycle"
        )
        for build in BUILDS
    }


def test_a_flat_item_keeps_its_days_and_its_levels_exactly():
    # 0, 1, 2, 0, 1, 2, ...: every local mean over the 2 x 28 + 1 = 57 days (h = max(28,
    # L + R = 21)) is within 1 / 57 of 1, their spread 1 / 57^2 far below the noise
    # sigma^2 / n = (2 / 3) / 57: tau^2 = 0, the weight on the history's mean is 1, a = m.
    daily = np.tile(np.array([0.0, 1.0, 2.0]), (3, 122))[:, :364]
    daily[2, :30] = np.nan  # not measured: stays so
    read = history_level_days(daily, np.full(3, 21.0), 10.0, 5)
    assert np.array_equal(read, daily, equal_nan=True)
    levels = _levels(daily, 21.0)
    local = _levels(read, 21.0)
    for name in levels:
        assert np.array_equal(levels[name], local[name])


def test_a_step_in_level_reads_each_day_at_the_history_s_mean():
    # 1, 2, 3 (mean 2) for 180 days, then 5, 6, 7 (mean 6): m = 4. Far from the step the
    # local mean over 57 days is exactly 2 or 6, and the levels' spread (~4) is far above
    # the noise (2 / 3) / 57, so the weight on m is ~0.003: a = 2 or 6 within 0.02.
    # d' = m + (u - a) sqrt(m / a): a 3 in the low half is 4 + 1 x sqrt(2) = 5.414, a 5 in
    # the high half 4 - 1 x sqrt(4 / 6) = 3.184; a 21-day window of the low half (U = 42 =
    # 21 a) sums to 21 m = 84, as d m + (U - d a) sqrt(m / a) says for the whole window.
    low = np.tile([1.0, 2.0, 3.0], 60)
    daily = np.concatenate([low, low + 4.0])[None, :]
    read = history_level_days(daily, np.array([21.0]), 10.0, 5)[0]
    assert abs(read[62] - (4 + np.sqrt(2))) < 0.02  # day 62 sold 3, deep in the low half
    assert abs(read[270] - (4 - np.sqrt(4 / 6))) < 0.02  # day 270 sold 5 (180 + 90)
    assert abs(read[60:81].sum() - 84.0) < 0.3
    assert abs(np.mean(read) - 4.0) < 0.05


def test_a_large_day_keeps_its_size_and_stays_out_of_the_level():
    # the step above with one 500-unit day (> 10 x the median selling day, 4): kept at
    # 500, and every other day read exactly as if that day had not been measured
    low = np.tile([1.0, 2.0, 3.0], 60)
    daily = np.concatenate([low, low + 4.0])[None, :]
    big, gap = daily.copy(), daily.copy()
    big[0, 100], gap[0, 100] = 500.0, np.nan
    read = history_level_days(big, np.array([21.0]), 10.0, 5)[0]
    without = history_level_days(gap, np.array([21.0]), 10.0, 5)[0]
    assert read[100] == 500.0
    others = np.arange(360) != 100
    assert np.allclose(read[others], without[others], rtol=0, atol=1e-12)
    # with the rule asking for more selling days than the item has, the 500 counts as a
    # day's noise (sigma^2 ~ 500^2 / 360) that hides the step: the days stay as sold
    assert np.array_equal(history_level_days(big, np.array([21.0]), 10.0, 361), big)


def test_a_sine_season_is_not_counted_twice():
    # 52 weeks of Poisson days at 10 (1 + sin): the history's mean is 10 a day. At the
    # season's top the forecast over L + R = 21 days is 420 (20 a day); demand there is
    # Poisson(420), whose 0.95-quantile is 454. The draws at the history's own level carry
    # the season as spread (windows of 0 to 20 a day), rescaled by 2 again: far above.
    daily = _sine_days(40)
    target = stats.poisson.ppf(0.95, 420.0)
    assert target == 454
    before = _levels(daily, 420.0)
    after = _levels(history_level_days(daily, np.full(40, 21.0), 10.0, 5), 420.0)
    for name in before:
        assert np.median(before[name]) > 1.15 * target, name
        assert abs(np.median(after[name]) / target - 1.0) < 0.10, name
        assert np.all(np.abs(after[name] / target - 1.0) < 0.15), name
    # the moving-block draws carried the whole season: +40 % and more
    assert np.median(before["window_lead_time_demand"]) > 1.4 * target


def test_the_plan_s_draws_and_the_backtest_s_read_the_days_at_the_history_s_level():
    # the sine item as sales lines; the plan's draws (no calibration) under
    # bootstrap_level local spread less than under history, their mean the same 10 a day
    n, days = 30, 364
    first = dt.date(2024, 1, 1)
    daily = _sine_days(n, days, seed=3)
    sales = pl.DataFrame(
        {
            "date": [first + dt.timedelta(days=d) for _ in range(n) for d in range(days)],
            "sku": [str(i) for i in range(n) for _ in range(days)],
            "location": ["W"] * (n * days),
            "quantity": daily.ravel(),
        }
    ).filter(pl.col("quantity") > 0)
    keys = _frame(n, 0.0).select(
        "sku",
        "location",
        "lead_time_days",
        pl.lit(0.0).alias("lead_time_std_days"),
        "demand_pattern",
    )
    as_of = first + dt.timedelta(days=days)
    drawn = {
        level: history_lead_time_demand(
            sales,
            keys,
            as_of,
            None,
            7,
            Policy(bootstrap_level=level, calibrate=False, lead_time_demand="block"),
        )
        for level in ("history", "local")
    }
    spread = {level: (ltd.lead + ltd.review).std(axis=1) for level, ltd in drawn.items()}
    assert np.all(spread["local"] < 0.5 * spread["history"])
    assert np.allclose(drawn["local"].mean_day, 10.0, atol=1.0)
    # the backtest: origins around the season's top in the second year, each forecast the
    # true mean of its L + R days (~20 a day, twice the year's mean). At their own level
    # the draws of the year before each origin carry the season as spread: from the grid's
    # 0.7 up every window is served. Read at that year's level they serve 0.85 at 0.7 (still
    # above: the rescale by 2 doubles the draws' spread where Poisson demand's grows by
    # sqrt(2), which the recalibration, not this reading, corrects)
    longer = _sine_days(n, 364 + 140, seed=4)
    origins = [364 + 70, 364 + 80, 364 + 90, 364 + 100]
    rate = [
        10.0 * (1.0 + np.sin(2.0 * np.pi * np.arange(o, o + 21) / 364.0)).mean() for o in origins
    ]
    windows = pl.DataFrame(
        {
            "sku": [str(i) for i in range(n) for _ in origins],
            "location": ["W"] * (n * len(origins)),
            "origin": [first + dt.timedelta(days=o) for _ in range(n) for o in origins],
            "rate_per_day": rate * n,
        }
    )
    args = (keys, longer, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    at = {
        level: backtest_calibration(*args, local_level=local)[0]["block"]["lumpy"][0]
        for level, local in (("history", None), ("local", (10.0, 5)))
    }
    grid_07 = 3  # CALIBRATION_GRID[3] = 0.7
    assert at["history"][grid_07] == 1.0
    assert 0.7 <= at["local"][grid_07] < 0.9
