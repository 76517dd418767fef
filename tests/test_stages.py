"""Pure pipeline stages on hand-built frames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from stockplan.config import Classify, Forecast, LeadTime
from stockplan.demand import demand_history, history_end
from stockplan.forecast import forecast_demand
from stockplan.leadtime import open_receipts, resolve_lead_times, supplier_scorecard
from stockplan.reorder import stock_position, window_demand
from stockplan.risk import projected_stockout_day
from stockplan.segmentation import classify_demand

AS_OF = dt.date(2025, 3, 3)  # a Monday


def _sales(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(dt.date.fromisoformat(d), s, loc, q) for d, s, loc, q in rows],
        schema=["date", "sku", "location", "quantity"],
        orient="row",
    )


def test_returns_are_netted_and_gaps_zero_filled():
    sales = _sales(
        [
            ("2025-02-03", "A", "W", 5),  # week of 02-03: 5 sold, 2 returned -> 3
            ("2025-02-05", "A", "W", -2),
            ("2025-02-17", "A", "W", 4),  # week of 02-10 has nothing -> 0
            ("2025-02-24", "A", "W", -3),  # week of 02-24: only a return -> 0, not -3
            ("2025-03-03", "A", "W", 9),  # on as_of: not history
        ]
    )
    history = demand_history(sales, AS_OF, "week")
    assert history["period_start"].to_list() == [
        dt.date(2025, 2, 3),
        dt.date(2025, 2, 10),
        dt.date(2025, 2, 17),
        dt.date(2025, 2, 24),
    ]
    assert history["demand"].to_list() == [3.0, 0.0, 4.0, 0.0]


def test_partial_week_before_as_of_is_not_used():
    # as_of on a Thursday: the week that started Monday is incomplete
    assert history_end(dt.date(2025, 3, 6), "week") == dt.date(2025, 2, 24)
    assert history_end(dt.date(2025, 3, 6), "day") == dt.date(2025, 3, 5)


def test_weekly_dated_export_keeps_its_last_week():
    # one row per week dated Monday (3 Feb .. 24 Feb); as_of the day after the last row
    sales = _sales(
        [
            ("2025-02-03", "A", "W", 10.0),
            ("2025-02-10", "A", "W", 12.0),
            ("2025-02-17", "A", "W", 14.0),
            ("2025-02-24", "A", "W", 16.0),
        ]
    )
    as_of = dt.date(2025, 2, 25)
    history = demand_history(sales, as_of, "week")
    assert history["period_start"].max() == dt.date(2025, 2, 24)
    assert history["demand"].to_list() == [10.0, 12.0, 14.0, 16.0]  # nothing dropped
    # daily data with the same last day: the week of 24 Feb is partial and waits
    daily = pl.concat([sales, _sales([("2025-02-05", "A", "W", 1.0)])])
    assert demand_history(daily, as_of, "week")["period_start"].max() == dt.date(2025, 2, 17)
    # weekly data whose week has not been dated yet (as_of Monday 3 Mar 00:00): as before
    assert history_end(dt.date(2025, 3, 3), "week", sales) == dt.date(2025, 2, 24)


def _history(values: dict[str, list[float]]) -> pl.DataFrame:
    frames = []
    for sku, demand in values.items():
        n = len(demand)
        start = AS_OF - dt.timedelta(weeks=n)
        frames.append(
            pl.DataFrame(
                {
                    "sku": sku,
                    "location": "W",
                    "period_start": [start + dt.timedelta(weeks=i) for i in range(n)],
                    "demand": [float(v) for v in demand],
                    "revenue": [float(v) * 10 for v in demand],
                }
            )
        )
    return pl.concat(frames)


def test_syntetos_boylan_classes_and_abc():
    rng = np.random.default_rng(1)
    history = _history(
        {
            "smooth": [10, 11, 9, 10, 12, 10, 9, 11, 10, 10] * 3,  # ADI 1, CV^2 tiny
            "erratic": [1, 30, 2, 25, 1, 40, 3, 20, 2, 35] * 3,  # ADI 1, CV^2 > 0.49
            "intermittent": [0, 0, 5, 0, 0, 4, 0, 0, 5, 0] * 3,  # ADI 3.3, sizes alike
            "lumpy": [0, 0, 1, 0, 0, 40, 0, 0, 2, 0] * 3,  # ADI 3.3, sizes vary
            "dead": [5] * 10 + [0] * 20,  # nothing over the last 91 days
            "new": list(rng.poisson(5, 5)),  # 5 weeks of history
        }
    )
    classes = classify_demand(history, AS_OF, "week", Classify())
    pattern = dict(classes.select("sku", "demand_pattern").iter_rows())
    assert pattern == {
        "smooth": "smooth",
        "erratic": "erratic",
        "intermittent": "intermittent",
        "lumpy": "lumpy",
        "dead": "dead",
        "new": "new",
    }
    abc = dict(classes.select("sku", "abc").iter_rows())
    # value (revenue): erratic 4770, smooth 3060, lumpy 1290, dead 500, intermittent 420,
    # new ~250 of ~10290; share before each: 0, .46, .76, .89, .94, .98 -> A A A B B C
    assert abc == {
        "erratic": "A",
        "smooth": "A",
        "lumpy": "A",
        "dead": "B",
        "intermittent": "B",
        "new": "C",
    }


@pytest.mark.parametrize(
    ("name", "values", "expected_models"),
    [
        ("zeros", [0] * 40, {"Zero"}),
        ("constant", [7] * 40, {"AutoETS", "AutoTheta", "SeasonalNaive"}),
        (
            "one sale",
            [0] * 39 + [3],
            {"Zero", "CrostonSBA", "TSB", "ADIDA", "IMAPA", "HistoricAverage"},
        ),
        ("short", [4, 6, 5], {"HistoricAverage"}),
        (
            "intermittent",
            [0, 0, 3, 0, 0, 0, 2, 0, 0, 4] * 4,
            {"CrostonSBA", "TSB", "ADIDA", "IMAPA"},
        ),
    ],
)
def test_forecast_edge_cases_have_no_nan_or_negative(name, values, expected_models):
    history = _history({name: values})
    classes = classify_demand(history, AS_OF, "week", Classify())
    forecast, summary = forecast_demand(history, classes, "week", Forecast(backtest_windows=2), 6)
    assert forecast.height == 6
    assert forecast["forecast"].null_count() == 0
    assert not forecast["forecast"].is_nan().any()
    assert (forecast["forecast"] >= 0).all() and (forecast["lo"] >= 0).all()
    assert (forecast["hi"] >= forecast["forecast"]).all()
    # the forecast averages the two best models by backtest: "AutoETS+AutoTheta"
    assert set(summary["model"][0].split("+")) <= expected_models | {"SESOpt", "WindowAverage"}
    assert summary["sigma_e"][0] >= 0
    if name == "constant":
        assert forecast["forecast"].to_list() == pytest.approx([7.0] * 6, abs=0.05)
    if name == "short":
        assert forecast["forecast"][0] == pytest.approx(5.0)
    if name == "zeros":
        assert forecast["forecast"].sum() == 0


def test_seasonal_series_picks_a_seasonal_model():
    weeks = np.arange(130)
    values = list(np.round(20 + 15 * np.sin(2 * np.pi * weeks / 52)))
    history = _history({"seasonal": values})
    classes = classify_demand(history, AS_OF, "week", Classify())
    settings = Forecast(backtest_windows=2, combine_top=1)  # the single best model
    forecast, summary = forecast_demand(history, classes, "week", settings, 13)
    assert summary["model"][0].split("+")[0] in {"SeasonalNaive", "AutoTheta"}
    # next 13 weeks repeat the same weeks one year earlier
    assert forecast["forecast"].to_list() == pytest.approx(values[130 - 52 : 130 - 39], abs=3)


def test_inventory_position_nets_on_order_backorders_and_allocated():
    stock = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "location": ["W", "W"],
            "on_hand": [100.0, -4.0],
            "allocated": [10.0, 0.0],
        }
    )
    purchase_orders = pl.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "location": ["W", "W", "W"],
            "quantity": [30.0, 20.0, 99.0],
            "order_date": [dt.date(2025, 2, 20)] * 3,
            "expected_date": [dt.date(2025, 3, 10), dt.date(2025, 2, 25), dt.date(2025, 3, 1)],
            "received_date": [None, None, dt.date(2025, 3, 1)],  # the 99 arrived already
            "received_quantity": [None, 5.0, 99.0],  # 5 of the 20 came early
        }
    )
    customer_orders = pl.DataFrame({"sku": ["A"], "location": ["W"], "quantity": [5.0]})
    lead_times = pl.DataFrame(
        {"sku": ["A", "B"], "location": ["W", "W"], "lead_time_days": [7.0, 7.0]}
    )
    open_po = open_receipts(purchase_orders, lead_times, AS_OF)
    assert sorted(open_po["quantity"].to_list()) == [15.0, 30.0]
    assert open_po["arrival"].min() == AS_OF  # overdue PO is due now, not in the past
    position = stock_position(stock, open_po, customer_orders).sort("sku")
    a, b = position.to_dicts()
    # 100 + 45 - 5 - 10 = 130
    assert (a["on_order"], a["backorders"], a["inventory_position"]) == (45.0, 5.0, 130.0)
    # negative stock is a backorder: on_hand 0, backorders 4, position -4
    assert (b["on_hand"], b["backorders"], b["inventory_position"]) == (0.0, 4.0, -4.0)


def test_window_demand_prorates_buckets_and_extends_past_horizon():
    forecast = pl.DataFrame(
        {
            "sku": ["A"] * 2,
            "location": ["W"] * 2,
            "period_start": [dt.date(2025, 3, 3), dt.date(2025, 3, 10)],
            "forecast": [7.0, 14.0],
        }
    )
    windows = pl.DataFrame({"sku": ["A", "A"], "location": ["W", "W"], "window_days": [10.0, 21.0]})
    ten = window_demand(forecast, windows[0:1], 7, "d")
    twenty_one = window_demand(forecast, windows[1:2], 7, "d")
    assert ten["d"][0] == pytest.approx(7 + 14 * 3 / 7)  # 13
    assert twenty_one["d"][0] == pytest.approx(7 + 14 + 14)  # third week at the last rate


def test_protection_window_starts_at_a_mid_week_as_of():
    # buckets from Mon 3 Mar (7 units) and Mon 10 Mar (14); as_of Wed 5 Mar
    forecast = pl.DataFrame(
        {
            "sku": ["A"] * 2,
            "location": ["W"] * 2,
            "period_start": [dt.date(2025, 3, 3), dt.date(2025, 3, 10)],
            "forecast": [7.0, 14.0],
        }
    )
    wednesday = dt.date(2025, 3, 5)

    def over(days: float) -> float:
        windows = pl.DataFrame({"sku": ["A"], "location": ["W"], "window_days": [days]})
        return window_demand(forecast, windows, 7, "d", wednesday)["d"][0]

    # 5 - 9 Mar: 5 of week 1's 7 days; 10 - 14 Mar: 5 of week 2's -> 5 + 10
    assert over(10.0) == pytest.approx(7 * 5 / 7 + 14 * 5 / 7)
    # 21 days to 26 Mar: 5 + 14 + 9 days past the horizon at 2 a day = 37
    assert over(21.0) == pytest.approx(5 + 14 + 9 * 2)
    # an as_of before the forecast starts waits for the first bucket (weekly-dated data)
    windows = pl.DataFrame({"sku": ["A"], "location": ["W"], "window_days": [7.0]})
    assert window_demand(forecast, windows, 7, "d", dt.date(2025, 2, 26))["d"][0] == 7.0


def test_lead_time_from_po_history_beats_master_data():
    purchase_orders = pl.DataFrame(
        {
            "sku": ["A"] * 4 + ["B"],
            "supplier": ["S1"] * 4 + ["S2"],
            "quantity": [10.0] * 5,
            "order_date": [dt.date(2025, 1, 1)] * 5,
            "expected_date": [dt.date(2025, 1, 11)] * 5,
            "received_date": [dt.date(2025, 1, d) for d in (9, 11, 13, 15)] + [dt.date(2025, 1, 4)],
            "received_quantity": [10.0, 10.0, 8.0, 10.0, 10.0],
        }
    )
    series = pl.DataFrame({"sku": ["A", "B", "C"], "location": ["W"] * 3})
    products = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "supplier": ["S1", "S2", None],
            "lead_time_days": [30.0, 20.0, None],
        }
    )
    suppliers = pl.DataFrame(
        {"supplier": ["S2"], "lead_time_days": [6.0], "lead_time_std_days": [1.5]}
    )
    out = resolve_lead_times(
        series, products, suppliers, purchase_orders, LeadTime(default_days=21)
    )
    rows = {r["sku"]: r for r in out.to_dicts()}
    # A: 4 receipts at 8, 10, 12, 14 days -> mean 11, sample std 2.582
    assert rows["A"]["lead_time_days"] == pytest.approx(11.0)
    assert rows["A"]["lead_time_std_days"] == pytest.approx(2.582, abs=1e-3)
    assert rows["A"]["lead_time_source"] == "sku history"
    # B: one receipt is too few; the product master's 20 days wins over the supplier's 6
    assert (rows["B"]["lead_time_days"], rows["B"]["lead_time_source"]) == (20.0, "products")
    assert rows["B"]["lead_time_std_days"] == 1.5
    assert (rows["C"]["lead_time_days"], rows["C"]["lead_time_source"]) == (21.0, "default")
    card = supplier_scorecard(purchase_orders).to_dicts()[0]
    assert card["supplier"] == "S1" and card["receipts"] == 4
    assert card["on_time_rate"] == pytest.approx(0.5)  # day 9 and 11 on or before day 11
    assert card["fill_rate"] == pytest.approx(0.95)


def test_projected_stockout_counts_receipts():
    series = pl.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "location": ["W"] * 3,
            "available": [20.0, 20.0, 0.0],
            "forecast_per_day": [2.0, 2.0, 0.0],
        }
    )
    open_po = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["W", "W"],
            "arrival": [AS_OF + dt.timedelta(days=5), AS_OF + dt.timedelta(days=30)],
            "quantity": [10.0, 100.0],
        }
    )
    out = dict(
        projected_stockout_day(series, open_po, AS_OF, 90).select("sku", "stockout_day").iter_rows()
    )
    assert out["A"] == pytest.approx(15.0)  # (20 + 10) / 2, before the 100 arrive at day 30
    assert out["B"] == pytest.approx(10.0)  # 20 / 2
    assert "C" not in out  # no demand, no stockout


def _risk_row(
    available: float, arrival_day: int | None, quantity: float = 1000.0, transfer: float = 0.0
) -> dict:
    from stockplan.config import Risk
    from stockplan.risk import stockout_risk

    series = pl.DataFrame(
        {
            "sku": ["A"],
            "location": ["W"],
            "on_hand": [available],
            "allocated": [0.0],
            "backorders": [0.0],
            "transfer_qty": [transfer],
            "on_order": [quantity if arrival_day is not None else 0.0],
            "next_receipt_date": [None],
            "forecast_per_day": [10.0],
            "demand_lead_time": [100.0],  # 10 a day over L = 10 days
            "sigma_day": [0.0],
            "lead_time_days": [10.0],
            "lead_time_std_days": [0.0],
            "demand_pattern": ["smooth"],
            "unit_price": [2.0],
            "expected_arrival": [AS_OF + dt.timedelta(days=10)],
        },
        schema_overrides={"next_receipt_date": pl.Date},
    )
    open_po = pl.DataFrame(
        {
            "sku": ["A"] if arrival_day is not None else [],
            "location": ["W"] if arrival_day is not None else [],
            "quantity": [quantity] if arrival_day is not None else [],
            "arrival": [AS_OF + dt.timedelta(days=arrival_day)] if arrival_day is not None else [],
        },
        schema={
            "sku": pl.String,
            "location": pl.String,
            "quantity": pl.Float64,
            "arrival": pl.Date,
        },
    )
    return stockout_risk(series, open_po, AS_OF, 90, Risk(), ["intermittent"]).to_dicts()[0]


def test_a_receipt_after_the_shelf_empties_does_not_hide_the_stockout():
    # 30 on hand, 10 a day (no noise): empty on day 3; 1000 arrive on day 5 -> 20 units short
    row = _risk_row(30.0, arrival_day=5)
    assert row["stockout_probability"] == 1.0
    assert row["expected_shortage"] == pytest.approx(20.0)
    assert row["revenue_at_risk"] == pytest.approx(40.0)
    assert row["stockout_date"] == AS_OF + dt.timedelta(days=3)
    assert row["restock_eta"] == AS_OF + dt.timedelta(days=5)
    # the same receipt on day 2 arrives in time
    early = _risk_row(30.0, arrival_day=2)
    assert early["stockout_probability"] == 0.0 and early["stockout_date"] is None
    # no receipt: 100 needed over the lead time, 30 there -> 70 short, eta = new order
    none = _risk_row(30.0, arrival_day=None)
    assert none["expected_shortage"] == pytest.approx(70.0) and none["risk_level"] == "high"
    assert none["restock_eta"] == AS_OF + dt.timedelta(days=10)
    assert none["days_of_cover"] == pytest.approx(3.0)


def test_risk_counts_the_planned_transfer_in_and_out():
    # 30 on hand + 75 coming from another warehouse, 10 a day over L = 10: 105 >= 100
    moved_in = _risk_row(30.0, arrival_day=None, transfer=75.0)
    assert moved_in["stockout_probability"] == 0.0 and moved_in["risk_level"] == "low"
    assert moved_in["days_of_cover"] == pytest.approx(10.5)  # (30 + 75) / 10
    assert moved_in["stockout_date"] == AS_OF + dt.timedelta(days=11)  # ceil(10.5)
    # the donor: 200 on hand, 150 moved out -> 50 left, 50 short over the lead time
    donor = _risk_row(200.0, arrival_day=None, transfer=-150.0)
    assert donor["expected_shortage"] == pytest.approx(50.0) and donor["risk_level"] == "high"


def test_new_items_borrow_their_category_level_and_say_so():
    # two established snack series: 8, 12, 8, ... (mean 10) and 12, 16, ... (mean 14); their
    # last 13 weeks average 132 / 13 and 184 / 13 (median 158 / 13); a new one sold 2 a week
    history = _history({"S1": [8, 12] * 15, "S2": [12, 16] * 15, "NEW": [2, 2, 2]})
    classes = classify_demand(history, AS_OF, "week", Classify())
    categories = pl.DataFrame({"sku": ["S1", "S2", "NEW"], "category": ["snacks"] * 3})
    settings = Forecast(backtest_windows=2, min_history_periods=8)
    forecast, summary = forecast_demand(history, classes, "week", settings, 4, categories)
    new = summary.filter(pl.col("sku") == "NEW")
    assert new["model"][0] == "CategoryBlend"
    # Buhlmann k = within-series variance / variance of the means = (4 x 30 / 29) / 8
    k = (4 * 30 / 29) / 8
    expected = (3 * 2 + k * 158 / 13) / (3 + k)
    assert forecast.filter(pl.col("sku") == "NEW")["forecast"].to_list() == pytest.approx(
        [expected] * 4
    )
    # no category: the configured default is the prior; neither: its own mean
    alone = _history({"NEW": [2, 2, 2]})
    alone_classes = classify_demand(alone, AS_OF, "week", Classify())
    with_default = Forecast(backtest_windows=2, min_history_periods=8, new_item_default=5)
    forecast, summary = forecast_demand(alone, alone_classes, "week", with_default, 2)
    assert summary["model"][0] == "DefaultBlend"
    assert forecast["forecast"][0] == pytest.approx((3 * 2 + 8 * 5) / 11)
    forecast, summary = forecast_demand(alone, alone_classes, "week", settings, 2)
    assert summary["model"][0] == "HistoricAverage" and forecast["forecast"][0] == 2
