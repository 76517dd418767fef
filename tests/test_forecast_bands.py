"""Forecast bands: split-conformal widths, TSB's two-point band, their growth with the
horizon, and the dead-item rule's threshold. Hand-computed numbers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from stockplan.config import Classify, Forecast
from stockplan.forecast import (
    band_widening,
    conformal_band_width,
    forecast_demand,
    running_mean_errors,
    select_models,
    two_point_band_width,
)
from stockplan.segmentation import classify_demand

MONDAY = dt.date(2025, 1, 6)


def _week(i: int) -> dt.date:
    return MONDAY + dt.timedelta(weeks=i)


def test_conformal_width_is_the_ceil_n_plus_1_level_th_score_then_grows_as_the_mse():
    # one pattern, two windows x two steps of two series; scale 2 for series 2
    errors = pl.DataFrame(
        {
            "unique_id": [1, 1, 2, 2, 1, 1, 2, 2],
            "cutoff": [_week(0)] * 4 + [_week(2)] * 4,
            "ds": [_week(1), _week(2)] * 2 + [_week(3), _week(4)] * 2,
            "error": [1.0, -2.0, 4.0, 8.0, -3.0, 6.0, -8.0, 16.0],
            "demand_pattern": ["lumpy"] * 8,
            "scale": [1.0, 1.0, 2.0, 2.0] * 2,
        }
    )
    # scores |error| / scale: step 1 {1, 2, 3, 4}, step 2 {2, 4, 6, 8}
    # level 0.5: the ceil(5 x 0.5) = 3rd smallest -> 3 and 6
    # mean squared score: step 1 (1+4+9+16)/4 = 7.5, step 2 (4+16+36+64)/4 = 30;
    # slope 22.5 per step -> 52.5 and 75 at steps 3 and 4: width 6 sqrt(52.5/30), 6 sqrt(75/30)
    widths = conformal_band_width(errors, 0.5, 4).sort("step")
    assert widths["demand_pattern"].to_list() == ["lumpy"] * 4
    assert widths["band_width"].to_list() == pytest.approx(
        [3.0, 6.0, 6 * (52.5 / 30) ** 0.5, 6 * (75 / 30) ** 0.5]
    )
    # level 0.8: ceil(5 x 0.8) = 4 > n - 1, the largest score of each step
    assert conformal_band_width(errors, 0.8, 2).sort("step")["band_width"].to_list() == [4.0, 8.0]
    # each tail alone at (1 + 0.5) / 2 = 0.75: ceil(5 x 0.75) = 4th smallest signed score.
    # above (actual - forecast) / scale: step 1 {-1, -2, 3, 4} -> 4, step 2 {2, -4, -6, -8}
    # -> 2, kept at 4; below (forecast - actual) / scale: step 1 {1, 2, -3, -4} -> 2,
    # step 2 {-2, 4, 6, 8} -> 8; beyond step 2 both grow as the band width does
    growth = [(52.5 / 30) ** 0.5, (75 / 30) ** 0.5]
    assert widths["band_upper"].to_list() == pytest.approx([4.0, 4.0, *(4 * g for g in growth)])
    assert widths["band_lower"].to_list() == pytest.approx([2.0, 8.0, *(8 * g for g in growth)])


def test_conformal_width_never_narrows_further_ahead_and_pools_each_pattern_alone():
    errors = pl.DataFrame(
        {
            "unique_id": [1, 1, 2, 2],
            "cutoff": [_week(0)] * 4,
            "ds": [_week(1), _week(2)] * 2,
            "error": [4.0, 1.0, 1.0, 1.0],
            "demand_pattern": ["smooth", "smooth", "erratic", "erratic"],
            "scale": [1.0] * 4,
        }
    )
    widths = conformal_band_width(errors, 0.5, 3).sort("demand_pattern", "step")
    # smooth: step 1 score 4, step 2 score 1 -> kept at 4; the mean squared score falls
    # (16 -> 1), a least-squares slope below zero is no growth: 4 at step 3
    assert widths.filter(pl.col("demand_pattern") == "smooth")["band_width"].to_list() == [4.0] * 3
    assert widths.filter(pl.col("demand_pattern") == "erratic")["band_width"].to_list() == [1.0] * 3


def test_band_growth_beyond_the_backtest_uses_the_least_squares_slope_not_the_running_max():
    # mse per step 1, 4, 1 (noise around a flat spread): least-squares slope 0, so no
    # growth beyond step 3; the running maximum 1, 4, 4 (mean 3) keeps the band from
    # narrowing within the backtest
    errors = [1.0, 2.0, 1.0]
    steps = pl.DataFrame(
        {
            "unique_id": [1, 1, 1],
            "cutoff": [_week(0)] * 3,
            "ds": [_week(1), _week(2), _week(3)],
            "error": errors,
        }
    )
    ratio = band_widening(steps, 5)["band_ratio"].to_list()
    assert ratio == pytest.approx([(m / 3) ** 0.5 for m in (1, 4, 4, 4, 4)])


@pytest.mark.parametrize(
    ("p", "z", "level", "half_width"),
    [
        # d = 10 w.p. 0.1 else 0, f = 1: |d - f| = 1 w.p. 0.9 >= 0.8 -> 1, band [0, 2]
        (0.1, 10.0, 0.8, 1.0),
        # p 0.3, f = 3: |d - f| = 3 w.p. 0.7 < 0.8 -> the larger, 7: band [0, 10]
        (0.3, 10.0, 0.8, 7.0),
        # p 0.6, f = 6: |d - f| = 4 w.p. 0.6 < 0.8 -> 6; at level 0.5 -> 4, band [2, 10]
        (0.6, 10.0, 0.8, 6.0),
        (0.6, 10.0, 0.5, 4.0),
    ],
)
def test_two_point_band_of_tsb_demand_by_hand(p, z, level, half_width):
    frame = pl.DataFrame({"tsb_probability": [p], "tsb_size": [z], "tsb_rate": [p * z]})
    assert frame.select(two_point_band_width(level)).item() == pytest.approx(half_width)


def test_running_mean_errors_by_hand():
    frame = pl.DataFrame(
        {"unique_id": [1] * 6, "ds": [_week(i) for i in range(6)], "y": [2.0, 4, 0, 6, 1, 3]}
    )
    # last two origins with at least 3 buckets seen and a bucket after them: week 3
    # (mean of 2, 4, 0, 6 = 3) and week 4 (mean 13 / 5 = 2.6)
    errors = running_mean_errors(frame, 2, 3, 2).sort("cutoff", "ds")
    assert errors["cutoff"].to_list() == [_week(3), _week(3), _week(4)]
    assert errors["ds"].to_list() == [_week(4), _week(5), _week(5)]
    assert errors["error"].to_list() == pytest.approx([3 - 1, 3 - 3, 2.6 - 3])
    # origins two buckets apart: week 4 and week 2 (mean of 2, 4, 0 = 2)
    errors = running_mean_errors(frame, 3, 3, 2, every=2).sort("cutoff", "ds")
    assert errors["cutoff"].to_list() == [_week(2)] * 3 + [_week(4)]
    assert errors["error"].to_list() == pytest.approx([2 - 6, 2 - 1, 2 - 3, 2.6 - 3])


def _history(series: dict[str, list[float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "sku": sku,
                "location": "W",
                "period_start": _week(i),
                "demand": float(v),
                "revenue": 10.0 * v,
            }
            for sku, values in series.items()
            for i, v in enumerate(values)
        ]
    )


def test_bands_widen_with_the_horizon_and_hold_their_rate_on_a_held_out_period():
    # 40 Poisson(20) series with a level that walks (a random-walk level: the spread of
    # a forecast grows with the horizon); 60 weeks fitted, 13 held out
    rng = np.random.default_rng(7)
    weeks, hold = 73, 13
    series = {}
    for k in range(40):
        level = 20 + np.cumsum(rng.normal(0, 1.0, weeks))
        series[f"S{k:02d}"] = list(rng.poisson(np.clip(level, 1, None)).astype(float))
    history = _history(series)
    fit = history.filter(pl.col("period_start") < _week(weeks - hold))
    classes = classify_demand(fit, _week(weeks - hold), "week", Classify())
    settings = Forecast(expensive_classes=[], n_jobs=1)
    forecast, _ = forecast_demand(fit, classes, "week", settings, hold)
    width = forecast.with_columns((pl.col("hi") - pl.col("forecast")).alias("w"))
    grows = width.group_by("sku").agg((pl.col("w").sort_by("period_start").diff() >= -1e-9).all())
    assert grows["w"].all()
    first, last = (
        width.group_by("period_start").agg(pl.col("w").mean()).sort("period_start")["w"][[0, -1]]
    )
    assert last > 1.2 * first  # 13 weeks ahead is wider than one week ahead
    scored = forecast.join(history, on=["sku", "location", "period_start"])
    outside = ((scored["demand"] < scored["lo"]) | (scored["demand"] > scored["hi"])).mean()
    assert outside == pytest.approx(0.20, abs=0.06)


def test_dead_item_band_is_the_quantile_of_tsb_two_point_demand():
    # sold 8 one week in eight for 73 weeks, then 13 empty weeks: TSB decay (see the
    # dead-item rule), p_t < 0.2 so the 80 % band of d = z w.p. p is [0, 2 p z]
    demand = [8.0 if i % 8 == 0 else 0.0 for i in range(73)] + [0.0] * 13
    history = _history({"A": demand})
    classes = pl.DataFrame({"sku": ["A"], "location": ["W"], "demand_pattern": ["dead"]})
    forecast, summary = forecast_demand(history, classes, "week", Forecast(), 4)
    probability, size = 1.0, 8.0
    for d in demand[1:]:
        probability += 0.1 * ((d > 0) - probability)
        size += 0.1 * (d - size) if d > 0 else 0.0
    assert summary["model"].to_list() == ["TSBDecay"] and probability < 0.2
    assert forecast["lo"].to_list() == [0.0] * 4
    assert forecast["hi"].to_list() == pytest.approx([2 * probability * size] * 4)


def test_dead_probability_is_the_threshold_of_the_dead_rule():
    # the same lumpy item: (1 - 10/73)^13 = 0.147; below a threshold of 0.2 it is dead
    demand = [8.0 if i % 8 == 0 else 0.0 for i in range(73)] + [0.0] * 13
    chance = (1 - 10 / 73) ** 13
    assert chance == pytest.approx(0.147, abs=0.001)
    history = _history({"A": demand})
    classes = pl.DataFrame({"sku": ["A"], "location": ["W"], "demand_pattern": ["dead"]})
    for threshold, model in [(0.14, "TSBDecay"), (0.15, "Zero")]:
        _, summary = forecast_demand(
            history, classes, "week", Forecast(dead_probability=threshold), 4
        )
        assert summary["model"].to_list() == [model]


def _backtest(rows: list[tuple[int, str, float, float]]) -> pl.DataFrame:
    """(unique_id, model, actual, forecast), one window per row's position."""
    return pl.DataFrame(
        {
            "unique_id": [r[0] for r in rows],
            "cutoff": [_week(0)] * len(rows),
            "ds": [_week(1 + i % 2) for i in range(len(rows))],
            "y": [r[2] for r in rows],
            "model": [r[1] for r in rows],
            "value": [r[3] for r in rows],
        }
    )


