"""Stockout-censored demand: days on which sales did not measure demand.

A day with zero stock and zero sales is not a day of zero demand (docs/design.md §4). Which
days were out of stock comes from, by `censoring.method`:

- `snapshots`: a stock file with dated snapshots. A day is out of stock when the latest
  snapshot on or before it shows on_hand <= 0 and nothing sold that day.
- `inferred`: stock rebuilt backwards from the current snapshot with every sale and
  receipt: stock at the end of day t = on_hand now + sales after t - receipts after t.
  A day that starts at or below zero, receives nothing and sells nothing is out of stock.
  Only sound when the sales and purchase-order files hold every movement.
- `zero_runs` (no stock history): a run of k days without a sale is a stockout when it is
  improbable as chance, (1 - p)^k < `threshold`, p being the share of days with a sale in
  the `lookback_days` before the run (a Bernoulli / geometric gap test). Runs longer than
  `max_run_days` are a real change (a delisted or dead item), not censoring. A run still
  open at as_of counts only while the current stock is zero.
- `auto`: `snapshots` when the stock file has at least two dated snapshots, else
  `zero_runs`. `off`: none.

`demand.demand_history` then scales each bucket's sales up to the days that were in stock,
and imputes a bucket that was out of stock throughout (see there).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Censoring
from stockplan.demand import SERIES, in_series_blocks, series_date_order, series_keys
from stockplan.reorder import current_stock

EXCLUDED_SCHEMA = {"sku": pl.String, "location": pl.String, "date": pl.Date, "reason": pl.String}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=EXCLUDED_SCHEMA)


def daily_sales(sales: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Every day from each series' first sale to as_of - 1: sku, location, date, sold."""
    daily = (
        sales.filter(pl.col("date") < as_of)
        .group_by([*SERIES, "date"])
        .agg(pl.col("quantity").sum().alias("sold"))
    )
    if daily.height == 0:
        return daily
    last = as_of - dt.timedelta(days=1)
    return (
        daily.group_by(SERIES)
        .agg(pl.col("date").min().alias("first"))
        .with_columns(pl.date_ranges("first", pl.lit(last), "1d").alias("date"))
        .explode("date")
        .drop("first")
        .join(daily, on=[*SERIES, "date"], how="left")
        .with_columns(pl.col("sold").fill_null(0.0))
        .sort([*SERIES, "date"])
    )


def _has_snapshots(stock: pl.DataFrame) -> bool:
    """At least one series has two or more dated snapshots."""
    if "date" not in stock.columns:
        return False
    dates = stock.drop_nulls("date").group_by(SERIES).agg(pl.col("date").n_unique().alias("n"))
    return (dates["n"].max() or 0) >= 2


def _from_snapshots(days: pl.DataFrame, stock: pl.DataFrame) -> pl.DataFrame:
    snapshots = stock.drop_nulls("date").select(*SERIES, "date", "on_hand").sort("date")
    return (
        days.sort("date")
        .join_asof(snapshots, on="date", by=SERIES, strategy="backward", check_sortedness=False)
        .filter((pl.col("on_hand") <= 0) & (pl.col("sold") <= 0))
        .select(*SERIES, "date", pl.lit("stockout").alias("reason"))
    )


def _inferred(days: pl.DataFrame, current: pl.DataFrame, receipts: pl.DataFrame) -> pl.DataFrame:
    """Backward stock reconstruction from the current on_hand."""
    flows = (
        days.join(receipts, on=[*SERIES, "date"], how="left")
        .with_columns(pl.col("received").fill_null(0.0))
        .join(current.select(*SERIES, "on_hand"), on=SERIES, how="inner")
        .sort([*SERIES, "date"])
    )
    net_out = pl.col("sold") - pl.col("received")
    after = net_out.reverse().cum_sum().reverse().over(SERIES) - net_out
    end_of_day = pl.col("on_hand") + after
    start_of_day = end_of_day + net_out - pl.col("received")  # before today's receipt
    return flows.filter(
        (start_of_day <= 0) & (pl.col("received") <= 0) & (pl.col("sold") <= 0)
    ).select(*SERIES, "date", pl.lit("stockout").alias("reason"))


