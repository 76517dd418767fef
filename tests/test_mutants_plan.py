"""Plan behaviours pinned down by surviving mutants of `stockplan/reorder.py`."""

from __future__ import annotations

import datetime as dt

import polars as pl
from plan_rows import NULLABLE_NUMBERS, plan_row

from stockplan.config import Policy
from stockplan.reorder import explain_backup, plan_orders, stale_stock_note

AS_OF = dt.date(2025, 3, 3)


def test_a_backup_order_says_which_supplier_replaces_which_and_why():
    original = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "supplier": ["Pref"] * 3,
            "order_qty": [10.0, 5.0, 0.0],
            "reason": ["keep", "old", "old"],
        }
    )
    switched = pl.DataFrame(
        {
            "sku": ["B", "C"],
            "location": ["W"] * 2,
            "supplier": ["Fast"] * 2,
            "order_qty": [6.0, 0.0],
            "reason": ["below reorder point", "enough on hand"],
        }
    )
    late = pl.DataFrame(
        {
            "sku": ["B", "C"],
            "location": ["W"] * 2,
            "preferred_supplier": ["Pref"] * 2,
            "preferred_arrival": [AS_OF + dt.timedelta(days=20)] * 2,
            "stockout_date": [AS_OF + dt.timedelta(days=7)] * 2,
        }
    )
    rows = {r["sku"]: r for r in explain_backup(switched, original, late).to_dicts()}
    assert list(rows) == ["A", "B", "C"]
    assert rows["A"] == {
        "sku": "A",
        "location": "W",
        "supplier": "Pref",
        "order_qty": 10.0,
        "reason": "keep",
    }
    why = (
        "backup supplier Fast instead of Pref: stock runs out about 2025-03-10, "
        "Pref would deliver 2025-03-23"
    )
    assert rows["B"]["supplier"] == "Fast" and rows["B"]["order_qty"] == 6.0
    assert rows["B"]["reason"] == f"{why}; below reorder point"
    assert rows["C"]["reason"] == f"enough on hand with the {why}"


def test_items_missing_from_the_newest_snapshot_are_named_in_code_order():
    old, new = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
    skus = ["G", "C", "A", "F", "B", "E", "D"]
    stock = pl.DataFrame(
        {
            "sku": [*skus, "H"],
            "location": ["W"] * 8,
            "date": [old] * 7 + [new],
            "on_hand": [1.0] * 8,
        }
    )
    assert stale_stock_note(stock, "zero") == (
        "stock: 7 items are missing from their location's newest snapshot, taken as 0 on "
        "hand: A@W, B@W, C@W, D@W, E@W and 2 more"
    )


def _plan_row(**overrides: object) -> dict:
    """10 a day, L = 14, R = 7 (S = 210 with no forecast error), position 100."""
    return plan_row(**overrides)


def test_the_reason_says_when_a_need_was_rounded_up_to_whole_packs_or_capped():
    # need 210 - 100 = 110; packs of 12 -> 10 packs = 120; capped at 100 -> 8 packs = 96
    frame = pl.DataFrame(
        [
            _plan_row(sku="P", pack_size=12.0),
            _plan_row(sku="Q", pack_size=12.0, max_order=100.0),
            _plan_row(sku="U"),
        ],
        schema_overrides=NULLABLE_NUMBERS,
    )
    out = {r["sku"]: r for r in plan_orders(frame, Policy(), AS_OF, 7).to_dicts()}
    head = "position 100 below reorder point 210: need 110 to reach 210"
    assert (out["P"]["order_qty"], out["P"]["reason"]) == (
        120.0,
        f"{head}; rounded up to packs of 12",
    )
    assert (out["Q"]["order_qty"], out["Q"]["reason"]) == (
        96.0,
        f"{head}; rounded up to packs of 12; capped at max order 100",
    )
    assert (out["U"]["order_qty"], out["U"]["reason"]) == (110.0, head)
