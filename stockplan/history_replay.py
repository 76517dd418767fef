"""Your buyers next to the policy: the company's own purchase orders replayed on the same
days against the same demand as `stockplan simulate` replays the policy.

Every purchase-order line ordered inside the replay window (order_date in [start, end))
books its received quantity (received_quantity, else quantity) into stock at the start of
its received_date (never before its order date); lines not received before the window's
end bring nothing. Like the policy, the buyers start with stock equal to the expected
demand over L + R and no pipeline, so neither gets a head start: orders placed before the
window do not count for either. Demand, unmet demand (lost or backordered) and every
metric are those of `stockplan.simulate` (fill_rate = served / demand, stockout_days,
avg_inventory_value = mean over days of end-of-day stock x unit cost, orders_placed =
purchase-order lines of the replayed series, unmet_units = lost sales in units,
expired_units / expired_value = units of items with a shelf life written off unsold).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from stockplan.demand import SERIES
from stockplan.errors import StockplanError
from stockplan.i18n import phrase
from stockplan.shelf_stock import ShelfStock

BUYERS = "your buyers (purchase history)"


def check_history(purchase_orders: pl.DataFrame | None) -> pl.DataFrame:
    """The purchase orders, if they can be replayed (checked before the long replay)."""
    if purchase_orders is None:
        raise StockplanError(phrase("error.history_needs_orders"))
    if "received_date" not in purchase_orders.columns:
        raise StockplanError(phrase("error.history_needs_receipts"))
    return purchase_orders


def buyer_receipts(
    purchase_orders: pl.DataFrame, series: pl.DataFrame, start: dt.date, n_days: int
) -> tuple[np.ndarray, int]:
    """([series, days] units received per day from lines ordered in the window, lines)."""
    check_history(purchase_orders)
    end = start + dt.timedelta(days=n_days)
    quantity = (
        pl.coalesce("received_quantity", "quantity")
        if "received_quantity" in purchase_orders.columns
        else pl.col("quantity")
    )
    keyed = series.select(SERIES).with_row_index("row")
    lines = purchase_orders.filter(
        (pl.col("order_date") >= start) & (pl.col("order_date") < end)
    ).join(keyed, on=SERIES)
    placed = lines.select(
        pl.struct("po_id", *SERIES).n_unique() if "po_id" in lines.columns else pl.len()
    ).item()
    arrived = (
        lines.filter(pl.col("received_date").is_not_null() & (pl.col("received_date") < end))
        .with_columns(
            (pl.max_horizontal("received_date", "order_date") - pl.lit(start))
            .dt.total_days()
            .alias("day"),
            quantity.cast(pl.Float64).clip(lower_bound=0.0).alias("received"),
        )
        .group_by("row", "day")
        .agg(pl.col("received").sum())
    )
    receipts = np.zeros((series.height, n_days))
    receipts[arrived["row"].to_numpy(), arrived["day"].to_numpy()] = arrived["received"].to_numpy()
    return receipts, int(placed or 0)


def replay_receipts(
    demand: np.ndarray,
    receipts: np.ndarray,
    initial_stock: np.ndarray,
    unit_cost: np.ndarray,
    review_days: int | np.ndarray,
    backorder: bool,
    warmup: np.ndarray | None = None,
    usable_days: np.ndarray | None = None,
) -> dict[str, float]:
    """Serve `demand` [series, days] day by day from stock fed by fixed `receipts`.

    Like the policy's replay, a series' metrics count only from its day `warmup` on (the
    first day an order of the policy's can have arrived), so both are scored on the same days,
    and its cycles are its review periods (`review_days`: R, one for all or per series);
    items with a shelf life (`usable_days`, `Replay.usable_days`) are held by receipt and
    their expired units written off as the policy's are (`shelf_stock`).
    """
    n_series, n_days = demand.shape
    shelf = ShelfStock(usable_days, initial_stock, n_days) if usable_days is not None else None
    lots = shelf.rows if shelf else None
    expired_units = expired_value = 0.0
    warmup = np.zeros(n_series) if warmup is None else warmup
    counted_days = np.zeros(n_series)
    value_by_series = np.zeros(n_series)
    units_by_series = np.zeros(n_series)
    cycle_counts = np.zeros(n_series, dtype=bool)
    on_hand = initial_stock.astype(float).copy()
    backlog = np.zeros(n_series)
    served_total = demand_total = unmet_total = 0.0
    stockout_days = 0
    cycle_short = np.zeros(n_series, dtype=bool)
    cycle_demand = np.zeros(n_series, dtype=bool)
    cycles = cycles_ok = 0
    for day in range(n_days):  # days, not rows: every series moves together
        on_hand += receipts[:, day]
        if shelf:
            shelf.receive(day, receipts[:, day])
            expired = shelf.expire(day) * (day >= warmup[lots])
            on_hand[lots] = shelf.units
            expired_units += expired.sum()
            expired_value += (expired * unit_cost[lots]).sum()
        if backorder:
            cleared = np.minimum(on_hand, backlog)
            on_hand -= cleared
            backlog -= cleared
            if shelf:
                shelf.take(day, cleared)
        due = np.broadcast_to(day % review_days == 0, (n_series,))  # series reviewed today
        if due.any():
            if day > 0:
                cycles += int((cycle_demand & cycle_counts & due).sum())
                cycles_ok += int((cycle_demand & ~cycle_short & cycle_counts & due).sum())
                cycle_short[due] = False
                cycle_demand[due] = False
            cycle_counts = np.where(due, day >= warmup, cycle_counts)
        today = demand[:, day]
        served = np.minimum(on_hand, today)
        on_hand -= served
        if shelf:
            shelf.take(day, served)
            on_hand[lots] = shelf.units
        unmet = today - served
        if backorder:
            backlog += unmet
        counts = day >= warmup
        served_total += (served * counts).sum()
        demand_total += (today * counts).sum()
        unmet_total += (unmet * counts).sum()
        short = unmet > 1e-9
        stockout_days += int((short & counts).sum())
        cycle_short |= short
        cycle_demand |= today > 0
        value_by_series += on_hand * unit_cost * counts
        units_by_series += on_hand * counts
        counted_days += counts
    cycles += int((cycle_demand & cycle_counts).sum())
    cycles_ok += int((cycle_demand & ~cycle_short & cycle_counts).sum())
    days = np.maximum(counted_days, 1)
    return {
        "fill_rate": served_total / demand_total if demand_total else 1.0,
        "cycle_service_level": cycles_ok / cycles if cycles else 1.0,
        "stockout_days": stockout_days,
        "avg_inventory_value": float((value_by_series / days).sum()),
        "avg_inventory_units": float((units_by_series / days).sum()),
        "unmet_units": unmet_total,
        "expired_units": float(expired_units),
        "expired_value": float(expired_value),
        "days": int(counted_days.max()) if n_series else 0,
    }


def history_baseline(replay, purchase_orders: pl.DataFrame | None, backorder: bool) -> dict:
    """The buyers' row of the `simulation` table for a `stockplan.replay.Replay`."""
    from stockplan.replay import BASELINE_HISTORY_DAYS

    purchase_orders = check_history(purchase_orders)
    demand = replay.demand[:, BASELINE_HISTORY_DAYS:]
    n_days = demand.shape[1]
    receipts, placed = buyer_receipts(purchase_orders, replay.series, replay.start, n_days)
    metrics = replay_receipts(
        demand,
        receipts,
        replay.initial_stock,
        replay.series["unit_cost"].fill_null(0.0).to_numpy(),
        replay.review_periods(),
        backorder,
        replay.warmup_days,
        replay.usable_days,
    )
    return (
        {"policy": BUYERS, "target": None, "orders_placed": placed}
        | metrics
        | {"series": replay.series.height}
    )
