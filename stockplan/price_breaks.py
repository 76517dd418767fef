"""Quantity price breaks (all-units discounts): buy more when the saving beats the holding.

A price-break table (supplier, sku, min_qty, unit_price) says: an order of at least
min_qty units pays unit_price for every unit. The textbook all-units discount EOQ
(Silver, Pyke & Thomas, Inventory and Production Management in Supply Chains, ch. 5,
quantity discounts; Heizer & Render, Operations Management, "quantity discount models")
compares the yearly cost of each candidate quantity Q at its price v(Q):

    TC(Q) = A D / Q + r v(Q) Q / 2 + D v(Q)

(A ordering cost per order, D yearly demand, r holding-cost rate per year). The
candidates are, per price level, its EOQ sqrt(2 A D / (r v)) when the EOQ qualifies for
that price, else the level's min_qty; the cheapest wins.

In the plan the policy's quantity Q0 (what the order-up-to level needs, after MOQ and
packs) takes the place of the EOQ of its own price level: the candidates are Q0 at
v(Q0) and each break min_qty above Q0 (rounded up to packs, within max_order and within
the line's order-up-to cap: the units it adds at most cap - position - Q0, as the top ups
and loads take, `supplier_rules.under_cap`; units beyond the cap would expire or outlive
the item before they sell) at its price. A line moves to a break only when TC falls; it
then pays the break's price.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from stockplan.demand import SERIES
from stockplan.policy import round_order_quantity
from stockplan.reorder import fmt_number, line_value
from stockplan.supplier_rules import under_cap

DAYS_PER_YEAR = 365.0


def yearly_cost(
    quantity: pl.Expr, price: pl.Expr, demand: pl.Expr, ordering_cost: float, rate: float
) -> pl.Expr:
    """TC(Q) = A D / Q + r v Q / 2 + D v (module docstring)."""
    return ordering_cost * demand / quantity + rate * price * quantity / 2.0 + demand * price


def all_units_eoq(
    demand: float, ordering_cost: float, rate: float, breaks: list[tuple[float, float]]
) -> tuple[float, float]:
    """The textbook all-units discount lot size: (Q*, TC(Q*)) for `breaks` =
    [(min_qty, unit_price), ...], the first min_qty the smallest order (0 or 1)."""
    levels = sorted(breaks)
    mins = np.array([q for q, _ in levels], dtype=float)
    prices = np.array([p for _, p in levels], dtype=float)
    upper = np.append(mins[1:], np.inf)
    eoq = np.sqrt(2.0 * ordering_cost * demand / (rate * prices))
    candidate = np.where(eoq < mins, mins, eoq)
    feasible = candidate < upper  # an EOQ above its level's range pays a lower price
    cost = ordering_cost * demand / candidate + rate * prices * candidate / 2 + demand * prices
    cost = np.where(feasible, cost, np.inf)
    best = int(np.argmin(cost))
    return float(candidate[best]), float(cost[best])


def _tiers(lines: pl.DataFrame, breaks: pl.DataFrame) -> pl.DataFrame:
    """One row per order line (`_line`) and price level that applies to it; a break row
    without a supplier applies to every supplier of the sku."""
    own = breaks.filter(pl.col("supplier").is_not_null())
    anyone = breaks.filter(pl.col("supplier").is_null()).drop("supplier")
    return pl.concat(
        [lines.join(own, on=["sku", "supplier"]), lines.join(anyone, on="sku")],
        how="diagonal_relaxed",
    ).select(*lines.columns, "min_qty", "unit_price")


def apply_price_breaks(
    orders: pl.DataFrame,
    breaks: pl.DataFrame | None,
    ordering_cost: float,
    rate: float,
    caps: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Order lines at the price break that lowers TC (module docstring): order_qty,
    unit_cost (the price paid) and order_value updated; the reason says what changed.

    `orders`: plan rows with order_qty, unit_cost, forecast_per_day, moq, pack_size,
    max_order, inventory_position, reason; `caps`: SERIES, order_up_to_cap (`caps.tightest`)."""
    if breaks is None or breaks.height == 0 or orders.height == 0:
        return orders
    lines = orders.with_row_index("_line")
    buying = lines.filter(pl.col("order_qty") > 0)
    capped = caps is not None and caps.height > 0
    if capped:
        buying = buying.join(caps.select(*SERIES, "order_up_to_cap"), on=SERIES, how="left")
    demand = pl.col("forecast_per_day") * DAYS_PER_YEAR
    if "supplier" not in breaks.columns:
        breaks = breaks.with_columns(pl.lit(None, pl.String).alias("supplier"))
    tiers = _tiers(buying, breaks.select("supplier", "sku", "min_qty", "unit_price"))
    own_price = (
        tiers.filter(pl.col("min_qty") <= pl.col("order_qty"))
        .sort("min_qty")
        .group_by("_line")
        .agg(pl.col("unit_price").last().alias("_own_price"))
    )
    current = buying.join(own_price, on="_line", how="left").select(
        "_line",
        pl.col("order_qty").alias("_qty"),
        pl.coalesce("_own_price", "unit_cost").alias("_price"),
        pl.lit(None, pl.Float64).alias("_break"),
    )
    rounded = round_order_quantity(
        pl.col("min_qty"), pl.col("moq"), pl.col("pack_size"), pl.col("max_order")
    )
    # a missing cost is never 0: without a price at its own quantity (no unit cost, no
    # break reached) a line has no TC to compare a break with, and is not moved
    priced_now = current.filter(pl.col("_price").is_not_null()).select("_line")
    raised = (
        tiers.filter(pl.col("min_qty") > pl.col("order_qty"))
        .join(priced_now, on="_line", how="semi")
        .with_columns(rounded.alias("_qty"))
        .filter(pl.col("_qty") >= pl.col("min_qty") - 1e-9)  # max_order may stop short
        .filter(  # the units added stay under the line's cap
            (pl.col("_qty") - pl.col("order_qty") <= under_cap() + 1e-9).fill_null(True)
            if capped
            else pl.lit(True)
        )
        .select(
            "_line", "_qty", pl.col("unit_price").alias("_price"), pl.col("min_qty").alias("_break")
        )
    )
    candidates = (
        pl.concat([current, raised])
        .join(buying.select("_line", "forecast_per_day"), on="_line")
        .filter(pl.col("_price").is_not_null())
        .with_columns(
            yearly_cost(pl.col("_qty"), pl.col("_price"), demand, ordering_cost, rate).alias("_tc")
        )
    )
    base_cost = candidates.filter(pl.col("_break").is_null()).select(
        "_line",
        pl.col("_tc").alias("_tc0"),
        pl.col("_qty").alias("_q0"),
        pl.col("_price").alias("_p0"),
    )
    best = (
        candidates.sort("_tc", "_qty")
        .group_by("_line")
        .first()
        .join(base_cost, on="_line", how="left")
    )
    moved = pl.col("_break").is_not_null()
    why = pl.format(
        "price break: {} at {} instead of {} at {} saves {} a year after holding",
        fmt_number(pl.col("_qty")),
        pl.col("_price").round(4),
        fmt_number(pl.col("_q0")),
        pl.col("_p0").round(4),
        (pl.col("_tc0") - pl.col("_tc")).round(2),
    )
    priced = pl.format("unit cost {} from the price break table", pl.col("_price").round(4))
    out = lines.join(
        best.select("_line", "_qty", "_price", "_break", "_tc", "_tc0", "_q0", "_p0"),
        on="_line",
        how="left",
    )
    changed_price = pl.col("_price").is_not_null() & (
        (pl.col("_price") - pl.col("unit_cost").fill_null(-1.0)).abs() > 1e-9
    )
    return (
        out.with_columns(
            pl.when(moved)
            .then(pl.format("{}; {}", "reason", why))
            .when(changed_price)
            .then(pl.format("{}; {}", "reason", priced))
            .otherwise(pl.col("reason"))
            .alias("reason"),
            pl.coalesce("_qty", "order_qty").alias("order_qty"),
            pl.coalesce("_price", "unit_cost").alias("unit_cost"),
        )
        .with_columns(line_value(pl.col("order_qty"), pl.col("unit_cost")).alias("order_value"))
        .select(orders.columns)
    )


