"""Order-up-to caps after the policy: shelf life, a successor taking over, kits.

The policy sets order-up-to S from demand and safety stock; some items must never be
stocked that high. A cap C (per sku x location, with the clause that says why) gives

    S' = min(S, C),  reorder point' = min(reorder point, S'),
    order = round(S' - inventory position)   (MOQ, packs, max order as before)

for the lines the policy orders. A clause starting "no order:" stops the line outright
(an old item past its switch date or whose order would arrive after it, a kit bought as
its components). A cap may also limit the order itself to the M units it can still sell
(an old item's demand between the order's arrival and the switch): C' = min(C,
max(position, 0) + M) on the row's own position (`position_caps`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Policy
from stockplan.demand import SERIES
from stockplan.i18n import counted_format
from stockplan.lead_time_demand import LeadTimeDemand
from stockplan.policy import round_order_quantity
from stockplan.reorder import fmt_number, line_value, plan_orders, under_half_a_unit

ITEM_COLUMNS = [
    "kit_share",
    "kits",
    "replaced_by",
    "replaced_from",
    "inherits_from",
    "forecast_override",
    "unsellable_qty",
    "order_up_to_cap",
]
"""Order-row columns about kits, successors, overrides and shelf life (after the details)."""

CAP_SCHEMA = {
    "sku": pl.String,
    "location": pl.String,
    "order_up_to_cap": pl.Float64,
    "cap_clause": pl.String,
}
ORDER_CAP_SCHEMA = {"order_cap": pl.Float64, "order_cap_clause": pl.String}
"""A cap's optional limit on the order itself (null: none): order_cap units at most, the
most an order can still sell (an old item: its demand between the order's arrival and the
switch date, `succession.succession_caps`), applied on the row's position by
`position_caps`."""


def tightest(caps: list[pl.DataFrame]) -> pl.DataFrame:
    """One cap per series: a stop first, else the lowest; with the lowest order_cap of
    the series' caps (ORDER_CAP_SCHEMA, null without one)."""
    schema = CAP_SCHEMA | ORDER_CAP_SCHEMA
    frames = [
        c.with_columns(
            *[
                pl.lit(None, dtype).alias(n)
                for n, dtype in ORDER_CAP_SCHEMA.items()
                if n not in c.columns
            ]
        )
        .select(list(schema))
        .cast(schema)
        for c in caps
        if c.height
    ]
    if not frames:
        return pl.DataFrame(schema=schema)
    every = pl.concat(frames)
    stop = pl.col("cap_clause").str.starts_with("no order:")
    order_caps = (
        every.filter(pl.col("order_cap").is_not_null())
        .sort("order_cap")
        .unique(SERIES, keep="first", maintain_order=True)
        .select(*SERIES, *ORDER_CAP_SCHEMA)
    )
    return (
        every.drop(*ORDER_CAP_SCHEMA)
        .sort([stop, "order_up_to_cap"], descending=[True, False])
        .unique(SERIES, keep="first", maintain_order=True)
        .join(order_caps, on=SERIES, how="left", maintain_order="left")
    )


