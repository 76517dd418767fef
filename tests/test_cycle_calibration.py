"""Cycle-service calibration: each backtest window is pooled under the demand pattern the
series had at the window's origin, as the plan labels a series from its history before
the planning date and is then judged on what follows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError
from scipy import stats

from stockplan.config import Classify, Policy
from stockplan.demand import demand_history
from stockplan.lead_time_demand import (
    CALIBRATION_GRID,
    backtest_calibration,
    lost_sales_scoring,
    pattern_before,
)
from stockplan.random_streams import series_streams
from stockplan.segmentation import classify_demand

SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_PATTERN = 0, 1, 2, 3, -1


def _days(weekly: list[float], unmeasured_weeks: int = 0) -> np.ndarray:
    """Daily demand with each week's units on its first day, after NaN weeks."""
    out = np.zeros(7 * (unmeasured_weeks + len(weekly)))
    out[: 7 * unmeasured_weeks] = np.nan
    out[7 * unmeasured_weeks :: 7] = weekly
    return out


def test_pattern_before_labels_each_syntetos_boylan_class_from_the_weeks_before():
    # 10 weeks each, buckets ending at the origin (the last day):
    # smooth: 7 every week, ADI 1, CV^2 0.
    # erratic: nine 1s and a 20: mean 2.9, variance (9 x 1.9^2 + 17.1^2) / 10 = 32.49,
    #   CV^2 = 32.49 / 2.9^2 = 3.86 >= 0.49, ADI 1 < 1.32.
    # intermittent: 5 every other week: ADI 10 / 5 = 2 >= 1.32, CV^2 0.
    # lumpy: 1, 1, 1, 1, 30 every other week: ADI 2, mean 6.8, variance
    #   (4 x 5.8^2 + 23.2^2) / 5 = 134.56, CV^2 = 2.91.
    # erratic at the edge: 1 and 2 alternating, CV^2 = (0.5 / 1.5)^2 = 0.111 < 0.49: smooth;
    #   ADI 10 / 8 = 1.25 < 1.32 with two empty weeks: still smooth.
    rows = [
        _days([7.0] * 10),
        _days([1.0] * 9 + [20.0]),
        _days([5.0, 0.0] * 5),
        _days([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 30.0, 0.0]),
        _days([1.0, 2.0, 0.0, 1.0, 2.0, 1.0, 2.0, 0.0, 1.0, 2.0]),
    ]
    got = pattern_before(np.vstack(rows), dead_days=14)
    assert got.tolist() == [SMOOTH, ERRATIC, INTERMITTENT, LUMPY, SMOOTH]


def test_pattern_before_has_no_pattern_where_the_plan_would_say_new_or_dead():
    # new: 5 measured weeks after 15 unmeasured ones (fewer than 8 buckets);
    # dead: sold in the first 3 of 20 weeks, nothing in the last 91 days (13 weeks);
    # never sold: 20 weeks of zeros; alive: the same 3 weeks and a sale in week 19
    new = _days([3.0] * 5, unmeasured_weeks=15)
    dead = _days([4.0, 4.0, 4.0] + [0.0] * 17)
    never = _days([0.0] * 20)
    alive = _days([4.0, 4.0, 4.0] + [0.0] * 15 + [4.0, 0.0])
    got = pattern_before(np.vstack([new, dead, never, alive]))
    # alive: 4 of 20 weeks sell the same 4 units: ADI 5, CV^2 0 -> intermittent
    assert got.tolist() == [NO_PATTERN, NO_PATTERN, NO_PATTERN, INTERMITTENT]


def test_pattern_before_agrees_with_the_plans_classification():
    # random weekly series (some sparse, some with spikes), classified by the plan's own
    # step on the same weeks: the label at the origin must be the one the plan gives
    rng = np.random.default_rng(7)
    n, weeks = 80, 30
    first = dt.date(2024, 1, 1)  # a Monday: weekly buckets line up with the origin
    sells = rng.random((n, weeks)) < rng.uniform(0.3, 1.0, (n, 1))
    spiky = rng.random((n, 1)) < 0.5  # half the series have 40-unit weeks now and then
    size = np.where(spiky & (rng.random((n, weeks)) < 0.15), 40.0, rng.integers(1, 6, (n, weeks)))
    weekly = np.where(sells, size, 0.0)
    weekly[:, 0] = 3.0  # every series sells in its first week
    weekly[:, -1] = 2.0  # and in its last (none is dead)
    daily = np.vstack([_days(list(w)) for w in weekly])
    sales = pl.DataFrame(
        {
            "date": [first + dt.timedelta(days=7 * w) for i in range(n) for w in range(weeks)],
            "sku": [f"S{i}" for i in range(n) for _ in range(weeks)],
            "location": ["W"] * (n * weeks),
            "quantity": weekly.ravel(),
            "revenue": weekly.ravel(),
        }
    ).filter(pl.col("quantity") > 0)
    as_of = first + dt.timedelta(days=7 * weeks)
    history = demand_history(sales, as_of, "week", None)
    classes = classify_demand(history, as_of, "week", Classify())
    names = ["smooth", "erratic", "intermittent", "lumpy"]
    plan = (
        classes.with_columns(pl.col("sku").str.slice(1).cast(pl.Int64).alias("i"))
        .sort("i")["demand_pattern"]
        .to_list()
    )
    assert len(set(plan)) == 4  # every class occurs: the comparison covers each
    assert [names[p] for p in pattern_before(daily)] == plan


