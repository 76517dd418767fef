"""The backup supplier's switch, the transfers and stockout dates around it, and successors."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import polars as pl
import pytest
from conftest import add_fast_mover, add_selling_successor

from stockplan.calendar import supplier_closures
from stockplan.reorder import switch_to_backup

AS_OF = dt.date(2026, 11, 23)  # a Monday


def _day(n: int) -> dt.date:
    return AS_OF + dt.timedelta(days=n)


def test_backup_is_chosen_by_its_arrival_on_its_own_calendar_and_only_when_strictly_sooner():
    # every preferred order (Slow) arrives on day 10 (14 calendar days would be later still);
    # every item runs out on day 4, before it
    skus = ["CLOSED", "TIE", "FAST"]
    orders = pl.DataFrame(
        {
            "sku": skus,
            "location": ["W"] * 3,
            "supplier": ["Slow"] * 3,
            "order_qty": [50.0] * 3,
            "lead_time_days": [10.0] * 3,
            "expected_arrival": [_day(10)] * 3,
        }
    )
    risk = pl.DataFrame({"sku": skus, "location": ["W"] * 3, "stockout_date": [_day(4)] * 3})
    backups = pl.DataFrame(
        {
            "sku": skus,
            "location": ["W"] * 3,
            "supplier": ["Shut", "Even", "Quick"],
            "lead_time_days": [5.0, 10.0, 3.0],  # open days
        }
    )
    # Shut is closed days 1..13: open days 0, 14, 15, 16, 17 -> arrives day 18, after
    # day 10 although its 5 open days are fewer than Slow's 10. Even: 10 open days, no
    # closure -> day 10, no sooner. Quick: day 3.
    closures = supplier_closures(
        pl.DataFrame({"supplier": ["Shut"], "from": [_day(1)], "to": [_day(13)]}), "none"
    )
    late = switch_to_backup(orders, risk, backups, AS_OF, closures, 7.0)
    assert late["sku"].to_list() == ["FAST"]
    assert late["backup_arrival"].to_list() == [_day(3)]
    assert late["preferred_arrival"].to_list() == [_day(10)]
    # without its closure Shut would deliver on day 5 and win
    open_all = supplier_closures(None, "none")
    both = switch_to_backup(orders, risk, backups, AS_OF, open_all, 7.0).sort("sku")
    assert both["sku"].to_list() == ["CLOSED", "FAST"]
    assert both["backup_arrival"].to_list() == [_day(5), _day(3)]


def _weekly_path(sku: str, weeks: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": [sku] * len(weeks),
            "location": ["W"] * len(weeks),
            "period_start": [_day(7 * i) for i in range(len(weeks))],
            "forecast": weeks,
        }
    )


def _stockout(per_day: float, open_po: pl.DataFrame | None = None) -> dt.date | None:
    from stockplan.config import Risk
    from stockplan.risk import stockout_risk

    series = pl.DataFrame(
        {
            "sku": ["S"],
            "location": ["W"],
            "on_hand": [38.0],
            "allocated": [0.0],
            "backorders": [0.0],
            "transfer_qty": [0.0],
            "on_order": [0.0],
            "next_receipt_date": [None],
            "forecast_per_day": [per_day],
            "demand_lead_time": [per_day * 7],
            "sigma_day": [1.0],
            "lead_time_days": [7.0],
            "lead_time_std_days": [0.0],
            "demand_pattern": ["smooth"],
            "unit_price": [2.0],
            "expected_arrival": [_day(7)],
        },
        schema_overrides={"next_receipt_date": pl.Date},
    )
    if open_po is None:
        open_po = pl.DataFrame(
            schema={
                "sku": pl.String,
                "location": pl.String,
                "quantity": pl.Float64,
                "arrival": pl.Date,
            }
        )
    forecast = _weekly_path("S", [23.527371, 23.527371, 44.432413, 44.432413, 23.527371])
    (row,) = stockout_risk(
        series, open_po, AS_OF, 90, Risk(), ["intermittent"], None, forecast, 7
    ).to_dicts()
    return row["stockout_date"]


def test_stockout_date_follows_the_forecast_path_not_the_window_average_of_a_lead_time():
    # 38 on hand; 23.527371 a week (3.361053 a day) for two weeks, then a promotion week of
    # 44.432413. The stock is gone at 38 / 3.361053 = 11.31 days, before the promotion:
    # stockout_date = as_of + ceil(11.31) = day 12 (2026-12-05), whichever window the row's
    # forecast_per_day averages: the preferred supplier's 14 + 7 days
    # ((2 x 23.527371 + 44.432413) / 21 = 4.356627 a day: 38 / 4.356627 = 8.72 -> day 9,
    # what a reason quoted before) or the backup's 7 + 7 days (3.361053).
    assert _stockout(4.356627) == _day(12) == dt.date(2026, 12, 5)
    assert _stockout(3.361053) == _day(12)


def test_stockout_date_on_the_path_counts_receipts_and_the_next_bucket_rate():
    # 10 arrive on day 5: 48 last 48 / 3.361053 = 14.28 days, past day 14 where the rate
    # rises: left at day 14: 48 - 14 x 3.361053 = 0.945258; at 44.432413 / 7 = 6.347488 a
    # day it lasts 0.149 more -> 14.149 -> day 15
    po = pl.DataFrame({"sku": ["S"], "location": ["W"], "quantity": [10.0], "arrival": [_day(5)]})
    assert _stockout(3.361053, po) == _day(15)


def test_a_successor_carries_the_inherited_demand_only_from_its_switch_date():
    from stockplan.reorder import window_demand
    from stockplan.succession import successor_forecast

    # NEW inherits OLD x 0.5 from Thursday 2026-12-10. OLD sells 28 a week (4 a day), so
    # NEW's forecast on the inherited history is its own 7 a week + 0.5 x 28 = 21.
    forecast = pl.concat(
        [
            _weekly_path("OLD", [28.0] * 5),
            _weekly_path("NEW", [21.0] * 5),
        ]
    ).with_columns((pl.col("forecast") * 0.5).alias("lo"), (pl.col("forecast") * 2).alias("hi"))
    succession = pl.DataFrame(
        {"old_sku": ["OLD"], "new_sku": ["NEW"], "date": [dt.date(2026, 12, 10)], "share": [0.5]}
    )
    out = successor_forecast(forecast, succession, AS_OF, 7)
    new = out.filter(pl.col("sku") == "NEW").sort("period_start")
    # weeks of 11-23 and 11-30 end before the switch: 21 - 0.5 x 28 = 7 (its own);
    # 12-07: 3 of its 7 days (7, 8, 9 December) are before it: 21 - 0.5 x 28 x 3/7 = 15;
    # from 12-14 on: 21
    assert new["forecast"].to_list() == pytest.approx([7.0, 7.0, 15.0, 21.0, 21.0])
    assert new["lo"].to_list() == pytest.approx([3.5, 3.5, 7.5, 10.5, 10.5])  # x own / F
    assert out.filter(pl.col("sku") == "OLD")["forecast"].to_list() == [28.0] * 5  # kept
    # over an L + R window of 21 days from 11-23 (to 12-13): own 1 a day x 21 = 21 plus the
    # inherited 2 a day on the 4 days from 12-10: 29, not 21 x 3 = 63
    windows = pl.DataFrame({"sku": ["NEW"], "location": ["W"], "window_days": [21.0]})
    (demand,) = window_demand(out, windows, 7, "demand_protection", AS_OF)["demand_protection"]
    assert demand == pytest.approx(29.0)
    # a switch after the window (2027-01-15): only its own 21
    later = succession.with_columns(pl.lit(dt.date(2027, 1, 15)).alias("date"))
    phased = successor_forecast(forecast, later, AS_OF, 7)
    (own,) = window_demand(phased, windows, 7, "demand_protection", AS_OF)["demand_protection"]
    assert own == pytest.approx(21.0)
    # a switch already past (on or before as_of) hands nothing back
    past = succession.with_columns(pl.lit(AS_OF).alias("date"))
    assert successor_forecast(forecast, past, AS_OF, 7).equals(forecast)


def test_a_successor_that_already_sells_keeps_at_least_its_own_rate_before_its_switch():
    from stockplan.succession import own_demand, successor_forecast

    # as above, NEW inherits OLD x 0.5 from 2026-12-10; NEW has sold 28 under its own code
    # over the 14 days before as_of (first sale on day -14): 2 a day, 14 a week. The hand
    # back leaves 7 a week before the switch, less than its own 14: it keeps 14.
    sales = pl.DataFrame(
        {
            "date": [_day(-14), _day(-7), _day(-1), _day(0), _day(-3)],
            "sku": ["NEW", "NEW", "NEW", "NEW", "OLD"],
            "location": ["W"] * 5,
            "quantity": [10.0, 10.0, 8.0, 50.0, 99.0],  # the sale on as_of is not history
        }
    )
    succession = pl.DataFrame(
        {"old_sku": ["OLD"], "new_sku": ["NEW"], "date": [dt.date(2026, 12, 10)], "share": [0.5]}
    )
    own = own_demand(sales, succession, AS_OF)
    (row,) = own.to_dicts()
    assert (row["sku"], row["location"], row["own_per_day"]) == ("NEW", "W", 2.0)
    # its day-to-day spread over the same 14 days: 10, 10, 8 and 11 days of 0, mean 2:
    # sqrt((100 + 100 + 64) / 14 - 2^2) = sqrt(14.857) = 3.855
    assert row["own_sigma_day"] == pytest.approx(math.sqrt(264 / 14 - 4))
    assert row["switch_date"] == dt.date(2026, 12, 10)
    forecast = pl.concat(
        [_weekly_path("OLD", [28.0] * 5), _weekly_path("NEW", [21.0] * 5)]
    ).with_columns((pl.col("forecast") * 0.5).alias("lo"))
    new = successor_forecast(forecast, succession, AS_OF, 7, own).filter(pl.col("sku") == "NEW")
    # 7 -> 14 (its own), 7 -> 14, 15 stays (above 14), 21, 21
    assert new.sort("period_start")["forecast"].to_list() == pytest.approx([14, 14, 15, 21, 21])
    assert new.sort("period_start")["lo"].to_list() == pytest.approx([7, 7, 7.5, 10.5, 10.5])
    # a switch already past: no own rate is measured, nothing is handed back
    past = succession.with_columns(pl.lit(AS_OF).alias("date"))
    assert own_demand(sales, past, AS_OF) is None


def test_a_plan_orders_for_a_successors_own_sales_before_its_switch(small_shop: Path):
    """N-1 replaces A-100 (10 a day at WH1) six weeks after as_of and has sold 5 a day at
    WH1 under its own code for the last 14 days (70 units). Over L + R = 14 + 7 days before
    the switch it sells its own 5 a day: demand 105. Handing back A-100's forecast from
    N-1's, forecast on nearly the same history, left 0.16 a day."""

    import stockplan

    add_selling_successor(small_shop, [5] * 14)
    planned = stockplan.plan(*reversed(stockplan.load(small_shop)))
    at = (pl.col("sku") == "N-1") & (pl.col("location") == "WH1")
    (row,) = planned.orders.filter(at).to_dicts()  # WH2 inherits A-100's sales there
    assert row["forecast_per_day"] == pytest.approx(5.0)
    assert row["order_up_to"] - row["safety_stock"] == pytest.approx(105.0)  # 5 x 21
    assert row["order_qty"] >= 105


