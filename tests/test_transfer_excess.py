"""Stock a transfer takes away is no longer the sender's: not in its excess, not in its
expiring lots; and stock that would expire unsold where it lies goes to a location that
sells it before its sell-by date. Numbers worked out by hand in each test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

import stockplan
from stockplan.config import Transfers
from stockplan.i18n import render_reason
from stockplan.shelf_life import expiring_offer, lots_after_transfers, transfer_offer

AS_OF = dt.date(2025, 10, 13)


def _shop(folder: Path, stock: str, products: str) -> Path:
    """STORE sells 10 a day for the 91 days before AS_OF (forecast 10 a day), DC never
    sells; supplier S1 delivers in 14 days."""
    days = [AS_OF - dt.timedelta(days=n) for n in range(91, 0, -1)]
    sales = "date,sku,location,quantity\n" + "".join(f"{d},K-1,STORE,10\n" for d in days)
    (folder / "sales.csv").write_text(sales)
    (folder / "stock.csv").write_text(stock)
    (folder / "products.csv").write_text(products)
    (folder / "suppliers.csv").write_text("supplier,lead_time_days,lead_time_std_days\nS1,14,0\n")
    config = folder / "config.yaml"
    config.write_text(
        "inputs: {sales: sales.csv, stock: stock.csv, products: products.csv, "
        "suppliers: suppliers.csv}\n"
        f"planning: {{as_of: '{AS_OF}'}}\nforecast: {{backtest_windows: 2}}\n"
    )
    return config


def _plan(config: Path) -> stockplan.Plan:
    settings, inputs = stockplan.load(config)
    return stockplan.plan(inputs, settings)


def _row(frame: pl.DataFrame, location: str) -> dict:
    return frame.filter(pl.col("location") == location).row(0, named=True)


def test_dead_stock_sent_away_is_not_counted_as_excess_at_the_sender(tmp_path: Path):
    config = _shop(
        tmp_path,
        "sku,location,on_hand\nK-1,DC,300\nK-1,STORE,20\n",
        "sku,unit_cost,unit_price,supplier\nK-1,10,20,S1\n",
    )
    plan = _plan(config)
    moves = plan.transfers.select("from_location", "to_location", "quantity").rows()
    sent = moves[0][2]
    assert moves == [("DC", "STORE", sent)] and sent > 200  # STORE's need, about 214
    # DC never sold: its stock is dead. 300 on hand - the units sent = what stays; at 10 a
    # unit that is its value. Before, all 300 (3,000) were listed.
    dc = _row(plan.excess, "DC")
    assert dc["excess_qty"] == 300 - sent
    assert dc["excess_value"] == (300 - sent) * 10
    assert dc["reason"] == "dead stock: never sold"
    assert _row(plan.orders, "DC")["inventory_position"] == 300 - sent


def test_expiring_lots_are_counted_after_the_transfers(tmp_path: Path):
    # DC sells 10 a day too (the same history as STORE's)
    stock = "sku,location,on_hand,expiry_date\nK-1,DC,900,2025-12-12\nK-1,STORE,20,2026-09-01\n"
    config = _shop(
        tmp_path, stock, "sku,unit_cost,unit_price,supplier,shelf_life_days\nK-1,10,20,S1,365\n"
    )
    sales = (tmp_path / "sales.csv").read_text()
    (tmp_path / "sales.csv").write_text(sales + sales.split("\n", 1)[1].replace("STORE", "DC"))
    plan = _plan(config)
    (sent,) = plan.transfers.filter(pl.col("from_location") == "DC")["quantity"].to_list()
    dc = _row(plan.orders, "DC")
    assert dc["forecast_per_day"] == 10.0
    # DC keeps 900 - sent; it sells 10 a day for the 60 days to 12 Dec: 600 of them, the
    # rest expires. Counted on all 900 it was 300, and the shipped units came off twice.
    kept = 900 - sent
    expiring = _row(plan.expiry_risk, "DC")
    assert expiring["lot_qty"] == kept
    assert expiring["expiring_qty"] == kept - 600
    assert dc["inventory_position"] == 600  # 900 - sent - (kept - 600)
    # STORE's 20 last until 2026 and its received units sell first: none of them expire
    assert plan.expiry_risk.filter(pl.col("location") == "STORE").height == 0
    assert _row(plan.orders, "STORE")["inventory_position"] == 20 + sent


def test_stock_expiring_at_a_slow_location_goes_to_one_that_sells_it_in_time(tmp_path: Path):
    stock = "sku,location,on_hand,expiry_date\nK-1,DC,300,2025-11-12\nK-1,STORE,20,2026-06-30\n"
    config = _shop(
        tmp_path, stock, "sku,unit_cost,unit_price,supplier,shelf_life_days\nK-1,10,20,S1,180\n"
    )
    plan = _plan(config)
    store = _row(plan.orders, "STORE")
    # DC never sells: all 300 would expire on 12 Nov. STORE sells 10 a day, 300 in the 30
    # days to 12 Nov: it takes what it needs (order-up-to - 20, whole units up) from DC
    # and buys nothing; before, it bought 214 overdue and the 300 were written off.
    need = -(-(store["order_up_to"] - 20) // 1)
    moves = plan.transfers.select("from_location", "to_location", "quantity").rows()
    assert moves == [("DC", "STORE", need)]
    assert store["order_qty"] == 0
    reason = plan.transfers["reason"][0]
    assert reason.endswith("; 300 would expire unsold at DC by 2025-11-12")
    assert render_reason(reason, "zh").endswith("DC 有 300 将于 2025-11-12 前过期未售")
    # what DC keeps, 300 - need, still expires there
    dc = plan.expiry_risk.filter(pl.col("location") == "DC").row(0, named=True)
    assert (dc["lot_qty"], dc["expiring_qty"], dc["expiring_value"]) == (
        300 - need,
        300 - need,
        (300 - need) * 10,
    )
    assert plan.expiry_risk.filter(pl.col("location") == "STORE").height == 0
    assert plan.excess.height == 0  # nothing of DC's stays as stock that could sell


def test_a_sender_ships_what_would_expire_first_then_its_freshest_stock():
    lots = pl.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "location": ["D", "D", "R"],
            "expiry_date": [dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1)],
            "lot_qty": [30.0, 50.0, 5.0],
        }
    )
    # D would sell 20 of its November lot, 10 expire; it offered those 10. It also holds 15
    # units without an expiry date.
    expiring = lots.with_columns(pl.Series("expiring_qty", [10.0, 0.0, 0.0]))
    offered = pl.DataFrame({"sku": ["A"], "location": ["D"], "offered_qty": [10.0]})
    undated = pl.DataFrame({"sku": ["A"], "location": ["D"], "undated_qty": [15.0]})
    moves = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "from_location": ["D", "D"],
            "to_location": ["R", "S"],
            "quantity": [40.0, 20.0],
            "arrival_date": [AS_OF, AS_OF + dt.timedelta(days=2)],
        }
    )
    after = lots_after_transfers(lots, moves, expiring, offered, undated)
    # D's stock in shipping order: the 10 offered of November [0, 10], the 15 undated
    # [10, 25], December, its latest, [25, 75], November's other 20 [75, 95]. The moves,
    # soonest first: R [0, 40] takes 10 Nov, 15 undated and 15 Dec; S [40, 60] 20 Dec.
    # D keeps 20 Nov (the 20 it sells) and 50 - 35 = 15 Dec.
    assert sorted(after.rows()) == [
        ("A", "D", dt.date(2025, 11, 1), 20.0),
        ("A", "D", dt.date(2025, 12, 1), 15.0),
        ("A", "R", dt.date(2025, 11, 1), 10.0),
        ("A", "R", dt.date(2025, 12, 1), 15.0),
        ("A", "R", dt.date(2026, 1, 1), 5.0),
        ("A", "S", dt.date(2025, 12, 1), 20.0),
    ]


def test_only_what_the_receiver_sells_before_the_sell_by_date_is_offered():
    # D: 100 units expiring unsold, 30 days to their sell-by date. R sells 2 a day, a move
    # takes 5 days, and 12 of its own units go before: 2 x (30 - 5) - 12 = 38 it can sell
    # (its need, 200, is larger). S is not short: it takes nothing.
    expiring = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["D", "R"],
            "sell_by_date": [AS_OF + dt.timedelta(days=30), AS_OF + dt.timedelta(days=10)],
            "days_to_sell_by": [30, 10],
            "expected_sold": [0.0, 12.0],
            "expiring_qty": [100.0, 0.0],
        }
    )
    rows = pl.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "location": ["D", "R", "S"],
            "inventory_position": [0.0, 12.0, 500.0],
            "reorder_point": [0.0, 100.0, 100.0],
            "order_up_to": [0.0, 212.0, 200.0],
            "forecast_per_day": [0.0, 2.0, 50.0],
            "backorders": [0.0, 0.0, 0.0],  # as every plan row has
        }
    )
    offer = transfer_offer(rows, expiring, Transfers(transit_days_to={"R": 5}))
    assert offer is not None and offer.rows() == [("A", "D", 38.0)]
    # with a need below that, the need bounds it: min(need 20, 38)
    receivers = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["R"],
            "forecast_per_day": [2.0],
            "need": [20.0],
            "transit_days": [5.0],
        }
    )
    assert expiring_offer(expiring, receivers).rows() == [("A", "D", 20.0)]
    assert transfer_offer(rows, expiring, Transfers(enabled=False)) is None
