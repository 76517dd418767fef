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


def test_an_order_placed_today_is_the_restock_eta(small_shop: Path):
    plan = _plan(small_shop)
    # 007: 3 on hand at 0.5 a day, empty on day 7 (2025-10-20), no PO; 10 ordered today
    # arrive after Acme's 14 days, 2025-10-27
    order = _row(plan, "orders", "007", "WH1")
    assert order["order_qty"] == 10
    risk = _row(plan, "risk", "007", "WH1")
    assert risk["stockout_date"] == dt.date(2025, 10, 20)
    assert risk["restock_eta"] == order["expected_arrival"] == ARRIVAL


@pytest.mark.parametrize(
    ("purchasing", "moq_value"),
    [
        ({"minimum_order_value": "defer"}, 100_000.0),  # Acme's total 400 is far below
        ({"budget": 10.0}, None),  # one unit of 007 costs 40: nothing fits
    ],
    ids=["deferred by the minimum order value", "cut to 0 by the budget"],
)
def test_an_order_cut_to_nothing_gives_no_restock_eta(
    small_shop: Path, purchasing: dict, moq_value: float | None
):
    if moq_value is not None:
        pl.DataFrame(
            {
                "supplier": ["Acme"],
                "lead_time_days": [14],
                "lead_time_std_days": [2.0],
                "moq_value": [moq_value],
            }
        ).write_csv(small_shop.parent / "suppliers.csv")
    plan = _plan(small_shop, purchasing)
    order = _row(plan, "orders", "007", "WH1")
    assert order["order_qty"] == 0  # the 10 of the plan above, 400.0, not placed
    risk = _row(plan, "risk", "007", "WH1")
    assert risk["stockout_date"] == dt.date(2025, 10, 20)
    assert risk["restock_eta"] is None  # not the deferred order's 2025-10-27
    # the risk itself does not read today's order: still high, 0.994 as planned
    assert risk["risk_level"] == "high"
    assert risk["stockout_probability"] == pytest.approx(0.994, abs=1e-3)
    # `explain` shows the plan's own row
    why = stockplan.explain(plan, "007", location="WH1")
    assert why.risk["restock_eta"].to_list() == [None]


def test_restock_eta_prefers_an_open_po_on_or_after_the_stockout():
    from stockplan.risk import restock_eta

    risk = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "location": ["W"] * 4,
            "stockout_date": [
                dt.date(2025, 10, 20),
                dt.date(2025, 10, 20),
                None,
                dt.date(2025, 10, 20),
            ],
            "restock_eta": [dt.date(2025, 10, 27)] * 4,  # the order stage's, to be replaced
        }
    )
    open_po = pl.DataFrame(
        {
            "sku": ["A", "B", "D"],
            "location": ["W"] * 3,
            "quantity": [5.0, 5.0, 5.0],
            "arrival": [dt.date(2025, 10, 22), dt.date(2025, 10, 18), dt.date(2025, 10, 20)],
        }
    )
    orders = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "location": ["W"] * 4,
            "order_qty": [12.0, 0.0, 12.0, 0.0],
            "expected_arrival": [dt.date(2025, 10, 27)] * 4,
        }
    )
    out = restock_eta(risk, open_po, orders)
    assert out.columns == risk.columns
    assert out["sku"].to_list() == ["A", "B", "C", "D"]
    assert out["restock_eta"].to_list() == [
        dt.date(2025, 10, 22),  # A: the PO two days after the stockout, before the order
        None,  # B: its PO lands before the stockout and nothing is ordered
        None,  # C: no stockout
        dt.date(2025, 10, 20),  # D: a PO on the stockout day itself
    ]