def test_a_successor_planned_mid_week_hands_back_only_the_counted_days_before_its_switch():
    from stockplan.reorder import window_demand
    from stockplan.succession import successor_forecast

    # planned on Thursday 11-26, inside the week of Monday 11-23, which the plan counts
    # from 11-26 (4 of its 7 days). NEW (own 1 a day, 21 a week on the inherited history)
    # inherits OLD (4 a day) x 0.5 from Saturday 11-28: of the 4 counted days, 26 and 27
    # are before the switch, so the week gives back 0.5 x 28 x 2/4 = 7: 21 - 7 = 14.
    thursday = dt.date(2026, 11, 26)
    forecast = pl.concat([_weekly_path("OLD", [28.0] * 3), _weekly_path("NEW", [21.0] * 3)])
    succession = pl.DataFrame(
        {"old_sku": ["OLD"], "new_sku": ["NEW"], "date": [dt.date(2026, 11, 28)], "share": [0.5]}
    )
    out = successor_forecast(forecast, succession, thursday, 7)
    new = out.filter(pl.col("sku") == "NEW").sort("period_start")
    assert new["forecast"].to_list() == pytest.approx([14.0, 21.0, 21.0])
    # the rest of the week (26-29 November): own 1 a day x 4 + inherited 2 a day on 28 and
    # 29 = 8; handing back 2/7 of the days before the switch counted from Monday would
    # give 21 - 14 x 5/7 = 11 a week, 4/7 x 11 = 6.29 over those 4 days
    windows = pl.DataFrame({"sku": ["NEW"], "location": ["W"], "window_days": [4.0]})
    (demand,) = window_demand(out, windows, 7, "demand_protection", thursday)["demand_protection"]
    assert demand == pytest.approx(8.0)


