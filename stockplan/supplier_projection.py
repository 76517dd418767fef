"""Projected purchase orders per supplier for the next weeks (a forecast shared with suppliers).

The policy is rolled forward from today's position, one review at a time, each item at its
own review period R (its supplier's `suppliers.review_days`, else `policy.review_days`, in
whole days), on three demand paths from the forecast: its lower bound, the forecast itself
and its upper bound (`forecast.interval_level`). At the item's review k (day t_k = k R):

    position_k = position_{k-1} + order_{k-1} - demand(t_{k-1}, t_k)       (path's demand)
    S_k = S_0 + [D(t_k, t_k + L + R) - D(0, L + R)]      (levels follow the forecast path,
    s_k = s_0 + [D(t_k, t_k + L + R) - D(0, L + R)]       safety stock held constant)
    C_k = min(C, D(t_k, switch))   (the plan's cap C, `caps`; D(t_k, switch) for an old item
                                    its successor replaces on day `switch`)
    S'_k = min(S_k, C_k),  s'_k = min(s_k, S'_k)
    order_k = the policy's order at S'_k, s'_k (rs: up to S'_k when below it; ss: up to S'_k
              once at or below s'_k; sq: multiples of Q = S_0 - s_0, up to S'_k when the cap
              binds), rounded to MOQ, packs and max; 0 when C_k <= 0 (a kit, a shelf life
              no longer than the sell-by days, an old item from its switch date) or for an
              old item whose order would arrive on or after the switch (t_k + L >= switch),

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
from stockplan.lead_time_demand import whole_review_days
from stockplan.leadtime import whole_days
from stockplan.policy import round_order_quantity
from stockplan.reorder import line_value
from stockplan.supplier_rules import REVIEW, with_review

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
    "missing_cost_lines",
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


def _review_periods(rows: pl.DataFrame, review_days: float) -> tuple[np.ndarray, np.ndarray]:
    """(R per row in whole days, at least 1: the days from one of its reviews to the next;
    R in days, which its later orders protect with). R is the row's own review_days less
    its closure_cover_days (`supplier_rules` REVIEW: its supplier's `suppliers.review_days`,
    else `policy.review_days`), so every item rolls forward at its own review period."""
    own = with_review(rows, review_days)[REVIEW].fill_null(review_days).to_numpy()
    return whole_review_days(own, rows.height), own.astype(float)


def _switch_days(rows: pl.DataFrame, as_of: dt.date) -> np.ndarray:
    """Days from as_of to the switch date of an old item its successor replaces
    (`replaced_from`), nan for every other row."""
    if "replaced_from" not in rows.columns:
        return np.full(rows.height, np.nan)
    days = (pl.col("replaced_from") - pl.lit(as_of)).dt.total_days().cast(pl.Float64)
    return rows.select(days.fill_null(np.nan)).to_series().to_numpy()


def _numbers(rows: pl.DataFrame, column: str, default: float) -> np.ndarray:
    """A numeric column of `rows` as floats, `default` where null or absent."""
    if column not in rows.columns:
        return np.full(rows.height, default)
    return rows[column].cast(pl.Float64).fill_null(default).to_numpy()


def project_supplier_orders(
    plan_rows: pl.DataFrame,
    forecast: pl.DataFrame,
    as_of: dt.date,
    bucket_days: int,
    weeks: int,
    review_days: float = 7.0,
) -> pl.DataFrame:
    """Projected order lines (PROJECTION_COLUMNS) for each review in the next `weeks` weeks.

    `plan_rows`: every sku x location's plan row (supplier, order_qty, inventory_position,
    reorder_point, order_up_to, policy_type, lead_time_days, review_days, unit_cost, moq,
    pack_size, max_order, forecast_per_day, optionally closure_cover_days, inactive,
    order_up_to_cap, replaced_from). `forecast`: sku, location, period_start, forecast,
    lo, hi. `review_days`: policy.review_days, R of a row without its own. Only weeks
    where some path orders are listed.
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
    horizon_days = weeks * 7
    period, review = _review_periods(rows, review_days)
    reviews = int(np.ceil(horizon_days / period.min()))
    lead = _numbers(rows, "lead_time_days", 0.0)
    lead_days = np.floor(lead + 0.5)  # whole days, as `expected_arrival` counts them
    # S_0 protects L + R + closure cover (the row's review_days); later orders L + R
    base_cover = lead + _numbers(rows, "review_days", review_days)
    protection = lead + review
    kind = rows["policy_type"].to_numpy()
    inactive = (
        rows["inactive"].fill_null(False).to_numpy()
        if "inactive" in rows.columns
        else np.zeros(rows.height, dtype=bool)
    )
    active = ~inactive & (_numbers(rows, "forecast_per_day", 0.0) > 0)
    up_to_0 = _numbers(rows, "order_up_to", 0.0)
    reorder_0 = _numbers(rows, "reorder_point", 0.0)
    cycle_qty = np.maximum(up_to_0 - reorder_0, 1.0)
    first_order = _numbers(rows, "order_qty", 0.0)
    cap_0 = _numbers(rows, "order_up_to_cap", np.inf)  # the plan's cap (`caps`)
    switch = _switch_days(rows, as_of)
    paths = _paths(forecast, rows)
    mean_path = paths["forecast"]
    base = cumulative_demand(mean_path, base_cover, bucket_days)
    until_switch = cumulative_demand(mean_path, np.nan_to_num(switch), bucket_days)

    orders = {name: np.zeros((rows.height, reviews)) for name in _PATHS}
    for name in _PATHS:
        path = paths[name]
        position = _numbers(rows, "inventory_position", 0.0)
        order = first_order.copy()
        orders[name][:, 0] = order
        for k in range(1, reviews):  # a loop over review dates, vectorised over series
            start, end = (k - 1) * period, k * period
            used = cumulative_demand(path, end, bucket_days) - cumulative_demand(
                path, start, bucket_days
            )
            position = position + order - used
            shift = (
                cumulative_demand(mean_path, end + protection, bucket_days)
                - cumulative_demand(mean_path, end, bucket_days)
                - base
            )
            up_to, reorder = up_to_0 + shift, reorder_0 + shift
            # the plan's caps rolled forward: an old item up to the demand left until its
            # switch date, and no order that would arrive on or after it
            left = np.clip(until_switch - cumulative_demand(mean_path, end, bucket_days), 0, None)
            cap = np.where(np.isnan(switch), cap_0, np.minimum(cap_0, left))
            stop = (cap <= 0) | (end + lead_days >= switch)  # nan switch: never
            capped = cap < up_to - 1e-9
            up_to = np.where(capped, cap, up_to)
            reorder = np.minimum(reorder, up_to)
            trigger = np.where(kind == "rs", position < up_to - 1e-9, position <= reorder)
            need = np.where(
                (kind == "sq") & ~capped,
                (np.floor((reorder - position) / cycle_qty) + 1) * cycle_qty,
                up_to - position,
            )
            order = _rounded(np.where(trigger & active & ~stop, need, 0.0), rows)
            orders[name][:, k] = order

    stacked = np.stack([orders[name] for name in _PATHS])
    n = rows.height
    frame = pl.DataFrame(
        {
            "row": np.repeat(np.arange(n), reviews),
            "day": (period[:, None] * np.arange(reviews)[None, :]).ravel(),
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
        frame.filter((pl.col("day") < horizon_days) & (pl.col("qty_high") > 0))
        .with_columns(pl.col("row").cast(pl.UInt32))
        .join(keys, on="row")
        .with_columns(
            order_date.alias("order_date"),
            (order_date + pl.duration(days=pl.col("_lead"))).alias("expected_arrival"),
            # a missing cost is never 0: the value of a line without one stays empty
            line_value(pl.col("projected_qty"), pl.col("unit_cost")).alias("projected_value"),
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
    range summed, so the total range assumes every item runs low or high together).

    A missing cost is never 0, as in the plan's summary: projected_value is the sum of the
    known values of the lines ordered (projected_qty > 0), empty when none of them has a
    cost, and missing_cost_lines counts the lines it leaves out (ordered, without a cost)."""
    ordered = pl.col("projected_qty") > 0
    known = ordered & pl.col("projected_value").is_not_null()
    return (
        projection.group_by("supplier", "order_date")
        .agg(
            ordered.sum().cast(pl.Int64).alias("lines"),
            pl.col("projected_qty").sum(),
            pl.col("qty_low").sum(),
            pl.col("qty_high").sum(),
            pl.when(known.any()).then(pl.col("projected_value").filter(known).sum().round(2)),
            (ordered & ~known).sum().cast(pl.Int64).alias("missing_cost_lines"),
        )
        .select(SUMMARY_COLUMNS)
        .sort("supplier", "order_date")
    )