def _keys(n: int, pattern: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": [str(i) for i in range(n)], "location": ["W"] * n, "demand_pattern": [pattern] * n}
    )


def _windows(n: int, first: dt.date, origins: list[int], rate: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [str(i) for i in range(n) for _ in origins],
            "location": ["W"] * (n * len(origins)),
            "origin": [first + dt.timedelta(days=o) for _ in range(n) for o in origins],
            "rate_per_day": [rate] * (n * len(origins)),
        }
    )


def test_a_window_counts_for_the_pattern_its_series_had_at_the_origin():
    # 60 series selling 2 a day for 200 days, then one 400-unit day (day 200) that makes
    # them erratic today. The windows at origins 84, 112 and 140 saw only the steady
    # weeks: smooth then. With 14 days' lead time and review 7 each window sells
    # T = 2 x 21 = 42 = the forecast's mu, served at every level of the grid from 0.5 up
    # (S = mu + z sigma >= 42 where z >= 0) and short below it.
    n, first = 60, dt.date(2024, 1, 1)
    daily = np.full((n, 260), 2.0)
    daily[:, 200] = 400.0
    windows = _windows(n, first, [84, 112, 140], 2.0).with_columns(pl.lit(1.0).alias("sigma_day"))
    args = (_keys(n, "erratic"), daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.full(n, 1.0), "discrete": np.zeros(n, bool)}
    at_origin, _ = backtest_calibration(*args, classify=Classify(), **kwargs)
    today, _ = backtest_calibration(*args, **kwargs)
    # pooled by today's label the steady windows would describe erratic items
    assert set(today["parametric"]) == {"erratic"}
    assert set(at_origin["parametric"]) == {"smooth"}
    cycle = at_origin["parametric"]["smooth"][0]
    assert cycle[0] == 0.0  # level 0.3: S = 42 + z sigma < 42
    assert np.all(cycle[1:] == 1.0)  # level 0.5 and above: S >= 42


def test_a_window_whose_history_the_plan_would_call_new_is_not_pooled():
    # 60 series with 5 weeks of history before the only origin (day 35): new there
    n, first = 60, dt.date(2024, 1, 1)
    daily = np.full((n, 120), 2.0)
    windows = _windows(n, first, [35], 2.0).with_columns(pl.lit(1.0).alias("sigma_day"))
    args = (_keys(n, "smooth"), daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.full(n, 1.0), "discrete": np.zeros(n, bool)}
    at_origin, _ = backtest_calibration(*args, classify=Classify(), **kwargs)
    assert at_origin["parametric"] == {}
    today, _ = backtest_calibration(*args, **kwargs)
    assert set(today["parametric"]) == {"smooth"}


def test_a_window_is_scored_with_the_distribution_of_its_pattern_at_the_origin():
    # 60 series, 40 units on the first day of every second week: intermittent at every
    # origin (ADI 2, CV^2 0), forecast 40 / 14 a day; today's label says smooth. Each
    # window (origins 84, 140, 196, sale days) sells T = 80 over L + R = 21 days, with a
    # sale in its review week. mu = 60, sigma_LTD = sqrt(21) x 8 = 36.66: the normal
    # covers 80 from z = 20 / 36.66 = 0.546, level Phi(0.546) = 0.707; the negative
    # binomial of mean 60 and variance 36.66^2 from P(X <= 79) = 0.752 (scipy below). The
    # grid level 0.75 tells them apart: served by the normal, short under the NB.
    n, first = 60, dt.date(2024, 1, 1)
    daily = np.zeros((n, 300))
    daily[:, ::14] = 40.0
    windows = _windows(n, first, [84, 140, 196], 40 / 14).with_columns(
        pl.lit(8.0).alias("sigma_day")
    )
    args = (_keys(n, "smooth"), daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.full(n, 8.0), "discrete": np.zeros(n, bool), "classify": Classify()}
    normal, _ = backtest_calibration(*args, discrete_patterns=["lumpy"], **kwargs)
    counted, _ = backtest_calibration(*args, discrete_patterns=["intermittent"], **kwargs)
    assert set(normal["parametric"]) == set(counted["parametric"]) == {"intermittent"}
    sigma = np.sqrt(21) * 8.0
    m, v = 60.0, sigma**2
    assert stats.norm.cdf(20 / sigma) == pytest.approx(0.707, abs=1e-3)
    nb_cut = stats.nbinom.cdf(79, m**2 / (v - m), m / v)
    assert nb_cut == pytest.approx(0.752, abs=1e-3)
    served_normal = (stats.norm.cdf(20 / sigma) <= CALIBRATION_GRID).astype(float)
    served_nb = (nb_cut < CALIBRATION_GRID).astype(float)
    assert np.array_equal(normal["parametric"]["intermittent"][0], served_normal)
    assert np.array_equal(counted["parametric"]["intermittent"][0], served_nb)