@pytest.fixture
def switched_receiver(small_shop: Path) -> Path:
    """small_shop plus C-300: sold 5 a day at WH1 only, 10 on hand there and 20 at WH2
    (which sells none: all 20 are surplus). Its preferred supplier Slow takes 42 days, its
    backup Fast 7: WH1 receives the 20 and still runs out long before Slow could deliver."""
    folder = small_shop.parent
    add_fast_mover(folder, {"WH1": 10, "WH2": 20})
    pl.DataFrame({"supplier": ["Acme", "Slow", "Fast"], "lead_time_days": [14, 42, 7]}).write_csv(
        folder / "suppliers.csv"
    )
    return small_shop


def test_a_transfer_to_a_line_switched_to_its_backup_quotes_the_final_levels(
    switched_receiver: Path, tmp_path: Path
):
    from typer.testing import CliRunner

    from stockplan.cli import app

    out = tmp_path / "out"
    args = ["plan", "-c", str(switched_receiver), "-o", str(out), "--all", "-q"]
    assert CliRunner().invoke(app, args, catch_exceptions=False).exit_code == 0
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    row = orders.filter((pl.col("sku") == "C-300") & (pl.col("location") == "WH1")).row(
        0, named=True
    )
    assert row["supplier"] == "Fast"
    (move,) = pl.read_csv(out / "transfers.csv").filter(pl.col("sku") == "C-300").to_dicts()
    assert (move["from_location"], move["to_location"], move["quantity"]) == ("WH2", "WH1", 20)
    # the receiver's row on Fast: L + R = 14 days at 5 a day, S about 70 + safety stock,
    # far below the 49 days' 245 on Slow that the move was sized by before the switch
    assert row["reorder_point"] < 5 * 49 / 2
    quoted = re.search(r"\(([-\d.]+) < ([-\d.]+)\)", move["reason"])
    assert quoted, move["reason"]
    assert float(quoted.group(1)) == 10  # WH1's position before the move
    assert float(quoted.group(2)) == pytest.approx(row["reorder_point"], abs=0.051)
    assert move["quantity"] <= math.ceil(row["order_up_to"] - 10)
    # the reason's stockout date is the risk table's
    risk = pl.read_csv(out / "risk.csv", schema_overrides={"sku": pl.String})
    so = risk.filter((pl.col("sku") == "C-300") & (pl.col("location") == "WH1"))["stockout_date"]
    assert f"runs out about {so[0]}" in row["reason"]


