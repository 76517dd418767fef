"""The decisions around the formulas: what is on order, which snapshot is current, which
days are censored, which class an item falls in, how risky it is.

Every expected number is worked out by hand or with numpy / scipy in the test itself.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from stockplan.censor import stockout_days
from stockplan.classify import classify_demand
from stockplan.config import Censoring, Classify, Risk
from stockplan.leadtime import open_receipts
from stockplan.plan import stock_position
from stockplan.risk import stockout_risk

AS_OF = dt.date(2025, 3, 3)  # a Monday


def _day(offset: int) -> dt.date:
    return AS_OF + dt.timedelta(days=offset)


def _lead_times(*skus: str, days: float = 7.0) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": list(skus), "location": ["W"] * len(skus), "lead_time_days": [days] * len(skus)}
    )


def _position(stock: pl.DataFrame, purchase_orders: pl.DataFrame) -> dict:
    skus = stock["sku"].unique().to_list()
    open_po = open_receipts(purchase_orders, _lead_times(*skus), AS_OF)
    (row,) = stock_position(stock, open_po, None).to_dicts()
    return row


# --- what is on order ------------------------------------------------------------------


def test_received_purchase_order_lines_are_not_on_order():
    # the ERP books a receipt by filling in received_date and nothing else (no
    # received_quantity column): the 40 are on the shelf now, only the 25 are still coming
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [10.0]})
    purchase_orders = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["W", "W"],
            "quantity": [40.0, 25.0],
            "order_date": [_day(-20), _day(-3)],
            "expected_date": [_day(-6), _day(4)],
            "received_date": [_day(-5), None],
        }
    )
    row = _position(stock, purchase_orders)
    assert row["on_order"] == 25.0
    assert row["inventory_position"] == 10.0 + 25.0
    assert row["next_receipt_date"] == _day(4)


def test_next_receipt_date_is_the_earliest_open_arrival():
    # three open lines, listed latest first: the next receipt is the one due in 4 days
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [10.0]})
    purchase_orders = pl.DataFrame(
        {
            "sku": ["A"] * 3,
            "location": ["W"] * 3,
            "quantity": [5.0, 6.0, 7.0],
            "order_date": [_day(-2)] * 3,
            "expected_date": [_day(20), _day(4), _day(11)],
        }
    )
    row = _position(stock, purchase_orders)
    assert row["next_receipt_date"] == _day(4)
    assert row["on_order"] == 5.0 + 6.0 + 7.0


def test_plan_nets_the_latest_stock_snapshot_not_the_oldest():
    # a stock history, rows not in date order: the count of yesterday (7 on hand, 2
    # allocated) is the current one, not the 100 counted a month ago
    stock = pl.DataFrame(
        {
            "sku": ["A"] * 3,
            "location": ["W"] * 3,
            "date": [_day(-1), _day(-30), _day(-15)],
            "on_hand": [7.0, 100.0, 55.0],
            "allocated": [2.0, 0.0, 0.0],
        }
    )
    purchase_orders = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "quantity": [12.0],
            "order_date": [_day(-2)],
            "expected_date": [_day(5)],
        }
    )
    row = _position(stock, purchase_orders)
    assert row["on_hand"] == 7.0
    assert row["allocated"] == 2.0
    assert row["inventory_position"] == 7.0 + 12.0 - 2.0


# --- censoring -------------------------------------------------------------------------


def test_snapshot_at_zero_on_a_day_with_sales_is_not_a_stockout_day():
    # snapshots: 100 on day 0, 0 on day 14, 50 on day 17. Day 14 still sold 4 (the count
    # was taken after the last sale); days 15 and 16 sold nothing from an empty shelf.
    start = AS_OF - dt.timedelta(days=21)
    daily = [4.0] * 15 + [0.0] * 2 + [4.0] * 4
    sales = pl.DataFrame(
        {
            "date": [start + dt.timedelta(days=i) for i in range(21)],
            "sku": "A",
            "location": "W",
            "quantity": daily,
        }
    ).filter(pl.col("quantity") > 0)
    snapshots = pl.DataFrame(
        {
            "sku": ["A"] * 3,
            "location": ["W"] * 3,
            "date": [start, start + dt.timedelta(days=14), start + dt.timedelta(days=17)],
            "on_hand": [100.0, 0.0, 50.0],
        }
    )
    found = stockout_days(sales, snapshots, None, AS_OF, Censoring(method="snapshots"))
    assert found["date"].to_list() == [start + dt.timedelta(days=15), start + dt.timedelta(days=16)]


# --- classification --------------------------------------------------------------------


def _weekly_history(series: dict[str, tuple[list[float], float]]) -> pl.DataFrame:
    """sku -> (weekly demand, oldest first, ending the week before AS_OF; unit price)."""
    frames = []
    for sku, (demand, price) in series.items():
        n = len(demand)
        frames.append(
            pl.DataFrame(
                {
                    "sku": sku,
                    "location": "W",
                    "period_start": [AS_OF - dt.timedelta(weeks=n - i) for i in range(n)],
                    "demand": [float(v) for v in demand],
                    "revenue": [float(v) * price for v in demand],
                }
            )
        )
    return pl.concat(frames)


def test_abc_ranks_by_value_of_the_last_year_only():
    # 104 weeks. OLD sold 100 a week at 10 in the year before last, 1 a week since;
    # NOW sold only in the last 52 weeks, 10 a week at 10; SMALL 1 a week at 5 throughout.
    # Last-year value: NOW 52 x 100 = 5200, OLD 52 x 10 = 520, SMALL 52 x 5 = 260; total 5980.
    # Share of value before each: NOW 0 -> A, OLD 5200 / 5980 = 0.870 -> B,
    # SMALL 5720 / 5980 = 0.957 -> C  (cut-offs 0.80 / 0.95).
    # Over all history OLD would be worth 52 x 1000 + 520 = 52520 and rank first.
    history = _weekly_history(
        {
            "OLD": ([100.0] * 52 + [1.0] * 52, 10.0),
            "NOW": ([0.0] * 52 + [10.0] * 52, 10.0),
            "SMALL": ([1.0] * 104, 5.0),
        }
    )
    classes = classify_demand(history, AS_OF, "week", Classify())
    value = dict(classes.select("sku", "annual_value").iter_rows())
    assert value == pytest.approx({"NOW": 5200.0, "OLD": 520.0, "SMALL": 260.0})
    abc = dict(classes.select("sku", "abc").iter_rows())
    assert abc == {"NOW": "A", "OLD": "B", "SMALL": "C"}


def test_xyz_classes_follow_the_cv_cut_offs_x_below_half_z_from_one():
    # CV = population std / mean of the weekly demand over the last year
    weekly = {
        "STEADY": [9.0, 11.0] * 26,  # CV 1 / 10 = 0.1 -> X
        "WOBBLY": [3.0, 17.0] * 26,  # CV 7 / 10 = 0.7 -> Y
        "SPIKY": [0.0, 0.0, 0.0, 40.0] * 13,  # CV sqrt(400 - 100) / 10 = 1.73 -> Z
    }
    cv = {sku: float(np.std(v) / np.mean(v)) for sku, v in weekly.items()}
    assert cv == pytest.approx({"STEADY": 0.1, "WOBBLY": 0.7, "SPIKY": 3**0.5})
    history = _weekly_history({sku: (v, 1.0) for sku, v in weekly.items()})
    classes = classify_demand(history, AS_OF, "week", Classify())
    assert dict(classes.select("sku", "cv").iter_rows()) == pytest.approx(cv)
    xyz = dict(classes.select("sku", "xyz").iter_rows())
    assert xyz == {"STEADY": "X", "WOBBLY": "Y", "SPIKY": "Z"}


# --- risk ------------------------------------------------------------------------------


def _risk(available: float, sigma_day: float, lead_time_std_days: float) -> dict:
    series = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [available],
            "allocated": [0.0],
            "backorders": [0.0],
            "on_order": [0.0],
            "next_receipt_date": [None],
            "forecast_per_day": [10.0],
            "demand_lead_time": [100.0],  # 10 a day over L = 10 days
            "sigma_day": [sigma_day],
            "lead_time_days": [10.0],
            "lead_time_std_days": [lead_time_std_days],
            "demand_pattern": ["smooth"],
            "unit_price": [3.0],
            "expected_arrival": [_day(10)],
        },
        schema_overrides={"next_receipt_date": pl.Date},
    )
    no_po = pl.DataFrame(
        schema={"sku": pl.String, "location": pl.String, "quantity": pl.Float64, "arrival": pl.Date}
    )
    (row,) = stockout_risk(series, no_po, AS_OF, 90, Risk(), ["intermittent"]).to_dicts()
    return row


def test_stockout_risk_includes_lead_time_variance():
    # 120 available, 10 a day, L = 10 days, sigma_d = 3 a day, sigma_L = 2 days, nothing on
    # order. Demand until a new order can arrive: mean 100,
    # sigma = sqrt(L sigma_d^2 + d^2 sigma_L^2) = sqrt(10 x 9 + 100 x 4) = sqrt(490) = 22.14
    # P(stockout) = P(D > 120) = 1 - Phi(20 / 22.14) = 0.183 (demand spread alone: 0.018)
    sigma = (10 * 3**2 + 10**2 * 2**2) ** 0.5
    z = (120 - 100) / sigma
    probability = stats.norm.sf(z)
    shortage = sigma * (stats.norm.pdf(z) - z * stats.norm.sf(z))  # sigma G(z)
    assert probability == pytest.approx(0.183, abs=1e-3)
    row = _risk(120.0, sigma_day=3.0, lead_time_std_days=2.0)
    assert row["stockout_probability"] == pytest.approx(probability, rel=1e-6)
    assert row["expected_shortage"] == pytest.approx(shortage, rel=1e-6)
    assert row["revenue_at_risk"] == pytest.approx(3.0 * shortage, rel=1e-6)
    # without lead-time spread only the demand spread remains: sqrt(90)
    steady = _risk(120.0, sigma_day=3.0, lead_time_std_days=0.0)
    assert steady["stockout_probability"] == pytest.approx(stats.norm.sf(20 / 90**0.5), rel=1e-6)


@pytest.mark.parametrize(
    ("available", "level"),
    [
        # sigma = sqrt(490); P = 1 - Phi((a - 100) / sigma); high >= 0.5, medium >= 0.2
        (95.0, "high"),  # P = Phi(5 / 22.14) = 0.589
        (115.0, "medium"),  # P = 1 - Phi(15 / 22.14) = 0.249
        (140.0, "low"),  # P = 1 - Phi(40 / 22.14) = 0.035
    ],
)
def test_risk_level_follows_the_probability_thresholds(available, level):
    probability = stats.norm.sf((available - 100) / 490**0.5)
    assert (probability >= 0.5, probability >= 0.2) == (level == "high", level != "low")
    assert _risk(available, sigma_day=3.0, lead_time_std_days=2.0)["risk_level"] == level
