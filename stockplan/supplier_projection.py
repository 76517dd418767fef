"""Projected purchase orders per supplier for the next weeks (a forecast shared with suppliers).

The policy is rolled forward from today's position, one review (R = `review_days`) at a
time, on three demand paths from the forecast: its lower bound, the forecast itself and
its upper bound (`forecast.interval_level`). At review k (day t_k = k R):

    position_k = position_{k-1} + order_{k-1} - demand(t_{k-1}, t_k)       (path's demand)
    S_k = S_0 + [D(t_k, t_k + L + R) - D(0, L + R)]      (levels follow the forecast path,
    s_k = s_0 + [D(t_k, t_k + L + R) - D(0, L + R)]       safety stock held constant)
    order_k = the policy's order (rs: up to S_k when below it; ss: up to S_k once at or
              below s_k; sq: multiples of Q = S_0 - s_0), rounded to MOQ, packs and max,

with order_0 this run's order line (after transfers, backup supplier and budget). D is the
forecast's cumulative demand (bucket k spreads evenly over its days; past the horizon the
last bucket's rate). `projected_qty` is the forecast path's order; `qty_low` / `qty_high`
the smallest and largest of the three paths' orders in that week: the range the policy
most likely orders in. Steady-state check: with constant demand d per review and an
order-up-to policy every projected order after the first is d (rounded to packs).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from stockplan.demand import SERIES
from stockplan.leadtime import whole_days
from stockplan.policy import round_order_quantity

PROJECTION_COLUMNS = [
    "supplier",
    "sku",
    "location",
    "order_date",
    "expected_arrival",
    "projected_qty",
    "qty_low",
    "qty_high",
    "projected_value",
    "status",
]
SUMMARY_COLUMNS = [
    "supplier",
    "order_date",
    "lines",
    "projected_qty",
    "qty_low",
    "qty_high",
    "projected_value",
]
UNASSIGNED = "unassigned"
_PATHS = ("lo", "forecast", "hi")


def _paths(forecast: pl.DataFrame, series: pl.DataFrame) -> dict[str, np.ndarray]:
    """Forecast, lo and hi per bucket as (series x bucket) arrays, rows in `series` order."""
    steps = forecast.join(series.select(SERIES), on=SERIES, how="semi").with_columns(
        pl.int_range(0, pl.len()).over(SERIES, order_by="period_start").alias("step")
    )
    width = int(steps["step"].max() + 1) if steps.height else 1
    index = series.select(SERIES).with_row_index("row")
    cells = steps.join(index, on=SERIES)
    rows = cells["row"].to_numpy()
    cols = cells["step"].to_numpy()
    out: dict[str, np.ndarray] = {}
    for name in _PATHS:
        values = np.zeros((series.height, width))
        column = name if name in cells.columns else "forecast"
        values[rows, cols] = cells[column].fill_null(cells["forecast"]).to_numpy()
        out[name] = np.clip(np.nan_to_num(values), 0.0, None)
    return out


def cumulative_demand(path: np.ndarray, t: np.ndarray, bucket_days: int) -> np.ndarray:
    """D(0, t) per row: sum_j f_j clip((t - j b) / b, 0, 1), plus the last bucket's rate
    for days past the horizon (the rule `plan.window_demand` uses)."""
    horizon = path.shape[1]
    starts = np.arange(horizon) * bucket_days
    share = np.clip((t[:, None] - starts[None, :]) / bucket_days, 0.0, 1.0)
    beyond = np.clip(t - horizon * bucket_days, 0.0, None) * path[:, -1] / bucket_days
    return (path * share).sum(axis=1) + beyond


def _rounded(raw: np.ndarray, rows: pl.DataFrame) -> np.ndarray:
    """The project's order rounding (MOQ, packs, max order) applied to raw needs."""
    frame = rows.select("moq", "pack_size", "max_order").with_columns(pl.Series("raw", raw))
    return (
        frame.select(
            round_order_quantity(
                pl.col("raw"), pl.col("moq"), pl.col("pack_size"), pl.col("max_order")
            )
        )
        .to_series()
        .to_numpy()
        .astype(float)
    )