@pytest.fixture
def topped_up_late(small_shop: Path) -> Path:
    """small_shop plus C-300 (5 a day at WH1, 10 on hand; preferred Slow, 42 days, backup
    Fast, 7 days) with 260 on a Slow order arriving on day 30: position 270 is above its
    order-up-to 5 x (42 + 7) = 245, so the policy orders none. Slow has a minimum order
    value of 1,000 and one other line, 007 at 40 a unit, capped at max_order 10 (400): the
    gap 600 is topped up on C-300, 600 / 15 = 40 units."""
    from conftest import AS_OF as SHOP_AS_OF
    from conftest import write_shop_config

    folder = small_shop.parent
    add_fast_mover(folder, {"WH1": 10})
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    products.with_columns(
        pl.when(pl.col("sku") == "007")
        .then(pl.lit("Slow"))
        .otherwise(pl.col("supplier"))
        .alias("supplier"),
        pl.when(pl.col("sku") == "007").then(10).otherwise(None).alias("max_order"),
    ).write_csv(folder / "products.csv")
    pl.DataFrame(
        {
            "supplier": ["Acme", "Slow", "Fast"],
            "lead_time_days": [14, 42, 7],
            "moq_value": [None, 1000.0, None],
        }
    ).write_csv(folder / "suppliers.csv")
    orders = pl.read_csv(folder / "purchase_orders.csv", schema_overrides={"sku": pl.String})
    pl.concat(
        [
            orders,
            pl.DataFrame(
                {
                    "po_id": ["P3"],
                    "sku": ["C-300"],
                    "location": ["WH1"],
                    "supplier": ["Slow"],
                    "quantity": [260],
                    "order_date": ["2025-09-10"],
                    "expected_date": [(SHOP_AS_OF + dt.timedelta(days=30)).isoformat()],
                    "received_date": [None],
                }
            ),
        ],
        how="vertical_relaxed",
    ).write_csv(folder / "purchase_orders.csv")
    return write_shop_config(
        folder,
        SHOP_AS_OF,
        ["sales", "stock", "products", "suppliers", "purchase_orders"],
        purchasing={"minimum_order_value": "top_up"},
    )


