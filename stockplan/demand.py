"""Demand history: sales order lines -> net demand per sku x location x bucket.

Returns (negative quantities) are netted against sales of the same bucket; a bucket
whose net is negative counts as zero demand, never negative. Buckets are calendar
days or ISO weeks (Monday start). Every series runs from its first sale to the last
complete bucket before `as_of`, with gaps filled by zero.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

SERIES = ["sku", "location"]
Bucket = Literal["day", "week"]
BUCKET_DAYS: dict[str, int] = {"day": 1, "week": 7}


def bucket_start(date: pl.Expr, bucket: Bucket) -> pl.Expr:
    """Start of the bucket holding `date`: the date itself, or the Monday of its ISO week."""
    return date if bucket == "day" else date.dt.truncate("1w")


def default_as_of(sales: pl.DataFrame) -> dt.date:
    """The planning date when none is configured: the day after the last sale."""
    return sales["date"].max() + dt.timedelta(days=1)


def history_end(as_of: dt.date, bucket: Bucket) -> dt.date:
    """Start of the last complete bucket before `as_of` (a partial bucket is not used)."""
    current = pl.select(bucket_start(pl.lit(as_of), bucket)).item()
    return current - dt.timedelta(days=BUCKET_DAYS[bucket])


def demand_history(sales: pl.DataFrame, as_of: dt.date, bucket: Bucket) -> pl.DataFrame:
    """Net demand per sku x location x `period_start`, zero-filled; columns also carry revenue.

    Output columns: sku, location, period_start, demand, revenue (revenue is null when the
    sales table has neither revenue nor unit_price).
    """
    last_period = history_end(as_of, bucket)
    revenue = (
        pl.col("revenue")
        if "revenue" in sales.columns
        else (pl.col("quantity") * pl.col("unit_price") if "unit_price" in sales.columns else None)
    )
    lines = sales.filter(pl.col("date") < as_of).select(
        *SERIES,
        bucket_start(pl.col("date"), bucket).alias("period_start"),
        pl.col("quantity"),
        (revenue if revenue is not None else pl.lit(None, pl.Float64)).alias("revenue"),
    )
    netted = (
        lines.filter(pl.col("period_start") <= last_period)
        .group_by([*SERIES, "period_start"])
        .agg(
            pl.col("quantity").sum().clip(lower_bound=0).alias("demand"),
            pl.col("revenue").sum().alias("revenue"),
        )
    )
    first = netted.group_by(SERIES).agg(pl.col("period_start").min().alias("first_period"))
    if first.height == 0:
        return pl.DataFrame(
            schema={
                "sku": pl.String,
                "location": pl.String,
                "period_start": pl.Date,
                "demand": pl.Float64,
                "revenue": pl.Float64,
            }
        )
    every = f"{BUCKET_DAYS[bucket]}d"
    periods = pl.DataFrame(
        {"period_start": pl.date_range(first["first_period"].min(), last_period, every, eager=True)}
    )
    grid = first.join(periods, how="cross").filter(pl.col("period_start") >= pl.col("first_period"))
    return (
        grid.join(netted, on=[*SERIES, "period_start"], how="left")
        .select(
            *SERIES,
            "period_start",
            pl.col("demand").fill_null(0.0),
            pl.col("revenue").fill_null(0.0) if revenue is not None else pl.col("revenue"),
        )
        .sort([*SERIES, "period_start"])
    )