def test_pattern_selection_ranks_models_by_the_pools_mean_scaled_absolute_error():
    # series 1 (scale 1): A errors 1, 1 (MAE 1, MSE 1); B errors 0, 1.5 (MAE 0.75, MSE 1.125)
    # series 2 (scale 4): A errors 2, 2 (MAE 2, MSE 4); B errors 4, 4 (MAE 4, MSE 16)
    backtest = _backtest(
        [
            (1, "A", 0.0, 1.0),
            (1, "A", 0.0, 1.0),
            (1, "B", 0.0, 0.0),
            (1, "B", 0.0, 1.5),
            (2, "A", 0.0, 2.0),
            (2, "A", 0.0, 2.0),
            (2, "B", 0.0, 4.0),
            (2, "B", 0.0, 4.0),
        ]
    )
    # per series by squared error: A for both (1 < 1.125, 4 < 16)
    own = select_models(backtest, 1)
    assert own.sort("unique_id")["model"].to_list() == ["A", "A"]
    # pooled MAE / scale: A (1/1 + 2/4) / 2 = 0.75, B (0.75/1 + 4/4) / 2 = 0.875 -> A;
    # with series 2's scale 16: A (1 + 0.125) / 2 = 0.5625, B (0.75 + 0.25) / 2 = 0.5 -> B
    pools = pl.DataFrame({"unique_id": [1, 2], "pool": ["lumpy"] * 2, "scale": [1.0, 4.0]})
    assert select_models(backtest, 1, pools)["model"].to_list() == ["A", "A"]
    pools = pools.with_columns(pl.Series("scale", [1.0, 16.0]))
    assert select_models(backtest, 1, pools)["model"].to_list() == ["B", "B"]
    # two per pool: both, ranked B then A
    both = select_models(backtest, 2, pools).sort("unique_id", "rank")
    assert both["model"].to_list() == ["B", "A", "B", "A"]