def test_a_line_only_a_top_up_orders_says_it_arrives_after_the_stockout_and_the_backup_sooner(
    topped_up_late: Path, tmp_path: Path
):
    from conftest import AS_OF as SHOP_AS_OF
    from typer.testing import CliRunner

    from stockplan.cli import app
    from stockplan.i18n import render_reason

    out = tmp_path / "out"
    args = ["plan", "-c", str(topped_up_late), "-o", str(out), "--all", "-q"]
    assert CliRunner().invoke(app, args, catch_exceptions=False).exit_code == 0
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"sku": pl.String})
    row = orders.filter(pl.col("sku") == "C-300").row(0, named=True)
    # the top up stays with Slow: it is there for Slow's minimum (400 + 40 x 15 = 1,000)
    assert (row["supplier"], row["order_qty"], row["inventory_position"]) == ("Slow", 40, 270)
    assert row["order_up_to"] == pytest.approx(245.0, abs=0.5)
    (slow,) = (
        pl.read_csv(out / "supplier_orders.csv").filter(pl.col("supplier") == "Slow").to_dicts()
    )
    assert (slow["order_value"], slow["minimum_action"]) == (1000, "top_up")
    # 10 on hand at 5 a day: out on day 2; Slow delivers on day 42, Fast on day 7
    day = lambda n: (SHOP_AS_OF + dt.timedelta(days=n)).isoformat()  # noqa: E731
    risk = pl.read_csv(out / "risk.csv", schema_overrides={"sku": pl.String})
    (c300,) = risk.filter(pl.col("sku") == "C-300").to_dicts()
    assert c300["stockout_date"] == day(2)
    assert row["expected_arrival"] == day(42)
    clause = (
        f"arrives {day(42)}, after stock runs out about {day(2)}: "
        f"backup supplier Fast would deliver {day(7)}"
    )
    assert row["reason"].endswith(
        "topped up by 40 to reach the supplier's minimum order value 1000; " + clause
    ), row["reason"]
    assert render_reason(clause, "zh") == (
        f"{day(42)} 才到货，晚于约 {day(2)} 的缺货：备用供应商 Fast 可于 {day(7)} 到货"
    )
    # the line the policy ordered on Slow arrives after 007's stockout too, but it has no
    # backup: nothing is added to its reason
    (other,) = orders.filter(pl.col("sku") == "007").to_dicts()
    assert "after stock runs out" not in other["reason"]