def test_held_out_scores_split_the_series_when_only_one_origin_has_windows():
    # 120 series sell 2 a day; from day 140 the odd ones (the series halves are by the
    # parity of each series' stream key, a hash of sku, location and seed, so that every
    # partition of a cluster puts a series in the same half) sell 3 a day. Forecast 2 a
    # day, sigma 1 a day: mu = 42, sigma_LTD = sqrt(21) = 4.58 over L + R = 21 days. Even
    # series sell T = 42 and are served at every grid level from 0.5 (z >= 0) up; odd
    # ones sell 63, which needs z >= 4.58: never served.
    n, first = 120, dt.date(2024, 1, 1)
    keys = _keys(n, "smooth")
    odd = (series_streams(keys, 0) & np.uint64(1)).astype(bool)
    assert 0 < odd.sum() < n
    daily = np.full((n, 200), 2.0)
    daily[odd, 140:] = 3.0
    one = _windows(n, first, [140], 2.0).with_columns(pl.lit(1.0).alias("sigma_day"))
    args = (keys, daily, first)
    rest = (np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.full(n, 1.0), "discrete": np.zeros(n, bool), "classify": Classify()}
    # one origin: the halves are the even and the odd series. Recalibrated on the even
    # half a target t takes a level below 0.5, where the odd half serves 0: error t; on
    # the odd half (never served) the top level 0.999, where the even half serves 1:
    # error 1 - t. Mean over both directions and 0.90 / 0.95 / 0.98: 0.5
    _, by_series = backtest_calibration(*args, one, *rest, **kwargs)
    assert by_series["parametric"]["smooth"][0] == pytest.approx(0.5)
    # two origins (140 and 168, 28 days apart: one in each half by date): the halves are
    # the origins, each serving the even series' share e of its cycles at every level
    # from 0.5: a target t above e takes the top level and gets e on the other half:
    # mean of t - e over 0.90 / 0.95 / 0.98
    even = 1.0 - odd.mean()
    assert even < 0.9
    two = _windows(n, first, [140, 168], 2.0).with_columns(pl.lit(1.0).alias("sigma_day"))
    _, by_origin = backtest_calibration(*args, two, *rest, **kwargs)
    expected = (0.90 + 0.95 + 0.98) / 3 - even
    assert by_origin["parametric"]["smooth"][0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("setting", "measure", "scored_on_path"),
    [
        ("cycle", "cycle", True),
        ("cycle", "fill_rate", False),
        (True, "fill_rate", True),
        (False, "cycle", False),
    ],
)
def test_lost_sales_scoring_follows_the_setting_and_by_default_the_cycle_targets(
    setting, measure, scored_on_path
):
    settings = Policy.model_validate({"calibrate_lost_sales": setting, "service_measure": measure})
    assert lost_sales_scoring(settings) is scored_on_path


def test_lost_sales_scoring_defaults_to_cycle_targets_and_refuses_other_values():
    assert Policy().calibrate_lost_sales == "cycle"
    with pytest.raises(ValidationError, match="calibrate_lost_sales"):
        Policy.model_validate({"calibrate_lost_sales": "fill_rate"})


def test_the_lost_sales_path_scores_blocks_of_series_as_one(monkeypatch):
    import stockplan.lead_time_demand as ltd

    # 30 series, forecast 5/3 a day with sigma 0: S = 35 at every level, L = 14, R = 7,
    # scored at ages 0 and 7. Even series sell 2 a day: replayed with lost sales the first
    # review period runs 7 short of its 14 and the second is covered (the 7 lost units are
    # not owed): 1 of 2 cycles, 7 of 28 units short. Odd series sell 5/3 a day, exactly S
    # over L + R: never short. Pooled: cycles 15 / 30 + 30 / 30 -> 45 / 60; fill
    # 1 - 15 x 7 / (15 x 28 + 15 x 2 x 7 x 5/3)
    first, n = dt.date(2024, 1, 1), 30
    daily = np.where(np.arange(n)[:, None] % 2 == 0, 2.0, 5 / 3) * np.ones((n, 428))
    windows = _windows(n, first, [400], 5 / 3)
    args = (_keys(n, "smooth"), daily, first, windows, np.full(n, 14.0), np.zeros(n), 7, 364)
    kwargs = {"sigma_day": np.zeros(n), "forecast_age_days": 7, "lost_sales_path": True}
    whole, _ = backtest_calibration(*args, **kwargs)
    monkeypatch.setattr(ltd, "SERIES_PER_BLOCK", 4)  # blocks of 4, 4, ..., 2 series
    blocked, _ = backtest_calibration(*args, **kwargs)
    for result in (whole, blocked):
        cycle, fill = result["parametric"]["smooth"]
        np.testing.assert_allclose(cycle, 45 / 60)
        np.testing.assert_allclose(fill, 1 - 15 * 7 / (15 * 28 + 15 * 2 * 7 * 5 / 3))