def _zero_runs(
    sales: pl.DataFrame, as_of: dt.date, current: pl.DataFrame, settings: Censoring
) -> pl.DataFrame:
    """Runs of days without a sale, found as the gaps between consecutive selling days
    (no daily grid: the work grows with sales lines, not with series x days)."""
    lookback = settings.lookback_days
    last_day = as_of - dt.timedelta(days=1)
    keys = series_keys(sales)
    rows = (
        sales.lazy()
        .filter(pl.col("date") < as_of)
        .select(*SERIES, "date", "quantity")
        .join(keys.lazy(), on=SERIES)
        .select("series_id", "date", "quantity")
        .collect()
    )
    on_hand = keys.join(current.select(*SERIES, "on_hand"), on=SERIES, how="left").select(
        "series_id", "on_hand"
    )

    def censored_runs(block: pl.LazyFrame) -> pl.LazyFrame:
        """start, end of the censored runs of one block of series."""
        selling = (
            block.group_by("series_id", "date")
            .agg(pl.col("quantity").sum().alias("sold"))
            .filter(pl.col("sold") > 0)
            .select("series_id", "date")
            .sort(series_date_order())  # one selling day per row: no ties
        )
        # in steps, each over as few columns as it needs: a selling day per row of
        # millions first gets the next selling day and the selling days in its lookback,
        # then only the rows that open a gap of two days or more get the rest
        one_day = pl.duration(days=1)
        same = pl.col("series_id") == pl.col("series_id").shift(-1)
        end = pl.coalesce(pl.col("next") - one_day, pl.lit(last_day))
        first = selling.group_by("series_id").agg(pl.col("date").min().alias("first"))
        runs = (
            selling.with_columns(
                pl.when(same).then(pl.col("date").shift(-1)).alias("next"),
                pl.col("date")
                .is_not_null()
                .cast(pl.Int32)
                .rolling_sum_by("date", window_size=f"{lookback}d")
                .over("series_id")
                .alias("sale_days"),
            )
            .filter((end - pl.col("date")).dt.total_days() >= 2)
            .with_columns(
                (pl.col("date") + one_day).alias("start"),
                end.alias("end"),
                pl.col("next").is_null().alias("open"),
            )
            .join(first, on="series_id")
            .with_columns(
                ((pl.col("end") - pl.col("start")).dt.total_days() + 1).alias("length"),
                (pl.col("start") - pl.col("first")).dt.total_days().alias("seen"),
            )
            .join(on_hand.lazy(), on="series_id", how="left")
        )
        share = pl.col("sale_days") / pl.min_horizontal(pl.col("seen"), pl.lit(lookback))
        unlikely = (1.0 - share).pow(pl.col("length")) < settings.threshold
        return runs.filter(
            (pl.col("seen") >= settings.min_history_days)
            & (pl.col("length") <= settings.max_run_days)
            & unlikely
            & (~pl.col("open") | (pl.col("on_hand").fill_null(0.0) <= 0))
        ).select("series_id", "start", "end")

    # every step is per series: run on blocks of series to bound the group-by's memory
    return (
        in_series_blocks(rows, keys.height, censored_runs)
        .join(keys, on="series_id")
        .with_columns(pl.date_ranges("start", "end", "1d").alias("date"))
        .explode("date")
        .select(*SERIES, "date", pl.lit("stockout").alias("reason"))
    )


def stockout_days(
    sales: pl.DataFrame,
    stock: pl.DataFrame,
    receipts: pl.DataFrame | None,
    as_of: dt.date,
    settings: Censoring,
) -> pl.DataFrame:
    """sku, location, date, reason='stockout' for each day whose sales are censored.

    `receipts`: sku, location, date, received (units booked in that day), for `inferred`.
    """
    method = settings.method
    if method == "off":
        return _empty()
    if method == "auto":
        method = "snapshots" if _has_snapshots(stock) else "zero_runs"
    current = current_stock(stock).select(*SERIES, "on_hand")
    if method == "zero_runs":
        return (
            _zero_runs(sales, as_of, current, settings)
            .cast(EXCLUDED_SCHEMA)
            .sort([*SERIES, "date"])
        )
    days = daily_sales(sales, as_of)
    if days.height == 0:
        return _empty()
    if method == "snapshots":
        found = _from_snapshots(days, stock) if "date" in stock.columns else _empty()
    elif method == "inferred":
        empty_receipts = pl.DataFrame(
            schema={
                "sku": pl.String,
                "location": pl.String,
                "date": pl.Date,
                "received": pl.Float64,
            }
        )
        found = _inferred(days, current, receipts if receipts is not None else empty_receipts)
    else:
        found = _empty()
    return found.cast(EXCLUDED_SCHEMA).unique().sort([*SERIES, "date"])
