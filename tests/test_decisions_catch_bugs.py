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
from stockplan.config import Censoring, Classify, Risk
from stockplan.leadtime import open_receipts
from stockplan.reorder import stock_position
from stockplan.risk import stockout_risk
from stockplan.segmentation import classify_demand

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


def _daily_sales(start: dt.date, by_sku: dict[str, list[float]]) -> pl.DataFrame:
    """sku -> quantity per day from `start`; days with nothing sold have no line."""
    return pl.DataFrame(
        [
            (start + dt.timedelta(days=i), sku, "W", float(q))
            for sku, daily in by_sku.items()
            for i, q in enumerate(daily)
            if q != 0
        ],
        schema=["date", "sku", "location", "quantity"],
        orient="row",
    )


def test_snapshots_censor_each_series_by_its_own_counts_up_to_the_day_before_as_of():
    # 21 days, as_of = day 21. A: counted 0 on day 10 (restocked day 13) and 0 again on
    # day 18 until now; B: always 1 or more in stock, and some days without a sale.
    # A is out on 10-12 and 18-20 (no sales then); B's quiet days are real zero demand.
    start = AS_OF - dt.timedelta(days=21)
    sales = _daily_sales(
        start,
        {
            "A": [3.0] * 10 + [0.0] * 3 + [3.0] * 5 + [0.0] * 3,
            "B": [2.0, 0.0, 0.0, 2.0] * 5 + [0.0],
        },
    ).vstack(_daily_sales(AS_OF, {"A": [4.0], "B": [4.0]}))  # today: not history
    snapshots = pl.DataFrame(
        {
            "sku": ["A", "A", "A", "A", "B", "B"],
            "location": ["W"] * 6,
            "date": [start + dt.timedelta(days=d) for d in (0, 10, 13, 18, 0, 9)],
            "on_hand": [50.0, 0.0, 40.0, 0.0, 30.0, 1.0],
        }
    )
    found = stockout_days(sales, snapshots, None, AS_OF, Censoring(method="snapshots"))
    days = [start + dt.timedelta(days=d) for d in (10, 11, 12, 18, 19, 20)]
    assert found.select("sku", "date").rows() == [("A", day) for day in days]
    assert set(found["reason"]) == {"stockout"}


def test_inferred_stock_walks_back_from_the_current_count_through_sales_and_receipts():
    # 0 on hand now, as_of = day 6. Stock at the end of day t = on hand now + sold after t
    # - received after t; at the start of day t (before its receipt) = end of t + sold on t
    # - received on t. Out of stock: started at or below 0, received nothing, sold nothing.
    start = AS_OF - dt.timedelta(days=6)
    sold = [3.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    received = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    end = [0.0 + sum(sold[t + 1 :]) - sum(received[t + 1 :]) for t in range(6)]
    opening = [end[t] + sold[t] - received[t] for t in range(6)]
    assert opening == [3.0, 0.0, 0.0, 1.0, 1.0, 0.0]
    # day 1 and day 5 start empty and see nothing; day 2 starts empty but receives 1;
    # day 3 starts with 1 and sells nothing: real zero demand
    sales = _daily_sales(start, {"A": sold})
    receipts = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "date": [start + dt.timedelta(days=2)],
            "received": [1.0],
        }
    )
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [0.0]})
    found = stockout_days(sales, stock, receipts, AS_OF, Censoring(method="inferred"))
    assert found["date"].to_list() == [start + dt.timedelta(days=1), start + dt.timedelta(days=5)]
    assert set(found["reason"]) == {"stockout"}


def test_zero_runs_are_found_per_series_and_a_return_is_not_a_sale():
    # A sells 10 a day for 8 weeks, then 10 days with no net sale: on the 6th a sale of 2
    # is returned the same day (net 0), on the 8th a customer returns 2. All 10 days are
    # censored. B sells every day, its lines interleaved with A's by date; B never stops.
    start = AS_OF - dt.timedelta(days=80)
    a = [10.0] * 56 + [0.0] * 7 + [-2.0] + [0.0] * 2 + [10.0] * 14
    sales = pl.concat(
        [
            _daily_sales(start, {"A": a, "B": [5.0] * 80}),
            _daily_sales(start + dt.timedelta(days=61), {"A": [2.0]}),
            _daily_sales(start + dt.timedelta(days=61), {"A": [-2.0]}),
        ]
    ).sort("date")
    stock = pl.DataFrame({"sku": ["A", "B"], "location": ["W", "W"], "on_hand": [30.0, 30.0]})
    found = stockout_days(sales, stock, None, AS_OF, Censoring(method="zero_runs"))
    assert found.select("sku", "date").rows() == [
        ("A", start + dt.timedelta(days=56 + i)) for i in range(10)
    ]
    assert set(found["reason"]) == {"stockout"}


def test_an_open_run_with_stock_on_hand_stays_open_despite_a_sale_today():
    # sold every day for 8 weeks, nothing for the last 8 days, 30 on the shelf now: demand
    # stopped, no censoring. A sale on as_of itself is today's, not history: it does not
    # close the run.
    start = AS_OF - dt.timedelta(days=64)
    sales = _daily_sales(start, {"A": [10.0] * 56 + [0.0] * 8}).vstack(
        _daily_sales(AS_OF, {"A": [10.0]})
    )
    stock = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [30.0]})
    assert stockout_days(sales, stock, None, AS_OF, Censoring(method="zero_runs")).is_empty()


def test_censoring_method_off_auto_and_inferred_without_receipts():
    # 20 days, a sale every day but day 10. One day without a sale is no zero run (runs
    # start at 2 days); a stock count of 0 on day 10 (40 again on day 11) marks it out.
    start = AS_OF - dt.timedelta(days=20)
    sales = _daily_sales(start, {"A": [3.0] * 10 + [0.0] + [3.0] * 9})
    two_counts = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["W", "W"],
            "date": [start + dt.timedelta(days=10), start + dt.timedelta(days=11)],
            "on_hand": [0.0, 40.0],
        }
    )
    assert stockout_days(sales, two_counts, None, AS_OF, Censoring(method="off")).is_empty()
    # auto: two dated counts of one series are a stock history -> snapshots
    found = stockout_days(sales, two_counts, None, AS_OF, Censoring(method="auto"))
    assert found["date"].to_list() == [start + dt.timedelta(days=10)]
    # one count each for two series is no history, whatever the dates -> zero runs
    one_each = two_counts.with_columns(pl.Series("sku", ["A", "B"]))
    assert stockout_days(sales, one_each, None, AS_OF, Censoring(method="auto")).is_empty()
    # inferred with no receipts at all: 2 sold on day 0 and nothing since, 0 on hand now:
    # days 1 and 2 started empty (as_of = day 3)
    as_of = start + dt.timedelta(days=3)
    only_sales = _daily_sales(start, {"A": [2.0]})
    now = pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [0.0]})
    found = stockout_days(only_sales, now, None, as_of, Censoring(method="inferred"))
    assert found["date"].to_list() == [start + dt.timedelta(days=1), start + dt.timedelta(days=2)]


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