def position_caps(caps: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """`caps` with each order_cap M applied on the position of its row in `rows` (SERIES,
    inventory_position P):

        cap' = min(cap, max(P, 0) + M)

    so an order never brings more than M units the item can still sell (what P holds
    sells first; a position below 0 is owed and the order serves it). Where that is below
    the cap, cap_clause says so: "order-up-to capped at cap': position P runs out before
    <order_cap_clause>". Caps without an order_cap, or `rows` without the series, keep
    their cap. Same columns as `caps`; applying it again on the same positions changes
    nothing."""
    if caps.height == 0 or "order_cap" not in caps.columns:
        return caps
    frame = caps.join(
        rows.select(*SERIES, pl.col("inventory_position").alias("_position")),
        on=SERIES,
        how="left",
        maintain_order="left",
    )
    room = pl.col("_position").clip(lower_bound=0.0) + pl.col("order_cap")
    tighter = (room < pl.col("order_up_to_cap") - 1e-9).fill_null(False)
    return frame.with_columns(
        pl.when(tighter).then(room).otherwise(pl.col("order_up_to_cap")).alias("order_up_to_cap"),
        pl.when(tighter)
        .then(
            pl.format(
                "order-up-to capped at {}: position {} runs out before {}",
                fmt_number(room),
                fmt_number(pl.col("_position")),
                "order_cap_clause",
            )
        )
        .otherwise(pl.col("cap_clause"))
        .alias("cap_clause"),
    ).select(caps.columns)


def cap_order_up_to(orders: pl.DataFrame, caps: pl.DataFrame) -> pl.DataFrame:
    """Order rows with order-up-to capped (module docstring; a cap's order_cap on the
    row's own position, `position_caps`); same columns as `orders`."""
    if caps.height == 0:
        return orders
    caps = position_caps(caps, orders)
    frame = orders.join(caps.select(list(CAP_SCHEMA)), on=SERIES, how="left")
    stop = pl.col("cap_clause").str.starts_with("no order:").fill_null(False)
    capped = (pl.col("order_up_to_cap") < pl.col("order_up_to") - 1e-9).fill_null(False) & ~stop
    level = pl.when(capped).then(pl.col("order_up_to_cap")).otherwise(pl.col("order_up_to"))
    frame = frame.with_columns(
        level.alias("capped_up_to"),
        pl.min_horizontal("reorder_point", level).alias("capped_reorder_point"),
    )
    need = (pl.col("capped_up_to") - pl.col("inventory_position")).clip(lower_bound=0.0)
    recount = capped & (pl.col("order_qty") > 0)
    qty = (
        pl.when(stop)
        .then(0.0)
        .when(recount)
        .then(round_order_quantity(need, pl.col("moq"), pl.col("pack_size"), pl.col("max_order")))
        .otherwise(pl.col("order_qty"))
    )
    frame = frame.with_columns(qty.alias("capped_qty"))
    reason = (
        pl.when(stop)
        .then(pl.col("cap_clause"))
        .when(recount & (pl.col("capped_qty") <= 0) & (need > 0))
        .then(
            pl.format(
                "{}; {}",
                under_half_a_unit(pl.col("inventory_position"), need, pl.col("capped_up_to")),
                pl.col("cap_clause"),
            )
        )
        .when(recount & (pl.col("capped_qty") <= 0))
        .then(
            pl.format(
                "no order: position {} not below reorder point {}; {}",
                fmt_number(pl.col("inventory_position")),
                fmt_number(pl.col("capped_reorder_point")),
                pl.col("cap_clause"),
            )
        )
        .when(recount)
        .then(
            pl.format(
                "{}; {}; need {} to reach the cap {}",
                "reason",
                "cap_clause",
                fmt_number(need),
                fmt_number(pl.col("capped_up_to")),
            )
        )
        .when(capped)
        .then(pl.concat_str(pl.col("reason"), pl.lit("; "), pl.col("cap_clause")))
        .otherwise(pl.col("reason"))
    )
    return frame.with_columns(
        pl.col("capped_qty").alias("order_qty"),
        line_value(pl.col("capped_qty"), pl.col("unit_cost")).alias("order_value"),
        pl.col("capped_up_to").alias("order_up_to"),
        pl.col("capped_reorder_point").alias("reorder_point"),
        reason.alias("reason"),
    ).select(orders.columns)


def capped_orders(
    series: pl.DataFrame,
    caps: pl.DataFrame | None,
    settings: Policy,
    as_of: dt.date,
    bucket_days: int,
    error_scores: dict | None = None,
    lead_time_demand: LeadTimeDemand | None = None,
) -> pl.DataFrame:
    """The policy's order rows (`reorder.plan_orders`) with order-up-to capped by the item
    caps (`cap_order_up_to`; `caps`: `item_rules.item_caps`, None: uncapped), as `plan`
    places them and each review of `simulate` replays them."""
    orders = plan_orders(series, settings, as_of, bucket_days, error_scores, lead_time_demand)
    return orders if caps is None else cap_order_up_to(orders, caps)


def with_item_columns(orders: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Order rows with the ITEM_COLUMNS `items` has (only those a run's inputs call for)."""
    present = [c for c in ITEM_COLUMNS if c in items.columns]
    if not present:
        return orders
    frame = orders.join(items.select(*SERIES, *present), on=SERIES, how="left")
    return frame


def beyond_cap_clause(orders: pl.DataFrame, caps: pl.DataFrame) -> pl.DataFrame:
    """Order rows whose position after the order still passes the cap (a minimum order
    or a pack larger than the room under it) say how many units: floor(inventory_position
    + order_qty - cap), those beyond what sells before expiry (shelf life) or before the
    successor takes over; same columns as `orders`."""
    if caps.height == 0 or orders.height == 0:
        return orders
    frame = orders.join(
        caps.select(*SERIES, pl.col("order_up_to_cap").alias("_cap"), "cap_clause"),
        on=SERIES,
        how="left",
    )
    beyond = (pl.col("inventory_position") + pl.col("order_qty") - pl.col("_cap")).floor()
    past = ((pl.col("order_qty") > 0) & (beyond >= 1)).fill_null(False)
    shelf = pl.col("cap_clause").str.contains("by shelf life", literal=True).fill_null(False)
    clause = (
        pl.when(shelf)
        .then(
            counted_format(
                "{n} units beyond what sells before expiry (cap {cap})",
                n=fmt_number(beyond),
                cap=fmt_number(pl.col("_cap")),
            )
        )
        .otherwise(
            counted_format(
                "{n} units beyond the cap {cap}",
                n=fmt_number(beyond),
                cap=fmt_number(pl.col("_cap")),
            )
        )
    )
    return frame.with_columns(
        pl.when(past)
        .then(pl.format("{}; {}", "reason", clause))
        .otherwise(pl.col("reason"))
        .alias("reason")
    ).select(orders.columns)