def test_pattern_selection_leaves_a_series_without_the_pools_model_its_own_choice():
    backtest = _backtest(
        [
            (1, "A", 0.0, 3.0),
            (1, "A", 0.0, 3.0),
            (1, "B", 0.0, 1.0),
            (1, "B", 0.0, 1.0),
            (2, "A", 0.0, 1.0),
            (2, "A", 0.0, 1.0),
            (2, "B", 0.0, None),  # B has no backtest for series 2
            (2, "B", 0.0, None),
        ]
    )
    pools = pl.DataFrame({"unique_id": [1, 2], "pool": ["lumpy"] * 2, "scale": [1.0, 1.0]})
    # only series 1 has every model: B wins the pool; series 2 cannot use B, keeps A
    chosen = select_models(backtest, 1, pools).sort("unique_id")
    assert chosen["model"].to_list() == ["B", "A"]


def test_intermittent_items_of_one_pattern_share_the_patterns_models_by_default():
    rng = np.random.default_rng(3)
    series = {
        f"I{k}": list(rng.binomial(1, 0.3, 60) * rng.poisson(5 + k, 60).astype(float))
        for k in range(8)
    }
    history = _history(series)
    classes = pl.DataFrame(
        {"sku": list(series), "location": ["W"] * 8, "demand_pattern": ["intermittent"] * 8}
    )
    settings = Forecast(n_jobs=1, backtest_windows=4)
    _, pooled = forecast_demand(history, classes, "week", settings, 4)
    assert pooled["model"].n_unique() == 1
    assert set(pooled["model"][0].split("+")) <= {"CrostonSBA", "TSB", "ADIDA", "IMAPA", "SESOpt"}
    own = Forecast(n_jobs=1, backtest_windows=4, intermittent_selection="series")
    _, alone = forecast_demand(history, classes, "week", own, 4)
    assert alone["model"].n_unique() > 1  # each series' own windows rank differently


