"""Move stock between warehouses before buying (docs/design.md §4: rebalance, then purchase).

A location *gives* what its physical stock holds above its own order-up-to level:
    surplus = on_hand - allocated - backorders - order_up_to            (only if > 0)
A location *needs* when its inventory position is below its reorder point:
    need = order_up_to - inventory_position
and, without forecast demand, when open customer orders (backorders) put its position
below 0: need = -inventory_position, what those orders lack (`reorder.committed_need`).
Per SKU, each receiver takes from the donor whose move lands soonest, then the next
(`plan_transfers`); where every move takes as long, receivers (largest need first) and
donors (largest surplus first) are laid on two cumulative scales and receiver i takes from
donor j the overlap of their intervals, min(N_i, D_j) - max(N_(i-1), D_(j-1)): the greedy
matching. Quantities are whole units; a move smaller than `min_qty` is not made, and
takes nothing off the receiver's need or the donor's surplus: the receiver asks its next
donor (a need, or a donor's rest, below `min_qty` moves nothing).

A move takes `transit_days` (the receiver's `transit_days_to` where set, the lane's
`transit_days_between` where set) to arrive:
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


def short_locations(rows: pl.DataFrame) -> pl.DataFrame:
    """The short locations with their need, whole units up, and `order_arrival`, the day a
    new order placed today lands (`expected_arrival`; null without one), largest need
    first. Short: position below the reorder point, with demand (need order_up_to -
    position), or owing open customer orders without forecast demand (`reorder.
    owed_without_forecast`; need what the orders lack, `reorder.committed_need`)."""
    from stockplan.reorder import committed_need, owed_without_forecast  # here: see `_lanes`

    owed = owed_without_forecast()
    short = (
        (pl.col("inventory_position") < pl.col("reorder_point")) & (pl.col("forecast_per_day") > 0)
    ) | (owed & (committed_need() > 0))
    need = (
        pl.when(owed)
        .then(committed_need())
        .otherwise(pl.col("order_up_to") - pl.col("inventory_position"))
    ).ceil()
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
            owed.alias("owed"),
            ordered.cast(pl.Date).alias("order_arrival"),
        )
        .sort(["sku", "need", "to_location"], descending=[False, True, False])
    )


def _donors(rows: pl.DataFrame, settings: Transfers) -> pl.DataFrame:
    """The locations with a surplus of at least `min_qty`: on_hand - allocated - backorders
    - order_up_to, whole units down; `donor_rank` 1 for an item's largest surplus."""
    surplus = (
        pl.col("on_hand") - pl.col("allocated") - pl.col("backorders") - pl.col("order_up_to")
    ).floor()
    return (
        rows.filter(surplus >= settings.min_qty)
        .select("sku", pl.col("location").alias("from_location"), surplus.alias("surplus"))
        .sort(["sku", "surplus", "from_location"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("sku").alias("donor_rank"))
    )


def movable_rows(rows: pl.DataFrame, settings: Transfers) -> pl.DataFrame | None:
    """The rows transfers may move stock between: the active items' (inactive ones sell off
    where they are); None when transfers are off."""
    if not settings.enabled:
        return None
    if "inactive" in rows.columns:
        return rows.filter(~pl.col("inactive").fill_null(False))
    return rows


def _lanes(rows: pl.DataFrame, settings: Transfers, as_of: dt.date) -> pl.DataFrame:
    """Every (short location, donor) pair of an item with the move's `arrival_date` (as_of +
    its lane's `transit_days_between`, else the receiver's `transit_days_to`, else
    `transit_days`) and `in_time`: it lands no later than a new order would (true
    without one). The receivers' order (largest need first) is kept."""
    # here: reorder imports scipy, and `explain` imports this module from the cache path
    from stockplan.reorder import arrival_after

    pairs = short_locations(rows).join(_donors(rows, settings), on="sku", maintain_order="left")
    days = transit_days(settings)
    if settings.transit_days_between:
        lanes = pl.DataFrame(
            [
                (sender, receiver, days_on_lane)
                for sender, receivers in settings.transit_days_between.items()
                for receiver, days_on_lane in receivers.items()
            ],
            schema={"from_location": pl.String, "to_location": pl.String, "lane": pl.Float64},
            orient="row",
        )
        pairs = pairs.join(
            lanes, on=["from_location", "to_location"], how="left", maintain_order="left"
        )
        days = pl.col("lane").fill_null(days)
    arrival = arrival_after(as_of, days)
    return pairs.with_columns(arrival.alias("arrival_date")).with_columns(
        (pl.col("arrival_date") <= pl.col("order_arrival")).fill_null(True).alias("in_time")
    )


def plan_transfers(rows: pl.DataFrame, settings: Transfers, as_of: dt.date) -> pl.DataFrame:
    """rows: sku, location, on_hand, allocated, backorders, inventory_position,
    reorder_point, order_up_to, forecast_per_day, expected_arrival (a new order's arrival,
    optional), inactive (optional). Returns the transfers table, each move with its
    arrival_date (as_of + its lane's transit days).

    Each short location takes from the donors it reaches in time (`_lanes`), the soonest
    to land first (on equal days the largest surplus first), in turns: in turn k every
    receiver asks its k-th donor for what it still needs, and a donor serves the receivers
    that ask it from what it has left, those with the fewest donors in time first (a
    location only this donor reaches before one another donor could also serve), then
    largest need first (their need before any move):
        take_i = min(still_i, max(left - sum of the still needed before i, 0)),
    made only when take_i >= min_qty: a receiver or donor with less than min_qty still
    asks or gives nothing, and a smaller take is not made (the receiver asks its next
    donor in the next turn). One round per turn (at most the locations, not the rows).
    With every lane equally long each receiver's k-th donor is the item's k-th largest
    surplus, every receiver has as many donors, and this is the overlap of the two
    cumulative scales, receivers largest need first against donors largest surplus
    first, a donor's rest below min_qty left off its scale."""
    rows = movable_rows(rows, settings)
    if rows is None:
        return no_transfers()
    return _matched(_lanes(rows, settings, as_of), settings)


def _matched(lanes: pl.DataFrame, settings: Transfers) -> pl.DataFrame:
    """The transfers over `lanes` (`_lanes`), in the turns of `plan_transfers`."""
    from stockplan.reorder import fmt_apart, fmt_number  # here: see `_lanes`

    receiver = ["sku", "to_location"]
    donor = ["sku", "from_location"]
    pairs = (
        lanes.filter("in_time")
        .sort([*receiver, "arrival_date", "donor_rank"])
        .with_columns(
            pl.int_range(1, pl.len() + 1).over(receiver).alias("turn"),
            pl.len().over(receiver).alias("choices"),
        )
    )
    still = pairs.select(*receiver, pl.col("need").alias("still")).unique(maintain_order=True)
    left = pairs.select(*donor, pl.col("surplus").alias("left")).unique(maintain_order=True)
    moves = []
    for turn in range(1, (pairs["turn"].max() or 0) + 1):
        asking = (
            pairs.filter(pl.col("turn") == turn)
            .join(still, on=receiver)
            .join(left, on=donor)
            # a move is at least min_qty: a need or a rest below it moves nothing
            .filter((pl.col("still") >= settings.min_qty) & (pl.col("left") >= settings.min_qty))
            .sort(["sku", "choices", "need", "to_location"], descending=[False, False, True, False])
        )
        before = pl.col("still").cum_sum().over(donor) - pl.col("still")
        # a donor's last share under min_qty is not made within the turn: it takes
        # nothing from the donor nor off the need, and the receiver asks its next donor
        taken = asking.with_columns(
            pl.min_horizontal("still", (pl.col("left") - before).clip(lower_bound=0))
            .floor()
            .alias("quantity")
        ).filter(pl.col("quantity") >= settings.min_qty)
        moves.append(taken)
        still = _less(still, taken, receiver, "still")
        left = _less(left, taken, donor, "left")
    if not moves:
        return no_transfers()
    return (
        pl.concat(moves)
        .with_columns(
            pl.when("owed")
            .then(
                pl.format(
                    "{} owes open customer orders with no forecast demand (position {}); "
                    "{} holds {} above its order-up-to",
                    "to_location",
                    fmt_number(pl.col("inventory_position")),
                    "from_location",
                    fmt_number(pl.col("surplus")),
                )
            )
            .otherwise(
                pl.format(
                    "{} is below its reorder point ({} < {}); {} holds {} above its order-up-to",
                    "to_location",
                    *fmt_apart(pl.col("inventory_position"), pl.col("reorder_point")),
                    "from_location",
                    fmt_number(pl.col("surplus")),
                )
            )
            .alias("reason")
        )
        .select(TRANSFER_COLUMNS)
        .sort(["sku", "to_location", "from_location"])
    )


def _less(amounts: pl.DataFrame, taken: pl.DataFrame, keys: list[str], column: str) -> pl.DataFrame:
    """`amounts` with each key's `column` less the quantity its moves in `taken` took."""
    took = taken.group_by(keys).agg(pl.col("quantity").sum())
    return (
        amounts.join(took, on=keys, how="left", maintain_order="left")
        .with_columns(pl.col(column) - pl.col("quantity").fill_null(0.0))
        .drop("quantity")
    )


def net_transfers(transfers: pl.DataFrame) -> pl.DataFrame:
    """sku, location -> transfer_qty (+ in, - out) and transfer_arrival, the day the
    last transfer in lands (null for a sender, or a table without arrival_date), which
    the receiver's order reason names."""
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
    sends nothing because every move from a donor of the item would land after a new order
    placed today (arrival_date: the soonest of those moves): they buy instead (the plan's
    notes count them)."""
    rows = movable_rows(rows, settings)
    if rows is None:
        return _too_slow(None)
    return _too_slow(_lanes(rows, settings, as_of))


def rebalance(
    rows: pl.DataFrame, settings: Transfers, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`plan_transfers`, `slow_receivers`) of the same rows, their lanes built once."""
    rows = movable_rows(rows, settings)
    if rows is None:
        return no_transfers(), _too_slow(None)
    lanes = _lanes(rows, settings, as_of)
    return _matched(lanes, settings), _too_slow(lanes)


def _too_slow(lanes: pl.DataFrame | None) -> pl.DataFrame:
    """The receivers of `slow_receivers` over `lanes` (`_lanes`; None: transfers off)."""
    if lanes is None:
        return no_transfers().select(
            "sku", "to_location", "arrival_date", pl.col("arrival_date").alias("order_arrival")
        )
    return (
        lanes.group_by("sku", "to_location")
        .agg(
            pl.col("in_time").any(),
            pl.col("arrival_date").min(),
            pl.col("order_arrival").first(),
        )
        .filter(~pl.col("in_time"))
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
