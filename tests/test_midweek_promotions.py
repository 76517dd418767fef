"""A planning date inside a weekly bucket: promotions and overrides count on their own days.

Every item sells 10 a day (9 and 11 on alternate days), lead time L = 14, review R = 7,
sigma_e = 1 a week, so SS = 1.645 x sqrt(3) = 2.85 and S = demand over the 21 days from
as_of + 2.85. Planned as of Wednesday 2025-10-15 (its week began Monday 10-13), the window
is 10-15 .. 11-04: 5 days of the first week, 16 normal days after it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from conftest import write_shop_config
from typer.testing import CliRunner

from stockplan.cli import app

WEDNESDAY = dt.date(2025, 10, 15)
FRIDAY = dt.date(2025, 10, 17)
SAFETY = 2.85  # 1.645 x sqrt((14 + 7) / 7) x 1


def _shop(folder: Path, as_of: dt.date, promotions: str, overrides: str) -> Path:
    """Items J0..J4 at WH1, 40 weeks of sales from Monday 2025-01-06, 20 on hand each."""
    skus = ["J0", "J1", "J2", "J3", "J4"]
    first = dt.date(2025, 1, 6)
    rows = [
        f"{(first + dt.timedelta(days=i)).isoformat()},{sku},WH1,{11 if i % 2 else 9},20"
        for i in range(280)
        for sku in skus
    ]
    tables = {
        "sales": ["date,sku,warehouse,qty,price", *rows],
        "stock": ["sku,location,on_hand,allocated", *[f"{s},WH1,20,0" for s in skus]],
        "products": [
            "sku,name,unit_cost,unit_price,supplier,pack_size,moq,status",
            *[f"{s},{s} name,10,20,Acme,1,0,active" for s in skus],
        ],
        "suppliers": ["supplier,lead_time_days,lead_time_std_days", "Acme,14,0"],
        "promotions": ["sku,start,end,uplift", *promotions.strip().splitlines()],
        "overrides": ["sku,start,end,quantity,multiplier", *overrides.strip().splitlines()],
    }
    for name, lines in tables.items():
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write_shop_config(
        folder,
        as_of,
        list(tables),
        calendars={"public_holidays": "none"},
        policy={"lead_time_demand": "parametric", "calibrate": False, "types": {}},
    )


def _plan(config: Path, out: Path) -> tuple[dict[str, pl.DataFrame], dict[str, float]]:
    result = CliRunner().invoke(app, ["plan", "-c", str(config), "-o", str(out), "--all", "-q"])
    assert result.exit_code == 0, result.output
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    tables = {
        "orders": orders,
        "forecast": pl.read_csv(out / "forecast.csv", schema_overrides={"sku": pl.String}),
    }
    return tables, dict(zip(orders["sku"], orders["order_up_to"], strict=True))


def test_wednesday_promotions_and_overrides_count_on_their_own_days(tmp_path: Path) -> None:
    config = _shop(
        tmp_path,
        WEDNESDAY,
        promotions="J1,2025-10-13,2025-10-14,1.0\nJ2,2025-10-15,2025-10-19,1.0",
        overrides="J3,2025-10-15,2025-10-19,500,\nJ4,2025-10-15,2025-10-19,,3",
    )
    tables, up_to = _plan(config, tmp_path / "out")
    # J0: 21 days x 10 = 210
    assert up_to["J0"] == pytest.approx(210 + SAFETY, abs=0.01)
    # J1: its promotion (Mon, Tue) is over by Wednesday: 210, not 210 + 20 x 5/7
    assert up_to["J1"] == pytest.approx(210 + SAFETY, abs=0.01)
    # J2: +100 % on 10-15..10-19: 5 x 20 + 16 x 10 = 260 (not 120 x 5/7 + 160 = 245.71)
    assert up_to["J2"] == pytest.approx(260 + SAFETY, abs=0.01)
    # J3: 500 replaces 10-15..10-19: 500 + 16 x 10 = 660 (not 520 x 5/7 + 160 = 531.43)
    assert up_to["J3"] == pytest.approx(660 + SAFETY, abs=0.01)
    # J4: x 3 on 10-15..10-19: 5 x 30 + 160 = 310
    assert up_to["J4"] == pytest.approx(310 + SAFETY, abs=0.01)
    orders = dict(zip(tables["orders"]["sku"], tables["orders"]["order_qty"], strict=True))
    assert orders["J3"] == 643  # ceil(662.85 - 20)
    # the forecast table shows the demand of Monday and Tuesday: 2 x 10, J1 2 x 20
    first = tables["forecast"].filter(pl.col("period_start") == "2025-10-13")
    gone = dict(zip(first["sku"], first["demand_before_as_of"], strict=True))
    assert gone == pytest.approx({"J0": 20, "J1": 40, "J2": 20, "J3": 20, "J4": 20}, abs=0.01)


def test_friday_promotions_and_overrides_count_on_their_own_days(tmp_path: Path) -> None:
    config = _shop(
        tmp_path,
        FRIDAY,
        promotions="J1,2025-10-17,2025-10-19,2.0\nJ3,2025-10-13,2025-10-16,1.0",
        overrides="J2,2025-10-17,2025-10-19,300,",
    )
    _, up_to = _plan(config, tmp_path / "out")
    # window 10-17 .. 11-06: 3 days of the first week, 18 after it
    assert up_to["J0"] == pytest.approx(210 + SAFETY, abs=0.01)
    # J1: +200 % on Fri..Sun: 3 x 30 + 18 x 10 = 270 (not 238.57)
    assert up_to["J1"] == pytest.approx(270 + SAFETY, abs=0.01)
    # J2: 300 over Fri..Sun + 180 = 480 (not 328.57)
    assert up_to["J2"] == pytest.approx(480 + SAFETY, abs=0.01)
    # J3: its promotion ended Thursday: 210 (not 247.14)
    assert up_to["J3"] == pytest.approx(210 + SAFETY, abs=0.01)
