"""Customer restock notices: when each open customer order can be filled.

Open customer orders of a sku x location are served first come, first served (by
promised date, then order date, then file order) from, in date order: stock free now
(on_hand - allocated; when the allocation is the reservation for these orders,
`planning.allocated_includes_customer_orders`, only the allocation beyond them,
on_hand - max(allocated - open orders, 0)), open purchase orders as they arrive, then
today's suggested order
at its expected arrival. An order is filled on the date the cumulative supply first covers
the cumulative quantity of all orders up to and including it. Orders that stock on hand
covers today ship now and need no notice; the rest are listed.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.demand import SERIES
from stockplan.plan import fmt_number

NOTICE_COLUMNS = [
    "order_id",
    "customer",
    "sku",
    "location",
    "quantity",
    "order_date",
    "promised_date",
    "expected_fill_date",
    "days_late",
    "filled_from",
    "message",
]


def _text(frame: pl.DataFrame, column: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    return pl.col(column) if column in frame.columns else pl.lit(None, dtype)


def restock_notices(
    customer_orders: pl.DataFrame,
    orders: pl.DataFrame,
    open_po: pl.DataFrame,
    as_of: dt.date,
    *,
    allocated_includes_customer_orders: bool = False,
) -> pl.DataFrame:
    """One row per open customer order that stock on hand cannot fill today.

    `orders` needs on_hand, allocated, order_qty, expected_arrival per sku x location;
    `open_po` needs arrival and quantity (po_id when known).
    """
    po_id = _text(open_po, "po_id")
    held = pl.col("allocated")
    if allocated_includes_customer_orders:
        backlog = customer_orders.group_by(SERIES).agg(pl.col("quantity").sum().alias("backlog"))
        orders = orders.join(backlog, on=SERIES, how="left")
        held = (held - pl.col("backlog").fill_null(0.0)).clip(lower_bound=0.0)
    supply = pl.concat(
        [
            orders.select(
                *SERIES,
                pl.lit(as_of).alias("date"),
                (pl.col("on_hand") - held).clip(lower_bound=0.0).alias("qty"),
                pl.lit("stock on hand").alias("filled_from"),
                pl.lit(0).alias("rank"),
            ),
            open_po.select(
                *SERIES,
                pl.col("arrival").alias("date"),
                pl.col("quantity").alias("qty"),
                pl.when(po_id.is_not_null())
                .then(pl.format("purchase order {}", po_id))
                .otherwise(pl.lit("open purchase order"))
                .alias("filled_from"),
                pl.lit(1).alias("rank"),
            ),
            orders.filter(pl.col("order_qty") > 0).select(
                *SERIES,
                pl.col("expected_arrival").alias("date"),
                pl.col("order_qty").alias("qty"),
                pl.lit("this week's suggested order").alias("filled_from"),
                pl.lit(2).alias("rank"),
            ),
        ],
        how="vertical_relaxed",
    )
    supply = (
        supply.filter(pl.col("qty") > 0)
        .sort([*SERIES, "date", "rank"])
        .with_columns(pl.col("qty").cum_sum().over(SERIES).alias("covered"))
        .sort("covered")
    )
    promised = _text(customer_orders, "promised_date", pl.Date)
    ordered = _text(customer_orders, "order_date", pl.Date)
    row = _text(customer_orders, "source_row", pl.Int64)
    backlog = (
        customer_orders.with_columns(
            promised.alias("promised_date"),
            ordered.alias("order_date"),
            _text(customer_orders, "order_id").alias("order_id"),
            _text(customer_orders, "customer").alias("customer"),
            row.alias("_row"),
        )
        .sort([*SERIES, "promised_date", "order_date", "_row"], nulls_last=True)
        .with_columns(pl.col("quantity").cum_sum().over(SERIES).alias("needed"))
        .sort("needed")
    )
    filled = backlog.join_asof(
        supply.select(*SERIES, "covered", "date", "filled_from"),
        left_on="needed",
        right_on="covered",
        by=SERIES,
        strategy="forward",
        check_sortedness=False,  # both sides are sorted on the as-of key within each group
    )
    due = pl.coalesce("promised_date", pl.lit(as_of))
    late = (pl.col("expected_fill_date") - due).dt.total_days().clip(lower_bound=0)
    label = pl.coalesce("order_id", pl.format("line {}", pl.col("_row")))
    return (
        filled.rename({"date": "expected_fill_date"})
        .filter(pl.col("expected_fill_date").is_null() | (pl.col("expected_fill_date") > as_of))
        .with_columns(
            pl.when(pl.col("expected_fill_date").is_null())
            .then(None)
            .otherwise(late)
            .alias("days_late"),
            pl.col("filled_from").fill_null("not covered yet"),
        )
        .with_columns(
            pl.when(pl.col("expected_fill_date").is_null())
            .then(
                pl.format(
                    "Order {}: {} x {} is not covered by stock, open purchase orders or this "
                    "week's order yet; we will confirm a date",
                    label,
                    fmt_number(pl.col("quantity")),
                    pl.col("sku"),
                )
            )
            .otherwise(
                pl.format(
                    "Order {}: {} x {} is expected to ship on {}",
                    label,
                    fmt_number(pl.col("quantity")),
                    pl.col("sku"),
                    pl.col("expected_fill_date"),
                )
            )
            .alias("message")
        )
        .select(NOTICE_COLUMNS)
        .sort(["expected_fill_date", "sku", "location", "order_id"], nulls_last=True)
    )