def _aligned(series: dict[str, list[float]]) -> pl.DataFrame:
    """Weekly series that all end in the same week."""
    end = max(len(v) for v in series.values())
    return pl.DataFrame(
        [
            (sku, "W", _week(end - len(values) + i), value)
            for sku, values in series.items()
            for i, value in enumerate(values)
        ],
        schema=["sku", "location", "period_start", "demand"],
        orient="row",
    )


@pytest.mark.parametrize(
    ("since", "model"),
    [([0.0, 0.0, 3.0, 0.0], "TSBDecay"), ([0.0, 0.0, 0.0, 0.0], "Zero")],
)
def test_dead_rule_keeps_a_demand_probability_where_items_it_called_dead_sold_again(since, model):
    # D sold 4 a week for 10 weeks, then 13 empty: (1 - 10/10)^13 = 0 < 0.05, dead by the
    # rule. R did the same 4 weeks (one backtest horizon) earlier: at that origin it was
    # silent 13 weeks (>= D's 13) at chance 0, called dead. If it sold since (1 of 1 items
    # >= 0.05), this history's silent items come back: D keeps a TSB forecast with the
    # probability they came back at, R's 1 selling week of 4, times D's size 4: 0.25 x 4
    # N, 3 weeks old, has no origin 4 weeks back to be checked at (it counts for neither)
    history = _aligned(
        {"D": [4.0] * 10 + [0.0] * 13, "R": [4.0] * 10 + [0.0] * 13 + since, "N": [2.0, 0.0, 1.0]}
    )
    classes = pl.DataFrame(
        {
            "sku": ["D", "R", "N"],
            "location": ["W"] * 3,
            "demand_pattern": ["dead", "lumpy", "new"],
        }
    )
    forecast, summary = forecast_demand(history, classes, "week", Forecast(n_jobs=1), 4)
    assert summary.filter(pl.col("sku") == "D")["model"].to_list() == [model]
    d = forecast.filter(pl.col("sku") == "D")
    expected = 0.25 * 4 if model == "TSBDecay" else 0.0
    assert d["forecast"].to_list() == pytest.approx([expected] * 4)
    # its band, two-point demand 4 w.p. 0.25 else 0: |d - f| is f = 1 w.p. 0.75 < 0.8, so
    # the 80 % half-width is |4 - f| = 3: [0, 4]; Zero items [0, 0]
    assert d["hi"].to_list() == pytest.approx([4.0 if model == "TSBDecay" else 0.0] * 4)


def test_intermittent_band_is_exceeded_above_at_its_tails_rate_on_a_held_out_period():
    # 60 intermittent series: a sale in 3 weeks of 10, of Poisson(6) units; 60 weeks
    # fitted, 13 held out. A right-skewed demand misses a symmetric band almost only
    # above; each tail's own width leaves (1 - 0.8) / 2 = 0.10 above hi
    rng = np.random.default_rng(11)
    weeks, hold = 73, 13
    series = {
        f"I{k:02d}": list(rng.binomial(1, 0.3, weeks) * rng.poisson(6, weeks).astype(float))
        for k in range(60)
    }
    history = _history(series)
    fit = history.filter(pl.col("period_start") < _week(weeks - hold))
    classes = pl.DataFrame(
        {"sku": list(series), "location": ["W"] * 60, "demand_pattern": ["intermittent"] * 60}
    )
    forecast, _ = forecast_demand(fit, classes, "week", Forecast(n_jobs=1), hold)
    scored = forecast.join(history, on=["sku", "location", "period_start"])
    above = (scored["demand"] > scored["hi"]).mean()
    assert above == pytest.approx(0.10, abs=0.03)
    assert (scored["hi"] >= scored["forecast"]).all() and (scored["lo"] >= 0).all()
