"""Pooled (top-down) seasonality for intermittent and lumpy forecasts: hand-checked cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from stockplan.config import Forecast
from stockplan.forecast import pooled_seasonal_factors, with_pooled_seasonality

FIRST = dt.date(2024, 1, 1)  # a Monday


def _history(series: int, weeks: list[float], start_week: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [str(s) for s in range(series) for _ in weeks[start_week:]],
            "location": ["W"] * (series * (len(weeks) - start_week)),
            "period_start": [
                FIRST + dt.timedelta(weeks=w)
                for _ in range(series)
                for w in range(start_week, len(weeks))
            ],
            "demand": [float(d) for _ in range(series) for d in weeks[start_week:]],
        }
    )


def _weeks() -> list[float]:
    # 65 weeks = a 52-week season + a 13-week base: 2 a week in the base (weeks 0-12),
    # then 1 a week except 4 in week 14
    weeks = [2.0] * 13 + [1.0] * 52
    weeks[14] = 4.0
    return weeks


def test_pooled_factor_is_last_years_move_from_the_base_quarter_to_the_same_week():
    # origin t0 = week 65; t0 + h - 52 = week 13 + h. Base mean 2 (per series, before the
    # per-series scaling, which cancels). Centred 3-week means: h = 0 -> weeks 12-14:
    # (2 + 1 + 4) / 3; h = 1 -> 13-15: 2; h = 2 -> 14-16: 2; h = 3 -> 15-17: 1
    factors = pooled_seasonal_factors(_history(30, _weeks()), "week", 52, 4)
    assert factors["period_start"].to_list() == [
        FIRST + dt.timedelta(weeks=65 + h) for h in range(4)
    ]
    assert factors["seasonal_factor"].to_numpy() == pytest.approx([7 / 6, 1.0, 1.0, 0.5])


def test_pooled_factor_needs_enough_series_with_a_full_year_and_base():
    assert pooled_seasonal_factors(_history(29, _weeks()), "week", 52, 4).height == 0
    # 40 series, but starting at week 1 they miss the first base week: not counted
    late = _history(40, _weeks(), start_week=1)
    assert pooled_seasonal_factors(late, "week", 52, 4).height == 0
    # a weekly season on daily buckets is no yearly profile: no scaling
    assert pooled_seasonal_factors(_history(30, _weeks()), "day", 7, 4).height == 0


def test_intermittent_forecast_is_scaled_per_bucket_and_left_alone_past_the_factors():
    future = pl.DataFrame(
        {
            "unique_id": [1, 1, 1, 1, 1],
            "ds": [FIRST + dt.timedelta(weeks=65 + h) for h in range(5)],
            "forecast": [3.0] * 5,
        }
    )
    settings = Forecast(pooled_seasonality=True)
    scaled = with_pooled_seasonality(future, _history(30, _weeks()), settings, "week", 4)
    assert scaled["forecast"].to_numpy() == pytest.approx([3.5, 3.0, 3.0, 1.5, 3.0])
    assert np.array_equal(scaled.columns, future.columns)
