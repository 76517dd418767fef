"""Planner overrides of the forecast (overrides table: sku, location, start, end, quantity or
multiplier, reason, author).

A window [start, end] of W days (both ends included) changes each forecast bucket
[p, p + b) it overlaps by o days:

    quantity q:     f' = f x (1 - o / b) + q x o / W      (q spread evenly over the window)
    multiplier m:   f' = f x (1 + (m - 1) x o / b)

lo and hi scale with f' / f (both become f' when f is 0). A window that has ended
overlaps no future bucket: the override expires on its own. A row without a location
applies to the item at every location.

Forecast value added (FVA) of a past override, on the days of its window before as_of:

    FVA = |statistical - actual| - |override - actual|

positive when the planner's figure was closer to what sold than the statistical
forecast made as of the window's start. Over the s scored days the planner's figure is
q x s / W for a quantity and m x statistical for a multiplier; the statistical forecast
is its per-day share of the buckets the days fall in.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.demand import SERIES

SCORE_COLUMNS = [
    "sku",
    "location",
    "start",
    "end",
    "author",
    "override_reason",
    "override",
    "scored_days",
    "actual",
    "statistical_forecast",
    "override_forecast",
    "statistical_error",
    "override_error",
    "forecast_value_added",
    "verdict",
]


def _clean(expr: pl.Expr) -> pl.Expr:
    """Free text safe inside a reason clause (no '; ' separators), empty (null) when blank:
    the clause then leaves it out and the overrides table shows an empty cell."""
    text = expr.cast(pl.String).str.replace_all(";", ",").str.strip_chars()
    return pl.when(text == "").then(pl.lit(None, pl.String)).otherwise(text)


def override_table(overrides: pl.DataFrame) -> pl.DataFrame:
    """Canonical overrides: sku, location (null: every), start, end, quantity, multiplier,
    reason, author, window_days, and `override` describing it ('set to 500' / 'x 1.5')."""

    def col(name: str, dtype: pl.DataType) -> pl.Expr:
        value = pl.col(name) if name in overrides.columns else pl.lit(None)
        return value.cast(dtype).alias(name)

    frame = overrides.select(
        "sku",
        col("location", pl.String),
        "start",
        "end",
        col("quantity", pl.Float64),
        col("multiplier", pl.Float64),
        _clean(col("reason", pl.String)).alias("reason"),
        _clean(col("author", pl.String)).alias("author"),
    ).with_row_index("override_id")

    def short(name: str) -> pl.Expr:
        return pl.col(name).round(2).cast(pl.String).str.replace(r"\.0$", "")

    return frame.with_columns(
        ((pl.col("end") - pl.col("start")).dt.total_days() + 1)
        .cast(pl.Float64)
        .alias("window_days"),
        pl.when(pl.col("quantity").is_not_null())
        .then(pl.format("set to {}", short("quantity")))
        .otherwise(pl.format("x {}", short("multiplier")))
        .alias("override"),
    )


def for_series(overrides: pl.DataFrame, series: pl.DataFrame) -> pl.DataFrame:
    """Overrides matched to sku x location (a row without a location: every location)."""
    return (
        overrides.join(series.select(SERIES).unique(), on="sku", suffix="_series")
        .filter(pl.col("location").is_null() | (pl.col("location") == pl.col("location_series")))
        .with_columns(pl.col("location_series").alias("location"))
        .drop("location_series")
    )


def apply_overrides(
    forecast: pl.DataFrame,
    overrides: pl.DataFrame | None,
    bucket_days: int,
    series: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The forecast with overrides applied (module docstring); same columns.

    `series` (sku, location): items planned without a statistical forecast (stocked, never
    sold) that an override may still give one; they get zero-forecast buckets first.
    """
    if overrides is None or overrides.height == 0:
        return forecast
    table = overrides if "window_days" in overrides.columns else override_table(overrides)
    if series is not None and forecast.height:
        missing = (
            for_series(table, series)
            .select(SERIES)
            .unique()
            .join(forecast.select(SERIES).unique(), on=SERIES, how="anti")
        )
        if missing.height:
            grid = missing.join(forecast.select("period_start").unique(), how="cross")
            blank = grid.with_columns(
                *[
                    pl.lit(0.0).alias(c)
                    if c in ("forecast", "lo", "hi")
                    else pl.lit(None, forecast.schema[c]).alias(c)
                    for c in forecast.columns
                    if c not in (*SERIES, "period_start")
                ]
            )
            if "model" in forecast.columns:
                blank = blank.with_columns(pl.lit("Override").alias("model"))
            forecast = pl.concat([forecast, blank.select(forecast.columns)], how="vertical_relaxed")
    matched = for_series(table, forecast)
    end = pl.col("end") + pl.duration(days=1)
    bucket_end = pl.col("period_start") + pl.duration(days=bucket_days)
    overlap = (
        (pl.min_horizontal(end, bucket_end) - pl.max_horizontal("start", "period_start"))
        .dt.total_days()
        .clip(lower_bound=0)
        .cast(pl.Float64)
    )
    share = pl.col("overlap") / bucket_days
    delta = (
        forecast.select(*SERIES, "period_start", "forecast")
        .join(matched, on=SERIES)
        .with_columns(overlap.alias("overlap"))
        .filter(pl.col("overlap") > 0)
        .with_columns(
            pl.when(pl.col("quantity").is_not_null())
            .then(
                pl.col("quantity") * pl.col("overlap") / pl.col("window_days")
                - pl.col("forecast") * share
            )
            .otherwise(pl.col("forecast") * (pl.col("multiplier") - 1.0) * share)
            .alias("delta")
        )
        .group_by(*SERIES, "period_start")
        .agg(pl.col("delta").sum())
    )
    new = (pl.col("forecast") + pl.col("delta").fill_null(0.0)).clip(lower_bound=0.0)
    ratio = pl.col("new") / pl.col("forecast")
    return (
        forecast.join(delta, on=[*SERIES, "period_start"], how="left")
        .with_columns(new.alias("new"))
        .with_columns(
            *[
                pl.when(pl.col("delta").is_null())
                .then(pl.col(c))
                .when(pl.col("forecast") > 0)
                .then(pl.col(c) * ratio)
                .otherwise(pl.col("new"))
                .alias(c)
                for c in ("lo", "hi")
                if c in forecast.columns
            ],
            pl.col("new").alias("forecast"),
        )
        .select(forecast.columns)
    )


