"""Move stock between warehouses before buying (docs/design.md §4: rebalance, then purchase).

A location *gives* what its physical stock holds above its own order-up-to level:
    surplus = on_hand - allocated - backorders - order_up_to            (only if > 0)
A location *needs* when its inventory position is below its reorder point:
    need = order_up_to - inventory_position
Per SKU, receivers (largest need first) and donors (largest surplus first) are laid on
two cumulative scales; receiver i takes from donor j the overlap of their intervals,
min(N_i, D_j) - max(N_(i-1), D_(j-1)). This is the greedy matching, done as one join.
Quantities are whole units; moves smaller than `min_qty` are dropped.

A move takes `transit_days` (the receiver's `transit_days_to` where set) to arrive:
    arrival_date = as_of + transit days (whole days, rounded half up, `reorder.arrival_after`)
It counts in the receiver's inventory position at once, as stock on order does, and in its
stock from arrival_date on (`transfers_in_transit`, counted like an open purchase order by
risk, the restock notices and `explain`); the sender loses it at once. A receiver whose
transfer would arrive after a new order placed today (its `expected_arrival`, the lead
time) takes none: it buys, and the donors' surplus goes to the other receivers
(`slow_receivers` names those left out). On the same day the transfer still goes: it
serves as soon and spends no money.

Inactive items (product status discontinued, blocked, `active` = no, ...) are not
transferred: they are neither replenished by a move nor moved to where they would be
reordered; their stock sells off where it is (and shows in `excess`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.config import Transfers

TRANSFER_COLUMNS = ["sku", "from_location", "to_location", "quantity", "reason", "arrival_date"]
"""The contract columns (sku .. reason), then the day the move lands at to_location."""


def no_transfers() -> pl.DataFrame:
    """An empty transfers table with its columns' types."""
    return pl.DataFrame(
        schema=dict.fromkeys(TRANSFER_COLUMNS, pl.String)
        | {"quantity": pl.Float64, "arrival_date": pl.Date}
    )


def transit_days(settings: Transfers, location: str = "to_location") -> pl.Expr:
    """The days a transfer into `location` takes: its `transit_days_to`, else `transit_days`."""
    return (
        pl.col(location)
        .replace_strict(settings.transit_days_to, default=None, return_dtype=pl.Float64)
        .fill_null(settings.transit_days)
        if settings.transit_days_to
        else pl.lit(settings.transit_days)
    )


def _receivers(rows: pl.DataFrame, settings: Transfers, as_of: dt.date) -> pl.DataFrame:
    """The short locations (position below the reorder point, with demand) with their need
    (order_up_to - position, whole units up) and the arrival of a transfer to them; `fast`:
    it lands no later than a new order would (`expected_arrival`; true without one)."""
    # here: reorder imports scipy, and `explain` imports this module from the cache path
    from stockplan.reorder import arrival_after

    short = (pl.col("inventory_position") < pl.col("reorder_point")) & (
        pl.col("forecast_per_day") > 0
    )
    need = (pl.col("order_up_to") - pl.col("inventory_position")).ceil()
    arrival = arrival_after(as_of, transit_days(settings))
    ordered = pl.col("expected_arrival") if "expected_arrival" in rows.columns else pl.lit(None)
    return (
        rows.filter(short)
        .rename({"location": "to_location"})
        .select(
            "sku",
            "to_location",
            need.alias("need"),
            pl.col("inventory_position"),
            pl.col("reorder_point"),
            arrival.alias("arrival_date"),
            ordered.cast(pl.Date).alias("order_arrival"),
        )
        .with_columns(
            (pl.col("arrival_date") <= pl.col("order_arrival")).fill_null(True).alias("fast")
        )
    )


def _donors(rows: pl.DataFrame, settings: Transfers) -> pl.DataFrame:
    """The locations with a surplus of at least `min_qty`: on_hand - allocated - backorders
    - order_up_to, whole units down."""
    surplus = (
        pl.col("on_hand") - pl.col("allocated") - pl.col("backorders") - pl.col("order_up_to")
    ).floor()
    return rows.filter(surplus >= settings.min_qty).select(
        "sku", pl.col("location").alias("from_location"), surplus.alias("surplus")
    )


