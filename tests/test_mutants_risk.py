"""Stockout risk behaviours pinned down by surviving mutants of `stockplan/risk.py`.

Expected values are worked out by hand in the comments or taken from scipy directly.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from scipy import stats

from stockplan.config import Risk
from stockplan.risk import stockout_risk

AS_OF = dt.date(2025, 3, 3)
NO_PO = pl.DataFrame(
    schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
)


def _risk(
    available: float,
    lead_demand: float,
    sigma_day: float,
    pattern: str = "smooth",
    backorders: float = 0.0,
):
    """One series: L = 10 days, `lead_demand` expected over L, nothing on order."""
    series = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [available],
            "allocated": [0.0],
            "backorders": [backorders],
            "on_order": [0.0],
            "next_receipt_date": [None],
            "forecast_per_day": [lead_demand / 10],
            "demand_lead_time": [lead_demand],
            "sigma_day": [sigma_day],
            "lead_time_days": [10.0],
            "lead_time_std_days": [0.0],
            "demand_pattern": [pattern],
            "unit_price": [3.0],
            "expected_arrival": [AS_OF + dt.timedelta(days=10)],
        },
        schema_overrides={"next_receipt_date": pl.Date},
    )
    (row,) = stockout_risk(series, NO_PO, AS_OF, 90, Risk(), ["intermittent"]).to_dicts()
    return row


def test_certain_demand_equal_to_the_stock_is_no_stockout():
    # no spread: 100 units over L against 100 on hand run out exactly at L, none short
    row = _risk(100.0, 100.0, 0.0)
    assert row["stockout_probability"] == 0.0
    assert row["expected_shortage"] == 0.0


def test_certain_demand_above_the_stock_is_a_certain_stockout_of_the_difference():
    row = _risk(80.0, 100.0, 0.0)
    assert row["stockout_probability"] == 1.0
    assert row["expected_shortage"] == pytest.approx(20.0)
    assert row["revenue_at_risk"] == pytest.approx(60.0)


def test_slow_movers_below_one_unit_over_the_lead_time_use_their_own_poisson_mean():
    # Poisson(0.5) over L: with nothing on hand P(D > 0) = 1 - e^-0.5 = 0.3935 and
    # E[D] = 0.5 short; with one unit P(D > 1) = 1 - e^-0.5 (1 + 0.5) = 0.0902
    empty = _risk(0.0, 0.5, 0.1, "intermittent")
    assert empty["stockout_probability"] == pytest.approx(1 - math.exp(-0.5), rel=1e-9)
    assert empty["expected_shortage"] == pytest.approx(0.5, rel=1e-9)
    one = _risk(1.0, 0.5, 0.1, "intermittent")
    assert one["stockout_probability"] == pytest.approx(1 - math.exp(-0.5) * 1.5, rel=1e-9)


def test_no_expected_demand_is_no_risk_unless_customers_already_wait():
    quiet = _risk(5.0, 0.0, 1.0)
    assert quiet["stockout_probability"] == 0.0
    assert quiet["expected_shortage"] == 0.0
    assert quiet["risk_level"] == "low"
    # 3 units owed to customers and nothing on hand: short for certain, by 3
    owed = _risk(0.0, 0.0, 1.0, backorders=3.0)
    assert owed["stockout_probability"] == 1.0
    assert owed["expected_shortage"] == pytest.approx(3.0)
    assert owed["risk_level"] == "high"


def test_checkpoints_take_the_forecast_paths_demand_not_the_windows_average_rate():
    # L = 14: 2 a day in week 1, a promotion of 100 a day in week 2 (714 over L, 51 a day on
    # average); 30 free, a PO of 700 on day 7. Path: day 7 -> 30 - 14 + 700 = 716; day 14
    # -> 16 left, out on day 14.16 (stockout date day 15, after L). Before the PO the path
    # asks for 14 of 30 (z = 16 / sqrt 7); at L 714 of 730 (z = 16 / sqrt 14), the worst.
    # The average rate would ask for 51 x 7 = 357 of 30 before the PO: certain, "high".
    series = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [30.0],
            "allocated": [0.0],
            "backorders": [0.0],
            "on_order": [700.0],
            "next_receipt_date": [AS_OF + dt.timedelta(days=7)],
            "forecast_per_day": [2.0],
            "demand_lead_time": [714.0],
            "sigma_day": [1.0],
            "lead_time_days": [14.0],
            "lead_time_std_days": [0.0],
            "demand_pattern": ["smooth"],
            "unit_price": [3.0],
            "expected_arrival": [AS_OF + dt.timedelta(days=14)],
        }
    )
    po = pl.DataFrame(
        {"sku": ["A"], "location": ["W"], "quantity": [700.0]}
        | {"arrival": [AS_OF + dt.timedelta(days=7)]}
    )
    forecast = pl.DataFrame(
        {"sku": ["A", "A"], "location": ["W", "W"], "forecast": [14.0, 700.0]}
        | {"period_start": [AS_OF, AS_OF + dt.timedelta(days=7)]}
    )
    (row,) = stockout_risk(
        series, po, AS_OF, 90, Risk(), ["intermittent"], forecast=forecast
    ).to_dicts()
    assert row["stockout_date"] == AS_OF + dt.timedelta(days=15)
    assert row["stockout_probability"] == pytest.approx(stats.norm.sf(16 / math.sqrt(14)))
    assert row["risk_level"] == "low"