def project_supplier_orders(
    plan_rows: pl.DataFrame,
    forecast: pl.DataFrame,
    as_of: dt.date,
    bucket_days: int,
    weeks: int,
) -> pl.DataFrame:
    """Projected order lines (PROJECTION_COLUMNS) for each review in the next `weeks` weeks.

    `plan_rows`: every sku x location's plan row (supplier, order_qty, inventory_position,
    reorder_point, order_up_to, policy_type, lead_time_days, review_days, unit_cost, moq,
    pack_size, max_order, forecast_per_day, optionally inactive). `forecast`: sku, location,
    period_start, forecast, lo, hi. Only weeks where some path orders are listed.
    """
    rows = plan_rows.sort(SERIES)
    empty = pl.DataFrame(
        schema={
            "supplier": pl.String,
            "sku": pl.String,
            "location": pl.String,
            "order_date": pl.Date,
            "expected_arrival": pl.Date,
            "projected_qty": pl.Float64,
            "qty_low": pl.Float64,
            "qty_high": pl.Float64,
            "projected_value": pl.Float64,
            "status": pl.String,
        }
    )
    if rows.height == 0:
        return empty
    review = float(rows["review_days"][0])
    reviews = int(np.ceil(weeks * 7 / review))
    lead = rows["lead_time_days"].fill_null(0.0).to_numpy().astype(float)
    protection = lead + review
    kind = rows["policy_type"].to_numpy()
    inactive = (
        rows["inactive"].fill_null(False).to_numpy()
        if "inactive" in rows.columns
        else np.zeros(rows.height, dtype=bool)
    )
    active = ~inactive & (rows["forecast_per_day"].fill_null(0.0).to_numpy() > 0)
    up_to_0 = rows["order_up_to"].fill_null(0.0).to_numpy().astype(float)
    reorder_0 = rows["reorder_point"].fill_null(0.0).to_numpy().astype(float)
    cycle_qty = np.maximum(up_to_0 - reorder_0, 1.0)
    first_order = rows["order_qty"].fill_null(0.0).to_numpy().astype(float)
    paths = _paths(forecast, rows)
    mean_path = paths["forecast"]
    zero = np.zeros(rows.height)
    base_cover = cumulative_demand(mean_path, protection, bucket_days)

    orders = {name: np.zeros((rows.height, reviews)) for name in _PATHS}
    for name in _PATHS:
        path = paths[name]
        position = rows["inventory_position"].fill_null(0.0).to_numpy().astype(float)
        order = first_order.copy()
        orders[name][:, 0] = order
        for k in range(1, reviews):  # a loop over review dates, vectorised over series
            start, end = (k - 1) * review, k * review
            used = cumulative_demand(path, zero + end, bucket_days) - cumulative_demand(
                path, zero + start, bucket_days
            )
            position = position + order - used
            shift = (
                cumulative_demand(mean_path, end + protection, bucket_days)
                - cumulative_demand(mean_path, zero + end, bucket_days)
                - base_cover
            )
            up_to, reorder = up_to_0 + shift, reorder_0 + shift
            trigger = np.where(kind == "rs", position < up_to - 1e-9, position <= reorder)
            need = np.where(
                kind == "sq",
                (np.floor((reorder - position) / cycle_qty) + 1) * cycle_qty,
                up_to - position,
            )
            order = _rounded(np.where(trigger & active, need, 0.0), rows)
            orders[name][:, k] = order

    stacked = np.stack([orders[name] for name in _PATHS])
    offsets = np.round(np.arange(reviews) * review).astype(int)
    n = rows.height
    frame = pl.DataFrame(
        {
            "row": np.repeat(np.arange(n), reviews),
            "day": np.tile(offsets, n),
            "step": np.tile(np.arange(reviews), n),
            "projected_qty": orders["forecast"].ravel(),
            "qty_low": stacked.min(axis=0).ravel(),
            "qty_high": stacked.max(axis=0).ravel(),
        }
    )
    keys = rows.select(
        pl.col("supplier").fill_null(UNASSIGNED),
        *SERIES,
        whole_days(pl.col("lead_time_days").fill_null(0.0)).alias("_lead"),
        "unit_cost",
    ).with_row_index("row")
    order_date = pl.lit(as_of) + pl.duration(days=pl.col("day"))
    return (
        frame.filter(pl.col("qty_high") > 0)
        .with_columns(pl.col("row").cast(pl.UInt32))
        .join(keys, on="row")
        .with_columns(
            order_date.alias("order_date"),
            (order_date + pl.duration(days=pl.col("_lead"))).alias("expected_arrival"),
            (pl.col("projected_qty") * pl.col("unit_cost").fill_null(0.0)).alias("projected_value"),
            pl.when(pl.col("step") == 0)
            .then(pl.lit("this week's order"))
            .otherwise(pl.lit("projected"))
            .alias("status"),
        )
        .select(PROJECTION_COLUMNS)
        .sort(["supplier", "order_date", "sku", "location"])
    )


def supplier_summary(projection: pl.DataFrame) -> pl.DataFrame:
    """Per supplier and order date: lines and the summed quantities and value (each line's
    range summed, so the total range assumes every item runs low or high together)."""
    return (
        projection.group_by("supplier", "order_date")
        .agg(
            (pl.col("projected_qty") > 0).sum().cast(pl.Int64).alias("lines"),
            pl.col("projected_qty").sum(),
            pl.col("qty_low").sum(),
            pl.col("qty_high").sum(),
            pl.col("projected_value").sum(),
        )
        .select(SUMMARY_COLUMNS)
        .sort("supplier", "order_date")
    )
