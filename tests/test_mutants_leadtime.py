"""Lead-time behaviours pinned down by surviving mutants of `stockplan/leadtime.py`."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from stockplan.config import LeadTime
from stockplan.leadtime import backup_lead_times, supplier_scorecard


def test_backup_lead_times_come_from_the_backup_suppliers_master_row_for_named_items_only():
    series = pl.DataFrame({"sku": ["A", "A", "B"], "location": ["W1", "W2", "W1"]})
    products = pl.DataFrame(
        {"sku": ["A", "B"], "supplier": ["Slow", "Slow"], "backup_supplier": ["Fast", None]}
    )
    suppliers = pl.DataFrame(
        {
            "supplier": ["Slow", "Fast"],
            "lead_time_days": [30.0, 5.0],
            "lead_time_std_days": [4.0, 1.0],
        }
    )
    out = backup_lead_times(series, products, suppliers, None, LeadTime()).sort("location")
    assert out.to_dicts() == [
        {
            "sku": "A",
            "location": loc,
            "supplier": "Fast",
            "lead_time_days": 5.0,
            "lead_time_std_days": 1.0,
            "lead_time_source": "suppliers",
        }
        for loc in ("W1", "W2")
    ]


def test_no_named_backup_means_no_backup_lead_times():
    series = pl.DataFrame({"sku": ["A"], "location": ["W1"]})
    products = pl.DataFrame(
        {"sku": ["A"], "backup_supplier": [None]}, schema_overrides={"backup_supplier": pl.String}
    )
    assert backup_lead_times(series, products, None, None, LeadTime()).height == 0
    assert backup_lead_times(series, None, None, None, LeadTime()).height == 0


def test_a_one_unit_line_counts_in_the_suppliers_fill_rate():
    # per-line fill: 0 of 1 and 10 of 10 -> mean (0 + 1) / 2 = 0.5; units: 10 of 11
    purchase_orders = pl.DataFrame(
        {
            "po_id": ["P1", "P2"],
            "sku": ["A", "A"],
            "location": ["W", "W"],
            "supplier": ["S", "S"],
            "quantity": [1.0, 10.0],
            "received_quantity": [0.0, 10.0],
            "order_date": [dt.date(2025, 1, 1)] * 2,
            "expected_date": [dt.date(2025, 1, 10)] * 2,
            "received_date": [dt.date(2025, 1, 9), dt.date(2025, 1, 11)],
        }
    )
    (card,) = supplier_scorecard(purchase_orders).to_dicts()
    assert card["fill_rate"] == pytest.approx(0.5)
    assert card["quantity_fill_rate"] == pytest.approx(10 / 11)
    assert card["on_time_rate"] == pytest.approx(0.5)
