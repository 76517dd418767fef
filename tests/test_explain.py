"""`explain SKU` prints the plan's own row: the same numbers as `plan --all`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import AS_OF, add_fast_mover
from typer.testing import CliRunner

from stockplan.cli import app


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def busy_shop(small_shop: Path) -> Path:
    """small_shop plus: a planned promotion on 007, and C-300 (5 a day at WH1, 10 on hand)
    whose preferred supplier Slow takes 42 days while its backup Fast takes 7.
    A-100 at WH1 is short and WH2 holds 500: a transfer. A budget cuts lines and Acme's
    lines fall short of its minimum order value: both depend on the whole plan."""
    folder = small_shop.parent
    add_fast_mover(folder, {"WH1": 10})
    pl.DataFrame(
        {
            "supplier": ["Acme", "Slow", "Fast"],
            "lead_time_days": [14, 42, 7],
            "lead_time_std_days": [2.0, 0.0, 0.0],
            "moq_value": [100000.0, None, None],  # Acme's total is short of it: flagged
        }
    ).write_csv(folder / "suppliers.csv")
    pl.DataFrame(
        {
            "sku": ["007"],
            "location": ["WH1"],
            "start": [(AS_OF + dt.timedelta(days=3)).isoformat()],
            "end": [(AS_OF + dt.timedelta(days=20)).isoformat()],
            "uplift": [1.0],
        }
    ).write_csv(folder / "promotions.csv")
    config = yaml.safe_load(small_shop.read_text())
    config["inputs"]["promotions"] = "promotions.csv"
    config["purchasing"] = {"budget": 1000.0}
    small_shop.write_text(yaml.safe_dump(config))
    return small_shop


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return float(match.group(1).replace(",", ""))


def test_explain_shows_the_plan_row_for_promotion_transfer_and_backup(
    busy_shop: Path, tmp_path: Path
):
    out = tmp_path / "out"
    assert _run("plan", "-c", str(busy_shop), "-o", str(out), "--all", "-q").exit_code == 0
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    forecast = pl.read_csv(out / "forecast.csv", schema_overrides={"sku": pl.String})
    rows = {(r["sku"], r["location"]): r for r in orders.to_dicts()}
    # the three cases are really in the plan
    promo = forecast.filter((pl.col("sku") == "007") & (pl.col("promo_uplift") > 0))
    assert promo.height > 0
    assert rows[("A-100", "WH1")]["transfer_qty"] > 0
    assert rows[("C-300", "WH1")]["supplier"] == "Fast"
    # (after the overdue clause that leads when the stock runs out before any arrival)
    backup = re.sub(r"^overdue by \d+ days?: order today; ", "", rows[("C-300", "WH1")]["reason"])
    assert backup.startswith("backup supplier Fast instead of Slow")
    for sku, location in [("007", "WH1"), ("A-100", "WH1"), ("C-300", "WH1")]:
        row = rows[(sku, location)]
        shown = _run("explain", sku, "-l", location, "-c", str(busy_shop), "-q", "--no-chart")
        assert shown.exit_code == 0, shown.output
        text = " ".join(shown.stdout.replace("│", " ").split())  # panel borders out
        # CSV holds 2 decimals, explain 1 (2 for the rate): agree within the rounding
        assert _number(r"forecast ([\d.,]+) / day", text) == pytest.approx(
            row["forecast_per_day"], abs=0.006
        )
        safety = r"safety stock = (?:k × σ_LTD = [\d.]+ × [\d.]+ = )?([\d.,]+)"
        assert _number(safety, text) == pytest.approx(row["safety_stock"], abs=0.051)
        assert _number(r"order-up-to S = ([\d.,]+)", text) == pytest.approx(
            row["order_up_to"], abs=0.051
        )
        if row["order_qty"]:
            assert _number(r"\border ([\d.,]+) = ", text) == row["order_qty"]
        else:  # nothing ordered: why, with no value or arrival
            assert re.search(r"\border 0 \(|\bno order: ", text), text
        assert f"supplier {row['supplier']}:" in text
        assert " ".join(row["reason"].split()) in text
