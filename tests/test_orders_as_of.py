"""A plan as of a past date reads the purchase orders as they stood that day: lines ordered
after it do not exist yet, lines received after it are on order, and receipts after it
count in neither the lead times nor the supplier scorecard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import make_small_shop
from typer.testing import CliRunner

import stockplan
from stockplan.cli import app
from stockplan.config import Config

runner = CliRunner()

AS_OF = dt.date(2025, 8, 20)

ORDERS = (
    "po_id,sku,location,supplier,quantity,order_date,expected_date,received_date,"
    "received_quantity\n"
    "P1,A-100,WH1,Acme,100,2025-08-01,2025-08-15,2025-08-15,100\n"  # 14 days, before as_of
    "P0,A-100,WH1,Acme,20,2025-08-06,2025-08-20,2025-08-20,20\n"  # 14 days, on as_of: stands
    "P2,A-100,WH1,Acme,100,2025-08-10,2025-08-24,2025-08-27,90\n"  # received after as_of
    "P5,A-100,WH1,Acme,30,2025-08-20,2025-09-03,2025-09-02,30\n"  # ordered on as_of
    "P3,A-100,WH1,Acme,50,2025-09-01,2025-09-15,2025-09-14,60\n"  # ordered after as_of
    "P4,A-100,WH1,Acme,40,2025-09-10,,2025-09-30,\n"  # ordered after as_of
)
"""A-100's history, every line received by today (2025-10-13)."""


def _shop(folder: Path) -> Path:
    """The small shop with `ORDERS` as its purchase orders, planned as of `AS_OF`."""
    config = make_small_shop(folder)
    (folder / "purchase_orders.csv").write_text(ORDERS, encoding="utf-8")
    raw = yaml.safe_load(config.read_text())
    raw["planning"]["as_of"] = AS_OF.isoformat()
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return config


def test_plan_as_of_a_past_date_sees_the_orders_of_that_day(tmp_path: Path):
    config = stockplan.load_config(_shop(tmp_path))
    inputs = stockplan.read_inputs(config)
    result = stockplan.plan(inputs, config)
    # 08-20: P2 (100 ordered, 90 received 08-27) and P5 (30, received 09-02) are open;
    # P3 and P4 are not placed yet; P1 and P0 are the only receipts
    orders = result.output_tables(all_rows=True)["orders"]
    a = orders.filter((pl.col("sku") == "A-100") & (pl.col("location") == "WH1")).row(0, named=True)
    assert a["on_order"] == pytest.approx(100 + 30)
    # 2 receipts < lead_time.min_history 3: no history level, the suppliers table's 14 days
    assert a["lead_time_source"] == "suppliers"
    assert a["lead_time_days"] == pytest.approx(14.0)
    risk = result.tables["risk"].filter(pl.col("sku") == "A-100", pl.col("location") == "WH1")
    assert risk["on_order"].item() == pytest.approx(130)
    assert risk["next_receipt_date"].item() == dt.date(2025, 8, 24)  # P2's expected date
    acme = result.tables["suppliers"].filter(pl.col("supplier") == "Acme").row(0, named=True)
    assert acme["receipts"] == 2
    assert acme["lead_time_mean_days"] == pytest.approx(14.0)
    assert acme["supplier_tier"] == "unrated"  # 2 receipts < supplier_tiers.min_receipts 3
    said = "left out, 2 lines ordered after it; on order, 2 lines received after it"
    assert any(said in warning for warning in inputs.warnings)


def test_suppliers_command_as_of_a_past_date_scores_the_receipts_before_it(tmp_path: Path):
    config = _shop(tmp_path)
    out = tmp_path / "scorecard.csv"
    result = runner.invoke(app, ["suppliers", "-c", str(config), "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    acme = pl.read_csv(out).filter(pl.col("supplier") == "Acme").row(0, named=True)
    # P1 and P0, 14 days each, both on time (received on their expected dates)
    assert acme["receipts"] == 2
    assert acme["lead_time_mean_days"] == pytest.approx(14.0)
    assert acme["on_time_rate"] == pytest.approx(1.0)
    assert acme["supplier_tier"] == "unrated"
    assert "2 lines ordered after it" in result.output
    # --as-of today: every line stands, six receipts; the mean of 14 14 17 13 13 20 days
    later = runner.invoke(
        app, ["suppliers", "-c", str(config), "-o", str(out), "-q", "--as-of", "2025-10-13"]
    )
    assert later.exit_code == 0, later.output
    acme = pl.read_csv(out).filter(pl.col("supplier") == "Acme").row(0, named=True)
    assert acme["receipts"] == 6
    assert acme["lead_time_mean_days"] == pytest.approx((14 + 14 + 17 + 13 + 13 + 20) / 6, abs=0.01)


def test_orders_as_of_reopens_later_receipts_and_drops_later_orders():
    from stockplan.io.prepare import orders_as_of

    def d(text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    orders = pl.DataFrame(
        {
            "po_id": ["P1", "P2", "P3"],
            "sku": ["A", "A", "A"],
            "quantity": [100.0, 100.0, 50.0],
            "order_date": [d("2025-08-01"), d("2025-08-10"), d("2025-08-21")],
            "received_date": [d("2025-08-15"), d("2025-08-27"), None],
            "received_quantity": [100.0, 90.0, None],
            "rejected_quantity": [None, 5.0, None],
        }
    )
    config = Config.model_validate({"planning": {"as_of": "2025-08-20"}})
    kept, notes = orders_as_of(orders, config)
    assert kept["po_id"].to_list() == ["P1", "P2"]
    p2 = kept.row(1, named=True)
    assert (p2["received_date"], p2["received_quantity"], p2["rejected_quantity"]) == (None,) * 3
    assert kept.row(0, named=True)["received_date"] == d("2025-08-15")  # before as_of: stands
    assert len(notes) == 1
    # without planning.as_of the plan is made today: every line as written, no note
    same, none = orders_as_of(orders, Config())
    assert same.equals(orders) and none == []
