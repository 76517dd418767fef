"""The risk table's restock ETA comes from the orders as finally placed: the first open PO
on or after the stockout, else today's order if one is placed (after the budget, minimum
order values and full loads), else nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import AS_OF

import stockplan

SERIES = ["sku", "location"]
ARRIVAL = AS_OF + dt.timedelta(days=14)  # today's order: Acme's lead time of 14 days


def _plan(config: Path, purchasing: dict | None = None):
    if purchasing is not None:
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["purchasing"] = purchasing
        config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    config_, inputs = stockplan.load(config)
    return stockplan.plan(inputs, config_)


def _row(plan, table: str, sku: str, location: str) -> dict:
    (row,) = (
        plan.tables[table]
        .filter((pl.col("sku") == sku) & (pl.col("location") == location))
        .to_dicts()
    )
    return row


def test_no_order_and_no_receipt_after_the_stockout_gives_no_restock_eta(small_shop: Path):
    plan = _plan(small_shop)
    # WH2: 500 on hand, 165 sent to WH1 -> 335, above its reorder point: no order, no PO.
    # 335 / 10.15 a day = 33.0 days: empty on day 34, 2025-11-16; nothing is coming
    order = _row(plan, "orders", "A-100", "WH2")
    assert order["order_qty"] == 0
    assert order["expected_arrival"] == ARRIVAL  # what an order would do, not one placed
    risk = _row(plan, "risk", "A-100", "WH2")
    assert risk["days_of_cover"] == pytest.approx(335 / order["forecast_per_day"])
    assert risk["stockout_date"] == dt.date(2025, 11, 16)
    assert risk["restock_eta"] is None
    # WH1: 40 - 5 allocated + 165 in = 200, the open PO of 48 lands 2025-10-20, before the
    # stockout of 2025-11-07 (248 / 9.99 = 24.8 days): no receipt on or after it, no order
    assert _row(plan, "orders", "A-100", "WH1")["order_qty"] == 0
    risk = _row(plan, "risk", "A-100", "WH1")
    assert risk["next_receipt_date"] == dt.date(2025, 10, 20)
    assert risk["stockout_date"] == dt.date(2025, 11, 7)
    assert risk["restock_eta"] is None
