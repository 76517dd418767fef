"""Promotions: keep past promotions out of the baseline, lift the forecast for planned ones.

- Past promotion days: sales lines flagged in a `promo` column (any value but empty,
  0, no, false, 否), and the days of promotions-table windows before as_of. They are
  excluded from the baseline like stockout days (see `demand.demand_history`).
- Measured lift: promo-day sales / their baseline - 1, the baseline being the censored,
  promotion-free demand estimate of the same bucket; per series when it sold enough on promotion
  (`min_promo_units` on `min_promo_days`), else pooled over its category; never below 0.
- Planned promotions (the promotions table: sku or category, start, end, optional
  location and uplift; no location = every location) multiply the forecast of each
  bucket by 1 + sum(uplift x share of the bucket's days inside the window), uplift being
  the row's own, else the series' measured lift, else `promotions.default_uplift` (or,
  with `unmeasured_uplift: pooled`, the measured categories' lifts pooled with it).
- Lift risk (`lift_risk`): a lift neither given nor measured is uncertain; its error's
  standard deviation in units over L + R (`promo_lift_risk`) raises safety stock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy import stats

from stockplan.config import Promotions
from stockplan.demand import SERIES, series_keys
from stockplan.leadtime import review_days_of

NOT_PROMO = ["", "0", "0.0", "no", "n", "false", "f", "否", "无", "none"]


def _windows(
    promotions: pl.DataFrame | None,
    products: pl.DataFrame | None,
    series: pl.DataFrame,
) -> pl.DataFrame:
    """Promotion windows expanded to sku x location: sku, location, start, end, uplift."""
    schema = {
        "sku": pl.String,
        "location": pl.String,
        "start": pl.Date,
        "end": pl.Date,
        "uplift": pl.Float64,
    }
    if promotions is None or promotions.height == 0:
        return pl.DataFrame(schema=schema)

    def column(name: str, dtype: pl.DataType) -> pl.Expr:
        return pl.col(name) if name in promotions.columns else pl.lit(None, dtype)

    rows = promotions.select(
        column("sku", pl.String).alias("sku"),
        column("category", pl.String).alias("category"),
        "start",
        "end",
        column("location", pl.String).alias("promo_location"),
        column("uplift", pl.Float64).cast(pl.Float64).alias("uplift"),
    )
    by_sku = rows.filter(pl.col("sku").is_not_null()).drop("category")
    if products is not None and "category" in products.columns:
        by_category = (
            rows.filter(pl.col("sku").is_null() & pl.col("category").is_not_null())
            .drop("sku")
            .join(products.select("sku", "category"), on="category")
            .drop("category")
        )
        by_sku = pl.concat([by_sku, by_category.select(by_sku.columns)])
    return (
        by_sku.join(series.select(SERIES).unique(), on="sku")
        .filter(
            pl.col("promo_location").is_null() | (pl.col("promo_location") == pl.col("location"))
        )
        .select(*schema)
        .cast(schema)
    )


def promotion_days(
    sales: pl.DataFrame,
    promotions: pl.DataFrame | None,
    products: pl.DataFrame | None,
    as_of: dt.date,
) -> pl.DataFrame:
    """sku, location, date, reason='promotion' for each past promotion day."""
    flagged = (
        sales.lazy()  # lazy: an eager filter copies every sales line
        .filter(
            pl.col("promo").is_not_null()
            & ~pl.col("promo").str.strip_chars().str.to_lowercase().is_in(NOT_PROMO)
            & (pl.col("date") < as_of)
        )
        .select(*SERIES, "date")
        .collect()
        if "promo" in sales.columns
        else pl.DataFrame(schema={"sku": pl.String, "location": pl.String, "date": pl.Date})
    )
    last = as_of - dt.timedelta(days=1)
    past = (
        _windows(promotions, products, series_keys(sales).select(SERIES))
        .filter(pl.col("start") <= last)
        .with_columns(
            pl.date_ranges("start", pl.min_horizontal("end", pl.lit(last)), "1d").alias("date")
        )
        .explode("date")
        .select(*SERIES, "date")
    )
    return (
        pl.concat([flagged, past])
        .unique()
        .with_columns(pl.lit("promotion").alias("reason"))
        .sort([*SERIES, "date"])
    )


def measured_uplift(
    sales: pl.DataFrame,
    promo_days: pl.DataFrame,
    history: pl.DataFrame,
    products: pl.DataFrame | None,
    bucket_days: int,
    settings: Promotions,
) -> pl.DataFrame:
    """sku, location, measured_uplift from past promotions.

    lift = promo units / expected units - 1, a ratio of sums, expected units being the
    baseline (promotion-free estimate) of each promotion day's own bucket: per series when
    it sold at least `min_promo_units` on at least `min_promo_days` promotion days, else
    pooled over the series of its product category; never below 0.
    (`uplift_sums`, then `uplift_from` with these series' own category sums.)
    """
    sums = uplift_sums(sales, promo_days, history, bucket_days)
    return uplift_from(sums, history, products, settings)


UPLIFT_SUMS = {
    "sku": pl.String,
    "location": pl.String,
    "n_promo_days": pl.UInt32,
    "expected_units": pl.Float64,
    "promo_units": pl.Float64,
}


def uplift_sums(
    sales: pl.DataFrame, promo_days: pl.DataFrame, history: pl.DataFrame, bucket_days: int
) -> pl.DataFrame:
    """sku, location, n_promo_days, expected_units, promo_units of every series with past
    promotion days (`measured_uplift`)."""
    if promo_days.height == 0:  # no promotion day: nothing to measure, no pass over sales
        return pl.DataFrame(schema=UPLIFT_SUMS)
    sold = (
        sales.lazy()  # lazy: only the joined columns of the promotion days' lines
        .select(*SERIES, "date", "quantity")
        .join(promo_days.lazy().select(*SERIES, "date").unique(), on=[*SERIES, "date"])
        .group_by(SERIES)
        .agg(pl.col("quantity").sum().alias("promo_units"))
        .collect()
    )
    # baseline of a promotion day: its bucket's promotion-free demand estimate, per day
    bucket_of = history.select(
        *SERIES, "period_start", (pl.col("demand") / bucket_days).alias("baseline_rate")
    ).sort("period_start")
    expected = (
        promo_days.select(*SERIES, "date")
        .unique()
        .sort("date")
        .join_asof(
            bucket_of,
            left_on="date",
            right_on="period_start",
            by=SERIES,
            strategy="backward",
            check_sortedness=False,
        )
        .group_by(SERIES)
        .agg(
            pl.len().alias("n_promo_days"),
            pl.col("baseline_rate").sum().alias("expected_units"),
        )
    )
    return (
        expected.join(sold, on=SERIES, how="left")
        .with_columns(pl.col("promo_units").fill_null(0.0))
        .drop_nulls("expected_units")
        .select(list(UPLIFT_SUMS))
        .cast(UPLIFT_SUMS)
        .sort(SERIES)
    )


def category_uplift_sums(sums: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    """category, promo_units, expected_units, n_promo_days: `uplift_sums` added up per
    product category (those of several sets of series add up again)."""
    schema = {
        "category": pl.String,
        "promo_units": pl.Float64,
        "expected_units": pl.Float64,
        "n_promo_days": pl.UInt32,
    }
    if products is None or "category" not in products.columns or sums.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        sums.join(products.select("sku", "category"), on="sku")
        .group_by("category")
        .agg(
            pl.col("promo_units").sum(),
            pl.col("expected_units").sum(),
            pl.col("n_promo_days").sum(),
        )
        .select(list(schema))
        .cast(schema)
    )


def uplift_from(
    sums: pl.DataFrame,
    history: pl.DataFrame,
    products: pl.DataFrame | None,
    settings: Promotions,
    category_sums: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """sku, location, measured_uplift of `measured_uplift` from the series' `uplift_sums`,
    the category lift from `category_sums` (`category_uplift_sums` of more series than
    these, when given; else of these)."""
    if category_sums is None:
        category_sums = category_uplift_sums(sums, products)
    if sums.height == 0 and category_sums.height == 0:
        return pl.DataFrame(
            schema={"sku": pl.String, "location": pl.String, "measured_uplift": pl.Float64}
        )
    lift = (pl.col("promo_units") / pl.col("expected_units") - 1.0).clip(lower_bound=0.0)
    own = sums.filter(
        (pl.col("n_promo_days") >= settings.min_promo_days)
        & (pl.col("promo_units") >= settings.min_promo_units)
        & (pl.col("expected_units") > 0)
    ).select(*SERIES, lift.alias("own_uplift"))
    # the series by a group-by: unique() on the text keys of every bucket cost 0.5 GB on M5
    frame = history.group_by(SERIES).len().select(SERIES).join(own, on=SERIES, how="left")
    if products is not None and "category" in products.columns:
        pooled = (
            category_sums.group_by("category")
            .agg(
                pl.col("promo_units").sum(),
                pl.col("expected_units").sum(),
                pl.col("n_promo_days").sum(),
            )
            .filter(
                (pl.col("n_promo_days") >= settings.min_promo_days) & (pl.col("expected_units") > 0)
            )
            .select("category", lift.alias("category_uplift"))
        )
        frame = (
            frame.join(products.select("sku", "category"), on="sku", how="left")
            .join(pooled, on="category", how="left")
            .with_columns(pl.coalesce("own_uplift", "category_uplift").alias("own_uplift"))
        )
    return frame.select(*SERIES, pl.col("own_uplift").alias("measured_uplift")).drop_nulls()


def _overlap_days(bucket_days: int) -> pl.Expr:
    """`overlap`: the days a promotion [start, end] shares with the bucket starting at
    `period_start`, 0 when none."""
    return (
        (
            pl.min_horizontal(
                pl.col("end") + pl.duration(days=1),
                pl.col("period_start") + pl.duration(days=bucket_days),
            )
            - pl.max_horizontal("start", "period_start")
        )
        .dt.total_days()
        .clip(lower_bound=0)
        .alias("overlap")
    )


def _lift(uplift: pl.DataFrame, products: pl.DataFrame | None, settings: Promotions) -> pl.Expr:
    """A planned promotion's lift: the row's uplift, else the series' measured lift, else
    `unmeasured_uplift` (on a promotion row joined with `uplift`)."""
    return pl.coalesce(
        "uplift", "measured_uplift", pl.lit(unmeasured_uplift(uplift, products, settings))
    )


def planned_lifts(
    series: pl.DataFrame,
    promotions: pl.DataFrame | None,
    products: pl.DataFrame | None,
    uplift: pl.DataFrame,
    settings: Promotions,
) -> pl.DataFrame:
    """sku, location, start, end, lift: each planned promotion of `series` with the lift
    `apply_promotions` gives it, the row's uplift, else the series' measured lift, else
    `unmeasured_uplift`."""
    return (
        _windows(promotions, products, series.select(SERIES).unique())
        .join(uplift, on=SERIES, how="left")
        .select(*SERIES, "start", "end", _lift(uplift, products, settings).alias("lift"))
    )


def apply_promotions(
    forecast: pl.DataFrame,
    promotions: pl.DataFrame | None,
    products: pl.DataFrame | None,
    uplift: pl.DataFrame,
    bucket_days: int,
    settings: Promotions,
) -> pl.DataFrame:
    """Lift forecast, lo and hi in buckets overlapping a planned promotion; add
    `promo_uplift` (the applied lift, 0 when none)."""
    windows = _windows(promotions, products, forecast.select(SERIES).unique())
    lifted = (
        forecast.select(*SERIES, "period_start")
        .join(windows, on=SERIES)
        .join(uplift, on=SERIES, how="left")
        .with_columns(_overlap_days(bucket_days))
        .filter(pl.col("overlap") > 0)
        .group_by([*SERIES, "period_start"])
        .agg(
            (_lift(uplift, products, settings) * pl.col("overlap") / bucket_days)
            .sum()
            .alias("promo_uplift")
        )
    )
    factor = 1.0 + pl.col("promo_uplift")
    lifted_forecast = (
        forecast.join(lifted, on=[*SERIES, "period_start"], how="left")
        .with_columns(pl.col("promo_uplift").fill_null(0.0))
        .with_columns((pl.col(c) * factor).alias(c) for c in ("forecast", "lo", "hi"))
    )
    if not settings.lift_risk:
        return lifted_forecast
    return lifted_forecast.join(
        lift_risk(forecast, windows, uplift, products, bucket_days, settings),
        on=[*SERIES, "period_start"],
        how="left",
    ).with_columns(pl.col(LIFT_RISK).fill_null(0.0))


LIFT_RISK = "promo_lift_risk"
"""Column of the forecast (per bucket) and of the planning rows (over L + R) with the
standard deviation, in units, of a planned promotion's demand from its lift's error."""


def category_lifts(uplift: pl.DataFrame, products: pl.DataFrame | None) -> np.ndarray:
    """The measured lift of each product category with one: the mean of its series'
    `measured_uplift` (`uplift_from`: their own, else the category's pooled lift)."""
    if products is None or "category" not in products.columns or uplift.height == 0:
        return np.zeros(0)
    return (
        uplift.join(products.select("sku", "category"), on="sku")
        .drop_nulls("category")
        .group_by("category")
        .agg(pl.col("measured_uplift").mean())["measured_uplift"]
        .to_numpy()
    )


def unmeasured_uplift(
    uplift: pl.DataFrame, products: pl.DataFrame | None, settings: Promotions
) -> float:
    """The lift planned for a promotion with no lift given or measured: `default_uplift`
    d, or with `unmeasured_uplift: pooled` (d + sum_c l_c) / (1 + n) over the n categories
    with a measured lift l_c (`category_lifts`): a category never promoted is expected to
    lift like those that were, the default counted as one more of them (a pooled,
    shrunk estimate across products, as promotional models pool lifts across items and
    stores: Cooper et al. 1999, Fildes et al. 2022)."""
    d = settings.default_uplift
    if settings.unmeasured_uplift == "default":
        return d
    lifts = category_lifts(uplift, products)
    return float((d + lifts.sum()) / (1 + lifts.size))


def unmeasured_lift_error(
    uplift: pl.DataFrame, products: pl.DataFrame | None, settings: Promotions
) -> float:
    """Standard deviation of the error of the lift v planned where none was given or
    measured (`unmeasured_uplift`): sqrt((d^2 + sum_c (l_c - v)^2) / (1 + n)) over the n
    categories with a measured lift l_c (`category_lifts`): the root mean square error of
    v as the lift of a category drawn from those measured, with d = `default_uplift` as
    one prior observation of that error (an exponential lift of mean d has standard
    deviation d: the least informative positive lift with that mean, Jaynes 1957); with
    no category measured, d."""
    d = settings.default_uplift
    v = unmeasured_uplift(uplift, products, settings)
    lifts = category_lifts(uplift, products)
    return float(np.sqrt((d**2 + np.sum((lifts - v) ** 2)) / (1 + lifts.size)))


def lift_risk(
    forecast: pl.DataFrame,
    windows: pl.DataFrame,
    uplift: pl.DataFrame,
    products: pl.DataFrame | None,
    bucket_days: int,
    settings: Promotions,
) -> pl.DataFrame:
    """sku, location, period_start, promo_lift_risk: per bucket of the unlifted `forecast`
    f, the standard deviation of its promotion demand from the lift's error,
    f x sum(sigma_u x share of the bucket's days in the window) over the promotion
    `windows` (`_windows`), sigma_u = `unmeasured_lift_error` where the lift is the one
    planned without a row uplift or measured lift (`unmeasured_uplift`), else 0 (a
    measured or given lift is taken as exact). The days of one promotion share one lift,
    so their errors add up."""
    sigma = unmeasured_lift_error(uplift, products, settings)
    return (
        forecast.select(*SERIES, "period_start", "forecast")
        .join(windows, on=SERIES)
        .join(uplift, on=SERIES, how="left")
        .filter(pl.col("uplift").is_null() & pl.col("measured_uplift").is_null())
        .with_columns(_overlap_days(bucket_days))
        .group_by([*SERIES, "period_start"])
        .agg(
            (pl.col("forecast").first() * sigma * pl.col("overlap").sum() / bucket_days).alias(
                LIFT_RISK
            )
        )
    )


def lift_risk_stock(
    safety: np.ndarray, risk: np.ndarray, service_level: np.ndarray, cap: np.ndarray
) -> np.ndarray:
    """Safety stock that also covers a promotion lift's error of standard deviation `risk`
    (units over L + R), independent of the forecast's: SS' = SS + sqrt(SS+^2 + (z r)^2)
    - SS+, SS+ = max(SS, 0), z = Phi^-1(target): the two errors' safety stocks at the same
    z add in quadrature (variances add, Silver, Pyke & Thomas 2017, ch. 6); for fill-rate
    targets too, as the lift's error falls on the promotion's few days, not spread over the
    cycle. Not raised above `cap` (days of cover) where it was below it; SS where r = 0."""
    safety = np.asarray(safety, dtype=float)
    risk = np.nan_to_num(np.asarray(risk, dtype=float))
    z = np.maximum(stats.norm.ppf(np.clip(service_level, 1e-6, 1 - 1e-6)), 0.0)
    base = np.maximum(safety, 0.0)
    raised = safety + np.sqrt(base**2 + (z * risk) ** 2) - base
    raised = np.minimum(raised, np.maximum(cap, safety))
    return np.where(risk > 0, raised, safety)


def with_lift_risk(
    series: pl.DataFrame,
    forecast: pl.DataFrame,
    bucket_days: int,
    review_days: float,
    start: dt.date | None = None,
) -> pl.DataFrame:
    """Planning rows with `promo_lift_risk` over each row's L + R window (as the forecast
    over L + R is summed, `reorder.window_demand`; R the row's own review_days, else
    `review_days`) where the forecast carries it (`promotions.lift_risk`); the rows
    unchanged where it does not."""
    if LIFT_RISK not in forecast.columns:
        return series
    from stockplan.reorder import window_demand  # reorder plans with this module's stock

    cover = pl.col("closure_cover_days") if "closure_cover_days" in series.columns else pl.lit(0.0)
    windows = series.select(
        *SERIES,
        (pl.col("lead_time_days") + review_days_of(series, review_days) + cover).alias(
            "window_days"
        ),
    )
    risk = window_demand(
        forecast.select(*SERIES, "period_start", pl.col(LIFT_RISK).alias("forecast")),
        windows,
        bucket_days,
        LIFT_RISK,
        start,
    )
    return (
        series.drop(LIFT_RISK, strict=False)
        .join(risk, on=SERIES, how="left", maintain_order="left")
        .with_columns(pl.col(LIFT_RISK).fill_null(0.0))
    )


def with_lift_risk_stock(frame: pl.DataFrame, max_cover_days: float) -> pl.DataFrame:
    """Safety stock, reorder point and order-up-to level raised by `lift_risk_stock` for
    the rows' `promo_lift_risk` at their service level, within `max_cover_days`."""
    safety = frame["safety_stock"].to_numpy().astype(float)
    raised = lift_risk_stock(
        safety,
        frame[LIFT_RISK].to_numpy(),
        frame["service_level"].to_numpy().astype(float),
        frame["forecast_per_day"].to_numpy().astype(float) * max_cover_days,
    )
    delta = pl.Series("lift_risk_delta", raised - safety)
    return frame.with_columns(
        pl.col(c) + delta for c in ("safety_stock", "reorder_point", "order_up_to")
    )