def active_overrides(
    overrides: pl.DataFrame | None, series: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    """SERIES, forecast_override, override_clauses: the overrides not yet expired
    (end on or after as_of), described for the order row and its reason."""
    schema = {
        "sku": pl.String,
        "location": pl.String,
        "forecast_override": pl.String,
        "override_clauses": pl.String,
    }
    if overrides is None or overrides.height == 0:
        return pl.DataFrame(schema=schema)
    table = override_table(overrides).filter(pl.col("end") >= pl.lit(as_of))
    clause = pl.concat_str(  # a blank author or reason (null) is left out
        pl.format(
            "forecast {} for {} to {}",
            "override",
            pl.col("start").cast(pl.String),
            pl.col("end").cast(pl.String),
        ),
        pl.format(" by {}", "author"),
        pl.format(" ({})", "reason"),
        ignore_nulls=True,
    )
    return (
        for_series(table, series)
        .sort("start")
        .group_by(SERIES, maintain_order=True)
        .agg(
            clause.str.join("; ").alias("forecast_override"),
            clause.str.join("; ").alias("override_clauses"),
        )
        .select(list(schema))
    )


def with_override_reasons(orders: pl.DataFrame, active: pl.DataFrame) -> pl.DataFrame:
    """Order rows whose reason ends with a clause per active override."""
    if active.height == 0:
        return orders
    return (
        orders.join(active.select(*SERIES, "override_clauses"), on=SERIES, how="left")
        .with_columns(
            pl.when(pl.col("override_clauses").is_not_null())
            .then(pl.concat_str("reason", pl.lit("; "), "override_clauses"))
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
        .select(orders.columns)
    )


def override_forecast() -> pl.Expr:
    """The planner's figure for the scored days: q x scored_days / W, or m x statistical."""
    return (
        pl.when(pl.col("quantity").is_not_null())
        .then(pl.col("quantity") * pl.col("scored_days") / pl.col("window_days"))
        .otherwise(pl.col("multiplier") * pl.col("statistical_forecast"))
        .alias("override_forecast")
    )


def score_overrides(scored: pl.DataFrame) -> pl.DataFrame:
    """FVA per override from sku, location, start, end, author, reason, override,
    scored_days, actual, statistical_forecast, override_forecast (module docstring)."""
    stat_error = (pl.col("statistical_forecast") - pl.col("actual")).abs()
    override_error = (pl.col("override_forecast") - pl.col("actual")).abs()
    fva = pl.col("statistical_error") - pl.col("override_error")
    return (
        scored.with_columns(
            stat_error.alias("statistical_error"), override_error.alias("override_error")
        )
        .with_columns(fva.alias("forecast_value_added"))
        .with_columns(
            pl.when(pl.col("forecast_value_added") > 1e-9)
            .then(pl.lit("added value"))
            .when(pl.col("forecast_value_added") < -1e-9)
            .then(pl.lit("made it worse"))
            .otherwise(pl.lit("no difference"))
            .alias("verdict"),
            pl.col("reason").alias("override_reason"),
        )
        .sort(["start", "sku", "location"])
        .select(SCORE_COLUMNS)
    )


def actual_sales(sales: pl.DataFrame, windows: pl.DataFrame) -> pl.DataFrame:
    """override_id, sku, location, actual: net units sold in each window's scored days
    (`windows`: override_id, sku, location, start, scored_end)."""
    inside = (
        windows.select("override_id", *SERIES, "start", "scored_end")
        .join(sales.select(*SERIES, "date", pl.col("quantity").alias("sold")), on=SERIES)
        .filter((pl.col("date") >= pl.col("start")) & (pl.col("date") <= pl.col("scored_end")))
        .group_by("override_id", *SERIES)
        .agg(pl.col("sold").sum().cast(pl.Float64).alias("actual"))
    )
    return (
        windows.select("override_id", *SERIES)
        .join(inside, on=["override_id", *SERIES], how="left")
        .with_columns(pl.col("actual").fill_null(0.0).clip(lower_bound=0.0))
    )
