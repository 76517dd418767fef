"""Supplier scorecard: quantity fill, quality and tiers, by hand; the tier in plan and risk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

import stockplan
from stockplan.config import SupplierTiers, TierThresholds, parse_config
from stockplan.errors import StockplanError
from stockplan.leadtime import supplier_scorecard

D = dt.date(2025, 1, 1)


def _d(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def _history(with_quality: bool = True) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "sku": ["A"] * 9,
            "supplier": ["X"] * 4 + ["Y"] * 3 + ["Z"] * 2,
            "quantity": [100.0, 100.0, 50.0, 50.0, 10.0, 10.0, 10.0, 5.0, 5.0],
            "order_date": [_d(0)] * 9,
            "expected_date": [_d(10)] * 9,
            # X: one of four late; Y, Z all on time
            "received_date": [_d(9), _d(10), _d(8), _d(12), _d(7), _d(7), _d(7), _d(5), _d(5)],
            # X: 100 + 90 + 50 + 40 arrive of 300 ordered; Y over-delivers a line
            "received_quantity": [100.0, 90.0, 50.0, 40.0, 12.0, 10.0, 10.0, 5.0, 5.0],
        }
    )
    if with_quality:
        frame = frame.with_columns(
            pl.Series(
                "rejected_quantity", [2.0, 3.0, 0, 0, 0, 0, 0, 0, 0], pl.Float64, strict=False
            ),
            pl.Series(
                "returned_quantity", [0, 0, 2.0, None, 0, 0, 0, 0, 0], pl.Float64, strict=False
            ),
        )
    return frame


def test_scorecard_quantity_fill_and_quality_rates_by_hand():
    card = {r["supplier"]: r for r in supplier_scorecard(_history()).to_dicts()}
    x = card["X"]
    assert x["receipts"] == 4
    assert x["on_time_rate"] == pytest.approx(3 / 4)
    assert x["quantity_fill_rate"] == pytest.approx(280 / 300)
    # rejected 2 + 3, returned 2 of the 280 units that arrived
    assert x["quality_rate"] == pytest.approx(1 - 7 / 280)
    # over-delivery does not count above what was ordered: min(12, 10) -> 30 / 30
    assert card["Y"]["quantity_fill_rate"] == pytest.approx(1.0)
    assert card["Y"]["quality_rate"] == pytest.approx(1.0)


def test_default_tiers_grade_by_every_threshold_and_too_few_receipts_are_unrated():
    tiers = dict(supplier_scorecard(_history()).select("supplier", "supplier_tier").iter_rows())
    # X: on time 75 % < 85 %: standard; Y: every rate perfect: core; Z: 2 receipts < 3
    assert tiers == {"X": "standard", "Y": "core", "Z": "unrated"}


def test_configured_thresholds_move_a_supplier_into_strategic():
    settings = SupplierTiers(
        min_receipts=2,
        strategic=TierThresholds(on_time_rate=0.7, quantity_fill_rate=0.9, quality_rate=0.97),
    )
    tiers = dict(
        supplier_scorecard(_history(), settings).select("supplier", "supplier_tier").iter_rows()
    )
    # X: 0.75 >= 0.7, 0.933 >= 0.9, 0.975 >= 0.97 -> strategic; Z now has enough receipts
    assert tiers == {"X": "strategic", "Y": "core", "Z": "core"}
    stricter = SupplierTiers(
        strategic=TierThresholds(on_time_rate=0.7, quantity_fill_rate=0.9, quality_rate=0.98)
    )
    tiers = dict(
        supplier_scorecard(_history(), stricter).select("supplier", "supplier_tier").iter_rows()
    )
    assert tiers["X"] == "standard"  # quality 0.975 < 0.98


def test_an_unmeasured_quality_rate_is_not_held_against_a_supplier():
    card = supplier_scorecard(_history(with_quality=False))
    assert card["quality_rate"].null_count() == card.height
    assert dict(card.select("supplier", "supplier_tier").iter_rows())["Y"] == "core"


def test_core_thresholds_below_strategic_are_refused():
    raw = {
        "inputs": {"sales": "s.csv", "stock": "t.csv"},
        "supplier_tiers": {
            "core": {"on_time_rate": 0.8, "quantity_fill_rate": 1, "quality_rate": 1}
        },
    }
    with pytest.raises(StockplanError, match="core.on_time_rate must be at least strategic"):
        parse_config(raw)


def test_orders_and_risk_show_the_supplier_tier(small_shop: Path):
    config = yaml.safe_load(small_shop.read_text())
    config["supplier_tiers"] = {"min_receipts": 1}
    small_shop.write_text(yaml.safe_dump(config))
    config, inputs = stockplan.load(small_shop)
    result = stockplan.plan(inputs, config)
    # Acme's one receipt came a day early, in full: core once one receipt is enough
    assert result.tables["suppliers"].select("supplier", "supplier_tier").rows() == [
        ("Acme", "core")
    ]
    risk = result.tables["risk"]
    assert set(risk.select("supplier", "supplier_tier").rows()) == {("Acme", "core")}
    assert set(result.tables["orders"]["supplier_tier"]) == {"core"}
    # the risk table keeps its order (highest probability first) after the join
    assert risk["stockout_probability"].to_list() == sorted(
        risk["stockout_probability"].to_list(), reverse=True
    )


def test_the_terminal_scorecard_shows_every_rate_as_a_percentage(small_shop: Path):
    from typer.testing import CliRunner

    from stockplan.cli import app

    history = _history().with_columns(
        pl.format("P{}", pl.int_range(pl.len())).alias("po_id"), pl.lit("WH1").alias("location")
    )
    history.write_csv(small_shop.parent / "purchase_orders.csv", date_format="%Y-%m-%d")
    args = ["suppliers", "-c", str(small_shop), "-f", "table", "-q", "--sort", "supplier"]
    shown = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    (x_row,) = [line.split() for line in shown.stdout.splitlines() if line.startswith("X ")]
    # X: on time 3 of 4, lines filled 1, .9, 1, .8, quantity fill 280 / 300, quality 1 - 7 / 280
    assert x_row[4:8] == ["75.0%", "92.5%", "93.3%", "97.5%"]
    # the share of an item's sales that came from kits is a rate too
    from rich.console import Console

    from stockplan.report import terminal_table

    kits = pl.DataFrame({"sku": ["K1"], "location": ["WH1"], "kit_share": [0.25]})
    console = Console(width=80, record=True, color_system=None)
    console.print(terminal_table(kits, "classes", "t").table)
    assert "25.0%" in console.export_text()


def test_scorecard_rates_keep_four_decimals_in_csv(tmp_path: Path):
    from stockplan.io.writers import write_csv

    target = tmp_path / "suppliers.csv"
    write_csv(supplier_scorecard(_history()), target)
    back = {r["supplier"]: r for r in pl.read_csv(target).to_dicts()}
    assert back["X"]["quantity_fill_rate"] == 0.9333  # 280 / 300
    assert back["X"]["quality_rate"] == 0.975  # 1 - 7 / 280
