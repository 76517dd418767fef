"""Items as they really live: kits, successors, shelf life and planner overrides.

Each stage is checked on a case small enough to compute by hand (written out in the test),
then the whole plan on the small shop with all four at once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from conftest import AS_OF, START, WEEKS, write_shop_config
from typer.testing import CliRunner

import stockplan
from stockplan import i18n
from stockplan.bom import kit_component_sales, kit_shares
from stockplan.caps import cap_order_up_to, tightest
from stockplan.cli import app
from stockplan.config import Config
from stockplan.overrides import active_overrides, apply_overrides, score_overrides
from stockplan.shelf_life import expiring_stock, expiry_risk, shelf_life_caps, stock_lots
from stockplan.succession import inherited_sales

D = dt.date(2025, 10, 13)  # a Monday


def _sales(rows: list[tuple[str, float]], day: dt.date = D) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [day] * len(rows),
            "sku": [r[0] for r in rows],
            "location": ["WH1"] * len(rows),
            "quantity": [float(r[1]) for r in rows],
        }
    )


def _units(sales: pl.DataFrame) -> dict[str, float]:
    return dict(sales.group_by("sku").agg(pl.col("quantity").sum()).iter_rows())


# --- kits --------------------------------------------------------------------------------


def test_kit_sales_become_component_demand_through_nested_kits():
    # K = 2 x C1 + 1 x C2; BIG = 1 x K + 4 x C3 (a kit inside a kit)
    bom = pl.DataFrame(
        {
            "kit_sku": ["K", "K", "BIG", "BIG"],
            "component_sku": ["C1", "C2", "K", "C3"],
            "quantity": [2.0, 1.0, 1.0, 4.0],
        }
    )
    sales = _sales([("K", 3), ("BIG", 2), ("C1", 5)])
    out = kit_component_sales(sales, bom)
    # C1: own 5 + K 3 x 2 + BIG 2 x 1 x 2 = 15; C2: 3 x 1 + 2 x 1 = 5; C3: 2 x 4 = 8
    assert _units(out) == {"C1": 15.0, "C2": 5.0, "C3": 8.0}
    shares = {s: v for s, _, v, _ in kit_shares(out, bom, D + dt.timedelta(days=1)).iter_rows()}
    assert shares["C1"] == pytest.approx(10 / 15)  # 10 of C1's 15 units came from kits
    assert shares["C3"] == pytest.approx(1.0)


# --- successors --------------------------------------------------------------------------


def test_a_successor_inherits_history_scaled_by_share_along_a_chain():
    succession = pl.DataFrame(
        {
            "old_sku": ["A", "B"],
            "new_sku": ["B", "C"],
            "date": [D, D + dt.timedelta(days=30)],
            "share": [0.5, 0.8],
        }
    )
    sales = _sales([("A", 10), ("B", 3)])
    out = inherited_sales(sales, succession)
    # B: own 3 + A 10 x 0.5 = 8; C: A 10 x 0.5 x 0.8 + B 3 x 0.8 = 6.4; A keeps its own 10
    assert _units(out) == pytest.approx({"A": 10.0, "B": 8.0, "C": 6.4})


# --- caps after the policy -----------------------------------------------------------------


def _order_row(**changes: object) -> pl.DataFrame:
    row = {
        "sku": "X",
        "location": "WH1",
        "order_qty": 80.0,
        "order_value": 800.0,
        "inventory_position": 20.0,
        "reorder_point": 60.0,
        "order_up_to": 100.0,
        "unit_cost": 10.0,
        "moq": None,
        "pack_size": None,
        "max_order": None,
        "reason": "position 20 below reorder point 60: need 80 to reach 100",
    }
    row.update(changes)
    return pl.DataFrame(
        [row], schema_overrides={c: pl.Float64 for c in ("moq", "pack_size", "max_order")}
    )


def test_a_cap_lowers_order_up_to_and_the_order_and_says_why():
    caps = tightest(
        [
            pl.DataFrame(
                {
                    "sku": ["X", "X"],
                    "location": ["WH1", "WH1"],
                    "order_up_to_cap": [70.0, 50.0],
                    "cap_clause": ["looser", "tighter"],
                }
            )
        ]
    )
    out = cap_order_up_to(_order_row(), caps).row(0, named=True)
    # S' = min(100, 50) = 50, reorder point' = min(60, 50) = 50, order = 50 - 20 = 30
    assert (out["order_up_to"], out["reorder_point"], out["order_qty"]) == (50.0, 50.0, 30.0)
    assert out["order_value"] == 300.0
    assert out["reason"].endswith("; tighter; need 30 to reach the cap 50")


def test_a_cap_that_leaves_a_need_under_half_a_unit_says_so():
    # S' = 20.4 with the position at 20: below the capped level by 0.4, under half a unit
    caps = pl.DataFrame(
        {
            "sku": ["X"],
            "location": ["WH1"],
            "order_up_to_cap": [20.4],
            "cap_clause": [
                "order-up-to capped at 20.4 by shelf life: 1 a day over lead time 7 "
                "+ 13.4 sellable days"
            ],
        }
    )
    out = cap_order_up_to(_order_row(), caps).row(0, named=True)
    assert out["order_qty"] == 0.0
    assert out["reason"] == (
        "no order: position 20 is only 0.4 below order-up-to 20.4, under half a unit; "
        "order-up-to capped at 20.4 by shelf life: 1 a day over lead time 7 + 13.4 sellable days"
    )
    assert i18n.unknown_clauses(out["reason"]) == []


def test_a_stop_clause_stops_the_line():
    caps = pl.DataFrame(
        {
            "sku": ["X"],
            "location": ["WH1"],
            "order_up_to_cap": [0.0],
            "cap_clause": ["no order: replaced by Y from 2025-10-01"],
        }
    )
    out = cap_order_up_to(_order_row(), caps).row(0, named=True)
    assert out["order_qty"] == 0.0
    assert out["reason"] == "no order: replaced by Y from 2025-10-01"


# --- shelf life ----------------------------------------------------------------------------


def test_fefo_lots_expire_what_the_forecast_rate_cannot_sell_before_sell_by():
    lots = pl.DataFrame(
        {
            "sku": ["X"] * 3,
            "location": ["WH1"] * 3,
            "expiry_date": [D + dt.timedelta(days=5), D + dt.timedelta(days=10), D],
            "lot_qty": [10.0, 10.0, 5.0],
        }
    )
    rates = pl.DataFrame({"sku": ["X"], "location": ["WH1"], "forecast_per_day": [2.0]})
    out = expiring_stock(lots, rates, D, sell_by_days=2, unit_cost=None).sort("expiry_date")
    # sell-by = expiry - 2 days: lot 3 on D-2 (past: all 5 expire); lot 1 in 3 days sells
    # 2 x 3 = 6 of 10 (4 expire); lot 2 in 8 days: demand of days 3..8 = 10, sells all 10
    assert out["expected_sold"].to_list() == [0.0, 6.0, 10.0]
    assert out["expiring_qty"].to_list() == [5.0, 4.0, 0.0]
    assert out["days_to_sell_by"].to_list() == [-2, 3, 8]


def test_the_expiry_list_leaves_out_a_lot_the_forecast_all_but_sells():
    lots = pl.DataFrame(
        {
            "sku": ["X"] * 3,
            "location": ["WH1"] * 3,
            "expiry_date": [
                D - dt.timedelta(days=1),
                D + dt.timedelta(days=5),
                D + dt.timedelta(days=10),
            ],
            "lot_qty": [5.0, 10.0, 10.0],
        }
    )
    # a fitted rate a hair under 2 a day: D_2 = 3 x 1.99998 = 5.99994, D_3 = 8 x 1.99998 =
    # 15.99984; S_2 = 15 + min(-5, 5.99994 - 15) = 5.99994, S_3 = 25 + min(-5, -9.00006,
    # 15.99984 - 25) = 15.99984: lot 3 sells 9.9999 of 10 and 0.0001 expires (shown as 0)
    rates = pl.DataFrame({"sku": ["X"], "location": ["WH1"], "forecast_per_day": [1.99998]})
    expiring = expiring_stock(lots, rates, D, sell_by_days=2).sort("expiry_date")
    assert expiring["expiring_qty"].to_list() == pytest.approx([5.0, 4.00006, 0.0001])
    listed = expiry_risk(expiring)
    # only the lots that lose units: the expired 5 and the 4 of the lot due in 3 days
    assert listed["lot_qty"].to_list() == [5.0, 10.0]
    assert listed["expiring_qty"].to_list() == pytest.approx([5.0, 4.00006])


def test_expiry_command_lists_only_lots_with_units_expiring(tmp_path: Path):
    # the README's example: 2 a day (1 and 3 on alternate days), sell_by_days 2, lots of 5
    # (sell-by passed), 10 (sell-by in 3 days: 6 sell, 4 expire), 10 (in 8 days: the
    # demand of days 3..8, 10, sells it all: nothing expires, so it is not listed)
    days = [START + dt.timedelta(days=i) for i in range(WEEKS * 7)]
    pl.DataFrame(
        {
            "date": [d.isoformat() for d in days],
            "sku": "A",
            "warehouse": "WH1",
            "qty": [3 if i % 2 else 1 for i in range(len(days))],
        }
    ).write_csv(tmp_path / "sales.csv")
    expiry = [AS_OF + dt.timedelta(days=n) for n in (-1, 5, 10)]
    pl.DataFrame(
        {"sku": "A", "location": "WH1", "on_hand": [5, 10, 10], "expiry_date": expiry}
    ).write_csv(tmp_path / "stock.csv")
    (tmp_path / "products.csv").write_text("sku,unit_cost\nA,10\n", encoding="utf-8")
    config = write_shop_config(
        tmp_path,
        AS_OF,
        ["sales", "stock", "products"],
        calendars={"public_holidays": "none"},
        shelf_life={"sell_by_days": 2},
    )
    out = tmp_path / "expiring.csv"
    result = CliRunner().invoke(
        app, ["expiry", "-c", str(config), "-o", str(out), "-q", "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    listed = pl.read_csv(out)
    assert listed["lot_qty"].to_list() == [5, 10]
    assert listed["expiring_qty"].to_list() == pytest.approx([5, 4], abs=0.01)
    assert listed["expiring_value"].to_list() == pytest.approx([50, 40], abs=0.1)


def test_order_up_to_cap_is_what_sells_over_lead_time_plus_sellable_life():
    series = pl.DataFrame(
        {
            "sku": ["X", "Y"],
            "location": ["WH1", "WH1"],
            "forecast_per_day": [4.0, 1.0],
            "lead_time_days": [5.0, 5.0],
        }
    )
    products = pl.DataFrame({"sku": ["X", "Y"], "shelf_life_days": [10.0, None]})
    caps = shelf_life_caps(series, products, sell_by_days=2)
    # X: 4 a day x (5 + (10 - 2)) = 52; Y has no shelf life: no cap
    assert caps.select("sku", "order_up_to_cap").rows() == [("X", 52.0)]
    assert i18n.unknown_clauses(caps["cap_clause"][0]) == []


def test_stock_lots_are_summed_per_item_and_kept_for_expiry():
    stock = pl.DataFrame(
        {
            "sku": ["X", "X"],
            "location": ["WH1", "WH1"],
            "on_hand": [3.0, 4.0],
            "expiry_date": [D, D + dt.timedelta(days=9)],
        }
    )
    merged, lots = stock_lots(stock)
    assert merged.rows() == [("X", "WH1", 7.0)]
    assert sorted(lots["lot_qty"].to_list()) == [3.0, 4.0]


# --- overrides -----------------------------------------------------------------------------


def _weekly_forecast() -> pl.DataFrame:
    weeks = [D + dt.timedelta(weeks=k) for k in range(3)]
    return pl.DataFrame(
        {
            "sku": "X",
            "location": "WH1",
            "period_start": weeks,
            "forecast": 70.0,
            "lo": 35.0,
            "hi": 140.0,
            "model": "AutoETS",
        }
    )


def test_overrides_replace_or_scale_the_forecast_in_their_window():
    overrides = pl.DataFrame(
        {
            "sku": ["X", "X", "X"],
            "location": [None, "WH1", "WH1"],
            "start": [
                D + dt.timedelta(days=3),
                D + dt.timedelta(days=14),
                D - dt.timedelta(days=30),
            ],
            "end": [D + dt.timedelta(days=9), D + dt.timedelta(days=20), D - dt.timedelta(days=1)],
            "quantity": [300.0, None, 999.0],
            "multiplier": [None, 1.5, None],
            "reason": ["trade fair", "price cut", "old"],
            "author": ["Li", "Wang", "Li"],
        },
        schema_overrides={"location": pl.String},
    )
    out = apply_overrides(_weekly_forecast(), overrides, 7)
    # 300 over the 7 days Thu 16th .. Wed 22nd: week 1 keeps 3 of 7 days of 70 and gets
    # 4/7 of 300; week 2 keeps 4/7 of 70 and gets 3/7 of 300; week 3 x 1.5; the window
    # that ended before as_of changes nothing
    assert out["forecast"].to_list() == pytest.approx([30 + 300 * 4 / 7, 40 + 300 * 3 / 7, 105.0])
    assert out["hi"][2] == pytest.approx(210.0)  # the interval scales with the forecast
    active = active_overrides(overrides, _weekly_forecast(), D).row(0, named=True)
    assert active["override_clauses"] == (
        "forecast set to 300 for 2025-10-16 to 2025-10-22 by Li (trade fair); "
        "forecast x 1.5 for 2025-10-27 to 2025-11-02 by Wang (price cut)"
    )
    assert i18n.unknown_clauses(active["override_clauses"]) == []
    assert "2025-10-16 至 2025-10-22 的预测由 Li 调整为 300" in i18n.render_reason(
        active["override_clauses"], "zh"
    )


def test_an_override_without_author_or_reason_leaves_them_out_of_its_clause():
    # blank cells are not printed as 'by - (-)'; each clause still renders in Chinese
    overrides = pl.DataFrame(
        {
            "sku": ["X", "X", "X"],
            "location": ["WH1", "WH1", "WH1"],
            "start": [D, D + dt.timedelta(days=7), D + dt.timedelta(days=14)],
            "end": [D + dt.timedelta(days=6), D + dt.timedelta(days=13), D + dt.timedelta(days=20)],
            "quantity": [300.0, None, 50.0],
            "multiplier": [None, 1.5, None],
            "reason": [None, "price cut agreed by sales", "  "],
            "author": ["", None, "Li"],
        },
        schema_overrides={"location": pl.String},
    )
    clauses = active_overrides(overrides, _weekly_forecast(), D)["override_clauses"][0]
    assert clauses == (
        "forecast set to 300 for 2025-10-13 to 2025-10-19; "
        "forecast x 1.5 for 2025-10-20 to 2025-10-26 (price cut agreed by sales); "
        "forecast set to 50 for 2025-10-27 to 2025-11-02 by Li"
    )
    assert i18n.unknown_clauses(clauses) == []
    assert i18n.render_reason(clauses, "zh") == (
        "2025-10-13 至 2025-10-19 的预测调整为 300；"
        "2025-10-20 至 2025-10-26 的预测乘以 1.5（price cut agreed by sales）；"
        "2025-10-27 至 2025-11-02 的预测由 Li 调整为 50"
    )


def test_forecast_value_added_compares_both_errors_on_what_sold():
    scored = pl.DataFrame(
        {
            "sku": ["X", "Y"],
            "location": ["WH1", "WH1"],
            "start": [D, D],
            "end": [D, D],
            "author": ["Li", "Li"],
            "reason": ["fair", "hunch"],
            "override": ["set to 150", "x 2"],
            "scored_days": [7.0, 7.0],
            "actual": [140.0, 50.0],
            "statistical_forecast": [100.0, 60.0],
            "override_forecast": [150.0, 120.0],
        }
    )
    out = score_overrides(scored).sort("sku")
    # X: |100-140| - |150-140| = 40 - 10 = 30; Y: |60-50| - |120-50| = 10 - 70 = -60
    assert out["forecast_value_added"].to_list() == [30.0, -60.0]
    assert out["verdict"].to_list() == ["added value", "made it worse"]


# --- the whole plan ------------------------------------------------------------------------


@pytest.fixture
def living_shop(small_shop: Path) -> Path:
    """small_shop plus: KIT (never stocked) = 2 x A-100, sold 1 a day at WH1; NEW-7
    replacing 007 a week before as_of with share 1; an override doubling A-100 at WH2 over
    the next two weeks; A-100 at WH2 held in two lots, 200 expiring 5 days after as_of;
    NEW-9 stocked (0 on hand), never sold, with an override of 140 over two weeks; KIT2
    (3 x A-100) stocked but never sold; A-100 keeps 5 days from delivery to expiry."""
    folder = small_shop.parent
    sales = pl.read_csv(folder / "sales.csv", schema_overrides={"sku": pl.String})
    days = sales["date"].unique().sort()
    kit = pl.DataFrame(
        {"date": days, "sku": "KIT", "warehouse": "WH1", "qty": 1, "price": 60.0}
    ).cast(sales.schema)
    pl.concat([sales, kit]).write_csv(folder / "sales.csv")
    stock = pl.read_csv(folder / "stock.csv", schema_overrides={"sku": pl.String})
    late = (AS_OF + dt.timedelta(days=300)).isoformat()
    soon = (AS_OF + dt.timedelta(days=5)).isoformat()
    pl.concat(
        [
            stock.filter(pl.col("location") != "WH2").with_columns(
                pl.lit(late).alias("expiry_date")
            ),
            pl.DataFrame(
                {
                    "sku": ["A-100", "A-100", "NEW-9", "KIT2"],
                    "location": ["WH2", "WH2", "WH1", "WH1"],
                    "on_hand": [200, 300, 0, 4],
                    "allocated": [0, 0, 0, 0],
                    "expiry_date": [soon, late, None, None],
                }
            ),
        ],
        how="vertical_relaxed",
    ).write_csv(folder / "stock.csv")
    products = pl.read_csv(folder / "products.csv", schema_overrides={"sku": pl.String})
    pl.concat(
        [
            products.with_columns(
                pl.when(pl.col("sku") == "A-100").then(5).alias("shelf_life_days")
            ),
            # every kit and successor is an item of the products table (NEW-7, the
            # successor of 007, has neither stock nor sales yet: its products row is all)
            pl.DataFrame(
                {
                    "sku": ["KIT", "NEW-9", "KIT2", "NEW-7"],
                    "name": ["Twin pack", "Launch", "Trio", "Successor"],
                }
            ),
        ],
        how="diagonal_relaxed",
    ).write_csv(folder / "products.csv")
    pl.DataFrame(
        {"套件编码": ["KIT", "KIT2"], "组件编码": ["A-100", "A-100"], "用量": [2, 3]}
    ).write_csv(folder / "bom.csv")
    switch = (AS_OF - dt.timedelta(days=7)).isoformat()
    pl.DataFrame(
        {"old_sku": ["007"], "new_sku": ["NEW-7"], "date": [switch], "share": [100]}
    ).write_csv(folder / "succession.csv")
    two_weeks = (AS_OF + dt.timedelta(days=13)).isoformat()
    pl.DataFrame(
        {
            "sku": ["A-100", "NEW-9"],
            "location": ["WH2", None],
            "from": [AS_OF.isoformat(), AS_OF.isoformat()],
            "to": [two_weeks, two_weeks],
            "multiplier": [2.0, None],
            "quantity": [None, 140.0],
            "reason": ["opening; week", "launch"],
            "author": ["Li", "Li"],
        }
    ).write_csv(folder / "overrides.csv")
    config = small_shop.read_text(encoding="utf-8")
    extra = "  bom: bom.csv\n  succession: succession.csv\n  overrides: overrides.csv\n"
    small_shop.write_text(config.replace("inputs:\n", "inputs:\n" + extra), encoding="utf-8")
    return small_shop


def test_the_plan_with_kits_successors_shelf_life_and_overrides(living_shop: Path):
    config, inputs = stockplan.load(living_shop)
    planned = stockplan.plan(inputs, config)
    orders = planned.orders  # every sku x location, as --all
    rows = {(r["sku"], r["location"]): r for r in orders.iter_rows(named=True)}
    sales = pl.read_csv(living_shop.parent / "sales.csv", schema_overrides={"sku": pl.String})

    # kits: KIT is never stocked and never ordered; A-100 at WH1 carries its demand
    assert ("KIT", "WH1") not in rows
    wh1 = sales.filter((pl.col("warehouse") == "WH1") & (pl.col("date") < AS_OF.isoformat()))
    own = wh1.filter(pl.col("sku") == "A-100")["qty"].sum()
    from_kits = 2 * wh1.filter(pl.col("sku") == "KIT")["qty"].sum()
    a1 = rows[("A-100", "WH1")]
    assert a1["kits"] == "KIT, KIT2"
    assert a1["kit_share"] == pytest.approx(from_kits / (own + from_kits), abs=0.005)  # 2 d.p.
    assert a1["forecast_per_day"] > 11.0  # about 10 own + 2 from kits a day
    assert rows[("KIT2", "WH1")]["order_qty"] == 0
    assert rows[("KIT2", "WH1")]["reason"] == "no order: a kit, bought as its components"

    # shelf life 5 days: order-up-to at most d x (L + 5), below the policy's d x (L + R) + SS
    cap = a1["forecast_per_day"] * (a1["lead_time_days"] + 5)
    assert a1["order_up_to"] == pytest.approx(cap, abs=0.1)
    assert a1["order_up_to_cap"] == pytest.approx(cap, abs=0.1)
    assert "order-up-to capped at" in a1["reason"] and "by shelf life" in a1["reason"]
    assert a1["order_qty"] <= cap - a1["inventory_position"] + 12  # a pack of 12 at most over

    # successors: 007 stopped from the switch date, NEW-7 planned on 007's history
    old, new = rows[("007", "WH1")], rows[("NEW-7", "WH1")]
    switch = (AS_OF - dt.timedelta(days=7)).isoformat()
    assert old["order_qty"] == 0
    assert old["reason"] == f"no order: replaced by NEW-7 from {switch}"
    assert new["inherits_from"] == f"007 x 1 from {switch}"
    assert new["forecast_per_day"] > 0.3  # 007 sold 2 every 4th day: 0.5 a day

    # shelf life: of 200 units with 5 days to their sell-by point, 5 days of demand sell;
    # of the rest, short WH1 takes what it sells in those 5 days (5 x its rate, below its
    # need and the 100 or so WH2 would not sell) and sells all of it
    lot = planned.expiry_risk.row(0, named=True)
    wh2 = rows[("A-100", "WH2")]
    assert (lot["sku"], lot["location"]) == ("A-100", "WH2")
    assert lot["lot_qty"] == pytest.approx(200 - 5 * a1["forecast_per_day"], abs=0.01)
    assert planned.expiry_risk.filter(pl.col("location") == "WH1").height == 0
    assert lot["expected_sold"] == pytest.approx(5 * wh2["forecast_per_day"], abs=0.05)
    assert wh2["unsellable_qty"] == pytest.approx(lot["expiring_qty"], abs=0.01)
    assert wh2["on_hand"] == pytest.approx(500 - lot["expiring_qty"], abs=0.01)

    # overrides: WH2's forecast doubled for two weeks, said in the reason and the row
    assert "forecast x 2 for" in wh2["reason"] and "by Li (opening, week)" in wh2["reason"]
    assert wh2["forecast_override"].startswith("forecast x 2 for")
    assert wh2["forecast_per_day"] > 1.5 * a1["forecast_per_day"] - 2 * 2  # ~20 vs ~10

    # a stocked item that never sold is forecast by its override alone: 140 units over
    # the first 14 days of its 14 + 7 days of lead time and review
    launch = rows[("NEW-9", "WH1")]
    assert launch["forecast_per_day"] == pytest.approx(140 / 21, abs=0.01)
    assert launch["order_qty"] > 0

    # every reason renders in Chinese
    for reason in orders["reason"].to_list():
        assert i18n.unknown_clauses(reason) == [], reason

    by_sku = {(r["sku"], r["location"]): r for r in planned.classes.iter_rows(named=True)}
    assert by_sku[("007", "WH1")]["replaced_by"] == "NEW-7"
    assert by_sku[("NEW-7", "WH1")]["inherits_from"].startswith("007")


def _add_input(config: Path, name: str, frame: pl.DataFrame) -> None:
    frame.write_csv(config.parent / f"{name}.csv")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("inputs:\n", f"inputs:\n  {name}: {name}.csv\n"), "utf-8")


def test_overrides_report_scores_past_overrides_on_what_sold(small_shop: Path):
    day = lambda n: (AS_OF + dt.timedelta(days=n)).isoformat()  # noqa: E731
    _add_input(
        small_shop,
        "overrides",
        pl.DataFrame(
            {
                "商品编码": ["A-100", "007", "A-100"],
                "仓库": ["WH1", None, "WH2"],
                "开始日期": [day(-14), day(-28), day(-3)],
                "结束日期": [day(-8), day(-22), day(3)],
                "预测数量": [70.0, None, 70.0],
                "系数": [None, 5.0, None],
                "调整原因": ["fair", "hunch", "running"],
                "调整人": ["Li", "Wang", "Li"],
            }
        ),
    )
    config, inputs = stockplan.load(small_shop)
    scores = stockplan.score_overrides(inputs, config)
    rows = {(r["sku"], r["location"]): r for r in scores.iter_rows(named=True)}
    sales = pl.read_csv(small_shop.parent / "sales.csv", schema_overrides={"sku": pl.String})

    def sold(sku: str, where: str, first: int, last: int) -> float:
        window = pl.col("date").is_between(pl.lit(day(first)), pl.lit(day(last)))
        mine = (pl.col("sku") == sku) & (pl.col("warehouse") == where)
        return float(sales.filter(window & mine)["qty"].sum())

    a1 = rows[("A-100", "WH1")]
    assert a1["actual"] == sold("A-100", "WH1", -14, -8)
    assert a1["override_forecast"] == pytest.approx(70.0)  # all 7 days of the window scored
    fva = abs(a1["statistical_forecast"] - a1["actual"]) - abs(70.0 - a1["actual"])
    assert a1["forecast_value_added"] == pytest.approx(fva, abs=0.02)
    slow = rows[("007", "WH1")]  # no location: every location the item sells at
    assert slow["actual"] == sold("007", "WH1", -28, -22)
    assert slow["override_forecast"] == pytest.approx(5 * slow["statistical_forecast"], abs=0.05)
    assert slow["verdict"] == "made it worse"
    running = rows[("A-100", "WH2")]  # only the 3 days before as_of are scored
    assert running["scored_days"] == 3
    assert running["override_forecast"] == pytest.approx(30.0)
    assert running["actual"] == sold("A-100", "WH2", -3, -1)


def test_overrides_command_writes_the_scores_with_names_and_planning_date(small_shop: Path):
    _add_input(
        small_shop,
        "overrides",
        pl.DataFrame(
            {
                "sku": ["A-100"],
                "location": ["WH1"],
                "start": [(AS_OF - dt.timedelta(days=14)).isoformat()],
                "end": [(AS_OF - dt.timedelta(days=8)).isoformat()],
                "quantity": [70.0],
            }
        ),
    )
    result = CliRunner().invoke(
        app, ["overrides", "-c", str(small_shop), "-q", "-o", "-", "--headers", "canonical"]
    )
    assert result.exit_code == 0, result.output
    import io

    scores = pl.read_csv(io.StringIO(result.stdout), schema_overrides={"sku": pl.String})
    assert scores.select("sku", "location", "name").rows() == [("A-100", "WH1", "Steady item")]
    assert scores["override_forecast"].to_list() == [70.0]
    assert scores["as_of"].to_list() == [AS_OF.isoformat()]
    assert scores.columns[-1] == "as_of"
    # no author or reason given: empty cells, not '-' (written "'-" in a CSV)
    assert scores.select("author", "override_reason").rows() == [(None, None)]
    # in Chinese the override reads 调整为 70 (it read "set to 70")
    chinese = CliRunner().invoke(
        app, ["overrides", "-c", str(small_shop), "-q", "-o", "-", "--lang", "zh"]
    )
    assert chinese.exit_code == 0, chinese.output
    written = pl.read_csv(io.StringIO(chinese.stdout), infer_schema=False)
    assert written[i18n.header("override", "zh")].to_list() == ["调整为 70"]


def test_overrides_command_without_an_overrides_table_is_one_line_and_exit_1(small_shop: Path):
    result = CliRunner().invoke(app, ["overrides", "-c", str(small_shop), "-q", "-o", "-"])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "frame", "expected"),
    [
        (
            "bom",
            pl.DataFrame({"kit_sku": ["K", "J"], "component_sku": ["J", "K"], "quantity": [1, 2]}),
            "contains itself",
        ),
        (
            "overrides",
            pl.DataFrame(
                {
                    "sku": ["A-100", "A-100"],
                    "start": ["2025-10-01", "2025-10-05"],
                    "end": ["2025-10-07", "2025-10-09"],
                    "multiplier": [1.2, 1.5],
                }
            ),
            "row 3, column 'start': overlaps another override of 'A-100'",
        ),
        (
            "succession",
            pl.DataFrame({"old_sku": ["007"], "new_sku": ["007"], "date": ["2025-10-01"]}),
            "row 2, column 'new_sku': '007' succeeds itself",
        ),
        (
            "succession",
            pl.DataFrame(
                {"old_sku": ["007", "A-100"], "new_sku": ["008", "A-101"], "share": [80.0, 1.5]}
            ).with_columns(date=pl.lit("2025-10-01")),
            "row 3, column 'share': share 1.5 is ambiguous: above 1 reads as a percentage "
            "(1.5 %); write 0.015 for 1.5 % or at most 1 for all of the old item's demand",
        ),
    ],
)
def test_item_tables_that_cannot_be_planned_are_refused_in_one_line(
    small_shop: Path, name: str, frame: pl.DataFrame, expected: str
):
    _add_input(small_shop, name, frame)
    with pytest.raises(stockplan.StockplanError) as refused:
        stockplan.load(small_shop)
    message = str(refused.value)
    assert expected in message and f"{name}.csv" in message
    assert len(message.strip().splitlines()) == 1


def test_every_new_column_has_its_own_chinese_header():
    from stockplan.caps import ITEM_COLUMNS
    from stockplan.overrides import SCORE_COLUMNS
    from stockplan.shelf_life import EXPIRY_COLUMNS

    columns = {*ITEM_COLUMNS, *EXPIRY_COLUMNS, *SCORE_COLUMNS}
    assert [c for c in columns if i18n.header(c, "zh") == c] == []
    every = [i18n.header(c, "zh") for c in i18n.HEADERS]
    assert len(every) == len(set(every))
    assert all(i18n.canonical_column(i18n.header(c, "zh")) == c for c in columns)


def test_explain_shows_kits_successors_and_overrides(living_shop: Path):
    def explain(*args: str) -> str:
        result = CliRunner().invoke(
            app,
            ["explain", *args, "-c", str(living_shop), "--no-chart", "-q"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        return " ".join(result.stdout.split())

    assert explain("KIT") == (
        "KIT is a kit and is not stocked: its sales are planned as demand for its components A-100"
    )
    component = explain("A-100", "-l", "WH1")
    assert re.search(r"kits: 1[67]% of the units sold came from kits KIT, KIT2", component)
    successor = explain("NEW-7")
    assert "successor: inherits the sales history of 007 x 1 from" in successor
    # switched a week ago: nothing of it is classed on its own sales any more
    assert "until its switch" not in successor
    wh2 = explain("A-100", "-l", "WH2", "--lang", "zh")
    assert "人工预测调整：" in wh2 and "的预测由 Li 乘以 2" in wh2
    assert "保质期：现存量中" in wh2


def _old_item_caps(lead_time_days: float) -> dict:
    """The successor cap of OLD (replaced by NEW 10 days after D) with the lead time
    given, its forecast 7 in the week from D (1 a day), then 14 (2 a day)."""
    from stockplan.item_rules import item_caps

    config = Config.model_validate({"inputs": {"sales": "s.csv", "stock": "t.csv"}})
    succession = pl.DataFrame(
        {"old_sku": ["OLD"], "new_sku": ["NEW"], "date": [D + dt.timedelta(days=10)]}
    )
    series = pl.DataFrame({"sku": ["OLD"], "location": ["WH1"], "lead_time_days": [lead_time_days]})
    forecast = pl.DataFrame(
        {
            "sku": "OLD",
            "location": "WH1",
            "period_start": [D, D + dt.timedelta(days=7)],
            "forecast": [7.0, 14.0],
        }
    )
    tables = {"succession": succession}
    return item_caps(series, forecast, tables, config, D, 7).row(0, named=True)


def test_an_old_item_before_its_switch_date_is_capped_at_the_demand_until_then():
    caps = _old_item_caps(3.0)
    # 10 days: a week at 1 a day, then 3 days at 2 a day = 7 + 6
    assert caps["order_up_to_cap"] == pytest.approx(13.0)
    assert (
        caps["cap_clause"] == "order-up-to capped at 13: demand until NEW replaces it on 2025-10-23"
    )
    assert i18n.unknown_clauses(caps["cap_clause"]) == []
    # an order today lands on day 3: it can sell only days 3 to 10, 4 x 1 + 3 x 2 = 10
    assert caps["order_cap"] == pytest.approx(10.0)


def test_an_old_item_orders_at_most_what_sells_between_its_arrival_and_the_switch():
    """OLD sells 1 a day then 2 a day from day 7, NEW replaces it on day 10, an order today
    lands on day 3. Cap 13 (days 0-10), an order sells at most the 10 of days 3-10:
    position 1 runs out on day 1, the order brings 10 (S' = 1 + 10 = 11, not 13, which
    would leave 2 over at the switch); position 5 still holds 2 on day 3, the cap 13 holds
    (order 8: 2 + 8 = 10 sell by day 10); position -4 (owed) gets 14: 4 owed + 10."""
    caps = tightest([pl.DataFrame([_old_item_caps(3.0)])])
    for position, up_to, qty in ((1.0, 11.0, 10.0), (5.0, 13.0, 8.0), (-4.0, 10.0, 14.0)):
        row = _order_row(
            sku="OLD", inventory_position=position, order_qty=100.0 - position, moq=0.0
        )
        out = cap_order_up_to(row, caps).row(0, named=True)
        assert (out["order_up_to"], out["order_qty"]) == (up_to, qty), position
    out = cap_order_up_to(_order_row(sku="OLD", inventory_position=1.0), caps).row(0, named=True)
    assert out["reason"].endswith(
        "; order-up-to capped at 11: position 1 runs out before an order arrives on "
        "2025-10-16, which sells only 10 until NEW replaces it on 2025-10-23; "
        "need 10 to reach the cap 11"
    )
    assert i18n.unknown_clauses(out["reason"]) == []
    assert "到货后至 2025-10-23 由 NEW 替代前只能卖出 10" in i18n.render_reason(out["reason"], "zh")


def test_an_old_item_whose_order_lands_on_or_after_the_switch_is_not_ordered():
    """Lead time 10 or 28 days: an order today lands on or after the switch on day 10,
    none of it sells as OLD: no order, whatever the position."""
    for lead in (10.0, 28.0):
        caps = _old_item_caps(lead)
        arrival = D + dt.timedelta(days=int(lead))
        assert caps["order_up_to_cap"] == 0.0
        assert caps["cap_clause"] == (
            f"no order: an order today would arrive on {arrival}, on or after NEW replaces "
            "it on 2025-10-23"
        )
        assert caps["order_cap"] is None
        assert i18n.unknown_clauses(caps["cap_clause"]) == []
        out = cap_order_up_to(_order_row(sku="OLD"), tightest([pl.DataFrame([caps])]))
        assert out["order_qty"][0] == 0.0
        assert out["reason"][0] == caps["cap_clause"]


def test_an_override_of_an_unknown_item_is_a_warning_naming_its_row(small_shop: Path):
    _add_input(
        small_shop,
        "overrides",
        pl.DataFrame(
            {
                "sku": ["A-100", "NOPE"],
                "start": ["2025-10-20", "2025-10-20"],
                "end": ["2025-10-26", "2025-10-26"],
                "quantity": [10, 20],
            }
        ),
    )
    _config, inputs = stockplan.load(small_shop)  # a warning, not an error
    assert any(
        "overrides.csv, row 3, column 'sku': 'NOPE' is in neither" in warning
        for warning in inputs.warnings
    )
