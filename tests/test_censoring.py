"""Stockout-censored demand and promotions, on series small enough to check by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from stockplan.censor import stockout_days
from stockplan.config import Censoring, Promotions
from stockplan.demand import demand_history
from stockplan.promotions import apply_promotions, measured_uplift, promotion_days

START = dt.date(2025, 1, 6)  # a Monday


def _sales(daily: list[float], sku: str = "A", promo: list[bool] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "date": [START + dt.timedelta(days=i) for i in range(len(daily))],
            "sku": sku,
            "location": "W",
            "quantity": [float(q) for q in daily],
        }
    )
    if promo is not None:
        frame = frame.with_columns(pl.Series("promo", ["1" if p else "" for p in promo]))
    return frame.filter(pl.col("quantity") != 0)


def _stock(on_hand: float) -> pl.DataFrame:
    return pl.DataFrame({"sku": ["A"], "location": ["W"], "on_hand": [on_hand]})


def test_an_improbable_run_without_sales_is_a_stockout():
    # sells 10 every day for 8 weeks, nothing for 10 days, then sells again
    daily = [10] * 56 + [0] * 10 + [10] * 25
    as_of = START + dt.timedelta(days=len(daily))
    found = stockout_days(_sales(daily), _stock(30), None, as_of, Censoring())
    assert found["date"].to_list() == [START + dt.timedelta(days=56 + i) for i in range(10)]
    history = demand_history(_sales(daily), as_of, "week", found)
    by_week = dict(zip(history["period_start"], history["demand"], strict=True))
    # week 8 (days 56-62) is out of stock throughout: imputed from the weeks before (70)
    assert by_week[START + dt.timedelta(weeks=8)] == pytest.approx(70.0)
    # week 9 (days 63-69): 3 days out, 4 days sold 40 -> 40 x 7 / 4 = 70, not 40
    assert by_week[START + dt.timedelta(weeks=9)] == pytest.approx(70.0)
    assert history.filter(pl.col("stockout_days") > 0).height == 2
    # without censoring the same weeks read as 0 and 40
    plain = demand_history(_sales(daily), as_of, "week")
    assert plain.filter(pl.col("period_start") == START + dt.timedelta(weeks=8))["demand"][0] == 0


def test_a_gap_that_chance_explains_is_not_censored():
    # sells on every 4th day: a 3-day gap is normal (p = 0.25, 0.75^3 = 0.42)
    daily = ([5, 0, 0, 0] * 30)[:119]
    as_of = START + dt.timedelta(days=len(daily))
    assert stockout_days(_sales(daily), _stock(10), None, as_of, Censoring()).height == 0


def test_an_open_run_counts_only_when_stock_is_zero_now():
    daily = [10] * 56 + [0] * 8
    as_of = START + dt.timedelta(days=len(daily))
    assert stockout_days(_sales(daily), _stock(0), None, as_of, Censoring()).height == 8
    # stock on the shelf and nothing sold: demand really stopped
    assert stockout_days(_sales(daily), _stock(50), None, as_of, Censoring()).height == 0


def test_runs_longer_than_the_limit_are_a_real_change():
    daily = [10] * 56 + [0] * 70 + [10] * 7
    as_of = START + dt.timedelta(days=len(daily))
    assert stockout_days(_sales(daily), _stock(5), None, as_of, Censoring()).height == 0


def test_dated_snapshots_mark_stockout_days():
    daily = [4] * 14 + [0] * 3 + [4] * 4  # 21 days
    as_of = START + dt.timedelta(days=21)
    snapshots = pl.DataFrame(
        {
            "sku": ["A"] * 3,
            "location": ["W"] * 3,
            "date": [START, START + dt.timedelta(days=14), START + dt.timedelta(days=17)],
            "on_hand": [100.0, 0.0, 50.0],
        }
    )
    found = stockout_days(_sales(daily), snapshots, None, as_of, Censoring())
    assert found["date"].to_list() == [START + dt.timedelta(days=14 + i) for i in range(3)]


def test_inferred_stock_from_sales_and_receipts():
    # now 2 on hand; sold 2 a day for 10 days except days 4-5 (nothing: empty shelf);
    # 10 received on day 6. Backwards: end of day 5 = 2 + 8 sold after - 10 received = 0,
    # end of day 3 = 0 + 0 sold on days 4-5 = 0: days 4 and 5 started empty
    daily = [2, 2, 2, 2, 0, 0, 2, 2, 2, 2]
    as_of = START + dt.timedelta(days=10)
    receipts = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "date": [START + dt.timedelta(days=6)],
            "received": [10.0],
        }
    )
    found = stockout_days(_sales(daily), _stock(2), receipts, as_of, Censoring(method="inferred"))
    assert found["date"].to_list() == [START + dt.timedelta(days=4), START + dt.timedelta(days=5)]


def test_promotion_days_stay_out_of_the_baseline_and_give_the_lift():
    # 10 a day; a 7-day promotion (week 4) sells 20 a day
    daily = [10] * 28 + [20] * 7 + [10] * 14
    promo = [False] * 28 + [True] * 7 + [False] * 14
    sales = _sales(daily, promo=promo)
    as_of = START + dt.timedelta(days=len(daily))
    days = promotion_days(sales, None, None, as_of)
    assert days.height == 7 and (days["reason"] == "promotion").all()
    history = demand_history(sales, as_of, "week", days)
    assert history["demand"].to_list() == pytest.approx([70.0] * 7)  # no bump in week 4
    assert history["promo_days"].to_list() == [0, 0, 0, 0, 7, 0, 0]
    lift = measured_uplift(
        sales, days, history, None, 7, Promotions(min_promo_days=7, min_promo_units=50)
    )
    assert lift["measured_uplift"][0] == pytest.approx(1.0)  # 20 / 10 - 1


def test_past_promotion_windows_from_the_promotions_table():
    daily = [10] * 21
    sales = _sales(daily)
    as_of = START + dt.timedelta(days=21)
    table = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "start": [START + dt.timedelta(days=5), START + dt.timedelta(days=19)],
            "end": [START + dt.timedelta(days=6), START + dt.timedelta(days=30)],
        }
    )
    days = promotion_days(sales, table, None, as_of)
    # days 5, 6 and the part of the second window before as_of: 19, 20
    assert [(d - START).days for d in days["date"]] == [5, 6, 19, 20]


def test_planned_promotion_lifts_the_share_of_each_bucket_it_covers():
    forecast = pl.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "location": ["W", "W", "W"],
            "period_start": [START, START + dt.timedelta(weeks=1), START],
            "forecast": [70.0, 70.0, 14.0],
            "lo": [50.0, 50.0, 7.0],
            "hi": [90.0, 90.0, 21.0],
            "model": ["AutoETS"] * 3,
        }
    )
    products = pl.DataFrame({"sku": ["A", "B"], "category": ["snacks", "toys"]})
    promotions = pl.DataFrame(
        {
            "sku": [None, "B"],
            "category": ["snacks", None],
            # snacks: Fri-Sun of week 0 (3 of 7 days) with its own uplift 0.5
            "start": [START + dt.timedelta(days=4), START],
            "end": [START + dt.timedelta(days=6), START + dt.timedelta(days=6)],
            "location": [None, "OTHER"],  # B's promotion is in another warehouse
            "uplift": [0.5, None],
        }
    )
    out = apply_promotions(
        forecast,
        promotions,
        products,
        pl.DataFrame(
            schema={"sku": pl.String, "location": pl.String, "measured_uplift": pl.Float64}
        ),
        7,
        Promotions(),
    ).sort("sku", "period_start")
    assert out["forecast"].to_list() == pytest.approx([70 * (1 + 0.5 * 3 / 7), 70.0, 14.0])
    assert out["hi"][0] == pytest.approx(90 * (1 + 0.5 * 3 / 7))
    assert out["promo_uplift"].to_list() == pytest.approx([0.5 * 3 / 7, 0.0, 0.0])
    # without its own uplift a promotion uses the measured lift, else the default
    promotions = promotions.with_columns(pl.lit(None, pl.Float64).alias("uplift"))
    measured = pl.DataFrame({"sku": ["A"], "location": ["W"], "measured_uplift": [1.4]})
    out = apply_promotions(forecast, promotions, products, measured, 7, Promotions())
    assert out.sort("sku", "period_start")["promo_uplift"][0] == pytest.approx(1.4 * 3 / 7)
    out = apply_promotions(forecast, promotions, products, measured.clear(), 7, Promotions())
    assert out.sort("sku", "period_start")["promo_uplift"][0] == pytest.approx(0.3 * 3 / 7)


@pytest.mark.parametrize("lines_per_block", [1, 100, 2_000_000])
def test_zero_runs_are_the_same_whatever_the_block_of_series(monkeypatch, lines_per_block):
    # the zero-run test works series by series in blocks of about `lines_per_block` lines:
    # A's 10-day gap after 8 weeks of daily sales is censored (as above), B sells every
    # day and C every 4th day (a 3-day gap is chance): neither has a censored day
    from stockplan import demand

    monkeypatch.setattr(demand, "LINES_PER_BLOCK", lines_per_block)
    daily = [10] * 56 + [0] * 10 + [10] * 25
    as_of = START + dt.timedelta(days=len(daily))
    sales = pl.concat(
        [_sales(daily), _sales([3] * len(daily), sku="B"), _sales(([5, 0, 0, 0] * 30)[:91], "C")]
    )
    stock = pl.DataFrame({"sku": ["A", "B", "C"], "location": "W", "on_hand": [30.0, 5.0, 5.0]})
    found = stockout_days(sales, stock, None, as_of, Censoring(method="zero_runs"))
    assert found.select("sku", "date").rows() == [
        ("A", START + dt.timedelta(days=56 + i)) for i in range(10)
    ]