def reprice(
    orders: pl.DataFrame, breaks: pl.DataFrame | None, base_cost: pl.DataFrame
) -> pl.DataFrame:
    """Lines of skus with price breaks pay the price of the quantity finally ordered (a
    budget cut below a break loses it, a top up across one gains it): the break price for
    order_qty, else the product's own cost (`base_cost`: sku, unit_cost)."""
    if breaks is None or breaks.height == 0 or orders.height == 0:
        return orders
    if "supplier" not in breaks.columns:
        breaks = breaks.with_columns(pl.lit(None, pl.String).alias("supplier"))
    lines = orders.with_row_index("_line")
    tiers = _tiers(
        lines.select("_line", "sku", "supplier", "order_qty"),
        breaks.select("supplier", "sku", "min_qty", "unit_price"),
    )
    priced = (
        tiers.filter(pl.col("min_qty") <= pl.col("order_qty"))
        .sort("min_qty")
        .group_by("_line")
        .agg(pl.col("unit_price").last().alias("_price"))
    )
    has_breaks = lines.join(tiers.select("_line").unique(), on="_line", how="semi")["_line"]
    paid = (
        pl.when(pl.col("_line").is_in(has_breaks.implode()))
        .then(pl.coalesce("_price", "_base", "unit_cost"))
        .otherwise(pl.col("unit_cost"))
    )
    moved = (pl.col("order_qty") > 0) & ((paid - pl.col("unit_cost")).abs() > 1e-9)
    clause = (
        pl.when(paid > pl.col("unit_cost"))
        .then(
            pl.format(
                "pays {} a unit for {}: the break price {} needs more",
                paid.round(4),
                fmt_number(pl.col("order_qty")),
                pl.col("unit_cost").round(4),
            )
        )
        .otherwise(
            pl.format(
                "pays the break price {} a unit for {}",
                paid.round(4),
                fmt_number(pl.col("order_qty")),
            )
        )
    )
    return (
        lines.join(priced, on="_line", how="left")
        .join(base_cost.select("sku", pl.col("unit_cost").alias("_base")), on="sku", how="left")
        .with_columns(
            pl.when(moved)
            .then(pl.format("{}; {}", "reason", clause))
            .otherwise(pl.col("reason"))
            .alias("reason"),
            paid.alias("unit_cost"),
        )
        .with_columns(line_value(pl.col("order_qty"), pl.col("unit_cost")).alias("order_value"))
        .select(orders.columns)
    )
