"""Stockout risk per sku x location.

- days_of_cover = (on_hand - allocated - backorders) / forecast_per_day.
- stockout_date: first day the projected stock (available + receipts arrived - d t) drops
  below zero, projecting the forecast rate d and the open purchase orders' arrivals.
- stockout_probability: P(D_W > available + receipts due within W) where W = lead time, the
  earliest a new order could arrive. D_W ~ Normal(d W, sigma_W) with
  sigma_W^2 = W sigma_d^2 + d^2 sigma_L^2; Poisson / negative binomial for discrete patterns.
- expected_shortage = E[(D_W - a)^+]: sigma_W G((a - mu) / sigma_W) for the normal (G the
  standard normal loss), mu P(D >= a) - a P(D > a) for the Poisson.
- revenue_at_risk = expected_shortage * unit_price.
- restock_eta: the first open PO arriving on or after the stockout date, else the
  suggested order's expected arrival.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from scipy import stats

from stockplan.config import Risk
from stockplan.demand import SERIES
from stockplan.policy import normal_loss

RISK_COLUMNS = [
    "sku",
    "location",
    "on_hand",
    "on_order",
    "days_of_cover",
    "stockout_date",
    "next_receipt_date",
    "stockout_probability",
    "expected_shortage",
    "revenue_at_risk",
    "risk_level",
    "restock_eta",
]


def projected_stockout_day(
    series: pl.DataFrame, open_po: pl.DataFrame, as_of: dt.date, horizon_days: int
) -> pl.DataFrame:
    """sku, location -> stockout_day (days from as_of; null if none within the horizon).

    Segment i starts at receipt i's arrival t_i with cumulative receipts C_i; stock there is
    a + C_i - d t, which crosses zero at t = (a + C_i) / d. The first crossing inside its
    own segment [t_i, t_{i+1}) is the stockout day.
    """
    arrivals = open_po.select(
        *SERIES,
        (pl.col("arrival") - pl.lit(as_of)).dt.total_days().cast(pl.Float64).alias("t"),
        "quantity",
    )
    start = series.select(*SERIES, pl.lit(0.0).alias("t"), pl.lit(0.0).alias("quantity"))
    segments = (
        pl.concat([start, arrivals.join(series.select(SERIES), on=SERIES, how="semi")])
        .group_by([*SERIES, "t"])
        .agg(pl.col("quantity").sum())
        .sort([*SERIES, "t"])
        .with_columns(
            pl.col("quantity").cum_sum().over(SERIES).alias("received"),
            pl.col("t").shift(-1).over(SERIES).fill_null(float("inf")).alias("t_next"),
        )
        .join(series.select(*SERIES, "available", "forecast_per_day"), on=SERIES)
    )
    level = pl.col("available") + pl.col("received")
    crossing = (
        pl.when(pl.col("forecast_per_day") > 0)
        .then(level / pl.col("forecast_per_day"))
        .when(level < 0)
        .then(float("-inf"))
        .otherwise(float("inf"))
    )
    return (
        segments.with_columns(crossing.alias("t_out"))
        .filter(pl.col("t_out") < pl.col("t_next"))
        .group_by(SERIES)
        .agg(pl.max_horizontal("t", "t_out").min().alias("stockout_day"))
        .filter(pl.col("stockout_day") <= horizon_days)
    )


def stockout_risk(
    series: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    horizon_days: int,
    settings: Risk,
    discrete_patterns: list[str],
) -> pl.DataFrame:
    """Risk table for every series.

    `series` needs: on_hand, allocated, backorders, on_order, next_receipt_date,
    forecast_per_day, demand_lead_time (forecast over L), sigma_day, lead_time_days,
    lead_time_std_days, demand_pattern, unit_price, expected_arrival.
    """
    frame = series.with_columns(
        (pl.col("on_hand") - pl.col("allocated") - pl.col("backorders")).alias("available")
    )
    due = (
        open_po.join(frame.select(*SERIES, "lead_time_days"), on=SERIES)
        .filter(
            (pl.col("arrival") - pl.lit(as_of)).dt.total_days() <= pl.col("lead_time_days")
        )
        .group_by(SERIES)
        .agg(pl.col("quantity").sum().alias("due_in_window"))
    )
    frame = frame.join(due, on=SERIES, how="left").with_columns(pl.col("due_in_window").fill_null(0.0))

    mu = frame["demand_lead_time"].to_numpy().astype(float)
    d = frame["forecast_per_day"].to_numpy().astype(float)
    window = frame["lead_time_days"].to_numpy().astype(float)
    sigma = np.sqrt(
        window * frame["sigma_day"].to_numpy() ** 2 + d**2 * frame["lead_time_std_days"].to_numpy() ** 2
    )
    a = (frame["available"] + frame["due_in_window"]).to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        zscore = (a - mu) / sigma
        p_normal = np.where(sigma > 0, stats.norm.sf(zscore), (mu > a).astype(float))
        short_normal = np.where(sigma > 0, sigma * normal_loss(zscore), np.maximum(mu - a, 0.0))
    discrete = frame["demand_pattern"].is_in(discrete_patterns).to_numpy() & (mu > 0)
    a_int = np.floor(a)
    p_poisson = stats.poisson.sf(a_int, np.maximum(mu, 1e-9))
    short_poisson = np.maximum(mu, 0) * stats.poisson.sf(a_int - 1, np.maximum(mu, 1e-9)) - a_int * p_poisson
    probability = np.where(discrete, p_poisson, p_normal)
    shortage = np.where(discrete, short_poisson, short_normal)
    probability = np.where(a < 0, 1.0, np.where(mu <= 0, 0.0, probability))
    shortage = np.where(mu <= 0, np.maximum(-a, 0.0), np.maximum(shortage, np.maximum(-a, 0.0)))

    frame = frame.with_columns(
        pl.Series("stockout_probability", np.clip(probability, 0.0, 1.0)),
        pl.Series("expected_shortage", shortage),
    )
    stockout = projected_stockout_day(frame, open_po, as_of, horizon_days)
    frame = frame.join(stockout, on=SERIES, how="left").with_columns(
        (pl.lit(as_of) + pl.duration(days=pl.col("stockout_day").ceil().cast(pl.Int64))).alias(
            "stockout_date"
        )
    )
    eta = (
        open_po.join(frame.select(*SERIES, "stockout_date"), on=SERIES)
        .filter(pl.col("arrival") >= pl.col("stockout_date"))
        .group_by(SERIES)
        .agg(pl.col("arrival").min().alias("po_eta"))
    )
    level = (
        pl.when(pl.col("stockout_probability") >= settings.high)
        .then(pl.lit("high"))
        .when(pl.col("stockout_probability") >= settings.medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    return (
        frame.join(eta, on=SERIES, how="left")
        .with_columns(
            pl.when(pl.col("forecast_per_day") > 0)
            .then(pl.col("available") / pl.col("forecast_per_day"))
            .otherwise(None)
            .alias("days_of_cover"),
            (pl.col("expected_shortage") * pl.col("unit_price")).alias("revenue_at_risk"),
            level.alias("risk_level"),
            pl.when(pl.col("stockout_date").is_not_null())
            .then(pl.coalesce("po_eta", "expected_arrival"))
            .otherwise(None)
            .alias("restock_eta"),
        )
        .select(RISK_COLUMNS)
        .sort(["stockout_probability", "revenue_at_risk", "sku", "location"], descending=[True, True, False, False], nulls_last=True)
    )
