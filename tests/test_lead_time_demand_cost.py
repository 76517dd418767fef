"""The lead-time-demand stage's memory and CPU, each with the same numbers: what the
stage before it leaves alive, the days the calibration reads, the windows it draws."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from pathlib import Path

import numpy as np
import polars as pl
from calibration_windows import one_origin_windows

import stockplan.lead_time_demand as ltd_module
from stockplan.config import Classify, Policy
from stockplan.lead_time_demand import (
    PendingDraws,
    _lost_sales_path,
    _replay_days,
    backtest_calibration,
    calibration_curves,
    calibration_sums,
    lead_time_demand_from,
)


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
    keys, windows = one_origin_windows(n, first + dt.timedelta(days=400), 5 / 3)
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
    keys, windows = one_origin_windows(n, first + dt.timedelta(days=400), 2.0)
    args = (keys, np.tile(per_day, (n, 1)), first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.zeros(n), "forecast_age_days": 7, "level_alpha": 0.5}
    curves, _ = backtest_calibration(*args, **kwargs)
    cycle, fill = curves["parametric"]["smooth"]
    np.testing.assert_allclose(cycle, 0.5)
    np.testing.assert_allclose(fill, 1 - 14 / 56)


def _smooth_and_intermittent(n: int = 80):
    """n smooth series (Poisson 3 a day) and n intermittent ones (10 units on a day with
    probability 0.08: a sale in 44 % of the weeks), 230 days, and the forecast
    backtest's windows at five origins at each series' mean rate."""
    rng = np.random.default_rng(11)
    smooth = rng.poisson(3.0, (n, 230)).astype(float)
    intermittent = 10.0 * (rng.random((n, 230)) < 0.08)
    daily = np.vstack([smooth, intermittent])
    skus = [f"S{i}" for i in range(n)] + [f"I{i}" for i in range(n)]
    keys = pl.DataFrame(
        {
            "sku": skus,
            "location": ["W"] * (2 * n),
            "demand_pattern": ["smooth"] * n + ["intermittent"] * n,
        }
    )
    origins = [84, 112, 140, 168, 196]
    first = dt.date(2024, 1, 1)
    windows = pl.DataFrame(
        {
            "sku": [s for s in skus for _ in origins],
            "location": ["W"] * (2 * n * len(origins)),
            "origin": [first + dt.timedelta(days=o) for _ in skus for o in origins],
            "rate_per_day": [3.0] * (n * len(origins)) + [0.8] * (n * len(origins)),
        }
    )
    lead = np.full(2 * n, 14.0)
    args = (keys, daily, first, windows, lead, np.zeros(2 * n), 7, 364)
    kwargs = {
        "sigma_day": np.full(2 * n, 1.5),
        "discrete": np.zeros(2 * n, bool),
        "classify": Classify(),
        "discrete_patterns": ["intermittent", "lumpy"],
        "lost_sales_path": True,
    }
    return args, kwargs


def test_the_bootstraps_are_drawn_only_for_windows_of_the_patterns_that_read_them(monkeypatch):
    # the plan reads the block and day bootstraps' counts of `policy.bootstrap_patterns`
    # alone (smooth items keep the parametric levels): windows pooled as smooth get no
    # draws, and every count the plan reads is the one of all windows drawn
    args, kwargs = _smooth_and_intermittent()
    every = calibration_sums(*args, **kwargs)
    drawn: list[str] = []
    for name in ("window_lead_time_demand", "bootstrap_lead_time_demand"):
        build = getattr(ltd_module, name)

        def spy(keys, *rest, build=build, **more):
            drawn.extend(keys["sku"].to_list())
            return build(keys, *rest, **more)

        monkeypatch.setattr(ltd_module, name, spy)
    some = calibration_sums(*args, bootstrap_patterns=["intermittent"], **kwargs)
    assert drawn and {sku[0] for sku in drawn} == {"I"}
    smooth, intermittent = 0, 2  # the pattern axis follows PATTERN_KEYS
    assert ltd_module.PATTERN_KEYS[smooth] == "smooth"
    assert ltd_module.PATTERN_KEYS[intermittent] == "intermittent"
    assert np.array_equal(every["parametric"], some["parametric"])
    for method in ("block", "days"):
        assert every[method][..., smooth].any() and not some[method][..., smooth].any()
        assert np.array_equal(every[method][..., intermittent], some[method][..., intermittent])
    curves, held_out = calibration_curves(some)
    assert "smooth" not in curves["block"] and "intermittent" in curves["block"]
    assert (
        held_out["block"]["intermittent"] == calibration_curves(every)[1]["block"]["intermittent"]
    )


def test_the_draws_and_their_calibration_are_those_of_all_windows_drawn():
    args, kwargs = _smooth_and_intermittent()
    keys, daily, _, _, lead, lead_std, r, history_days = args
    settings = Policy(bootstrap_patterns=["intermittent"])
    every = calibration_sums(*args, **kwargs)
    some = calibration_sums(*args, bootstrap_patterns=settings.bootstrap_patterns, **kwargs)
    recent = daily[:, -history_days:]
    plans = [
        lead_time_demand_from(
            PendingDraws(keys, recent, lead, lead_std, r, settings, False, 0, sums)
        )
        for sums in (every, some)
    ]
    assert plans[0].methods == plans[1].methods
    assert set(plans[0].methods) == {"smooth", "intermittent"}
    assert plans[0].calibration.keys() == plans[1].calibration.keys()
    for pattern, curves in plans[0].calibration.items():
        for a, b in zip(curves, plans[1].calibration[pattern], strict=True):
            assert np.array_equal(a, b)
    for name in ("lead", "review", "mean_day"):
        assert np.array_equal(getattr(plans[0], name), getattr(plans[1], name), equal_nan=True)
