"""The forecast demand of the days of the first bucket that have gone by at as_of.

A planning date inside a bucket [p, p + b) leaves d0 = as_of - p of its days behind. The
bucket's forecast f carries a promotion's lift or an override on the days they fall on,
so the demand left in the bucket is not f x (b - d0) / b but f - e, e the demand of the
days before as_of counted day by day (`ELAPSED`):

    v_d  = f0 / b x (1 + sum of the lifts of the promotions running on day d)
    v'_d = max(v_d + sum over the overrides on day d of (q / W - v_d  or  v_d x (m - 1)), 0)
    e    = min(sum over p <= d < as_of of v'_d, f)

f0 being the statistical bucket forecast before promotions (`promotions.apply_promotions`,
`overrides.apply_overrides` change f by these same day terms over the whole bucket).
The days from as_of on then share f - e evenly (`reorder.window_demand`,
`risk.demand_rates`); e = 0 for a bucket starting on or after as_of.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from stockplan.demand import SERIES

if TYPE_CHECKING:  # `reorder` and `risk` (which `explain` reads) import only ELAPSED
    from stockplan.config import Promotions

ELAPSED = "demand_before_as_of"
"""Column of the forecast path (and the forecast table) when as_of falls inside a bucket:
the demand of the bucket's days before as_of (0 for the later buckets; null read as 0)."""


def demand_inside(
    forecast: pl.Expr, days_inside: pl.Expr, gone: pl.Expr, bucket_days: int, carries: bool
) -> pl.Expr:
    """A bucket's demand over `days_inside` of its days from as_of on: f x days / b; for the
    bucket holding as_of, `gone` = d0 of its days behind (0 < d0 < b), where the forecast
    `carries` `ELAPSED` e: (f - e) x days / (b - d0). The protection window
    (`reorder.window_demand`) and the risk path (`risk.demand_rates`) count it alike."""
    whole = forecast * days_inside / bucket_days
    if not carries:
        return whole
    left = forecast - pl.col(ELAPSED).fill_null(0.0)
    return (
        pl.when((gone > 0) & (gone < bucket_days))
        .then(left * days_inside / (bucket_days - gone))
        .otherwise(whole)
    )


def with_elapsed_demand(
    forecast: pl.DataFrame,
    base: pl.DataFrame,
    promotions: pl.DataFrame | None,
    products: pl.DataFrame | None,
    uplift: pl.DataFrame,
    overrides: pl.DataFrame | None,
    as_of: dt.date,
    bucket_days: int,
    settings: Promotions,
) -> pl.DataFrame:
    """`forecast` (lifted, overridden) with `ELAPSED` e (module docstring); `base` the
    statistical forecast f0 before promotions and overrides."""
    from stockplan.overrides import for_series, override_table
    from stockplan.promotions import planned_lifts

    last = as_of - dt.timedelta(days=1)
    start = pl.col("period_start")
    days = (
        forecast.select(*SERIES, "period_start")
        .filter((start < pl.lit(as_of)) & (start + pl.duration(days=bucket_days) > pl.lit(as_of)))
        .join(
            base.select(*SERIES, "period_start", "forecast"),
            on=[*SERIES, "period_start"],
            how="left",
        )
        .select(
            *SERIES,
            "period_start",
            (pl.col("forecast").fill_null(0.0) / bucket_days).alias("rate"),
            pl.date_ranges("period_start", pl.lit(last), "1d").alias("date"),
        )
        .explode("date")
    )
    if days.height == 0:  # as_of opens its bucket: no column, the path as it was
        return forecast
    on_day = (pl.col("start") <= pl.col("date")) & (pl.col("date") <= pl.col("end"))
    lifts = planned_lifts(days.select(SERIES).unique(), promotions, products, uplift, settings)
    lifted = (
        days.join(
            days.join(lifts, on=SERIES)
            .filter(on_day)
            .group_by(*SERIES, "date")
            .agg(pl.col("lift").sum()),
            on=[*SERIES, "date"],
            how="left",
        )
        .with_columns((pl.col("rate") * (1.0 + pl.col("lift").fill_null(0.0))).alias("value"))
        .drop("lift")
    )
    if overrides is not None and overrides.height:
        table = for_series(override_table(overrides), lifted.select(SERIES).unique())
        change = (
            lifted.select(*SERIES, "date", "value")
            .join(
                table.select(*SERIES, "start", "end", "quantity", "multiplier", "window_days"),
                on=SERIES,
            )
            .filter(on_day)
            .group_by(*SERIES, "date")
            .agg(
                pl.when(pl.col("quantity").is_not_null())
                .then(pl.col("quantity") / pl.col("window_days") - pl.col("value"))
                .otherwise(pl.col("value") * (pl.col("multiplier") - 1.0))
                .sum()
                .alias("change")
            )
        )
        lifted = lifted.join(change, on=[*SERIES, "date"], how="left").with_columns(
            (pl.col("value") + pl.col("change").fill_null(0.0)).clip(lower_bound=0.0).alias("value")
        )
    elapsed = lifted.group_by(*SERIES, "period_start").agg(pl.col("value").sum().alias(ELAPSED))
    return forecast.join(elapsed, on=[*SERIES, "period_start"], how="left").with_columns(
        pl.min_horizontal(
            pl.col(ELAPSED).fill_null(0.0), pl.col("forecast").clip(lower_bound=0.0)
        ).alias(ELAPSED)
    )
