"""Move stock between warehouses before buying (docs/design.md §4: rebalance, then purchase).

A location *gives* what its physical stock holds above its own order-up-to level:
    surplus = on_hand - allocated - backorders - order_up_to            (only if > 0)
A location *needs* when its inventory position is below its reorder point:
    need = order_up_to - inventory_position
Per SKU, receivers (largest need first) and donors (largest surplus first) are laid on
two cumulative scales; receiver i takes from donor j the overlap of their intervals,
min(N_i, D_j) - max(N_(i-1), D_(j-1)). This is the greedy matching, done as one join.
Quantities are whole units; moves smaller than `min_qty` are dropped.

Inactive items (product status discontinued, blocked, `active` = no, ...) are not
transferred: they are neither replenished by a move nor moved to where they would be
reordered; their stock sells off where it is (and shows in `excess`).
"""

from __future__ import annotations

import polars as pl

from stockplan.config import Transfers
from stockplan.reorder import fmt_apart, fmt_number

TRANSFER_COLUMNS = ["sku", "from_location", "to_location", "quantity", "reason"]


def plan_transfers(rows: pl.DataFrame, settings: Transfers) -> pl.DataFrame:
    """rows: sku, location, on_hand, allocated, backorders, inventory_position,
    reorder_point, order_up_to, forecast_per_day, inactive (optional). Returns the transfers
    table."""
    if "inactive" in rows.columns:
        rows = rows.filter(~pl.col("inactive").fill_null(False))
    if not settings.enabled:
        return pl.DataFrame(schema=dict.fromkeys(TRANSFER_COLUMNS, pl.String)).cast(
            {"quantity": pl.Float64}
        )
    surplus = (
        pl.col("on_hand") - pl.col("allocated") - pl.col("backorders") - pl.col("order_up_to")
    ).floor()
    donors = (
        rows.filter(surplus >= settings.min_qty)
        .select("sku", pl.col("location").alias("from_location"), surplus.alias("surplus"))
        .sort(["sku", "surplus", "from_location"], descending=[False, True, False])
        .with_columns(pl.col("surplus").cum_sum().over("sku").alias("d_end"))
        .with_columns((pl.col("d_end") - pl.col("surplus")).alias("d_start"))
    )
    short = (pl.col("inventory_position") < pl.col("reorder_point")) & (
        pl.col("forecast_per_day") > 0
    )
    need = (pl.col("order_up_to") - pl.col("inventory_position")).ceil()
    receivers = (
        rows.filter(short)
        .select(
            "sku",
            pl.col("location").alias("to_location"),
            need.alias("need"),
            pl.col("inventory_position"),
            pl.col("reorder_point"),
        )
        .sort(["sku", "need", "to_location"], descending=[False, True, False])
        .with_columns(pl.col("need").cum_sum().over("sku").alias("n_end"))
        .with_columns((pl.col("n_end") - pl.col("need")).alias("n_start"))
    )
    overlap = pl.min_horizontal("n_end", "d_end") - pl.max_horizontal("n_start", "d_start")
    return (
        receivers.join(donors, on="sku")
        .with_columns(overlap.floor().alias("quantity"))
        .filter(pl.col("quantity") >= settings.min_qty)
        .with_columns(
            pl.format(
                "{} is below its reorder point ({} < {}); {} holds {} above its order-up-to",
                "to_location",
                *fmt_apart(pl.col("inventory_position"), pl.col("reorder_point")),
                "from_location",
                fmt_number(pl.col("surplus")),
            ).alias("reason")
        )
        .select(TRANSFER_COLUMNS)
        .sort(["sku", "to_location", "from_location"])
    )


def net_transfers(transfers: pl.DataFrame) -> pl.DataFrame:
    """sku, location -> transfer_qty (+ in, - out)."""
    incoming = transfers.select("sku", pl.col("to_location").alias("location"), "quantity")
    outgoing = transfers.select(
        "sku", pl.col("from_location").alias("location"), (-pl.col("quantity")).alias("quantity")
    )
    return (
        pl.concat([incoming, outgoing])
        .group_by(["sku", "location"])
        .agg(pl.col("quantity").sum().alias("transfer_qty"))
    )
