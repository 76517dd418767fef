"""The plan on a small hand-built lumpy item: large lines reported and set aside."""

from __future__ import annotations

import datetime as dt

import polars as pl

import stockplan
from stockplan import Config

START = dt.date(2025, 1, 6)


def _tables() -> dict[str, pl.DataFrame]:
    # 140 days: 3 units every weekday on its own order; one 300-unit wholesale line on day 100
    days = [START + dt.timedelta(days=i) for i in range(140) if i % 7 < 5]
    quantity = [300.0 if (d - START).days == 100 else 3.0 for d in days]
    sales = pl.DataFrame(
        {
            "sku": ["A"] * len(days),
            "location": ["W"] * len(days),
            "date": days,
            "quantity": quantity,
            "order_id": [f"o{i}" for i in range(len(days))],
            "customer": ["big" if q > 3 else "shop" for q in quantity],
        }
    )
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [0.0]})
    return {"sales": sales, "stock": stock}


def _plan(treatment: str):
    config = Config.model_validate(
        {"policy": {"large_orders": treatment}, "transfers": {"enabled": False}}
    )
    return stockplan.plan(_tables(), config)


def test_plan_reports_the_large_line_and_make_to_order_sets_its_units_aside():
    covered, set_aside = _plan("cover"), _plan("make_to_order")
    large = covered.tables["large_orders"]
    assert large.select("quantity", "usual_line_qty", "customer", "treatment").rows() == [
        (300.0, 3.0, "big", "covered")
    ]
    assert set_aside.tables["large_orders"]["treatment"].to_list() == ["make_to_order"]
    # without the 300 units the item is a steady 3 a weekday (15 a week)
    history = set_aside.history.filter(pl.col("period_start") >= START)
    assert history["demand"].max() == 15
    assert covered.history["demand"].max() == 12 + 300
    cover_s = covered.tables["orders"]["order_up_to"][0]
    mto_s = set_aside.tables["orders"]["order_up_to"][0]
    assert mto_s < cover_s
