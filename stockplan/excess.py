"""Overstock and dead stock, with the cash they tie up.

    excess_qty = on_hand + on_order - backorders - allocated
                 - (order_up_to + buffer_days * forecast_per_day)                 (if > 0)
A series with no sale for `dead_item_days` (pattern dead or none) holds only dead stock:
all of its on-hand that stays there is excess, the units it transfers away left out
(excess_qty = on_hand + transfer_qty, transfer_qty < 0 for a sender).
excess_value = excess_qty * unit_cost. days_of_cover is the risk table's
(`risk.DAYS_OF_COVER`: on hand less allocated and backorders, after the planned transfers,
over the forecast per day).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.i18n import counted_format
from stockplan.reorder import fmt_apart, fmt_number
from stockplan.risk import DAYS_OF_COVER, available_now

EXCESS_COLUMNS = [
    "sku",
    "location",
    "on_hand",
    "on_order",
    "order_up_to",
    "excess_qty",
    "excess_value",
    "days_of_cover",
    "last_sale_date",
    "reason",
]


def _dead() -> pl.Expr:
    return pl.col("demand_pattern").is_in(["dead", "none"])


def excess_quantity(buffer_days: float) -> pl.Expr:
    """excess_qty of a plan row (module docstring): of a dead series, on_hand less what it
    transfers away (on_hand + min(transfer_qty, 0)); else
    floor(position - order_up_to - buffer_days x forecast_per_day); at least 0."""
    above = (
        pl.col("inventory_position")
        - pl.col("order_up_to")
        - buffer_days * pl.col("forecast_per_day")
    ).floor()
    sent = pl.col("transfer_qty").fill_null(0.0).clip(upper_bound=0.0)
    staying = (pl.col("on_hand") + sent).clip(lower_bound=0)
    return pl.when(_dead()).then(staying).otherwise(above.clip(lower_bound=0))


def excess_stock(
    rows: pl.DataFrame,
    last_sale: pl.DataFrame,
    buffer_days: float,
    as_of: dt.date,
    transfers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """rows: the plan's per-series frame (positions, order_up_to, forecast, unit_cost,
    demand_pattern, allocated, backorders, transfer_qty); last_sale: sku, location,
    last_sale_date; transfers: the plan's (those still on the road are not yet stock)."""
    dead = _dead()
    frame = available_now(
        rows.join(last_sale, on=["sku", "location"], how="left").with_columns(
            excess_quantity(buffer_days).alias("excess_qty")
        ),
        transfers,
        as_of,
    )
    idle_days = (pl.lit(as_of) - pl.col("last_sale_date")).dt.total_days()
    up_to, position = fmt_apart(pl.col("order_up_to"), pl.col("inventory_position"))
    return (
        frame.filter(pl.col("excess_qty") > 0)
        .with_columns(
            (pl.col("excess_qty") * pl.col("unit_cost")).alias("excess_value"),
            DAYS_OF_COVER,
            pl.when(dead & pl.col("last_sale_date").is_null())
            .then(pl.lit("dead stock: never sold"))
            .when(dead)
            .then(counted_format("dead stock: no sale for {n} days", n=idle_days))
            .otherwise(
                counted_format(
                    "position {p} above order-up-to {s} plus {d} days of demand",
                    p=position,
                    s=up_to,
                    d=fmt_number(pl.lit(float(buffer_days))),
                )
            )
            .alias("reason"),
        )
        .select(EXCESS_COLUMNS)
        .sort(["excess_value", "sku", "location"], descending=[True, False, False], nulls_last=True)
    )
