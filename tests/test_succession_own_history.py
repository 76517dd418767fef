"""A successor that already sells under its own code is, until its switch date, sized and
classed on its own history, as its forecast is: its safety stock on its own day-to-day
spread, its ABC class on its own sales value, its demand pattern and XYZ class on its own
buckets. From the switch on the inherited history counts. Numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from conftest import AS_OF as SHOP_AS_OF
from conftest import add_selling_successor
from typer.testing import CliRunner

from stockplan.cli import app

AS_OF = dt.date(2026, 11, 23)


def test_own_demand_measures_the_successors_own_rate_and_spread():
    from stockplan.succession import own_demand

    # NEW sold 3, 7, 3, 7, ... on the 14 days before as_of: 5 a day, each day 2 from it
    days = [AS_OF - dt.timedelta(days=i) for i in range(1, 15)]
    sales = pl.DataFrame({"date": days, "sku": "NEW", "location": "W", "quantity": [3.0, 7.0] * 7})
    succession = pl.DataFrame(
        {"old_sku": ["OLD"], "new_sku": ["NEW"], "date": [AS_OF + dt.timedelta(days=42)]}
    )
    (row,) = own_demand(sales, succession, AS_OF).to_dicts()
    assert row["own_per_day"] == pytest.approx(5.0)
    assert row["own_sigma_day"] == pytest.approx(2.0)
    assert row["switch_date"] == AS_OF + dt.timedelta(days=42)


def _base(switch_in: int | None) -> pl.DataFrame:
    # sigma_e 14 a week on the inherited history: 14^2 / 7 = 28 a day squared; its own
    # spread 2 a day (4 squared)
    return pl.DataFrame(
        {
            "sku": ["NEW"],
            "location": ["W"],
            "sigma_e": [14.0],
            "own_sigma_day": [2.0 if switch_in is not None else None],
            "switch_date": [AS_OF + dt.timedelta(days=switch_in or 0)],
        },
        schema_overrides={"own_sigma_day": pl.Float64},
    )


def test_a_successors_spread_is_its_own_until_the_switch_and_inherited_from_it():
    from stockplan.series import with_lead_times

    forecast = pl.DataFrame(
        {
            "sku": "NEW",
            "location": "W",
            "period_start": [AS_OF + dt.timedelta(weeks=w) for w in range(8)],
            "forecast": [35.0] * 8,
        }
    )
    lead_times = pl.DataFrame(
        {"sku": ["NEW"], "location": ["W"], "lead_time_days": [14.0], "lead_time_std_days": [0.0]}
    )

    def sigma_e(switch_in: int | None) -> float:
        rows = with_lead_times(_base(switch_in), lead_times, forecast, 7, 7.0, AS_OF)
        return rows["sigma_e"].item()

    # L + R = 21 days, the switch 7 days in: 7 days at 4, 14 at 28 a day squared:
    # (7 x 4 + 14 x 28) / 21 = 20 a day, sigma_e = sqrt(20 x 7) = 11.83 a week
    assert sigma_e(7) == pytest.approx(math.sqrt(140))
    # the switch after the window: its own 2 a day throughout, 2 sqrt(7) = 5.29 a week
    assert sigma_e(42) == pytest.approx(2 * math.sqrt(7))
    # switched already (no own spread measured): the inherited 14
    assert sigma_e(None) == pytest.approx(14.0)


def test_the_bootstrap_resamples_a_successors_own_days_until_its_switch():
    from stockplan.succession import before_switch_sales, inherited_sales, own_sales_before_switch

    sales = pl.DataFrame(
        {
            "date": [AS_OF - dt.timedelta(days=d) for d in (30, 20, 2, 1)],
            "sku": ["OLD", "OLD", "NEW", "OTHER"],
            "location": "W",
            "quantity": [100.0, 100.0, 5.0, 9.0],
        }
    )
    succession = pl.DataFrame(
        {"old_sku": ["OLD"], "new_sku": ["NEW"], "date": [AS_OF + dt.timedelta(days=10)]}
    )
    inherited = inherited_sales(sales, succession)
    assert inherited.filter(pl.col("sku") == "NEW")["quantity"].sum() == 205.0
    own = own_sales_before_switch(sales, succession, AS_OF)
    kept = before_switch_sales(inherited, own).sort("sku", "date")
    # NEW keeps its own 5; OLD and OTHER as they were
    assert kept.select("sku", "quantity").rows() == [
        ("NEW", 5.0),
        ("OLD", 100.0),
        ("OLD", 100.0),
        ("OTHER", 9.0),
    ]
    # switched already: nothing is the successor's own any more
    past = succession.with_columns(pl.lit(AS_OF).alias("date"))
    assert own_sales_before_switch(sales, past, AS_OF) is None


def test_a_plan_sizes_and_classes_a_successor_on_its_own_sales_before_its_switch(
    small_shop: Path,
):
    """N-1 replaces A-100 six weeks after as_of and has sold 3, 7, 3, 7, ... at WH1 under
    its own code for the last 14 days: 5 a day, 2 a day from it. Its own value is
    70 x 25 = 1,750 a year, where the inherited history gave it 71,825 (more than A-100
    itself) and class A."""
    import stockplan
    from stockplan.policy import z_value

    add_selling_successor(small_shop, [3, 7] * 7)
    planned = stockplan.plan(*reversed(stockplan.load(small_shop)))
    rows = {(r["sku"], r["location"]): r for r in planned.orders.to_dicts()}
    n1 = rows[("N-1", "WH1")]
    # L + R = 14 + 7 = 21 days, all before the switch: sigma_e = 2 sqrt(7) a week,
    # sigma_LTD = sqrt(21 x 2^2 + 5^2 x 2^2 (sigma_L 2 days)) = sqrt(184) = 13.56,
    # safety stock z(0.95) x 13.56 = 22.31 (the inherited history gave 53.4)
    assert n1["forecast_per_day"] == pytest.approx(5.0)
    assert n1["sigma_e"] == pytest.approx(2 * math.sqrt(7))
    assert n1["sigma_lead_time_demand"] == pytest.approx(math.sqrt(184))
    assert n1["safety_stock"] == pytest.approx(z_value(0.95) * math.sqrt(184))
    assert n1["order_up_to"] == pytest.approx(105 + z_value(0.95) * math.sqrt(184))
    # ABC on its own 1,750: of 227,535 in all, 225,785 come before it: C. 007 (13,860)
    # moves up from C to B: 211,925 / 227,535 = 0.931 before it, under the 0.95 cut
    classes = {(r["sku"], r["location"]): r for r in planned.tables["classes"].to_dicts()}
    assert classes[("N-1", "WH1")]["annual_value"] == pytest.approx(1750.0)
    assert n1["abc"] == classes[("N-1", "WH1")]["abc"] == "C"
    assert rows[("007", "WH1")]["abc"] == "B"
    # 14 days are 2 weekly buckets of its own, too few to measure a pattern by (new under 8):
    # its pattern and XYZ class stay the inherited history's
    assert (n1["demand_pattern"], n1["xyz"]) == ("smooth", "X")
    # at WH2 N-1 has no sales of its own: its forecast, spread and class stay inherited
    assert classes[("N-1", "WH2")]["annual_value"] == classes[("A-100", "WH2")]["annual_value"]
    assert rows[("N-1", "WH2")]["sigma_e"] == rows[("A-100", "WH2")]["sigma_e"]

    # explain says where its class and safety stock came from, and why it is still smooth X
    from stockplan.projection import item_lines

    def lines(location: str, lang: str = "en") -> list[str]:
        (order,) = stockplan.explain(planned, "N-1", location).orders.to_dicts()
        return item_lines(order, lang)

    switch = SHOP_AS_OF + dt.timedelta(days=42)  # 2025-11-24
    assert lines("WH1") == [
        f"successor: inherits the sales history of A-100 x 1 from {switch}",
        f"successor: until its switch on {switch} its ABC class (C), forecast floor and safety "
        "stock come from its own sales; its own history measures no pattern (new), so its "
        "pattern and XYZ class (smooth, X) are the inherited history's; the inherited history "
        "counts from that date",
    ]
    assert lines("WH1", "zh")[1] == (
        f"替代：在 {switch} 切换前，其 ABC 分类（C）、预测下限和安全库存按其自身销售确定；"
        "自身历史尚不能测定需求模式（新品），需求模式和 XYZ 分类（平稳、X）沿用继承的历史；"
        "自该日起计入继承的销售历史"
    )
    # no sales of its own at WH2: only the inheritance
    assert lines("WH2") == [f"successor: inherits the sales history of A-100 x 1 from {switch}"]


def test_a_successor_takes_its_own_demand_pattern_and_xyz_until_its_switch(small_shop: Path):
    """N-1 inherits A-100's steady 10 a day (smooth, X) and has sold under its own code for
    the last 10 weeks on four days only: 30, 4, 50 and 8 units, in weeks 1, 3, 6 and 9
    before as_of. Until its switch it is classed on those weeks:

        ADI = 10 buckets / 4 with demand = 2.5 >= 1.32
        CV^2 of the sizes 30, 4, 50, 8: mean 23, variance 341, 341 / 23^2 = 0.645 >= 0.49
        -> lumpy; per-bucket CV = sqrt(3480 / 10 - 9.2^2) / 9.2 = 1.764 >= 1.0 -> Z

    and forecast with the intermittent family; from the switch on it is classed on the
    inherited history again."""
    import stockplan

    quantities = [0] * 70
    for day, sold in {3: 30, 20: 4, 40: 50, 62: 8}.items():  # days before as_of, less 1
        quantities[day] = sold
    add_selling_successor(small_shop, quantities)
    planned = stockplan.plan(*reversed(stockplan.load(small_shop)))
    classes = {(r["sku"], r["location"]): r for r in planned.tables["classes"].to_dicts()}
    own = classes[("N-1", "WH1")]
    assert (own["demand_pattern"], own["xyz"], own["n_periods"]) == ("lumpy", "Z", 10)
    assert own["adi"] == pytest.approx(2.5)
    assert own["cv2"] == pytest.approx(341 / 23**2)
    assert own["cv"] == pytest.approx(math.sqrt(3480 / 10 - 9.2**2) / 9.2)
    assert own["mean_demand"] == pytest.approx(9.2)
    orders = {(r["sku"], r["location"]): r for r in planned.orders.to_dicts()}
    n1 = orders[("N-1", "WH1")]
    assert (n1["demand_pattern"], n1["abc"], n1["xyz"]) == ("lumpy", "C", "Z")
    intermittent_family = {"CrostonSBA", "TSB", "ADIDA", "IMAPA"}
    assert set(n1["model"].split("+")) <= intermittent_family
    # no sales of its own at WH2: the inherited class, A-100's there
    assert classes[("N-1", "WH2")]["demand_pattern"] == "smooth"
    assert classes[("N-1", "WH2")]["xyz"] == classes[("A-100", "WH2")]["xyz"] == "X"

    shown = CliRunner().invoke(
        app,
        ["explain", "N-1", "-l", "WH1", "-c", str(small_shop), "--no-chart", "-q"],
        catch_exceptions=False,
    )
    assert shown.exit_code == 0, shown.output
    assert "demand pattern lumpy, class CZ" in " ".join(shown.stdout.split())
    switch = SHOP_AS_OF + dt.timedelta(days=42)  # 2025-11-24
    assert (
        f"successor: until its switch on {switch} it is classed (C, Z, lumpy) and its forecast "
        "floor and safety stock sized on its own sales; the inherited history counts from "
        "that date"
    ) in " ".join(shown.stdout.replace("│", " ").split())  # the panel's text, unwrapped
    chinese = CliRunner().invoke(
        app,
        ["explain", "N-1", "-c", str(small_shop), "--no-chart", "-q", "--lang", "zh"],
        catch_exceptions=False,
    )
    assert chinese.exit_code == 0, chinese.output
    own_line = (
        f"替代：在 {switch} 切换前，按其自身销售分类（C、Z、块状）并确定预测下限和安全库存；"
        "自该日起计入继承的销售历史"
    )
    # both locations' panels: only WH1's, where N-1 sells under its own code, has the line
    assert "".join(chinese.stdout.replace("│", "").split()).count("".join(own_line.split())) == 1
    # the predecessor's share and switch date in words, the code as written
    inherits = f"替代：继承 A-100 × 1（{switch} 起）的销售历史"
    assert "".join(inherits.split()) in "".join(chinese.stdout.replace("│", "").split())
    assert " from " not in chinese.stdout

    # switched a week ago: its own lines are part of its history, classed as a whole
    succession = small_shop.parent / "succession.csv"
    switched = pl.read_csv(succession).with_columns(
        pl.lit((SHOP_AS_OF - dt.timedelta(days=7)).isoformat()).alias("date")
    )
    switched.write_csv(succession)
    after = stockplan.plan(*reversed(stockplan.load(small_shop)))
    classes = {(r["sku"], r["location"]): r for r in after.tables["classes"].to_dicts()}
    assert (classes[("N-1", "WH1")]["demand_pattern"], classes[("N-1", "WH1")]["xyz"]) == (
        "smooth",
        "X",
    )
    assert classes[("N-1", "WH1")]["n_periods"] == 40


def test_the_inherited_links_read_in_chinese_in_every_table_and_keep_the_codes():
    from stockplan.i18n import render_inheritance
    from stockplan.io.writers import localise

    links = "A-100 x 1 from 2025-11-24, BOX x 2 PACK x 0.5 from 2026-01-05"
    assert render_inheritance(links, "en") == links
    assert render_inheritance(links, "zh") == (
        "A-100 × 1（2025-11-24 起）, BOX x 2 PACK × 0.5（2026-01-05 起）"
    )
    classes = pl.DataFrame({"sku": ["N-1", "A-100"], "inherits_from": [links, None]})
    written = localise(classes, "classes", "zh")
    assert written.row(0) == (
        "N-1",
        "A-100 × 1（2025-11-24 起）, BOX x 2 PACK × 0.5（2026-01-05 起）",
    )
    assert written.row(1) == ("A-100", None)
