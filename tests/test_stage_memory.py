"""What one stage of the plan keeps alive while the next runs, and the days the
lead-time-demand calibration's lost-sales replay reads."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from pathlib import Path

import numpy as np
import polars as pl

from stockplan.lead_time_demand import _lost_sales_path, _replay_days, backtest_calibration


def test_the_forecast_backtests_are_released_before_the_lead_time_demand_calibration(
    small_shop: Path, monkeypatch
):
    import stockplan
    from stockplan import pipeline

    config, inputs = stockplan.load(small_shop)
    seen: dict[str, object] = {}
    backtest_stage, pending = pipeline.backtest_stage, pipeline.lead_time_demand_pending

    def backtests_spy(*args, **kwargs):
        backtests = backtest_stage(*args, **kwargs)
        seen["backtests"] = weakref.ref(backtests)
        return backtests

    def pending_spy(*args, **kwargs):
        gc.collect()
        seen["alive"] = seen["backtests"]() is not None
        return pending(*args, **kwargs)

    monkeypatch.setattr(pipeline, "backtest_stage", backtests_spy)
    monkeypatch.setattr(pipeline, "lead_time_demand_pending", pending_spy)
    demand = pipeline.demand_stage(inputs.tables, config)
    supply = pipeline.supply_stage(demand, config, lambda *_, **__: None)
    # the backtests hold a copy of the weekly history (0.3 GB on an M5-sized set)
    assert seen["alive"] is False
    assert supply.draws is not None and supply.forecast.height > 0


def test_the_replay_reads_only_the_pipeline_days_before_the_origin_and_its_review_periods():
    # L up to 15, R = 7: the orders of the reviews up to ceil(15 / 7) = 3 review periods
    # before day 100 may be in the pipeline, each the demand of the 7 days before its
    # review: from day 100 - 4 x 7 = 72; two ages end with the review period of the
    # second, day 100 + 7 + 15 + 7 = 129
    assert _replay_days(100, 400, np.array([14, 15]), 7, 2) == (72, 129)
    assert _replay_days(10, 120, np.array([14]), 7, 1) == (0, 31)  # not before day 0
    assert _replay_days(100, 120, np.array([14]), 7, 1) == (79, 120)  # nor past the end
    rng = np.random.default_rng(3)
    demand = rng.poisson(3.0, (5, 140)).astype(float)
    lead = np.array([7, 14, 15, 3, 21])
    stocks = [np.full((5, 2), 30.0) + rng.integers(0, 20, (5, 2)) for _ in range(3)]
    first, last = _replay_days(60, 140, lead, 7, 3)
    whole = _lost_sales_path(demand, 60, stocks, lead, 7)
    window = _lost_sales_path(demand[:, first:last], 60 - first, stocks, lead, 7)
    for a, b in zip(whole, window, strict=True):
        assert np.array_equal(a, b)


def test_the_lost_sales_calibration_counts_the_orders_in_the_pipeline_at_the_origin():
    # 60 series alike, L = 14, R = 7, origin day 400, forecast 5/3 a day with sigma 0: S =
    # 35 at every level. The order placed at day 393 (the 21 sold on days 386-392, 3 a
    # day) is in the pipeline, arriving day 407; the one placed at day 386 has arrived. On
    # hand at the origin 35 - 21 = 14, no order (position 35); days 400-406 sell 2 a day:
    # 0 left; +21 on day 407; days 407-413 sell nothing; the review period, days 414-420,
    # sells 4 a day = 28: 7 short. Every cycle runs out, fill 1 - 7 / 28. The days around
    # the pipeline's (10 a day) would make it 70: nothing short then.
    first, n = dt.date(2024, 1, 1), 60
    day = np.arange(428)
    per_day = np.select(
        [day < 386, day < 393, day < 400, day < 407, day < 414, day < 421],
        [10.0, 3.0, 10.0, 2.0, 0.0, 4.0],
        5.0,
    )
    keys = pl.DataFrame(
        {"sku": [str(i) for i in range(n)], "location": ["W"] * n, "demand_pattern": ["smooth"] * n}
    )
    windows = pl.DataFrame(
        {
            "sku": [str(i) for i in range(n)],
            "location": ["W"] * n,
            "origin": [first + dt.timedelta(days=400)] * n,
            "rate_per_day": [5 / 3] * n,
        }
    )
    daily = np.tile(per_day, (n, 1))
    args = (keys, daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    curves, _ = backtest_calibration(*args, sigma_day=np.zeros(n), lost_sales_path=True)
    cycle, fill = curves["parametric"]["smooth"]
    np.testing.assert_allclose(cycle, 0.0)
    np.testing.assert_allclose(fill, 1 - 7 / 28)


def test_the_level_update_of_a_stale_forecast_counts_the_weeks_sold_from_the_origin():
    # 60 series alike, L = 14, R = 7, origin day 400, forecast 2 a day (14 a week), sigma
    # 0, level update alpha 0.5, scored at ages 0 and 7. Days 400-406 sell 4 a day (28),
    # 407-413 nothing, 414-427 4 a day. Age 0: S = 42, D_L = 28, D_R = 28: T > S, short
    # 28 - (42 - 28) = 14. Age 7 sees the first week, 28: l = 14 + 0.5 (28 - 14) = 21,
    # S = 42 x 21 / 14 = 63 against D_L = 0 + 28, D_R = 28: T = 56 <= S, nothing short.
    # Cycle 1 / 2, fill 1 - 14 / 56 (the week after it, 0, would give S = 21: fill 0.25).
    first, n = dt.date(2024, 1, 1), 60
    day = np.arange(428)
    per_day = np.select([day < 400, day < 407, day < 414], [2.0, 4.0, 0.0], 4.0)
    keys = pl.DataFrame(
        {"sku": [str(i) for i in range(n)], "location": ["W"] * n, "demand_pattern": ["smooth"] * n}
    )
    windows = pl.DataFrame(
        {
            "sku": [str(i) for i in range(n)],
            "location": ["W"] * n,
            "origin": [first + dt.timedelta(days=400)] * n,
            "rate_per_day": [2.0] * n,
        }
    )
    args = (keys, np.tile(per_day, (n, 1)), first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.zeros(n), "forecast_age_days": 7, "level_alpha": 0.5}
    curves, _ = backtest_calibration(*args, **kwargs)
    cycle, fill = curves["parametric"]["smooth"]
    np.testing.assert_allclose(cycle, 0.5)
    np.testing.assert_allclose(fill, 1 - 14 / 56)