def _movable(rows: pl.DataFrame, settings: Transfers) -> pl.DataFrame | None:
    """The rows transfers may move stock between: the active items' (inactive ones sell off
    where they are); None when transfers are off."""
    if not settings.enabled:
        return None
    if "inactive" in rows.columns:
        return rows.filter(~pl.col("inactive").fill_null(False))
    return rows


def plan_transfers(rows: pl.DataFrame, settings: Transfers, as_of: dt.date) -> pl.DataFrame:
    """rows: sku, location, on_hand, allocated, backorders, inventory_position,
    reorder_point, order_up_to, forecast_per_day, expected_arrival (a new order's arrival,
    optional), inactive (optional). Returns the transfers table, each move with its
    arrival_date (as_of + its transit days)."""
    from stockplan.reorder import fmt_apart, fmt_number  # here: see `_receivers`

    rows = _movable(rows, settings)
    if rows is None:
        return no_transfers()
    donors = (
        _donors(rows, settings)
        .sort(["sku", "surplus", "from_location"], descending=[False, True, False])
        .with_columns(pl.col("surplus").cum_sum().over("sku").alias("d_end"))
        .with_columns((pl.col("d_end") - pl.col("surplus")).alias("d_start"))
    )
    receivers = (
        _receivers(rows, settings, as_of)
        .filter("fast")
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
    """sku, location -> transfer_qty (+ in, - out) and transfer_arrival, the day the
    transfers in land (the receiver's transit days: one day per receiver; null for a
    sender, or a table without arrival_date), which the receiver's order reason names."""
    arrival = (
        pl.col("arrival_date").cast(pl.Date)
        if "arrival_date" in transfers.columns
        else pl.lit(None, pl.Date)
    )
    incoming = transfers.select(
        "sku", pl.col("to_location").alias("location"), "quantity", arrival.alias("arrival")
    )
    outgoing = transfers.select(
        "sku",
        pl.col("from_location").alias("location"),
        (-pl.col("quantity")).alias("quantity"),
        pl.lit(None, pl.Date).alias("arrival"),
    )
    return (
        pl.concat([incoming, outgoing])
        .group_by(["sku", "location"])
        .agg(
            pl.col("quantity").sum().alias("transfer_qty"),
            pl.col("arrival").max().alias("transfer_arrival"),
        )
    )


def slow_receivers(rows: pl.DataFrame, settings: Transfers, as_of: dt.date) -> pl.DataFrame:
    """sku, to_location, arrival_date, order_arrival of the short locations `plan_transfers`
    sends nothing because a transfer would land after a new order placed today, while a
    donor of the item holds a surplus: they buy instead (the plan's notes count them)."""
    rows = _movable(rows, settings)
    if rows is None:
        return no_transfers().select(
            "sku", "to_location", "arrival_date", pl.col("arrival_date").alias("order_arrival")
        )
    return (
        _receivers(rows, settings, as_of)
        .filter(~pl.col("fast"))
        .join(_donors(rows, settings).select("sku").unique(), on="sku", how="semi")
        .select("sku", "to_location", "arrival_date", "order_arrival")
        .sort(["sku", "to_location"])
    )


def transfers_in_transit(transfers: pl.DataFrame | None, as_of: dt.date) -> pl.DataFrame:
    """sku, location, arrival, quantity: the moves still on their way after as_of (arrival_date
    later than as_of), in the shape of the open purchase orders, so the receiver counts them
    in its stock from their arrival as it counts a purchase order. A table without
    arrival_date has arrived (no transit time)."""
    schema = {"sku": pl.String, "location": pl.String, "arrival": pl.Date, "quantity": pl.Float64}
    if transfers is None or "arrival_date" not in transfers.columns:
        return pl.DataFrame(schema=schema)
    return (
        transfers.filter(pl.col("arrival_date") > as_of)
        .select(
            "sku",
            pl.col("to_location").alias("location"),
            pl.col("arrival_date").alias("arrival"),
            pl.col("quantity").cast(pl.Float64),
        )
        .cast(schema)
    )
