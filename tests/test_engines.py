"""The forecast stage on a local Dask cluster gives the local engine's result."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from stockplan.classify import classify_demand
from stockplan.config import Classify, Forecast, parse_config
from stockplan.errors import StockplanError
from stockplan.forecast import forecast_demand

pytest.importorskip("distributed", reason="the dask extra is part of the test extras")

AS_OF = dt.date(2025, 10, 13)


def _history() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    weeks = 60
    start = AS_OF - dt.timedelta(weeks=weeks)
    frames = []
    for index in range(8):
        if index % 2:
            demand = np.where(rng.random(weeks) < 0.3, rng.integers(1, 5, weeks), 0)
        else:
            demand = rng.poisson(10 + 3 * index, weeks)
        frames.append(
            pl.DataFrame(
                {
                    "sku": f"S{index}",
                    "location": "W",
                    "period_start": [start + dt.timedelta(weeks=i) for i in range(weeks)],
                    "demand": demand.astype(float),
                    "revenue": demand.astype(float),
                }
            )
        )
    return pl.concat(frames)


def test_dask_engine_gives_the_local_result():
    history = _history()
    classes = classify_demand(history, AS_OF, "week", Classify())
    local = Forecast(backtest_windows=2)
    remote = Forecast(backtest_windows=2, engine="dask")
    forecast_local, summary_local = forecast_demand(history, classes, "week", local, 6)
    forecast_dask, summary_dask = forecast_demand(history, classes, "week", remote, 6)
    assert summary_local.height == 8
    assert summary_dask["model"].to_list() == summary_local["model"].to_list()
    assert np.allclose(summary_dask["sigma_e"], summary_local["sigma_e"], rtol=1e-6)
    assert forecast_dask.select("sku", "location", "period_start").equals(
        forecast_local.select("sku", "location", "period_start")
    )
    # the same fits on other processes: equal up to floating-point summation order
    assert np.allclose(forecast_dask["forecast"], forecast_local["forecast"], rtol=1e-6)


def test_unknown_engine_is_a_config_error():
    with pytest.raises(StockplanError, match="forecast.engine"):
        parse_config(
            {"inputs": {"sales": "s.csv", "stock": "k.csv"}, "forecast": {"engine": "hadoop"}}
        )
