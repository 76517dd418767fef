"""Lead-time behaviours pinned down by surviving mutants of `stockplan/leadtime.py`."""

from __future__ import annotations

import polars as pl

from stockplan.config import LeadTime
from stockplan.leadtime import backup_lead_times


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
