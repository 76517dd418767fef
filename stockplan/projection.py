"""What `stockplan explain` shows: the projected stock path behind one order row.

    projected_stock(end of bucket k) = on_hand - allocated - backorders + transfers
        + open PO receipts (and transfers in transit) arrived by then
        + this order if it has arrived by then - cumulative forecast demand through bucket k

A negative value is demand that cannot be served from stock (lost sales or backorders).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.demand import SERIES
from stockplan.elapsed import ELAPSED


def stock_projection(
    orders: pl.DataFrame,
    forecast: pl.DataFrame,
    open_po: pl.DataFrame,
    bucket_days: int,
    as_of: dt.date | None = None,
    transfers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per series and future bucket: projected stock at the bucket's end, with and without
    the suggested order (`orders` needs on_hand, allocated, backorders, transfer_qty,
    order_qty, expected_arrival). Demand counts from `as_of`: a bucket that began before
    it adds only its days from as_of on, as the plan's protection window does (f - e with
    `elapsed.ELAPSED` e, the demand of its days gone, where the forecast carries it). A transfer
    in (`transfers`, the plan's) still on its way after as_of counts from its arrival_date,
    as an open purchase order (`risk.with_transit`)."""
    # here: risk imports scipy, explain runs from cache
    from stockplan.risk import AVAILABLE, with_transit

    stock = orders.select(*SERIES, AVAILABLE, "order_qty", "expected_arrival")
    if as_of is not None:
        stock, open_po = with_transit(stock, open_po, transfers, as_of)

    start = pl.col("period_start")
    if as_of is not None:
        start = pl.max_horizontal(start, pl.lit(as_of))
    remaining = (
        (pl.col("period_start") + pl.duration(days=bucket_days) - start).dt.total_days()
        / bucket_days
    ).clip(0.0, 1.0)
    ahead = pl.col("forecast") * remaining
    if as_of is not None and ELAPSED in forecast.columns:  # the days gone, day by day
        ahead = (
            pl.when(pl.col("period_start") < pl.lit(as_of))
            .then((pl.col("forecast") - pl.col(ELAPSED).fill_null(0.0)).clip(lower_bound=0.0))
            .otherwise(ahead)
        )
    path = (
        forecast.select(*SERIES, "period_start", ahead.alias("ahead"), "forecast")
        .join(stock, on=SERIES)
        .sort([*SERIES, "period_start"])
        .with_columns(
            (pl.col("period_start") + pl.duration(days=bucket_days)).alias("period_end"),
            pl.col("ahead").cum_sum().over(SERIES).alias("cumulative_demand"),
        )
    )
    arrived = (
        path.select(*SERIES, "period_end")
        .join(open_po.select(*SERIES, "arrival", "quantity"), on=SERIES)
        .filter(pl.col("arrival") < pl.col("period_end"))
        .group_by([*SERIES, "period_end"])
        .agg(pl.col("quantity").sum().alias("receipts"))
    )
    without_order = pl.col("available") + pl.col("receipts") - pl.col("cumulative_demand")
    order_in = (
        pl.when(pl.col("expected_arrival") < pl.col("period_end"))
        .then(pl.col("order_qty"))
        .otherwise(0.0)
    )
    return (
        path.join(arrived, on=[*SERIES, "period_end"], how="left")
        .with_columns(pl.col("receipts").fill_null(0.0))
        .select(
            *SERIES,
            "period_start",
            "forecast",
            (without_order + order_in).alias("projected_stock"),
            without_order.alias("projected_without_order"),
        )
    )


def recent_history(history: pl.DataFrame, as_of: dt.date, periods: int) -> pl.DataFrame:
    """The last `periods` buckets of demand per series."""
    return (
        history.filter(pl.col("period_start") < as_of)
        .sort([*SERIES, "period_start"])
        .group_by(SERIES, maintain_order=True)
        .tail(periods)
    )


def item_lines(order: dict, lang: str = "en") -> list[str]:
    """Explain lines for kits, successors, overrides and shelf life, from the order row's
    own columns (only those present and set; `own_sales_until` and `own_pattern` from the
    plan's `own_history`, `api.explain`)."""
    from stockplan.i18n import message, render_inheritance, render_reason, value

    def number(x: float) -> str:
        return f"{x:,.1f}".removesuffix(".0")

    lines = []
    if order.get("kits"):
        share = f"{order.get('kit_share') or 0.0:.0%}"
        lines.append(message("explain.kits", lang, share=share, kits=order["kits"]))
    if order.get("replaced_by"):
        lines.append(
            message(
                "explain.replaced_by", lang, new=order["replaced_by"], date=order["replaced_from"]
            )
        )
    if order.get("inherits_from"):
        old = render_inheritance(order["inherits_from"], lang)
        lines.append(message("explain.inherits", lang, old=old))
    if order.get("own_sales_until") is not None:
        from stockplan.succession import MEASURED_PATTERNS

        own = order["own_pattern"]
        lines.append(
            message(
                "explain.own_classes" if own in MEASURED_PATTERNS else "explain.own_value",
                lang,
                date=order["own_sales_until"],
                abc=order["abc"],
                xyz=order["xyz"],
                pattern=value("demand_pattern", order["demand_pattern"], lang),
                own=value("demand_pattern", own, lang),
            )
        )
    if order.get("forecast_override"):
        text = render_reason(order["forecast_override"], lang)
        lines.append(message("explain.override", lang, text=text))
    if order.get("unsellable_qty"):
        lines.append(message("explain.unsellable", lang, qty=number(order["unsellable_qty"])))
    if order.get("order_up_to_cap") is not None:
        lines.append(message("explain.cap", lang, cap=number(order["order_up_to_cap"])))
    return lines


def transfer_lines(transfers: pl.DataFrame | None, order: dict, lang: str = "en") -> list[str]:
    """Explain lines for the plan's transfers into and out of the order row's location:
    each move in with the day it lands (`transfers.plan_transfers`), each move out."""
    from stockplan.i18n import message

    if transfers is None or transfers.height == 0:
        return []
    moves = transfers.filter(pl.col("sku") == order["sku"]).sort(["to_location", "from_location"])
    lines = []
    for move in moves.iter_rows(named=True):
        qty = f"{move['quantity']:,.1f}".removesuffix(".0")
        if move["to_location"] == order["location"]:
            landed = move.get("arrival_date") or "-"
            lines.append(
                message(
                    "explain.transfer_in", lang, qty=qty, place=move["from_location"], date=landed
                )
            )
        elif move["from_location"] == order["location"]:
            lines.append(message("explain.transfer_out", lang, qty=qty, place=move["to_location"]))
    return lines
