"""n identical smooth series with one calibration origin each, shared by the small
calibration tests."""

from __future__ import annotations

import datetime as dt

import polars as pl


def one_origin_windows(
    n: int, origin: dt.date, rate_per_day: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(keys, windows): series "0" .. "n-1" at location W, smooth, each with one backtest
    window at `origin` forecast at `rate_per_day`."""
    skus = [str(i) for i in range(n)]
    keys = pl.DataFrame({"sku": skus, "location": ["W"] * n, "demand_pattern": ["smooth"] * n})
    windows = pl.DataFrame(
        {
            "sku": skus,
            "location": ["W"] * n,
            "origin": [origin] * n,
            "rate_per_day": [rate_per_day] * n,
        }
    )
    return keys, windows
