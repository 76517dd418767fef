"""Plan behaviours pinned down by surviving mutants of `stockplan/plan.py`."""

from __future__ import annotations

import datetime as dt

import polars as pl

from stockplan.plan import explain_backup, stale_stock_note

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
