"""Demand classification per sku x location.

- Demand pattern (Syntetos, Boylan & Croston 2005): ADI = periods / periods with demand,
  CV^2 = squared coefficient of variation of the non-zero demand sizes.
  smooth: ADI < 1.32 and CV^2 < 0.49; erratic: ADI < 1.32, CV^2 >= 0.49;
  intermittent: ADI >= 1.32, CV^2 < 0.49; lumpy: both at or above the cut-offs.
  Series with fewer than `new_item_periods` buckets are `new`; series with no demand
  over the last `dead_item_days` are `dead`; series that never sold are `none`.
- ABC by value over the last year: A holds the first 80 % of cumulative value, B the
  next 15 %, C the rest (cut-offs configurable).
- XYZ by variability: CV of per-bucket demand over the last year; X < 0.5 <= Y < 1.0 <= Z.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Classify
from stockplan.demand import BUCKET_DAYS, SERIES, Bucket

PATTERNS = ("smooth", "erratic", "intermittent", "lumpy", "new", "dead", "none")


def in_value_order(values: pl.DataFrame) -> pl.DataFrame:
    """`values` (sku, location, annual_value, ...) highest value first, ties to 1e-6 by sku
    and location: ranked on the value to 1e-6, since a multi-threaded sum adds its parts in
    no fixed order, so equal values can differ in their last bits from run to run."""
    return values.sort([pl.col("annual_value").round(6), *SERIES], descending=[True, False, False])


def abc_by_value(values: pl.DataFrame, settings: Classify) -> pl.DataFrame:
    """`values` (sku, location, annual_value, ...) ranked by value, highest first (ties,
    to 1e-6, by sku and location), with
    `abc`: A while the share of value before the series is under the first cut-off, B
    under the second, else C (and C without value)."""
    a_cut, b_cut = settings.abc_cutoffs
    ranked = in_value_order(values)
    total = ranked["annual_value"].sum()
    # share of value *before* this item: the item that crosses 80 % is still an A item
    before = (pl.col("annual_value").cum_sum() - pl.col("annual_value")) / (total if total else 1.0)
    return ranked.with_columns(
        pl.when(pl.col("annual_value") <= 0)
        .then(pl.lit("C"))
        .when(before < a_cut)
        .then(pl.lit("A"))
        .when(before < b_cut)
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .alias("abc")
    )


def classify_demand(
    history: pl.DataFrame,
    as_of: dt.date,
    bucket: Bucket,
    settings: Classify,
    unit_value: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per series: n_periods, adi, cv2, demand_pattern, annual_value, abc_basis, abc,
    xyz, cv.

    `unit_value` (sku, unit_value) prices quantity when sales carry no revenue; a series
    with unpriced sales and no unit value counts them as units (abc_basis `units`). With
    an own_share column (`bom.with_own_share`) a bucket without revenue is valued on its
    demand x own_share only: a component's units sold in kits carry no revenue of its own.
    """
    days = BUCKET_DAYS[bucket]
    year_start = as_of - dt.timedelta(days=364)
    dead_start = as_of - dt.timedelta(days=settings.dead_item_days)
    in_year = pl.col("period_start") >= year_start
    priced = pl.col("revenue").is_not_null() & (pl.col("revenue") > 0)
    nonzero = pl.col("demand").filter(pl.col("demand") > 0)
    own = (
        pl.col("demand") * pl.col("own_share")
        if "own_share" in history.columns
        else pl.col("demand")
    )
    stats = history.group_by(SERIES).agg(
        pl.len().alias("n_periods"),
        (pl.col("demand") > 0).sum().alias("n_demand_periods"),
        (nonzero.std(ddof=0) / nonzero.mean()).pow(2).alias("cv2"),
        pl.col("demand").filter(in_year).mean().alias("mean_demand"),
        (
            pl.col("demand").filter(in_year).std(ddof=0) / pl.col("demand").filter(in_year).mean()
        ).alias("cv"),
        pl.col("revenue").filter(in_year & priced).sum().alias("annual_revenue"),
        own.filter(in_year & ~priced).sum().alias("unpriced_demand"),
        pl.col("demand")
        .filter(pl.col("period_start") + pl.duration(days=days) > dead_start)
        .sum()
        .alias("recent_demand"),
    )
    # value = revenue where the bucket has it, else demand x unit value (1 without one);
    # priced per series after the group-by, not joined onto every bucket of the history
    if unit_value is not None:
        stats = stats.join(unit_value, on="sku", how="left")
    else:
        stats = stats.with_columns(pl.lit(None, pl.Float64).alias("unit_value"))
    stats = stats.with_columns(
        (
            pl.col("annual_revenue")
            + pl.col("unpriced_demand") * pl.col("unit_value").fill_null(1.0)
        ).alias("annual_value"),
        # what annual_value measures: money, or (some of) it units sold without a revenue,
        # price or cost to value them by, which the buyer must not read as money
        pl.when((pl.col("unpriced_demand") > 0) & pl.col("unit_value").is_null())
        .then(pl.lit("units"))
        .otherwise(pl.lit("value"))
        .alias("abc_basis"),
    )
    stats = stats.with_columns(
        (pl.col("n_periods") / pl.col("n_demand_periods")).alias("adi"),
        # one bucket with demand: no spread (0); no bucket with demand: undefined (null)
        pl.when(pl.col("n_demand_periods") > 0).then(pl.col("cv2").fill_null(0.0).fill_nan(0.0)),
        pl.col("annual_value").fill_null(0.0),
    )
    pattern = (
        pl.when(pl.col("n_demand_periods") == 0)
        .then(pl.lit("none"))
        .when(pl.col("recent_demand") <= 0)
        .then(pl.lit("dead"))
        .when(pl.col("n_periods") < settings.new_item_periods)
        .then(pl.lit("new"))
        .when(pl.col("adi") < settings.adi_cutoff)
        .then(
            pl.when(pl.col("cv2") < settings.cv2_cutoff)
            .then(pl.lit("smooth"))
            .otherwise(pl.lit("erratic"))
        )
        .otherwise(
            pl.when(pl.col("cv2") < settings.cv2_cutoff)
            .then(pl.lit("intermittent"))
            .otherwise(pl.lit("lumpy"))
        )
    )
    x_cut, y_cut = settings.xyz_cutoffs
    return (
        abc_by_value(stats, settings)
        .with_columns(
            pattern.alias("demand_pattern"),
            pl.when(pl.col("cv").is_null() | pl.col("cv").is_nan() | (pl.col("cv") >= y_cut))
            .then(pl.lit("Z"))
            .when(pl.col("cv") >= x_cut)
            .then(pl.lit("Y"))
            .otherwise(pl.lit("X"))
            .alias("xyz"),
        )
        .select(
            *SERIES,
            "demand_pattern",
            "abc",
            "xyz",
            "n_periods",
            "adi",
            "cv2",
            "cv",
            "mean_demand",
            "annual_value",
            "abc_basis",
        )
    )


def with_unsold_series(classes: pl.DataFrame, series: pl.DataFrame) -> pl.DataFrame:
    """`classes` with a row for each series of `series` (sku, location: the plan's rows, or
    the stock and purchase orders) that has no demand history, as the plan classes it:
    pattern `none`, abc C, xyz Z, no buckets (n_periods 0 and no stockout or promotion
    bucket), mean_demand and annual_value 0; adi, cv2 and cv undefined (empty). After the
    classified series, by sku and location."""
    unsold = series.select(SERIES).unique().join(classes.select(SERIES), on=SERIES, how="anti")
    if unsold.height == 0:
        return classes
    known = {
        "demand_pattern": "none",
        "abc": "C",
        "xyz": "Z",
        "n_periods": 0,
        "stockout_periods": 0,
        "promo_periods": 0,
        "mean_demand": 0.0,
        "annual_value": 0.0,
        "abc_basis": "value",
    }
    rows = unsold.sort(SERIES).select(
        [
            pl.col(name) if name in SERIES else pl.lit(known.get(name)).cast(dtype).alias(name)
            for name, dtype in classes.schema.items()
        ]
    )
    return pl.concat([classes, rows])
